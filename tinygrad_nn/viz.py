"""Pictures that teach backprop: the graph, the backward pass written out, and training plots.

Three kinds of pictures:

* **The graph** — :func:`to_dot` writes the DOT text of a tensor's graph in pure Python (no
  Graphviz needed), :func:`draw_graph` wraps the same text in a ``graphviz.Digraph`` (shown
  inline by Jupyter) and :func:`render` writes an SVG/PNG/PDF with Graphviz's ``dot`` program.
  Every tensor shows its name, shape, dtype, values and gradient; every op shows its local
  backward rule, taken from the op's definition in :mod:`tinygrad_nn.ops`.
* **The backward pass** — :func:`explain` lists what ``backward()`` will do, op by op, in the
  engine's order, with each rule written with this graph's names (``dZ2 = dA2·A2·(1−A2)``).
* **Training** — :func:`plot_cost_history`, :func:`plot_decision_boundary` and
  :func:`plot_gradient_flow` (with :func:`gradient_norms` to record it) draw with matplotlib
  on a fresh ``Figure`` (never ``pyplot.show``), so they work on a headless machine.

``graphviz`` and ``matplotlib`` are imported inside the functions that need them: importing this
module, :func:`to_dot` and :func:`explain` need numpy only.

Examples
--------
>>> from tinygrad_nn import Tensor, viz
>>> w = Tensor([[0.5, -1.0]], requires_grad=True, name="W")
>>> x = Tensor([[1.0], [2.0]], name="X")
>>> loss = (w @ x).sigmoid().sum()
>>> print(viz.to_dot(loss).splitlines()[0])
digraph tinygrad_nn {
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_nn import ops as _ops
from tinygrad_nn.tensor import Tensor, no_grad, topological_order

if TYPE_CHECKING:  # imported lazily at run time: optional dependencies
    import graphviz
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ExplainStep",
    "Explanation",
    "GradientFlow",
    "GraphvizNotFoundError",
    "draw_graph",
    "explain",
    "gradient_norms",
    "plot_cost_history",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "render",
    "to_dot",
]

_PIP_HINT = "pip install 'tinygrad-nn[viz]'"
_FORMATS = ("svg", "png", "pdf")
_RANKDIRS = ("LR", "RL", "TB", "BT")
_SMALL = 6  # tensors with at most this many elements show their values, bigger ones a summary

# Colours: one per role, chosen to read on a projector and in print.
_PARAM_FILL = "#cfe2f3"
_INPUT_FILL = "#eeeeee"
_TENSOR_FILL = "#ffffff"
_LOSS_FILL = "#ffd966"
_OP_FILL = "#fff7e0"
_MODULE_FILL = "#e6f0e0"
_GRAD_COLOUR = "#1f5fa8"
_BAD_COLOUR = "#d00000"
_MUTED = "#888888"


def _optional(module: str, what: str) -> Any:
    """Import an optional dependency, or say how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise ImportError(
            f"tinygrad_nn.viz.{what} needs the Python package '{package}', which is not "
            f"installed: {_PIP_HINT}"
        ) from error


# --------------------------------------------------------------------------------------------
# walking the graph
# --------------------------------------------------------------------------------------------


def _released_error(what: str) -> ValueError:
    return ValueError(
        f"{what}: the graph of this tensor was released by backward() (each op drops its inputs "
        f"to free memory), so it cannot be walked any more. Call "
        f"loss.backward(retain_graph=True) to keep the graph (the picture then shows the "
        f"gradients too), or call {what}() before backward()"
    )


def _check_root(root: Any, what: str) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"{what}: root must be a tinygrad_nn Tensor; got {type(root).__name__}")
    if root.graph_released:
        raise _released_error(what)


def _walk(root: Tensor, what: str) -> list[Tensor]:
    """Every tensor ``root`` depends on, breadth first from the root (nearest first); no
    recursion, so a 10,000-op chain is fine."""
    seen = {id(root)}
    order = [root]
    queue = deque((root,))
    while queue:
        node = queue.popleft()
        if node.graph_released:
            raise _released_error(what)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
                queue.append(parent)
    return order


# --------------------------------------------------------------------------------------------
# formatting values
# --------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _number(values)


def _summary(array: np.ndarray) -> tuple[str, str | None]:
    """(values or min/mean/max, a warning about non-finite values or None)."""
    size = array.size
    if size == 0:
        return "empty", None
    if size <= _SMALL:
        # Plain Python on at most 6 numbers: several times faster than numpy calls, which
        # matters for graphs of 10,000 small tensors.
        flat = array.ravel().tolist()
        nested = array.tolist()
        if array.ndim >= 2:  # a matrix reads best one row per line
            text = "[" + ",\n ".join(_nested(row) for row in nested) + "]"
        else:
            text = _nested(nested)
        if all(math.isfinite(v) for v in flat):
            return text, None
        n_nan = sum(1 for v in flat if math.isnan(v))
        n_inf = sum(1 for v in flat if math.isinf(v))
        return text, f"⚠ {n_nan} NaN, {n_inf} Inf"
    finite = np.isfinite(array)
    all_finite = bool(finite.all())
    values = array if all_finite else array[finite]
    if values.size:
        text = (f"min {_number(float(values.min()))}  mean {_number(float(values.mean()))}"
                f"  max {_number(float(values.max()))}")
    else:
        text = "no finite values"
    if all_finite:
        return text, None
    n_nan = int(np.isnan(array).sum())
    n_inf = int(size - finite.sum() - n_nan)
    return text, f"⚠ {n_nan} NaN, {n_inf} Inf"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(shape)


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _input_letters(op_name: str, n_parents: int) -> tuple[str, ...] | None:
    """The rules' names for the inputs (``W``, ``A``, ``b`` for linear), if they match."""
    info = _ops.REGISTRY.get(op_name)
    if info is None or len(info.backward) != n_parents:
        return None
    return _rule_letters(info.backward)


@functools.lru_cache(maxsize=256)
def _rule_letters(backward: tuple[str, ...]) -> tuple[str, ...] | None:
    # Cached by the rules themselves, not the op's name: an op registered again under the
    # same name (a notebook cell run twice) gets its new letters.
    letters = []
    for rule in backward:
        match = re.match(r"\s*d(\S+?)\s*=", rule)
        if match is None:
            return None
        letters.append(match.group(1))
    return tuple(letters)


# --------------------------------------------------------------------------------------------
# DOT text
# --------------------------------------------------------------------------------------------


@dataclass
class _Module:
    """A scope drawn as one node when collapsed."""

    scope: str
    node_id: str
    members: list[Tensor] = field(default_factory=list)


def _home_scopes(
    tensors: list[Tensor], consumers: dict[int, list[Tensor]]
) -> dict[int, str | None]:
    """The cluster each tensor is drawn in: its own scope, or, for a parameter or unnamed
    constant made outside any module but used by one module only, that module."""
    home: dict[int, str | None] = {}
    for t in tensors:
        scope = t.scope
        if scope is None and t.is_leaf and (t.requires_grad or t.name is None):
            users = {c.scope for c in consumers.get(id(t), ())}
            if len(users) == 1:
                scope = next(iter(users))
        home[id(t)] = scope
    return home


def _dot_body(
    root: Tensor,
    *,
    show_values: bool,
    show_grads: bool,
    show_formulas: bool,
    rankdir: str,
    max_nodes: int | None,
    collapse: bool | str | None,
    legend: bool,
    what: str,
) -> list[str]:
    for flag_name, flag in (("show_values", show_values), ("show_grads", show_grads),
                            ("show_formulas", show_formulas), ("legend", legend)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{what}: {flag_name} must be True or False; got {flag!r}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{what}: rankdir must be one of {', '.join(_RANKDIRS)}; got {rankdir!r}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1
    ):
        raise ValueError(f"{what}: max_nodes must be a positive int or None; got {max_nodes!r}")
    if collapse not in (None, True, False, "modules"):
        raise ValueError(
            f"{what}: collapse must be None (collapse only when the graph has more than "
            f"max_nodes tensors), 'modules' (or True) or False; got {collapse!r}"
        )
    _check_root(root, what)

    tensors = _walk(root, what)
    index = {id(t): i for i, t in enumerate(tensors)}
    consumers: dict[int, list[Tensor]] = {}
    for t in tensors:
        for p in t.parents:
            consumers.setdefault(id(p), []).append(t)
    home = _home_scopes(tensors, consumers)

    too_big = max_nodes is not None and len(tensors) > max_nodes
    collapsed = collapse in (True, "modules") or (
        collapse is None and too_big and any(s is not None for s in home.values())
    )

    # Units: what max_nodes counts. A tensor, or (collapsed) a whole module.
    modules: dict[str, _Module] = {}
    unit_of: dict[int, str] = {}
    for t in tensors:
        scope = home[id(t)]
        if collapsed and scope is not None and t is not root:
            module = modules.get(scope)
            if module is None:
                module = modules[scope] = _Module(scope, f"m{len(modules)}")
            module.members.append(t)
            unit_of[id(t)] = module.node_id
        else:
            unit_of[id(t)] = f"t{index[id(t)]}"
    drawn_units: set[str] = set()
    for t in tensors:
        unit = unit_of[id(t)]
        if unit not in drawn_units:
            if max_nodes is not None and len(drawn_units) >= max_nodes:
                continue
            drawn_units.add(unit)
    hidden = sum(1 for t in tensors if unit_of[id(t)] not in drawn_units)

    lines = [
        f'\tgraph [rankdir={rankdir}, fontname="Helvetica", fontsize=11, nodesep=0.25, '
        f'ranksep=0.35, newrank=true]\n',
        '\tnode [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled", '
        f'fillcolor="{_TENSOR_FILL}", margin="0.08,0.04"]\n',
        '\tedge [arrowsize=0.6, color="#555555", fontname="Helvetica", fontsize=9, '
        f'fontcolor="{_MUTED}"]\n',
    ]
    clusters: dict[str | None, list[str]] = {None: []}

    def place(scope: str | None, line: str) -> None:
        clusters.setdefault(None if collapsed else scope, []).append(line)

    labels = _Labels(show_values, show_grads, show_formulas)
    for t in tensors:
        unit = unit_of[id(t)]
        if unit[0] != "t" or unit not in drawn_units:
            continue
        scope = home[id(t)]
        place(scope, labels.tensor(t, unit, t is root))
        if t.op is not None:
            place(scope, labels.op(t, "o" + unit[1:]))

    for module in modules.values():
        if module.node_id in drawn_units:
            clusters[None].append(
                _module_node(module, consumers, unit_of, root, show_grads)
            )

    edges: list[str] = []
    seen_edges: set[tuple[str, str]] = set()
    needs_note = False
    for t in tensors:
        unit = unit_of[id(t)]
        if unit not in drawn_units or t.op is None:
            continue
        in_module = not unit.startswith("t")
        target = unit if in_module else f"o{index[id(t)]}"
        if not in_module:
            edges.append(f"\t{target} -> {unit}\n")
        letters = labels.letters(t.op, len(t.parents)) if show_formulas else None
        for k, p in enumerate(t.parents):
            source = unit_of[id(p)]
            if source not in drawn_units:
                needs_note = True
                source = "more"
            if source == unit:
                continue
            attributes = []
            if letters is not None and len(t.parents) > 1 and not in_module:
                attributes.append(f"label=<{letters[k]}>")
            if not p.requires_grad:
                attributes.append(f'style=dashed, color="{_MUTED}"')
            if in_module or not source.startswith("t"):
                if (source, target) in seen_edges:
                    continue
                seen_edges.add((source, target))
            suffix = f" [{', '.join(attributes)}]" if attributes else ""
            edges.append(f"\t{source} -> {target}{suffix}\n")

    if needs_note or hidden:
        hint = ("pass a larger max_nodes" if collapsed or not any(home.values())
                else "pass a larger max_nodes, or collapse='modules' to draw one node per module")
        note = (f"… {hidden} more tensor{'s' if hidden != 1 else ''} not drawn "
                f"(max_nodes={max_nodes}): {hint}")
        clusters[None].append(
            f'\tmore [label=<{_html(note)}>, shape=note, style=filled, fillcolor="#fff3b0", '
            f'color="{_MUTED}"]\n'
        )

    lines.extend(_emit_clusters(clusters))
    lines.extend(edges)
    if legend:
        lines.extend(_legend_lines())
    return lines


def _emit_clusters(clusters: dict[str | None, list[str]]) -> list[str]:
    """Top-level lines, then one (nested) ``subgraph cluster_k`` per scope, ``a.b`` inside ``a``."""
    children: dict[str | None, list[str]] = {}
    every = set()
    for scope in clusters:
        while scope is not None:
            every.add(scope)
            scope = scope.rpartition(".")[0] or None
    for scope in sorted(every):
        children.setdefault(scope.rpartition(".")[0] or None, []).append(scope)

    out = list(clusters.get(None, ()))
    counter = 0
    # Explicit stack instead of recursion; entries are (scope, closing?) and depth for indentation.
    stack: list[tuple[str, bool, int]] = [(s, False, 1) for s in reversed(children.get(None, []))]
    while stack:
        scope, closing, depth = stack.pop()
        indent = "\t" * depth
        if closing:
            out.append(f"{indent}}}\n")
            continue
        label = scope.rpartition(".")[2]
        out.append(
            f'{indent}subgraph cluster_{counter} {{\n{indent}\tlabel=<<B>{_html(label)}</B>>; '
            f'style="rounded,filled"; fillcolor="#f4f7fb"; color="#9aa5b1"; fontsize=11;\n'
        )
        counter += 1
        out.extend(indent + line for line in clusters.get(scope, ()))
        stack.append((scope, True, depth))
        stack.extend((child, False, depth + 1) for child in reversed(children.get(scope, [])))
    return out


class _Labels:
    """Node lines for tensors and ops, with the per-dtype and per-op parts cached: a graph of
    10,000 ops has only a handful of distinct ones."""

    def __init__(self, show_values: bool, show_grads: bool, show_formulas: bool) -> None:
        self.show_values = show_values
        self.show_grads = show_grads
        self.show_formulas = show_formulas
        self._dtype_names: dict[np.dtype, str] = {}
        self._op_attributes: dict[str, str] = {}
        self._letters: dict[tuple[str, int], list[str] | None] = {}

    def letters(self, op_name: str, n_parents: int) -> list[str] | None:
        """Edge labels (escaped) naming each input as the op's rules do."""
        key = (op_name, n_parents)
        if key not in self._letters:
            letters = _input_letters(op_name, n_parents)
            self._letters[key] = None if letters is None else [_html(x) for x in letters]
        return self._letters[key]

    def tensor(self, t: Tensor, node_id: str, is_root: bool) -> str:
        data = t.data
        rows = []
        title = t.name or (("loss" if data.size == 1 else "output") if is_root else None)
        if title:
            rows.append(f"<B>{_html(title)}</B>")
        dtype = data.dtype
        dtype_name = self._dtype_names.get(dtype)
        if dtype_name is None:
            dtype_name = self._dtype_names[dtype] = str(dtype)
        # Numbers, shapes and dtype names hold no HTML special characters: no escaping needed.
        rows.append(f"{_shape_text(data.shape)} {dtype_name}")
        bad = False
        if self.show_values:
            text, warning = _summary(data)
            text = text.replace("\n", "<BR/>")
            if warning:
                bad = True
                rows.append(f'<FONT COLOR="{_BAD_COLOUR}">{text}<BR/>{warning}</FONT>')
            else:
                rows.append(text)
        grad = t.grad
        if self.show_grads and grad is not None:
            text, warning = _summary(np.asarray(grad))
            text = text.replace("\n", "<BR/>")
            colour = _BAD_COLOUR if warning else _GRAD_COLOUR
            bad = bad or warning is not None
            extra = f"<BR/>{warning}" if warning else ""
            rows.append(f'<FONT COLOR="{colour}">grad {text}{extra}</FONT>')
        if is_root:
            style = f', fillcolor="{_LOSS_FILL}", penwidth=2, style="filled,bold"'
        elif t.is_leaf and t.requires_grad:
            style = f', fillcolor="{_PARAM_FILL}", style=filled'
        elif t.is_leaf:
            style = f', fillcolor="{_INPUT_FILL}", style=filled'
        else:
            style = ""
        if bad:
            style += f', color="{_BAD_COLOUR}", penwidth=2'
        return f"\t{node_id} [label=<{'<BR/>'.join(rows)}>{style}]\n"

    def op(self, t: Tensor, node_id: str) -> str:
        op_name = t.op or "?"
        attributes = self._op_attributes.get(op_name)
        if attributes is None:
            label = f"<B>{_html(op_name)}</B>"
            info = _ops.REGISTRY.get(op_name)
            if self.show_formulas and info is not None and info.backward:
                rules = "<BR/>".join(_html(rule) for rule in info.backward)
                label += f'<BR/><FONT POINT-SIZE="9">{rules}</FONT>'
            attributes = self._op_attributes[op_name] = (
                f'[label=<{label}>, shape=ellipse, style=filled, fillcolor="{_OP_FILL}", '
                f'margin="0.04,0.02"]\n'
            )
        return f"\t{node_id} {attributes}"


def _module_node(module: _Module, consumers: dict[int, list[Tensor]], unit_of: dict[int, str],
                 root: Tensor, show_grads: bool) -> str:
    made = [t for t in reversed(module.members) if t.op is not None]  # forward order
    op_names = [t.op for t in made]
    if len(op_names) <= 5:
        ops_text = " → ".join(op_names) if op_names else "no ops"
    else:
        distinct = list(dict.fromkeys(op_names))
        ops_text = f"{len(op_names)} ops: {', '.join(distinct)}"
    rows = [f"<B>{_html(module.scope)}</B>", _html(ops_text)]
    bad = False
    for t in reversed(module.members):
        if not (t.is_leaf and t.requires_grad):
            continue
        text = f"{t.name or 'param'} {_shape_text(t.shape)}"
        if show_grads and t.grad is not None:
            norm = float(np.linalg.norm(np.asarray(t.grad).ravel()))
            text += f"  ‖grad‖ {_number(norm)}"
            bad = bad or not math.isfinite(norm)
        rows.append(_html(text))
    outputs = [
        t for t in made
        if t is root or any(unit_of[id(c)] != module.node_id for c in consumers.get(id(t), ()))
    ]
    for t in outputs:
        rows.append(_html(f"out {_shape_text(t.shape)}"))
    if any(not np.isfinite(t.data).all() for t in module.members):
        bad = True
        rows.append(f'<FONT COLOR="{_BAD_COLOUR}">⚠ non-finite values</FONT>')
    colour = f', color="{_BAD_COLOUR}", penwidth=2' if bad else ""
    return (f"\t{module.node_id} [label=<{'<BR/>'.join(rows)}>, shape=box3d, style=filled, "
            f'fillcolor="{_MODULE_FILL}"{colour}]\n')


def _legend_lines() -> list[str]:
    """One node holding a table: a legend that takes little room whatever the layout."""
    rows = [
        f'<TD BGCOLOR="{_PARAM_FILL}">parameter (leaf, requires grad)</TD>',
        f'<TD BGCOLOR="{_INPUT_FILL}">input / constant (no grad)</TD>',
        f'<TD BGCOLOR="{_TENSOR_FILL}">intermediate tensor</TD>',
        f'<TD BGCOLOR="{_OP_FILL}">op: its local backward rules</TD>',
        f'<TD BGCOLOR="{_LOSS_FILL}"><B>loss</B> (the root)</TD>',
        f'<TD COLOR="{_BAD_COLOUR}"><FONT COLOR="{_BAD_COLOUR}">⚠ non-finite values</FONT></TD>',
        f'<TD BORDER="0"><FONT COLOR="{_MUTED}">dashed edge: input gets no gradient</FONT></TD>',
        f'<TD BORDER="0"><FONT COLOR="{_GRAD_COLOUR}">grad: .grad after backward()</FONT></TD>',
    ]
    table = "".join(f"<TR>{row}</TR>" for row in rows)
    return [
        '\tlegend [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="3">'
        f'<TR><TD BORDER="0"><B>legend</B></TD></TR>{table}</TABLE>>, shape=plaintext, '
        'style="", margin=0]\n'
    ]


def to_dot(
    root: Tensor,
    *,
    show_values: bool = True,
    show_grads: bool = True,
    show_formulas: bool = True,
    rankdir: str = "LR",
    max_nodes: int | None = None,
    collapse: bool | str | None = None,
    legend: bool = False,
) -> str:
    """The DOT text of ``root``'s graph, built in pure Python (Graphviz is not needed).

    Tensors are boxes: name (when set), shape and dtype, the values of tensors with at most 6
    elements and ``min/mean/max`` for bigger ones, and ``.grad`` the same way when it is set.
    Parameters (leaves that require grad), inputs/constants (leaves that do not) and the loss
    (``root``) are coloured apart; non-finite values are marked in red. Each op is its own small
    ellipse with its local backward rules from :data:`tinygrad_nn.ops.REGISTRY`; a dashed edge
    is an input that receives no gradient. Tensors made inside an ``nn`` module (their ``scope``)
    are grouped in one cluster per module, nested scopes inside their parent's.

    Parameters
    ----------
    root : Tensor
        The tensor whose graph to draw, usually the loss. Draw before ``backward()`` or after
        ``backward(retain_graph=True)``; a graph released by ``backward()`` is a ``ValueError``.
    show_values, show_grads, show_formulas : bool
        Whether tensor boxes show values and gradients, and op nodes their backward rules.
    rankdir : {"LR", "RL", "TB", "BT"}
        Graphviz layout direction: left to right puts the inputs left and the loss right.
    max_nodes : int, optional
        Draw at most this many tensors (each op is drawn with the tensor it makes; a collapsed
        module counts as one), those nearest the root first. The rest are replaced by a note
        saying how many were left out.
    collapse : None, "modules", True or False
        ``"modules"`` (or ``True``) draws each module scope as a single node listing its ops,
        parameters (with gradient norms) and output shape. ``None`` collapses only when the
        graph has more than ``max_nodes`` tensors; ``False`` never does.
    legend : bool
        Add a small legend of the node styles.

    Returns
    -------
    str
        ``digraph tinygrad_nn { ... }`` with HTML-like labels.

    Notes
    -----
    The walk is iterative (no recursion limit) and linear in the graph's size. Measured for a
    chain of 10,000 ``mul`` ops (20,001 tensors and 10,000 op nodes drawn, 3.7 MB of text):
    0.35 s of CPU time on the project's shared 2-core build machine, on which a bare Python
    loop of 10⁶ additions takes 0.15 s. Graphviz itself needs far longer to lay out such a
    graph: draw big graphs with ``collapse="modules"`` or ``max_nodes``.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> from tinygrad_nn.tensor import scope
    >>> W = Tensor([[0.1, 0.2]], requires_grad=True, name="W1")
    >>> b = Tensor([[0.0]], requires_grad=True, name="b1")
    >>> X = Tensor([[1.0, 2.0], [3.0, 4.0]], name="X")
    >>> with scope("layer1"):
    ...     A = ops.linear(W, X, b).sigmoid()
    >>> dot = to_dot(A.sum())
    >>> "cluster_0" in dot and "dx = g·y·(1−y)" in dot
    True
    """
    body = _dot_body(root, show_values=show_values, show_grads=show_grads,
                     show_formulas=show_formulas, rankdir=rankdir, max_nodes=max_nodes,
                     collapse=collapse, legend=legend, what="to_dot")
    return "digraph tinygrad_nn {\n" + "".join(body) + "}\n"


def draw_graph(
    root: Tensor,
    *,
    show_values: bool = True,
    show_grads: bool = True,
    show_formulas: bool = True,
    rankdir: str = "LR",
    max_nodes: int | None = None,
    collapse: bool | str | None = None,
    legend: bool = False,
) -> graphviz.Digraph:
    """``root``'s graph as a ``graphviz.Digraph``; Jupyter shows it inline.

    Takes the options of :func:`to_dot`, and its ``.source`` is exactly ``to_dot``'s text.
    Needs the ``graphviz`` Python package (``pip install 'tinygrad-nn[viz]'``); displaying or
    rendering it needs Graphviz's ``dot`` program too (see :func:`render`). Without ``dot``, a
    notebook shows how to install it instead of the picture, and the graph's ``pipe`` and
    ``render`` raise :class:`GraphvizNotFoundError` (not graphviz's ``ExecutableNotFound``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> g = draw_graph(loss)
    >>> type(g).__name__, g.source == to_dot(loss)
    ('Digraph', True)
    """
    gv = _optional("graphviz", "draw_graph")
    body = _dot_body(root, show_values=show_values, show_grads=show_grads,
                     show_formulas=show_formulas, rankdir=rankdir, max_nodes=max_nodes,
                     collapse=collapse, legend=legend, what="draw_graph")
    graph = _digraph_class(gv)(name="tinygrad_nn")
    graph.body.extend(body)
    return graph


_DIGRAPH_CLASS: type | None = None


def _digraph_class(gv: Any) -> type:
    """A ``graphviz.Digraph`` whose failures for lack of ``dot`` say how to install it,
    instead of graphviz's ``ExecutableNotFound``; in a notebook it shows that advice as text."""
    global _DIGRAPH_CLASS
    if _DIGRAPH_CLASS is not None and issubclass(_DIGRAPH_CLASS, gv.Digraph):
        return _DIGRAPH_CLASS

    def missing_dot() -> GraphvizNotFoundError:
        return GraphvizNotFoundError(
            "Graphviz's 'dot' program was not found on PATH, so this graph cannot be drawn; "
            f"its DOT text is in .source.\n{_install_instructions()}",
            None,
        )

    class Digraph(gv.Digraph):
        __doc__ = gv.Digraph.__doc__

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                              **options: Any) -> dict[str, Any]:
            if shutil.which("dot") is None:
                return {"text/plain": str(missing_dot())}
            return super()._repr_mimebundle_(include, exclude, **options)

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except gv.ExecutableNotFound as error:
                raise missing_dot() from error

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except gv.ExecutableNotFound as error:
                raise missing_dot() from error

    Digraph.__module__ = __name__
    _DIGRAPH_CLASS = Digraph
    return Digraph


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not on PATH; :func:`render` wrote the DOT text to
    ``dot_path`` (None when the error comes from a :func:`draw_graph` graph).

    Examples
    --------
    >>> import os, tempfile
    >>> from tinygrad_nn import Tensor, viz
    >>> loss = (Tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
    >>> path = os.environ["PATH"]
    >>> os.environ["PATH"] = ""       # as if Graphviz were not installed
    >>> try:
    ...     with tempfile.TemporaryDirectory() as folder:
    ...         viz.render(loss, os.path.join(folder, "graph.svg"))
    ... except viz.GraphvizNotFoundError as error:
    ...     print(error.dot_path.name, isinstance(error, RuntimeError))
    ... finally:
    ...     os.environ["PATH"] = path
    graph.dot True
    """

    def __init__(self, message: str, dot_path: Path | None) -> None:
        super().__init__(message)
        self.dot_path = dot_path


def _install_instructions() -> str:
    return (
        "Install Graphviz (the program, not only the Python package 'graphviz'):\n"
        "  Debian/Ubuntu: sudo apt-get install graphviz\n"
        "  macOS:         brew install graphviz\n"
        "  conda:         conda install -c conda-forge graphviz\n"
        "  Windows:       winget install graphviz  (or https://graphviz.org/download/)"
    )


def render(
    graph_or_root: Tensor | graphviz.Digraph | str,
    path: str | Path,
    format: str | None = None,
    **options: Any,
) -> Path:
    """Write a picture of the graph with Graphviz's ``dot``, and its DOT text beside it.

    Parameters
    ----------
    graph_or_root : Tensor, graphviz.Digraph or str
        A tensor (drawn with :func:`to_dot` and ``options``), a graph from :func:`draw_graph`
        (anything with a ``.source``), or DOT text.
    path : str or Path
        Where the picture goes, e.g. ``"out/graph.svg"``. Without a suffix, ``.{format}`` is
        added. The DOT text always goes to the same path with the suffix ``.dot``, written
        first, so it exists even when ``dot`` is missing. Missing folders are created.
    format : {"svg", "png", "pdf"}, optional
        Defaults to the path's suffix, or ``"svg"``.
    **options
        Passed to :func:`to_dot` when ``graph_or_root`` is a tensor.

    Returns
    -------
    Path
        The picture's path.

    Raises
    ------
    GraphvizNotFoundError
        (a ``RuntimeError``) when ``dot`` is not on PATH: says how to install it and where the
        DOT text was written.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> path = render((w * w).sum(), folder / "graph.svg")  # doctest: +SKIP
    >>> path.name, path.with_suffix(".dot").exists()  # doctest: +SKIP
    ('graph.svg', True)
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if format is None:
        format = suffix if suffix in _FORMATS else "svg"
    if not isinstance(format, str) or format.lower() not in _FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(_FORMATS)}; got {format!r}")
    format = format.lower()
    if suffix in _FORMATS and suffix != format:
        raise ValueError(f"render: path {str(path)!r} ends in .{suffix} but format is {format!r}")
    if suffix != format:
        path = path.with_name(path.name + "." + format)

    if isinstance(graph_or_root, Tensor):
        source = to_dot(graph_or_root, **options)
    else:
        if options:
            raise TypeError(
                f"render: options {sorted(options)} apply only when drawing a Tensor; this "
                f"graph is already drawn"
            )
        if isinstance(graph_or_root, str):
            source = graph_or_root
        elif isinstance(getattr(graph_or_root, "source", None), str):
            source = graph_or_root.source
        else:
            raise TypeError(
                f"render: expected a Tensor, a graphviz graph or DOT text; got "
                f"{type(graph_or_root).__name__}"
            )

    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(source, encoding="utf-8")

    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFoundError(
            f"Graphviz's 'dot' program was not found on PATH, so {path} was not drawn. The DOT "
            f"text was written to {dot_path}; once Graphviz is installed, draw it with\n"
            f"  dot -T{format} {dot_path} -o {path}\n{_install_instructions()}",
            dot_path,
        )
    result = subprocess.run(
        [executable, f"-T{format}", str(dot_path), "-o", str(path)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"Graphviz's dot failed (exit status {result.returncode}) drawing {dot_path}: "
            f"{result.stderr.strip()}"
        )
    return path


# --------------------------------------------------------------------------------------------
# explain: the backward pass written out
# --------------------------------------------------------------------------------------------

_ACTIVATIONS = frozenset({"sigmoid", "tanh", "relu", "softmax", "log_softmax"})
_BROADCASTING = frozenset({"add", "sub", "mul", "div", "pow"})
_SIMPLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER_NAME = re.compile(r"-?[0-9.]+(e[-+]?[0-9]+)?|nan|-?inf")
_BRACKETED = re.compile(r"d?\([^()]*\)")  # "(W2@A1)" or its gradient "d(W2@A1)"
_TRAILING_DIGITS = re.compile(r"[A-Za-z_]*?(\d+)$")


@dataclass(frozen=True)
class GradientFlow:
    """The gradient one op sends to one of its inputs.

    Attributes
    ----------
    input : str
        The input's name in this graph (``"A1"``).
    gradient : str
        The name of the gradient it receives (``"dA1"``).
    rule : str
        The op's local rule with this graph's names (``"dA1 = W2ᵀ @ dZ2"``), or why the input
        receives nothing.
    shape : tuple of int
        The input's shape, which is the gradient's shape.
    receives : bool
        False for inputs that do not require grad (the engine skips them).
    note : str
        What the engine does besides the rule (summing broadcast axes), or "".

    Examples
    --------
    >>> from tinygrad_nn import Tensor, viz
    >>> W = Tensor([[2.0]], requires_grad=True, name="W")
    >>> X = Tensor([[3.0, 4.0]], name="X")
    >>> matmul = viz.explain((W @ X).sum()).steps[2]
    >>> to_W, to_X = matmul.inputs
    >>> to_W.rule, to_W.shape
    ('dW = d(W@X) @ Xᵀ', (1, 1))
    >>> to_X.receives, to_X.rule
    (False, 'X: no gradient (requires_grad=False)')
    """

    input: str
    gradient: str
    rule: str
    shape: tuple[int, ...]
    receives: bool
    note: str = ""


@dataclass(frozen=True)
class ExplainStep:
    """One tensor visited by ``backward()``: the seed, an op, or a leaf receiving ``.grad``.

    Attributes
    ----------
    kind : {"seed", "op", "leaf"}
    name : str
        The tensor's name in this graph (``"Z2"``); ``gradient`` is ``"dZ2"``.
    shape : tuple of int
        The tensor's shape: the shape of the gradient flowing in.
    op, scope, forward : str or None
        The op that made it, the module it was made in, the forward formula with names.
    inputs : tuple of GradientFlow
        One entry per input of the op (empty for the seed and leaves).
    contributions : int
        How many consumers' gradients the engine added up into ``gradient``.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, viz
    >>> W = Tensor([[2.0]], requires_grad=True, name="W")
    >>> X = Tensor([[3.0, 4.0]], name="X")
    >>> steps = viz.explain((W @ X).sum()).steps
    >>> [(step.kind, step.name) for step in steps]
    [('seed', 'J'), ('op', 'J'), ('op', 'W@X'), ('leaf', 'W')]
    >>> steps[2].op, steps[2].forward, steps[2].gradient
    ('matmul', 'W@X = W @ X', 'd(W@X)')
    """

    kind: str
    name: str
    gradient: str
    shape: tuple[int, ...]
    op: str | None = None
    scope: str | None = None
    forward: str | None = None
    inputs: tuple[GradientFlow, ...] = ()
    contributions: int = 1


@dataclass(frozen=True)
class Explanation:
    """The backward pass of one graph, step by step; prints as a table.

    ``steps`` are in the order ``backward()`` runs them. ``str()`` gives the text table,
    ``_repr_markdown_`` a table for notebooks.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, viz
    >>> W = Tensor([[2.0]], requires_grad=True, name="W")
    >>> X = Tensor([[3.0, 4.0]], name="X")
    >>> explanation = viz.explain((W @ X).sum())
    >>> explanation.root, len(explanation.steps)
    ('J', 4)
    >>> print(explanation)
    Backward pass of J, in the order backward() runs it (g: the gradient into an op's output)
    step  scope  op      gradient rule                                 shapes (in → out)
       0         J       dJ = 1  (the seed: dJ/dJ)                     scalar
       1         sum     d(W@X) = dJ (copied to every summed element)  scalar → (1, 2)
       2         matmul  dW = d(W@X) @ Xᵀ                              (1, 2) → (1, 1)
                         X: no gradient (requires_grad=False)
       3         W       W.grad += dW                                  (1, 1)
    """

    root: str
    steps: tuple[ExplainStep, ...]

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for number, step in enumerate(self.steps):
            where = step.scope or ""
            if step.kind == "seed":
                seed = (f"{step.gradient} = 1  (the seed: {step.gradient}/{step.gradient})"
                        if math.prod(step.shape) == 1
                        else f"{step.gradient} = the grad passed to backward(grad=...)")
                rows.append((str(number), where, step.name, seed, _shape_text(step.shape)))
                continue
            if step.kind == "leaf":
                rows.append((str(number), where, step.name,
                             f"{step.name}.grad += {step.gradient}", _shape_text(step.shape)))
                continue
            first = True
            for flow in step.inputs:
                shapes = (f"{_shape_text(step.shape)} → {_shape_text(flow.shape)}"
                          if flow.receives else "")
                rule = flow.rule + (f"  [{flow.note}]" if flow.note else "")
                rows.append((str(number) if first else "", where if first else "",
                             (step.op or "") if first else "", rule, shapes))
                first = False
            if step.contributions > 1:
                rows.append(("", "", "", f"  ({step.gradient} is the sum of {step.contributions} "
                             f"consumers' gradients)", ""))
        return rows

    def __str__(self) -> str:
        header = ("step", "scope", "op", "gradient rule", "shapes (in → out)")
        rows = self._rows()
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(4)]
        lines = [
            f"Backward pass of {self.root}, in the order backward() runs it "
            f"(g: the gradient into an op's output)",
        ]
        for row in [header, *rows]:
            cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]),
                     row[3].ljust(widths[3]), row[4]]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        def cell(text: str) -> str:
            return f"`{text}`".replace("|", "\\|") if text else ""

        lines = [
            f"**Backward pass of `{self.root}`**, in the order `backward()` runs it "
            f"(g = the gradient flowing into an op's output)",
            "",
            "| step | scope | op | forward | gradient rule | shapes (in → out) |",
            "|---:|---|---|---|---|---|",
        ]
        for number, step in enumerate(self.steps):
            if step.kind == "op":
                rules = "<br>".join(
                    cell(f.rule) + (f" *({f.note})*" if f.note else "") for f in step.inputs
                )
                shapes = "<br>".join(
                    cell(f"{_shape_text(step.shape)} → {_shape_text(f.shape)}") if f.receives
                    else "" for f in step.inputs
                )
                if step.contributions > 1:
                    rules += f"<br>*{step.gradient} sums {step.contributions} consumers*"
                lines.append(f"| {number} | {step.scope or ''} | {step.op} | "
                             f"{cell(step.forward or '')} | {rules} | {shapes} |")
            else:
                rule = (f"{step.name}.grad += {step.gradient}" if step.kind == "leaf"
                        else f"{step.gradient} = 1")
                lines.append(f"| {number} | {step.scope or ''} | {step.name} |  | {cell(rule)} | "
                             f"{cell(_shape_text(step.shape))} |")
        return "\n".join(lines)


@functools.lru_cache(maxsize=4096)
def _paren(name: str) -> str:
    """``name`` ready to go into a formula: compound names get parentheses."""
    atomic = (_SIMPLE_NAME.fullmatch(name) or _NUMBER_NAME.fullmatch(name)
              or _BRACKETED.fullmatch(name))
    return name if atomic else f"({name})"


@functools.lru_cache(maxsize=4096)
def _grad_name(name: str) -> str:
    return "d" + name if _SIMPLE_NAME.fullmatch(name) else f"d({name})"


class _Namer:
    """Names for the tensors of one graph, the article's where it can tell: ``Z2`` is what a
    layer's linear part makes, ``A2`` its activation; the layer number comes from the module
    scope (``layer2``) or a parameter's name (``W2``)."""

    def __init__(self, root: Tensor) -> None:
        self.root = root
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.layers: dict[int, int | None] = {}
        self.counters: dict[str, int] = {}

    def layer(self, t: Tensor) -> int | None:
        key = id(t)
        if key in self.layers:
            return self.layers[key]
        number = None
        if t.scope is not None:
            match = _TRAILING_DIGITS.fullmatch(t.scope.rpartition(".")[2])
            if match:
                number = int(match.group(1))
        if number is None and t.op is not None:
            for p in t.parents:
                if p.is_leaf and p.requires_grad and p.name:
                    match = _TRAILING_DIGITS.fullmatch(p.name)
                    if match:
                        number = int(match.group(1))
                        break
            if number is None and t.op in _ACTIVATIONS and len(t.parents) == 1:
                number = self.layers.get(id(t.parents[0]))
        self.layers[key] = number
        return number

    def __call__(self, t: Tensor) -> str:
        key = id(t)
        if key in self.names:
            return self.names[key]
        if t.name:
            name = t.name
        elif t is self.root and t.size == 1:
            name = "J"
        elif t.is_leaf and not t.requires_grad and t.size == 1:
            name = _number(float(t.data.reshape(-1)[0]))
            self.names[key] = name  # constants may repeat: "1" is "1"
            return name
        else:
            name = self._guess(t)
        if name in self.used:
            k = 2
            while f"{name}_{k}" in self.used:
                k += 1
            name = f"{name}_{k}"
        self.used.add(name)
        self.names[key] = name
        return name

    def input_of(self, consumer: Tensor, position: int) -> str:
        """Name the input at ``position`` of ``consumer``; unnamed data gets its role's name:
        ``X`` for the first layer's input, ``Y`` for the labels of the fused cost."""
        t = consumer.parents[position]
        if id(t) in self.names or t.name or not t.is_leaf or t.requires_grad or t.size == 1:
            return self(t)
        role = None
        if consumer.op in ("linear", "matmul") and position == 1:
            number = self.layer(consumer)
            if number is not None:
                role = "X" if number <= 1 else f"A{number - 1}"
        elif consumer.op == "bce_with_logits" and position == 1:
            role = "Y"
        if role is None or role in self.used:
            return self(t)
        self.used.add(role)
        self.names[id(t)] = role
        return role

    def _guess(self, t: Tensor) -> str:
        if t.is_leaf:
            return self._count("param" if t.requires_grad else "const")
        number = self.layer(t)
        if number is not None:
            if t.op in _ACTIVATIONS:
                return f"A{number}"
            if t.op == "linear" or (
                t.op == "add" and any(p.op == "matmul" for p in t.parents)
            ):
                return f"Z{number}"
        if t.op == "matmul" and len(t.parents) == 2:
            return f"{_paren(self(t.parents[0]))}@{_paren(self(t.parents[1]))}"
        return self._count(t.op or "t")

    def _count(self, stem: str) -> str:
        self.counters[stem] = self.counters.get(stem, 0) + 1
        return f"{stem}{self.counters[stem]}"


@functools.lru_cache(maxsize=256)
def _variables_pattern(variables: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(variables, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9_])(" + alternatives + r")(?![A-Za-z0-9_])")


def _substitute(formula: str, names: Mapping[str, str]) -> str:
    """Replace the formula's variable letters by this graph's names, as whole words."""
    if not names:
        return formula
    pattern = _variables_pattern(tuple(sorted(names)))
    return pattern.sub(lambda m: _paren(names[m.group(1)]), formula)


def explain(loss: Tensor) -> Explanation:
    """The backward pass of ``loss``, written out for this graph: the chain rule, op by op.

    Lists every tensor ``backward()`` visits, in the order it visits them
    (:func:`tinygrad_nn.tensor.topological_order`): for each op, its local backward rules with
    this graph's names substituted (``dZ1 = dA1·A1·(1−A1)``), the shape of the gradient flowing
    in (the op's output) and out (each input), which inputs receive nothing, and where the
    engine sums broadcast axes or several consumers' gradients; for each parameter, the
    ``.grad`` it receives. Names follow the article where the graph tells: ``Z{l}`` and
    ``A{l}`` for a layer's linear part and activation (layer number from the module scope
    ``layer{l}`` or a parameter named ``W{l}``/``b{l}``), ``J`` for an unnamed scalar loss.

    Works before ``backward()`` (no gradients are needed) and after
    ``backward(retain_graph=True)``; a graph released by ``backward()`` is a ``ValueError``.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> from tinygrad_nn.tensor import scope
    >>> W1 = Tensor([[0.1, -0.2]], requires_grad=True, name="W1")
    >>> b1 = Tensor([[0.0]], requires_grad=True, name="b1")
    >>> X = Tensor([[1.0, 2.0], [0.5, -1.0]], name="X")
    >>> with scope("layer1"):
    ...     A1 = ops.linear(W1, X, b1).sigmoid()
    >>> print(explain(A1.mean()))
    Backward pass of J, in the order backward() runs it (g: the gradient into an op's output)
    step  scope   op       gradient rule                                   shapes (in → out)
       0          J        dJ = 1  (the seed: dJ/dJ)                       scalar
       1          mean     dA1 = dJ / n (n = number of averaged elements)  scalar → (1, 2)
       2  layer1  sigmoid  dZ1 = dA1·A1·(1−A1)                             (1, 2) → (1, 2)
       3  layer1  linear   dW1 = dZ1 @ Xᵀ                                  (1, 2) → (1, 2)
                           X: no gradient (requires_grad=False)
                           db1 = dZ1 (summed over columns by the engine)   (1, 2) → (1, 1)
       4          b1       b1.grad += db1                                  (1, 1)
       5          W1       W1.grad += dW1                                  (1, 2)
    """
    _check_root(loss, "explain")
    if not loss.requires_grad:
        raise ValueError(
            "explain: this tensor does not require grad (no input has requires_grad=True, or it "
            "was computed under no_grad()), so backward() has nothing to do"
        )
    order = topological_order(loss)
    for t in order:
        if t.graph_released:
            raise _released_error("explain")
    namer = _Namer(loss)
    for t in reversed(order):  # name in forward order, so A1 is named before Z2 = W2 @ A1 + b2
        for k in range(len(t.parents)):
            namer.input_of(t, k)
        namer(t)
    in_graph = {id(t) for t in order}
    consumers: dict[int, int] = {}
    for t in order:
        for p in t.parents:
            if id(p) in in_graph:
                consumers[id(p)] = consumers.get(id(p), 0) + 1

    steps = [ExplainStep("seed", namer(loss), _grad_name(namer(loss)), loss.shape,
                         scope=loss.scope)]
    for t in order:
        name = namer(t)
        if t.is_leaf:
            steps.append(ExplainStep("leaf", name, _grad_name(name), t.shape, scope=t.scope,
                                     contributions=consumers.get(id(t), 1)))
            continue
        steps.append(_op_step(t, namer, consumers.get(id(t), 1)))
    return Explanation(namer(loss), tuple(steps))


def _op_step(t: Tensor, namer: _Namer, contributions: int) -> ExplainStep:
    name = namer(t)
    info = _ops.REGISTRY.get(t.op or "")
    letters = _input_letters(t.op or "", len(t.parents))
    forward = None
    rules: list[str | None] = [None] * len(t.parents)
    if info is not None:
        out_letter, _, forward_rhs = info.forward.partition("=")
        mapping = {"g": _grad_name(name)}
        if letters is not None:
            mapping.update({letter: namer(p) for letter, p in zip(letters, t.parents, strict=True)})
        mapping[out_letter.strip()] = name
        forward = f"{name} = {_substitute(forward_rhs.strip(), mapping)}"
        if letters is not None:
            for k, (rule, p) in enumerate(zip(info.backward, t.parents, strict=True)):
                rhs = rule.partition("=")[2].strip()
                rules[k] = f"{_grad_name(namer(p))} = {_substitute(rhs, mapping)}"
    flows = []
    for k, p in enumerate(t.parents):
        p_name = namer(p)
        if not p.requires_grad:
            flows.append(GradientFlow(p_name, _grad_name(p_name),
                                      f"{p_name}: no gradient (requires_grad=False)", p.shape,
                                      False))
            continue
        rule = rules[k] or (
            f"{_grad_name(p_name)} = rule {k + 1} of {t.op} applied to {_grad_name(name)}"
        )
        note = ""
        if t.op in _BROADCASTING and p.shape != t.shape:
            note = (f"the engine sums the broadcast axes: {_shape_text(t.shape)} → "
                    f"{_shape_text(p.shape)}")
        flows.append(GradientFlow(p_name, _grad_name(p_name), rule, p.shape, True, note))
    return ExplainStep("op", name, _grad_name(name), t.shape, op=t.op, scope=t.scope,
                       forward=forward, inputs=tuple(flows), contributions=contributions)


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def _figure_and_axes(
    ax: Axes | None, what: str, figsize: tuple[float, float]
) -> tuple[Figure, Axes]:
    _optional("matplotlib", what)
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(
                f"{what}: ax must be a matplotlib Axes or None; got {type(ax).__name__}"
            )
        return ax.figure, ax
    # A bare Figure, not pyplot: nothing global, no GUI backend, nothing to close.
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def plot_cost_history(
    cost_history: Sequence[float] | np.ndarray, ax: Axes | None = None, *, log_scale: bool = False
) -> tuple[Figure, Axes]:
    """The cost after each epoch, as returned by ``train``.

    Parameters
    ----------
    cost_history : sequence of float
        One cost per epoch (a list, a 1-d array or scalars).
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure`` (not registered with pyplot: show it in a
        notebook with ``display(fig)`` or save it with ``fig.savefig``).
    log_scale : bool
        Logarithmic cost axis.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> fig, ax = plot_cost_history([0.69, 0.5, 0.31, 0.2])
    >>> len(ax.lines)
    1
    """
    try:
        costs = np.asarray(cost_history, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"plot_cost_history: cost_history must be a sequence of numbers (one cost per epoch); "
            f"got {type(cost_history).__name__}"
        ) from None
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(
            f"plot_cost_history: cost_history must be a non-empty 1-d sequence of costs; got "
            f"shape {costs.shape}"
        )
    figure, ax = _figure_and_axes(ax, "plot_cost_history", (6.0, 3.6))
    epochs = np.arange(1, costs.size + 1)
    ax.plot(epochs, costs, color="#1f5fa8", linewidth=1.8, label="cost J")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost J (cross-entropy)")
    ax.set_title(f"cost history: {_number(costs[0])} → {_number(costs[-1])} in {costs.size} epochs")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    return figure, ax


def _as_numpy(value: Any, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {name} must be numeric; got {type(value).__name__}") from None


def plot_decision_boundary(
    model: Callable[[Any], Any],
    X: Any,
    Y: Any,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
) -> tuple[Figure, Axes]:
    """The regions a 2-input classifier assigns to each class, with the data on top.

    Parameters
    ----------
    model : callable
        Called on a ``(2, n)`` Tensor of grid points (if it raises ``TypeError`` or
        ``AttributeError``, on the plain array) under ``no_grad()``. Returns probabilities of
        class 1, shape ``(1, n)`` or ``(n,)`` (boundary at 0.5), or class scores ``(k, n)``,
        k ≥ 2 (regions by argmax).
    X : array_like or Tensor, shape (2, m)
        The inputs, examples as columns.
    Y : array_like or Tensor
        Labels: ``(1, m)`` of 0/1 or ``(m,)`` of class numbers.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure``.
    resolution : int
        Grid points per axis.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[-1.0, -0.5, 0.5, 1.0], [0.0, 1.0, -1.0, 0.0]])
    >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> fig, ax = plot_decision_boundary(lambda P: 1 / (1 + np.exp(-5 * np.asarray(P)[:1])), X, Y)
    >>> len(ax.collections) >= 2
    True
    """
    what = "plot_decision_boundary"
    if not callable(model):
        raise TypeError(
            f"{what}: model must be callable on a (2, n) array; got {type(model).__name__}"
        )
    X_np = _as_numpy(X, "X", what)
    if X_np.ndim != 2 or X_np.shape[0] != 2 or X_np.shape[1] == 0:
        raise ValueError(
            f"{what}: X must have shape (2, m) (two features, examples as columns); got "
            f"{X_np.shape}"
        )
    m = X_np.shape[1]
    labels = _as_numpy(Y, "Y", what)
    if labels.shape not in ((1, m), (m,)):
        raise ValueError(
            f"{what}: Y must have shape (1, {m}) or ({m},) to match X; got {labels.shape}"
        )
    labels = labels.reshape(m)
    if not np.all(labels == np.round(labels)) or labels.min() < 0:
        raise ValueError(f"{what}: Y must hold class numbers 0, 1, 2, ... (0/1 for two classes)")
    if (isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer))
            or resolution < 2):
        raise ValueError(f"{what}: resolution must be an int >= 2; got {resolution!r}")

    pad = 0.1 * np.ptp(X_np, axis=1) + 0.25
    low, high = X_np.min(axis=1) - pad, X_np.max(axis=1) + pad
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.stack([grid_x.ravel(), grid_y.ravel()])
    with no_grad():
        try:
            output = model(Tensor(points))
        except (TypeError, AttributeError):
            output = model(points)
    scores = _as_numpy(output, "the model's output", what)
    n = points.shape[1]
    if scores.shape == (n,):
        scores = scores.reshape(1, n)
    if scores.ndim != 2 or scores.shape[1] != n:
        raise ValueError(
            f"{what}: the model must return (1, n) probabilities or (k, n) class scores for a "
            f"(2, n) input; for n = {n} it returned shape {scores.shape}"
        )

    figure, ax = _figure_and_axes(ax, what, (5.2, 4.4))
    classes = int(max(labels.max() + 1, 2, scores.shape[0]))
    cmap_name = "RdBu" if classes == 2 else "tab10"
    if scores.shape[0] == 1:
        surface = scores[0].reshape(grid_x.shape)
        filled = ax.contourf(grid_x, grid_y, surface, levels=np.linspace(0, 1, 11),
                             cmap="RdBu", alpha=0.55)
        ax.contour(grid_x, grid_y, surface, levels=[0.5], colors="k", linewidths=1.5)
        figure.colorbar(filled, ax=ax, label="P(class 1)")
    else:
        region = scores.argmax(axis=0).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, region, levels=np.arange(classes + 1) - 0.5,
                    cmap=cmap_name, alpha=0.35)
    import matplotlib as mpl

    colours = mpl.colormaps[cmap_name]
    for k in np.unique(labels).astype(int):
        chosen = labels == k
        colour = colours(0.9 if k == 1 else 0.1) if classes == 2 else colours(k % 10)
        ax.scatter(X_np[0, chosen], X_np[1, chosen], s=14, color=colour, edgecolors="k",
                   linewidths=0.4, label=f"class {k}")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("decision boundary")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return figure, ax


def gradient_norms(model_or_params: Any) -> dict[str, float]:
    """The L2 norm of each parameter's ``.grad``: one entry of a :func:`plot_gradient_flow` history.

    Parameters
    ----------
    model_or_params : module, dict or iterable of Tensor
        Anything with ``named_parameters()`` (name, tensor pairs or a dict) or ``parameters()``,
        a dict name → Tensor, or Tensors (named by ``.name``, else ``param{i}``).
        Parameters whose ``.grad`` is None are left out.

    Returns
    -------
    dict
        name → float, in the parameters' order.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([3.0, 4.0], requires_grad=True, name="W1")
    >>> (w * w).sum().backward()
    >>> gradient_norms([w])
    {'W1': 10.0}
    """
    if hasattr(model_or_params, "named_parameters"):
        named = model_or_params.named_parameters()
        pairs = list(named.items()) if isinstance(named, Mapping) else list(named)
    elif isinstance(model_or_params, Mapping):
        pairs = list(model_or_params.items())
    else:
        if hasattr(model_or_params, "parameters"):
            model_or_params = model_or_params.parameters()
        if isinstance(model_or_params, Tensor) or not isinstance(model_or_params, Iterable):
            raise TypeError(
                "gradient_norms: expected a model, a dict name → Tensor or a list of Tensors; got "
                f"{type(model_or_params).__name__}"
            )
        pairs = [(t.name if isinstance(t, Tensor) and t.name else f"param{i}", t)
                 for i, t in enumerate(model_or_params)]
    norms = {}
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"gradient_norms: parameter {name!r} is a {type(t).__name__}, not a Tensor"
            )
        if t.grad is not None:
            norms[str(name)] = float(np.linalg.norm(np.asarray(t.grad).ravel()))
    return norms


def _history_table(history: Any) -> dict[str, np.ndarray]:
    what = "plot_gradient_flow"
    if isinstance(history, Mapping):
        if not history:
            raise ValueError(f"{what}: history is empty")
        table = {}
        for name, values in history.items():
            try:
                series = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{what}: history[{name!r}] must be a list of numbers") from None
            if series.ndim != 1 or series.size == 0:
                raise ValueError(
                    f"{what}: history[{name!r}] must be a non-empty 1-d list of gradient norms; "
                    f"got shape {series.shape}"
                )
            table[str(name)] = series
        return table
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise ValueError(
            f"{what}: history must be a list of dicts (name → gradient norm, one per step) or a "
            f"dict name → list of norms; got {type(history).__name__}"
        )
    entries = list(history)
    if not entries:
        raise ValueError(f"{what}: history is empty (record entries with gradient_norms(model))")
    names: dict[str, None] = {}
    for step, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"{what}: history[{step}] must be a dict name → gradient norm; got "
                f"{type(entry).__name__}"
            )
        names.update(dict.fromkeys(str(k) for k in entry))
    if not names:
        raise ValueError(f"{what}: history holds no gradient norms (every entry is empty)")
    table = {name: np.full(len(entries), np.nan) for name in names}
    for step, entry in enumerate(entries):
        for name, value in entry.items():
            try:
                table[str(name)][step] = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{what}: history[{step}][{name!r}] must be a number; got {value!r}"
                ) from None
    return table


def plot_gradient_flow(
    history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Each parameter's gradient norm over training, on a log scale: vanishing gradients show.

    In a deep sigmoid net the first layers' lines sit orders of magnitude below the last
    layers': each sigmoid multiplies the gradient by at most 1/4 on its way back.

    Parameters
    ----------
    history : list of dict, or dict of lists
        One dict name → gradient norm per training step (from :func:`gradient_norms`), or
        name → list of norms. Names missing from a step leave a gap.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure``.
    title : str, optional
        The plot's title.

    Returns
    -------
    (Figure, Axes)
        One line per parameter, labelled with its name; weights solid, biases (names starting
        with ``b``) dashed; colour runs from the first layer to the last.

    Examples
    --------
    >>> history = [{"W1": 1e-4, "W2": 1e-2}, {"W1": 2e-4, "W2": 1e-2}]
    >>> fig, ax = plot_gradient_flow(history)
    >>> [line.get_label() for line in ax.lines], ax.get_yscale()
    (['W1', 'W2'], 'log')
    """
    table = _history_table(history)
    figure, ax = _figure_and_axes(ax, "plot_gradient_flow", (6.4, 4.0))
    import matplotlib as mpl

    colours = mpl.colormaps["viridis"]
    count = len(table)
    for k, (name, series) in enumerate(table.items()):
        # Zero norms (a dead ReLU layer) cannot go on a log axis; they leave a gap, like NaN.
        shown = np.where(series > 0, series, np.nan)
        ax.plot(np.arange(1, series.size + 1), shown, label=name,
                color=colours(0.9 * k / max(count - 1, 1)),
                linestyle="--" if name[:1] == "b" else "-", linewidth=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("‖gradient‖ (L2 norm)")
    ax.set_title(title or "gradient flow: gradient norm per parameter")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, ncol=2 if count > 8 else 1, loc="best", framealpha=0.8)
    return figure, ax

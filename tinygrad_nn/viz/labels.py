"""The graph picture's nodes: a tensor's box, an op's rules, a collapsed module, the legend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn import ops as _ops
from tinygrad_nn.viz._common import _html, _input_letters, _number, _shape_text, _summary, _View
from tinygrad_nn.viz.names import _grad_name, _Namer, _substitute

__all__: list[str] = []

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

@dataclass
class _Module:
    """A scope drawn as one node when collapsed."""

    scope: str
    node_id: str
    members: list[Any] = field(default_factory=list)


class _Labels:
    """Node lines for tensors and ops, with the per-dtype and per-op parts cached: a graph of
    10,000 ops has only a handful of distinct ones.

    Rules read with the graph's names: an input the user named (``a``) or one the article
    names (``Z1``, ``A1``) stands for the rule's letter; other inputs keep the letter (or, if
    the user named a tensor of the graph with that letter, a name like ``mul1``), and the edge
    from them carries it, as a key.
    """

    def __init__(self, show_values: bool, show_grads: bool, show_formulas: bool, view: _View,
                 namer: _Namer) -> None:
        self.show_values = show_values
        self.show_grads = show_grads
        self.show_formulas = show_formulas
        self.view = view
        self.namer = namer
        self.user_names: set[str] = set()  # a kept letter must not read as a user's tensor
        self._dtype_names: dict[np.dtype, str] = {}
        self._op_attributes: dict[tuple[str, tuple[str, ...] | None], str] = {}
        self._inputs: dict[int, tuple[str, ...] | None] = {}

    def display_name(self, t: Any) -> str | None:
        """The user's name, else the article's (``Z1``, ``A1``), else None."""
        return t.name or self.namer.article_name(t)

    def inputs(self, t: Any) -> tuple[str, ...] | None:
        """What each input of ``t``'s op is called in its rules (not escaped): the input's
        name where it has one, else the rule's letter; None if the rules name no inputs."""
        key = id(t)
        if key in self._inputs:
            return self._inputs[key]
        letters = _input_letters(t.op or "", len(t.parents))
        names: tuple[str, ...] | None = None
        if letters is not None:
            shown = [self.display_name(p) or (letter if letter not in self.user_names
                                              else self.namer(p))
                     for p, letter in zip(t.parents, letters, strict=True)]
            # Two inputs called the same (x * x, or a kept letter equal to a user's name):
            # the letters, with the edges as the key.
            names = letters if len(set(shown)) < len(shown) else tuple(shown)
        self._inputs[key] = names
        return names

    def tensor(self, t: Any, node_id: str, is_root: bool) -> str:
        rows = []
        title = self.display_name(t) or (
            ("loss" if t.size == 1 else "output") if is_root else None)
        if title:
            rows.append(f"<B>{_html(title)}</B>")
        dtype = t.dtype
        dtype_name = self._dtype_names.get(dtype)
        if dtype_name is None:
            dtype_name = self._dtype_names[dtype] = str(dtype)
        # Numbers, shapes and dtype names hold no HTML special characters: no escaping needed.
        rows.append(f"{_shape_text(t.shape)} {dtype_name}")
        data = t.data
        bad = False
        if self.show_values:
            text, warning = _summary(data)
            text = text.replace("\n", "<BR/>")
            if warning:
                bad = True
                rows.append(f'<FONT COLOR="{_BAD_COLOUR}">{text}<BR/>{warning}</FONT>')
            else:
                rows.append(text)
        grad = self.view.grad(t)
        if self.show_grads and grad is None and self.view.released and t.requires_grad:
            grad = t.grad  # a big tensor's gradient that backward() did not keep: say so
            if grad is None and not t.is_leaf:
                rows.append(f'<FONT COLOR="{_GRAD_COLOUR}">grad not kept by backward()</FONT>')
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

    def op(self, t: Any, node_id: str) -> str:
        op_name = t.op or "?"
        names = self.inputs(t) if self.show_formulas else None
        output = self.display_name(t) if names is not None else None
        key = (op_name, None if names is None else (*names, output or ""))
        attributes = self._op_attributes.get(key)
        if attributes is None:
            label = f"<B>{_html(op_name)}</B>"
            info = _ops.REGISTRY.get(op_name)
            if self.show_formulas and info is not None and info.backward:
                rules = info.backward
                letters = _input_letters(op_name, len(t.parents))
                if names is not None and letters is not None:
                    mapping = dict(zip(letters, names, strict=True))
                    out_letter = info.forward.partition("=")[0].strip()
                    if output and out_letter not in mapping:
                        mapping[out_letter] = output
                    mapping = {k: v for k, v in mapping.items() if k != v}
                    rules = tuple(
                        f"{_grad_name(name)} = "
                        f"{_substitute(rule.partition('=')[2].strip(), mapping)}"
                        for rule, name in zip(rules, names, strict=True)
                    )
                text = "<BR/>".join(_html(rule) for rule in rules)
                label += f'<BR/><FONT POINT-SIZE="9">{text}</FONT>'
            attributes = self._op_attributes[key] = (
                f'[label=<{label}>, shape=ellipse, style=filled, fillcolor="{_OP_FILL}", '
                f'margin="0.04,0.02"]\n'
            )
        return f"\t{node_id} {attributes}"


def _module_node(module: _Module, consumers: dict[int, list[Any]], unit_of: dict[int, str],
                 root: Any, show_grads: bool, view: _View) -> str:
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
    if any(t.data is not None and not np.isfinite(t.data).all() for t in module.members):
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
        f'<TD BGCOLOR="{_OP_FILL}">op: its local backward rules, dx = … for each input x'
        '</TD>',
        f'<TD BGCOLOR="{_OP_FILL}">g = dL/d(output of the op): the gradient arriving at it'
        '</TD>',
        '<TD BORDER="0">rules use the inputs\' names; an unnamed input keeps its letter, '
        'written on its edge</TD>',
        f'<TD BGCOLOR="{_LOSS_FILL}"><B>loss</B> (the root)</TD>',
        f'<TD COLOR="{_BAD_COLOUR}"><FONT COLOR="{_BAD_COLOUR}">⚠ non-finite values</FONT></TD>',
        f'<TD BORDER="0"><FONT COLOR="{_MUTED}">dashed edge: input gets no gradient</FONT></TD>',
        f'<TD BORDER="0"><FONT COLOR="{_GRAD_COLOUR}">grad: dL/d(this tensor), from '
        'backward()</FONT></TD>',
    ]
    table = "".join(f"<TR>{row}</TR>" for row in rows)
    return [
        '\tlegend [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="3">'
        f'<TR><TD BORDER="0"><B>legend</B></TD></TR>{table}</TABLE>>, shape=plaintext, '
        'style="", margin=0]\n'
    ]



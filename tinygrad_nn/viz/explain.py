"""explain(loss): the backward pass of a graph written out, op by op, with its own names."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tinygrad_nn import ops as _ops
from tinygrad_nn.tensor import Tensor, topological_order

if TYPE_CHECKING:  # imported lazily at run time: optional dependencies
    pass
from tinygrad_nn.viz._common import (
    _check_root,
    _input_letters,
    _number,
    _released_error,
    _shape_text,
)

__all__ = ['ExplainStep', 'Explanation', 'GradientFlow', 'explain']


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

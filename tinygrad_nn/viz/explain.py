"""explain(loss): the backward pass of a graph written out, op by op, with its own names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tinygrad_nn import ops as _ops
from tinygrad_nn.tensor import Tensor, topological_order
from tinygrad_nn.viz._common import _check_root, _input_letters, _resolve, _shape_text
from tinygrad_nn.viz.names import _grad_name, _Namer, _substitute

__all__ = ["ExplainStep", "Explanation", "GradientFlow", "explain"]


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

    Works before ``backward()`` (no gradients are needed) and after it: after the last
    ``backward()`` on this thread from its summary (:mod:`tinygrad_nn.graph_summary`), after
    ``backward(retain_graph=True)`` from the graph itself. The graph of an older
    ``backward()`` is gone: a ``ValueError``.

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
    loss = _resolve(loss, "explain").root
    if not loss.requires_grad:
        raise ValueError(
            "explain: this tensor does not require grad (no input has requires_grad=True, or it "
            "was computed under no_grad()), so backward() has nothing to do"
        )
    order = topological_order(loss)
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


def _op_step(t: Any, namer: _Namer, contributions: int) -> ExplainStep:
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
        if info is not None and info.broadcasting and p.shape != t.shape:
            note = (f"the engine sums the broadcast axes: {_shape_text(t.shape)} → "
                    f"{_shape_text(p.shape)}")
        flows.append(GradientFlow(p_name, _grad_name(p_name), rule, p.shape, True, note))
    return ExplainStep("op", name, _grad_name(name), t.shape, op=t.op, scope=t.scope,
                       forward=forward, inputs=tuple(flows), contributions=contributions)

"""The compiled plan beside the recorded graph: which recorded ops became which executed step.

:func:`plan_to_dot` writes DOT text (pure Python) with two columns: on the left the step as it
was recorded (``matmul``, ``add``, ``sigmoid``, ``log``…, ``backward()``, ``SGD.step()``), on the
right what a replay executes (``gemm_bias(out=Z1)``, ``sigmoid(in place, Z1)``, ``bce_logits``,
then the backward kernel by kernel…), each with its lines of the replay's source, and a dashed
arrow from every recorded op to the step that runs it. :func:`draw_plan` wraps the text in a
``graphviz.Source`` (shown inline by Jupyter; ``.render()`` writes a file).
"""

from __future__ import annotations

from typing import Any

from tinygrad_nn.compiler import CompiledFunction, Plan
from tinygrad_nn.compiler._trace import (
    BackwardEvent,
    CopyEvent,
    HostEvent,
    OpEvent,
    SetGradEvent,
    SetItemEvent,
    UfuncEvent,
)
from tinygrad_nn.viz._common import _optional

__all__ = ["draw_plan", "plan_to_dot"]

_PHASE_COLOR = {"forward": "#dbeafe", "backward": "#fde2e2", "update": "#dcfce7"}
#: An executed step's box shows at most this many lines of its source.
MAX_CODE_LINES = 8


def _plan_of(step: CompiledFunction | Plan) -> Plan:
    if isinstance(step, Plan):
        return step
    if isinstance(step, CompiledFunction):
        return step.plan
    raise TypeError(
        f"plan_to_dot: needs a compiled step (tinygrad_nn.compile) or its plan; got "
        f"{type(step).__name__}"
    )


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _code_label(name: str, code: list[str]) -> str:
    """An HTML-like label: the step's name in bold, then its source lines, left-aligned."""

    def html(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    shown = code[:MAX_CODE_LINES]
    if len(code) > MAX_CODE_LINES:
        shown = [*shown, f"… {len(code) - MAX_CODE_LINES} more lines (plan.source)"]
    rows = "".join(f'{html(line)}<br align="left"/>' for line in shown)
    source = f'<br/><font face="Courier" point-size="9">{rows}</font>' if rows else ""
    return f"<<b>{html(name)}</b>{source}>"


def _slot_name(plan: Plan, slot: int) -> str:
    s = plan.tape.slots[slot]
    if s.kind == "leaf" and s.tensor is not None:
        return s.tensor.name or f"param{slot}"
    if s.kind == "input":
        return plan.arg_names[s.arg] if s.arg < len(plan.arg_names) else f"arg{s.arg}"
    if s.kind == "const":
        if s.array is None or s.array.size != 1:
            return "const"
        return f"{s.array.reshape(()).item():g}"
    return f"t{slot}"


def _recorded_label(plan: Plan, event: Any) -> str:
    if isinstance(event, OpEvent):
        shape = "×".join(map(str, plan.tape.slots[event.out].shape)) or "scalar"
        return f"{event.name}\n{shape}"
    if isinstance(event, BackwardEvent):
        return "backward()"
    if isinstance(event, HostEvent):
        return f"{type(event.owner).__name__}.{event.method.__name__}()"
    if isinstance(event, UfuncEvent):
        return f"numpy {event.ufunc.__name__}"
    if isinstance(event, SetItemEvent):
        return "numpy a[...] = v"
    if isinstance(event, SetGradEvent):
        return "p.grad = …"
    if isinstance(event, CopyEvent):
        return "Tensor(copy)"
    return type(event).__name__


def plan_to_dot(step: CompiledFunction | Plan) -> str:
    """DOT text: the recorded step (left), the executed plan (right), arrows between.

    Parameters
    ----------
    step : CompiledFunction or Plan
        A step made with :func:`tinygrad_nn.compile` that has been called at least twice (it is
        traced on its second call), or its ``.plan``.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor, nn
    >>> model = nn.MLP([2, 3, 1], seed=0)
    >>> step = tinygrad_nn.compile(lambda X, Y: nn.binary_cross_entropy(model(X), Y))
    >>> X, Y = np.ones((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    >>> _ = step(X, Y); _ = step(X, Y)
    >>> dot = plan_to_dot(step)
    >>> "gemm_bias(out=Z1)" in dot and "bce_logits" in dot
    True
    """
    plan = _plan_of(step)
    recorded = plan.tape.recorded or plan.tape.events
    lines = [
        "digraph plan {",
        "  rankdir=TB; newrank=true;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        "  subgraph cluster_recorded {",
        '    label="recorded (what you wrote)"; color="#9ca3af"; fontname="Helvetica";',
    ]
    producer: dict[int, int] = {}
    for i, event in enumerate(recorded):
        label = _quote(_recorded_label(plan, event))
        lines.append(f'    r{i} [label={label}, fillcolor="#f3f4f6"];')
        if isinstance(event, OpEvent):
            producer[event.out] = i
    leaves: dict[int, str] = {}
    edges: list[str] = []
    for i, event in enumerate(recorded):
        if not isinstance(event, OpEvent):
            if i > 0:
                edges.append(f"    r{i - 1} -> r{i} [style=invis];")
            continue
        for slot in event.inputs:
            if slot in producer:
                edges.append(f"    r{producer[slot]} -> r{i};")
            else:
                leaves.setdefault(slot, f"l{slot}")
                edges.append(f"    l{slot} -> r{i};")
    for slot, node in leaves.items():
        lines.append(f'    {node} [label={_quote(_slot_name(plan, slot))}, shape=ellipse, '
                     f'fillcolor="#ffffff"];')
    lines += edges
    lines += [
        "  }",
        "  subgraph cluster_executed {",
        '    label="executed (the compiled replay)"; color="#2563eb"; fontname="Helvetica";',
    ]
    for k, s in enumerate(plan.steps):
        color = _PHASE_COLOR.get(s.phase, "#ffffff")
        lines.append(f"    e{k} [label={_code_label(s.name, s.code)}, fillcolor={_quote(color)}];")
        if k:
            lines.append(f"    e{k - 1} -> e{k};")
    lines.append("  }")
    for k, s in enumerate(plan.steps):
        for i in s.recorded:
            if 0 <= i < len(recorded):
                lines.append(f'  r{i} -> e{k} [style=dashed, color="#2563eb", constraint=false];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_plan(step: CompiledFunction | Plan) -> Any:
    """The picture of :func:`plan_to_dot` as a ``graphviz.Source`` (needs the ``graphviz``
    package; ``.render("plan", format="svg")`` also needs Graphviz's ``dot`` program).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> step = tinygrad_nn.compile(lambda x: (w * x).sum())
    >>> _ = step(np.ones(2)); _ = step(np.ones(2))
    >>> draw_plan(step).source.startswith("digraph plan")
    True
    """
    graphviz = _optional("graphviz", "draw_plan")
    return graphviz.Source(plan_to_dot(step))

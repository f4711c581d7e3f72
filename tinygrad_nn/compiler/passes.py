"""Compiler passes: rewrite a traced tape into fewer, faster steps.

Each pass finds a group of recorded ops and replaces it with one *kernel*
(:mod:`~tinygrad_nn.compiler._kernels`), which writes the numpy lines of its forward and of its
rules into buffers allocated when the plan is built, so a replay allocates nothing. The
rewritten tape is then lowered to the replay's source by :mod:`~tinygrad_nn.compiler.codegen`
(the backward in the engine's order, over the kernels' rules).

The passes, in order:

1. ``bce_logits`` — the article's cost of a sigmoid, ``−mean(Y·ln A + (1−Y)·ln(1−A))`` with
   ``A = sigmoid(Z)`` (written by hand, or by ``nn.binary_cross_entropy`` with its ``clip``
   at e^−100 before each log), becomes the stable logits form
   ``mean(softplus(Z) − Y·Z)``, gradient ``(σ(Z) − Y)/n``; with the clip, each log term keeps
   its −100 floor, so the value is the eager one wherever eager has it right. Where the composed
   formula loses the value to rounding (``1 − A`` rounds to 0 for Z > 36.7 in float64), the
   kernel gives the true value instead of the floor.
2. ``gemm_bias`` — ``matmul(W, A)`` followed by ``add(·, b)``. When W and b are parameters
   (tensors made before the step), the bias is folded into the product, as the fastest
   hand-written step does: W and b become the two parts of one array ``[W | b]`` (their
   ``.data`` are views of it, which any other op or update reads and writes as before; see
   :func:`~tinygrad_nn.compiler._kernels.pack_bias`) and ``A``
   gets a row of ones, so one product gives ``Z = [W | b]·[A; 1]`` and, backward, one product
   gives ``[dW | db] = g·[A; 1]ᵀ``. Otherwise the product goes into a planned buffer and the
   bias is added in place. ``dA`` goes into a planned buffer.
3. activations — ``sigmoid``, ``tanh``, ``relu`` of a product: computed in place in the
   product's buffer (nothing else reads it); backward into the incoming gradient's buffer.
4. dead code — recorded work nothing uses (a check's ``(Y < 0).any()``) is dropped.

Every op without a kernel keeps its generic step (its own forward and backward).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nn.compiler._kernels import Activation, BceLogits, GemmBias, pack_bias
from tinygrad_nn.compiler._trace import (
    BackwardEvent,
    BackwardNode,
    CopyEvent,
    HostEvent,
    OpEvent,
    SetGradEvent,
    SetItemEvent,
    Tape,
    UfuncEvent,
)

__all__ = ["optimize"]


# --------------------------------------------------------------------------------------------
# the tape as a graph
# --------------------------------------------------------------------------------------------


class _Graph:
    """Who produces and who reads each slot of a tape."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.producer: dict[int, int] = {}
        self.readers: dict[int, list[int]] = {}
        for index, event in enumerate(tape.events):
            for slot in _reads(event):
                self.readers.setdefault(slot, []).append(index)
            if isinstance(event, OpEvent):
                self.producer[event.out] = index
        self.returned = set(_output_slots(tape.output))
        self.roots = {e.root for e in tape.events if isinstance(e, BackwardEvent)}

    def op(self, slot: int, name: str | tuple[str, ...]) -> OpEvent | None:
        index = self.producer.get(slot)
        if index is None:
            return None
        event = self.tape.events[index]
        names = (name,) if isinstance(name, str) else name
        return event if isinstance(event, OpEvent) and event.name in names else None

    def private(self, slot: int, reader: int) -> bool:
        """Only event ``reader`` reads ``slot``, and it is neither returned nor a root."""
        return (
            self.readers.get(slot) == [reader]
            and slot not in self.returned
            and slot not in self.roots
        )

    def index(self, event: OpEvent) -> int:
        return self.producer[event.out]


def _reads(event: Any) -> list[int]:
    if isinstance(event, OpEvent):
        if event.sequence:
            return list(event.inputs)
        return list(event.inputs)
    if isinstance(event, UfuncEvent):
        return [x for x in (*event.inputs, *event.out) if isinstance(x, int)]
    if isinstance(event, SetItemEvent):
        return [x for x in (event.target, event.value) if isinstance(x, int)]
    if isinstance(event, SetGradEvent):
        return [event.value] if isinstance(event.value, int) else []
    if isinstance(event, CopyEvent):
        return [event.source] if isinstance(event.source, int) else []
    if isinstance(event, BackwardEvent):
        return [event.seed]
    return []


def _output_slots(structure: Any) -> list[int]:
    if structure is None:
        return []
    kind = structure[0]
    if kind == "slot":
        return [structure[1]]
    if kind in ("tuple", "list", "dict"):
        return [s for item in structure[1] for s in _output_slots(item)]
    return []


def _arg(event: OpEvent, position: int, name: str) -> Any:
    """An op's static argument, given by position or by name (None if not given)."""
    if position < len(event.rest):
        return event.rest[position]
    return event.static.get(name)


def _is_value(tape: Tape, slot: int, value: float) -> bool:
    s = tape.slots[slot]
    return s.kind == "const" and s.array is not None and s.array.size == 1 and float(
        s.array.reshape(())) == value


# --------------------------------------------------------------------------------------------
# the passes
# --------------------------------------------------------------------------------------------


def _log_of(graph: _Graph, slot: int) -> tuple[int, float | None, list[int]] | None:
    """``ln x`` or ``ln clip(x, low=F)``: (x, F or None, event indices)."""
    log = graph.op(slot, "log")
    if log is None:
        return None
    inner = log.inputs[0]
    clip = graph.op(inner, "clip")
    if clip is not None and graph.private(inner, graph.index(log)):
        low, high = _arg(clip, 0, "low"), _arg(clip, 1, "high")
        if high is not None or not isinstance(low, float) or not 0 < low < 1e-30:
            return None
        return clip.inputs[0], low, [graph.index(clip), graph.index(log)]
    return inner, None, [graph.index(log)]


def _find_bce(graph: _Graph, neg: OpEvent) -> dict[str, Any] | None:
    tape = graph.tape
    mean = graph.op(neg.inputs[0], "mean")
    if mean is None or _arg(mean, 0, "axis") is not None or _arg(mean, 1, "keepdims"):
        return None
    total = graph.op(mean.inputs[0], "add")
    if total is None:
        return None
    used = [graph.index(neg), graph.index(mean), graph.index(total)]
    maybe_terms = [graph.op(s, "mul") for s in total.inputs]
    terms = [t for t in maybe_terms if t is not None]
    if len(terms) != 2:
        return None
    found: dict[str, Any] = {}
    for term in terms:
        used.append(graph.index(term))
        for k in (0, 1):
            log = _log_of(graph, term.inputs[k])
            if log is None:
                continue
            x, floor, log_events = log
            one_minus = graph.op(x, "sub")
            if one_minus is not None and _is_value(tape, one_minus.inputs[0], 1.0):
                found["log1m"] = (one_minus.inputs[1], floor, log_events, term.inputs[1 - k])
                used += [*log_events, graph.index(one_minus)]
            else:
                found["log"] = (x, floor, log_events, term.inputs[1 - k])
                used += log_events
            break
    if set(found) != {"log", "log1m"}:
        return None
    A, floor, _, Y = found["log"]
    A2, floor2, _, one_minus_Y = found["log1m"]
    if A2 != A or floor2 != floor or not _is_one_minus(graph, one_minus_Y, Y):
        return None
    sigmoid = graph.op(A, "sigmoid")
    if sigmoid is None or tape.slots[Y].shape != tape.slots[A].shape:
        return None
    producer = graph.producer.get(one_minus_Y)
    if producer is not None:
        used.append(producer)
    # every intermediate is read only inside the pattern
    inside = set(used)
    for index in used:
        event = tape.events[index]
        if isinstance(event, OpEvent) and event.out != neg.out:
            readers = graph.readers.get(event.out, [])
            if not set(readers) <= inside or event.out in graph.returned:
                return None
    if any(_requires_grad(tape, Y, graph)):
        return None
    others = [r for r in graph.readers.get(A, []) if r not in inside]
    if any(tape.events[r].requires_grad for r in others if isinstance(tape.events[r], OpEvent)):
        return None
    keep_sigmoid = bool(others) or A in graph.returned
    return {"Z": sigmoid.inputs[0], "Y": Y, "A": A, "floor": floor, "used": sorted(inside),
            "sigmoid": graph.index(sigmoid), "keep_sigmoid": keep_sigmoid}


def _requires_grad(tape: Tape, slot: int, graph: _Graph) -> list[bool]:
    producer = graph.producer.get(slot)
    if producer is None:
        s = tape.slots[slot]
        return [bool(s.tensor is not None and s.tensor.requires_grad)]
    event = tape.events[producer]
    return [isinstance(event, OpEvent) and event.requires_grad]


def _is_one_minus(graph: _Graph, slot: int, Y: int) -> bool:
    """``slot`` holds 1 − Y: a recorded sub(1, Y), or numpy's 1 - Y on the argument."""
    tape = graph.tape
    sub = graph.op(slot, "sub")
    if sub is not None:
        return sub.inputs[1] == Y and _is_value(tape, sub.inputs[0], 1.0)
    for event in tape.events:
        if isinstance(event, UfuncEvent) and event.outs == [slot]:
            first = event.inputs[0]
            return (
                event.ufunc is np.subtract
                and event.method == "__call__"
                and isinstance(first, tuple)
                and first[1] == 1
                and event.inputs[1] == Y
            )
    return False


def optimize(tape: Tape) -> Tape:
    """Rewrite ``tape``'s events with the passes above (in place); return it.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> W = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> b = Tensor(np.zeros((2, 1)), requires_grad=True)
    >>> step = tinygrad_nn.compile(lambda X: (W @ X + b).sigmoid().sum())
    >>> _ = step(np.ones((3, 4))); _ = step(np.ones((3, 4)))
    >>> [s.name for s in step.plan.steps]
    ['gemm_bias(out=Z1)', 'sigmoid(in place, Z1)', 'op:sum']
    """
    graph = _Graph(tape)
    events = tape.events
    tape.recorded = list(events)
    replaced: dict[int, OpEvent | None] = {}  # event index -> new event (None: removed)
    remove_nodes: set[int] = set()

    # 1. the article's cost of a sigmoid -> bce_logits
    for index, event in enumerate(events):
        if not isinstance(event, OpEvent) or event.name != "neg":
            continue
        match = _find_bce(graph, event)
        if match is None or any(i in replaced for i in match["used"]):
            continue
        Z, Y, A = match["Z"], match["Y"], match["A"]
        z = tape.slots[Z]
        cost = BceLogits(z.shape, z.dtype, match["floor"])
        recorded = [match["sigmoid"], *match["used"]]
        for i in match["used"]:
            replaced[i] = None
        if not match["keep_sigmoid"]:
            replaced[match["sigmoid"]] = None
        z_grad = events[match["sigmoid"]].input_requires_grad[0]
        replaced[index] = OpEvent("bce_logits", cost, [Z, Y], False, (), {}, event.out,
                                  event.requires_grad, (z_grad, False), label="bce_logits",
                                  recorded=sorted(recorded))
        remove_nodes |= {events[i].out for i in match["used"] if events[i].out != event.out}
        remove_nodes.add(A)

    # 2. matmul + add(bias) -> gemm_bias; 3. an activation of it, in place
    layer = 0
    made_by: dict[int, GemmBias] = {}  # a gemm_bias output (or its activation) -> the kernel
    for index, event in enumerate(events):
        if index in replaced or not isinstance(event, OpEvent) or event.name != "add":
            continue
        for k in (0, 1):
            mm = graph.op(event.inputs[k], "matmul")
            if mm is None or not graph.private(mm.out, index) or graph.index(mm) in replaced:
                continue
            W, A_prev, b = mm.inputs[0], mm.inputs[1], event.inputs[1 - k]
            sw, sa, sb, sz = (tape.slots[i] for i in (W, A_prev, b, event.out))
            if len(sw.shape) != 2 or len(sa.shape) != 2 or len(sb.shape) > 2:
                continue
            if len({sw.dtype, sa.dtype, sb.dtype, sz.dtype}) != 1:
                continue
            b_shape = (1,) * (2 - len(sb.shape)) + sb.shape
            if b_shape != sb.shape:
                continue
            layer += 1
            label = f"Z{layer}"
            kernel = GemmBias(sz.shape, sw.shape, sa.shape, sb.shape, sz.dtype, layer)
            kernel.pack = pack_bias(sw.tensor, sb.tensor)
            if kernel.pack is not None and A_prev in made_by:
                made_by[A_prev].ones_row = True  # its output gets a row of ones for this product
            made_by[event.out] = kernel
            replaced[graph.index(mm)] = None
            replaced[index] = OpEvent(
                "gemm_bias", kernel, [W, A_prev, b], False, (), {}, event.out,
                event.requires_grad, (mm.input_requires_grad[0], mm.input_requires_grad[1],
                                      event.input_requires_grad[1 - k]),
                label=f"gemm_bias(out={label})", recorded=sorted([graph.index(mm), index]),
                fused_parents={mm.out: (event.out, [0, 1])},
            )
            readers = graph.readers.get(event.out, [])
            if (len(readers) == 1 and event.out not in graph.returned
                    and event.out not in graph.roots):
                act = events[readers[0]]
                if (isinstance(act, OpEvent) and act.name in ("sigmoid", "tanh", "relu")
                        and readers[0] not in replaced):
                    replaced[readers[0]] = OpEvent(
                        act.name, Activation(act.name, sz.shape, sz.dtype, layer),
                        [event.out], False, (), {}, act.out, act.requires_grad,
                        act.input_requires_grad, label=f"{act.name}(in place, {label})",
                        recorded=[readers[0]],
                    )
                    made_by[act.out] = kernel
                    kernel.read_as = f"A{layer}"
            break

    # rebuild the event list and the backward walks
    new_events: list[Any] = []
    for index, event in enumerate(events):
        if index not in replaced:
            if isinstance(event, OpEvent) and event.recorded is None:
                event.recorded = [index]
            new_events.append(event)
        elif replaced[index] is not None:
            new_events.append(replaced[index])
    fused = {e.out: e for e in new_events if isinstance(e, OpEvent) and e.name in (
        "gemm_bias", "bce_logits")}
    for event in new_events:
        if isinstance(event, BackwardEvent):
            _rewrite_backward(event, fused, remove_nodes, graph)
    tape.events = _drop_dead(tape, new_events)
    return tape


def _rewrite_backward(event: BackwardEvent, fused: dict[int, OpEvent], remove: set[int],
                      graph: _Graph) -> None:
    removed_matmuls = {
        mm_out for e in fused.values() for mm_out in (e.fused_parents or {})
    }
    nodes: list[BackwardNode] = []
    assign: dict[int, bool] = {}
    for position, node in enumerate(event.nodes):
        if node.op is not None and (node.slot in remove or node.slot in removed_matmuls):
            continue
        if node.slot in fused:
            e = fused[node.slot]
            node = BackwardNode(node.slot, None, [
                (slot, i) for i, slot in enumerate(e.inputs) if e.input_requires_grad[i]
            ], e.name)
        if position in event.assign:
            assign[len(nodes)] = event.assign[position]
        nodes.append(node)
    event.nodes = nodes
    event.assign = assign


def _drop_dead(tape: Tape, events: list[Any]) -> list[Any]:
    """Drop op and ufunc events whose results nothing uses."""
    live: set[int] = set(_output_slots(tape.output))
    for event in events:
        if isinstance(event, BackwardEvent):
            live.add(event.root)
            live.add(event.seed)
            live.update(n.slot for n in event.nodes if n.op is not None)
    kept: list[Any] = []
    for event in reversed(events):
        if isinstance(event, OpEvent):
            if event.out not in live:
                continue
            live.update(event.inputs)
        elif isinstance(event, UfuncEvent):
            side_effect = any(not isinstance(o, int) or tape.slots[o].kind != "value"
                              for o in event.out)
            if not side_effect and not any(o in live for o in event.outs if o >= 0) and not any(
                    isinstance(o, int) and o in live for o in event.out):
                continue
            live.update(x for x in event.inputs if isinstance(x, int))
            live.update(x for x in event.out if isinstance(x, int))
        elif isinstance(event, CopyEvent):
            if event.out not in live:
                continue
            live.update(_reads(event))
        elif isinstance(event, (SetItemEvent, SetGradEvent, HostEvent)):  # effects: kept
            live.update(_reads(event))
        kept.append(event)
    kept.reverse()
    return kept

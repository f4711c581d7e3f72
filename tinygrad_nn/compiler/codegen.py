"""Lowering: the rewritten tape becomes the source of one Python function, the replay.

The replay is straight-line numpy, the way the fastest hand-written step is: every array is a
named variable, every buffer is allocated once when the plan is built and bound by name, and
each executed step is a few ufunc calls with ``out=``. There is no interpreter loop over the
steps, no dict of slots and no closure per rule, which is what makes a small network's replay
as fast as hand-written numpy (each numpy call costs about a microsecond; the Python around it
is the rest). The source is kept (``step.plan.source``): it is what runs, line for line.

What is known when the plan is built is decided then, not at every replay: which buffer a
gradient goes to, whether a gradient arriving at a tensor is the first or is added to another,
whether a temporary can reuse a buffer nothing reads any more, whether a big kernel is split
over two cores. Only generic ops (those without a kernel) keep a runtime helper for their
rules, which does what the engine's backward does for every edge (``asarray``,
``unbroadcast``, a cast, ownership of the array).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn.compiler._code import Code
from tinygrad_nn.compiler._kernels import HELPERS, SGD_UPDATE, Kernel
from tinygrad_nn.compiler._parallel import TwoCores
from tinygrad_nn.compiler._tape import (
    BackwardEvent,
    CopyEvent,
    GradRef,
    HostEvent,
    OpEvent,
    SetGradEvent,
    SetItemEvent,
    Tape,
    UfuncEvent,
)
from tinygrad_nn.optim import SGD
from tinygrad_nn.tensor import Tensor

__all__ = ["ExecutedStep", "Lowered", "lower"]

@dataclass
class ExecutedStep:
    """One step of a plan: its name (``"gemm_bias(out=Z1)"``), the recorded ops it stands for,
    and its lines of the replay's source.

    Attributes
    ----------
    name : str
        What runs, e.g. ``"gemm_bias(out=Z1)"``, ``"bce_logits"``, ``"op:exp"``.
    recorded : list of int
        Indices of the tape's events this step stands for (ops, backward, updates).
    phase : str
        ``"forward"``, ``"backward"`` or ``"update"``.
    code : list of str
        Its lines in the replay's source.

    Examples
    --------
    >>> step = ExecutedStep("op:exp", [0], "forward", ["exp2, rules2 = op_exp(x)"])
    >>> step.name, step.recorded
    ('op:exp', [0])
    """

    name: str
    recorded: list[int]
    phase: str
    code: list[str] = field(default_factory=list)


@dataclass
class Lowered:
    """The output of :func:`lower`: the replay function, its source, the steps, the buffers
    and the names the source uses.

    Examples
    --------
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([2.0], requires_grad=True, name="w")
    >>> step = tinygrad_nn.compile(lambda: (w * 3).sum())
    >>> _ = step(); _ = step()
    >>> step.plan.namespace["w"] is w.data      # the replay reads w's array by name
    True
    """

    replay: Any
    source: str
    steps: list[ExecutedStep]
    buffers: list[np.ndarray]
    namespace: dict[str, Any]


# --------------------------------------------------------------------------------------------
# the lowering
# --------------------------------------------------------------------------------------------


@dataclass
class _Grad:
    """A gradient in the backward being written: its variable and who may write into it.

    ``owner`` is ``"own"`` (a buffer or fresh array only this gradient uses), ``"borrowed"``
    (the seed: never written) or the name of a runtime flag (a generic rule's result)."""

    name: str
    owner: str


class _Lowering:
    """Writes the replay of one tape: names its slots, lowers each event in order (kernels
    write their own lines, generic ops call their registry forward, backward is written node by
    node, an ``SGD.step()`` is written out) and records the executed steps."""

    def __init__(self, tape: Tape, threads: int, arg_names: list[str]) -> None:
        self.tape = tape
        self.arg_names = arg_names  # the step's parameter names, for the arguments' variables
        self.code = Code(threads, HELPERS)
        self.names: dict[int, str] = {}
        self.rules: dict[int, str] = {}  # slot of a generic op's output -> its rules' variable
        self.tensors: dict[int, str] = {}  # id(tensor) -> bound name
        self.needs_rules = {n.slot for e in tape.events if isinstance(e, BackwardEvent)
                            for n in e.nodes if n.op is not None}
        self.producers = {e.out: e for e in tape.events if isinstance(e, OpEvent)}
        self.loads: list[tuple[str, str]] = []  # (name, line) loading an argument
        self.objects: dict[int, str] = {}  # id -> name of an optimizer or method bound once
        self.steps: list[ExecutedStep] = []
        # id(tensor) -> the variable its .grad was set to by this replay's backward (a buffer
        # of the tensor's shape), until a host call that may change gradients
        self.grads_set: dict[int, str] = {}

    # ---- names of slots ----------------------------------------------------------------------

    def _name_slots(self) -> None:
        code, counts = self.code, dict[str, int]()
        for s in self.tape.slots:
            if s.kind in ("input", "leaf") and s.name:
                counts[s.name] = counts.get(s.name, 0) + 1
        numbers: dict[str, int] = {}
        seeds = {e.seed for e in self.tape.events if isinstance(e, BackwardEvent)}
        for s in self.tape.slots:
            if s.kind == "leaf" and s.tensor is not None:
                hint = s.name or f"p{s.index}"
                if counts.get(hint, 0) > 1:  # W, W, W → W1, W2, W3 (the layers, in order)
                    numbers[hint] = numbers.get(hint, 0) + 1
                    hint = f"{hint}{numbers[hint]}"
                self.names[s.index] = code.bind(hint, s.tensor.data)
                self.tensors[id(s.tensor)] = code.bind(f"{self.names[s.index]}_tensor", s.tensor)
            elif s.kind == "const":
                hint = "seed" if s.index in seeds else f"k{s.index}"
                self.names[s.index] = code.bind(hint, s.array)
                code.constants.add(self.names[s.index])
        loaded: dict[tuple[int, str | None], str] = {}
        for s in self.tape.slots:
            if s.kind != "input":
                continue
            key = (s.arg, s.dtype.str if s.cast else None)
            if key not in loaded:
                hint = (self.arg_names[s.arg] if s.arg < len(self.arg_names)
                        else s.name or f"arg{s.arg}")
                name = loaded[key] = code.local(f"{hint}_{s.dtype}" if s.cast else hint)
                load = f"args[{s.arg}].data" if s.from_tensor else f"args[{s.arg}]"
                if s.cast:
                    load += f".astype({code.bind('dtype', s.dtype)})"
                self.loads.append((name, f"{name} = {load}"))
            self.names[s.index] = loaded[key]

    def target(self, ref: GradRef) -> str:
        """The tensor a gradient reference names."""
        if ref.tensor is None:
            return f"args[{ref.arg}]"
        key = id(ref.tensor)
        if key not in self.tensors:
            self.tensors[key] = self.code.bind(f"{ref.tensor.name or 'tensor'}_tensor",
                                               ref.tensor)
        return self.tensors[key]

    def ref(self, value: Any) -> str:
        """A tape reference (slot, GradRef or ("py", value)) as an expression."""
        if isinstance(value, int):
            return self.names[value]
        if isinstance(value, GradRef):
            return f"{self.target(value)}.grad"
        return self.code.literal(value[1])

    # ---- events ------------------------------------------------------------------------------

    def lower(self) -> Lowered:
        self._name_slots()
        position = {id(e): i for i, e in enumerate(self.tape.recorded)}
        for index, event in enumerate(self.tape.events):
            recorded = list(getattr(event, "recorded", None) or [position.get(id(event), -1)])
            if isinstance(event, BackwardEvent):
                self._backward(index, event, recorded)
                continue
            start = len(self.code.shown)
            name, phase = self._event(event)
            self.steps.append(ExecutedStep(name, recorded, phase, self.code.shown[start:]))
        self.code.line(f"return {self._output(self.tape.output)}")
        body = self.code.render()
        used = set(re.findall(r"\w+", "\n".join(body)))  # arguments are loaded if used
        source = self._source([line for name, line in self.loads if name in used] + body)
        namespace = self.code.namespace
        namespace["buffer_ids"] = {id(b) for b in self.code.buffers} | self.code.part_ids
        exec(compile(source, "<tinygrad_nn replay>", "exec"), namespace)
        return Lowered(namespace["replay"], source, self.steps, self.code.buffers, namespace)

    def _source(self, body: list[str]) -> str:
        header = ["def replay(args):"]
        if self.code.quiet_overflow:  # a sigmoid's e^−x → inf: its right limit
            header.insert(0, '@errstate(over="ignore")')  # (a decorator costs less than a with)
        indent = "    "
        if self.code.threads == 2:
            header.append("    with two_cores():")
            self.code.namespace["two_cores"] = TwoCores
            indent = "        "
        return "\n".join([*header, *(indent + line for line in body)]) + "\n"

    def _output(self, structure: Any) -> str:
        kind = structure[0]
        if kind == "none":
            return "None"
        if kind == "slot":
            return f"result({self.names[structure[1]]}, {structure[2]!r})"
        if kind == "static":
            return repr(structure[1])
        items = [self._output(s) for s in structure[1]]
        if kind == "tuple":
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        if kind == "list":
            return f"[{', '.join(items)}]"
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(structure[2], items)) + "}"  # noqa: B905

    def _event(self, event: Any) -> tuple[str, str]:
        if isinstance(event, OpEvent):
            if isinstance(event.forward, Kernel):
                kernel = event.forward
                inputs = [self.names[s] for s in event.inputs]
                out = kernel.output(self.code, inputs)
                kernel.forward(self.code, inputs, out)
                self.names[event.out] = out
                return event.label or kernel.label, "forward"
            self._generic_op(event)
            return event.label or f"op:{event.name}", "forward"
        if isinstance(event, UfuncEvent):
            self._ufunc(event)
            return f"numpy:{event.ufunc.__name__}", "update"
        if isinstance(event, SetItemEvent):
            key = self.code.literal(event.key, "key")
            self.code.line(f"{self.ref(event.target)}[{key}] = {self.ref(event.value)}")
            return "numpy:setitem", "update"
        if isinstance(event, CopyEvent):
            s = self.tape.slots[event.out]
            copy = self.code.buffer(f"copy{event.out}", s.shape, s.dtype)
            self.code.line(f'copyto({copy}, {self.ref(event.source)}, casting="unsafe")')
            self.names[event.out] = copy
            return "copy", "forward"
        if isinstance(event, SetGradEvent):
            self._set_grad(event)
            return f"{self.target(event.target).removesuffix('_tensor')}.grad = …", "update"
        if isinstance(event, HostEvent):
            return self._host(event), "update"
        raise TypeError(f"compile: cannot lower event {event!r}")

    def _set_grad(self, event: SetGradEvent) -> None:
        """The step's own ``p.grad = value``: a constant is copied, so that numpy work on the
        gradient at one replay does not change what the next one starts from."""
        value = self.ref(event.value)
        if isinstance(event.value, int) and self.tape.slots[event.value].kind == "const":
            value += ".copy()"
        self.code.line(f"{self.target(event.target)}.grad = {value}")
        if event.target.tensor is not None:
            self.grads_set.pop(id(event.target.tensor), None)

    def _generic_op(self, event: OpEvent) -> None:
        code = self.code
        forward = self._object(f"op_{event.name}", event.forward)
        inputs = [self.names[s] for s in event.inputs]
        arguments = [f"[{', '.join(inputs)}]"] if event.sequence else inputs
        arguments += [code.literal(v) for v in event.rest]
        arguments += [f"{k}={code.literal(v)}" for k, v in event.static.items()]
        out = code.local(f"{event.name}{event.out}")
        call = f"{forward}({', '.join(arguments)})"
        if event.out in self.needs_rules:
            rules = self.rules[event.out] = code.local(f"rules{event.out}")
            code.line(f"{out}, {rules} = {call}")
        else:
            code.line(f"{out} = {call}[0]")
        if self.tape.slots[event.out].shape == ():  # numpy returns scalars for 0-d results
            code.line(f"{out} = asarray({out})")
        self.names[event.out] = out

    def _ufunc(self, event: UfuncEvent) -> None:
        code = self.code
        ufunc = self._object(event.ufunc.__name__, event.ufunc)
        call = ufunc if event.method == "__call__" else f"{ufunc}.{event.method}"
        outs: list[str] = []
        for k, slot in enumerate(event.outs):
            if k < len(event.out):
                outs.append(self.ref(event.out[k]))
            else:  # a fresh result: a buffer planned once
                s = self.tape.slots[slot]
                outs.append(code.buffer(f"{event.ufunc.__name__}{slot}", s.shape, s.dtype))
            if slot >= 0:
                self.names[slot] = outs[-1]
        arguments = [self.ref(x) for x in event.inputs]
        arguments += [f"{k}={code.literal(v)}" for k, v in event.kwargs.items()]
        code.line(f"{call}({', '.join(arguments)}, out=({', '.join(outs)},))")

    def _host(self, event: HostEvent) -> str:
        code, owner = self.code, event.owner
        if isinstance(owner, Tensor):  # t.mark_modified() after an in-place change
            code.line(f"{self.target(GradRef(owner))}.mark_modified()")
            return f"{owner.name or 'tensor'}.mark_modified"
        name = f"{type(owner).__name__}.{event.method.__name__}"
        method = self._object(f"{type(owner).__name__}_{event.method.__name__}", event.method)
        optimizer = self._object(type(owner).__name__.lower(), owner)
        sgd_step = type(owner) is SGD and event.method is SGD.step.__wrapped__  # type: ignore[attr-defined]
        if sgd_step and not event.args and not event.kwargs and self._sgd_inline(owner):
            self._sgd(owner, optimizer, method)
        else:
            arguments = [optimizer, *(code.literal(a) for a in event.args)]
            arguments += [f"{k}={code.literal(v)}" for k, v in event.kwargs.items()]
            code.line(f"{method}({', '.join(arguments)})")
            if not sgd_step:
                self.grads_set.clear()  # zero_grad() and other calls may change any .grad
        return name

    def _object(self, hint: str, obj: Any) -> str:
        """The name bound to ``obj`` (one name per object; numpy's own names for its ufuncs)."""
        if self.code.namespace.get(hint) is obj:
            return hint
        if id(obj) not in self.objects:
            self.objects[id(obj)] = self.code.bind(hint, obj)
        return self.objects[id(obj)]

    def _sgd_inline(self, opt: SGD) -> bool:
        """Whether ``opt.step()`` can be written out: every parameter's scratch exists and its
        gradient, if any, was set by this replay's backward (so it has the parameter's shape)."""
        return all(
            s is not None and s.shape == p.data.shape and s.dtype == p.data.dtype
            and id(p) in self.grads_set
            for p, s in zip(opt.params, opt._scratch)  # noqa: B905
        )

    def _sgd(self, opt: SGD, optimizer: str, method: str) -> None:
        """``opt.step()`` without momentum, written out: the same two ufuncs per parameter as
        ``SGD.step`` (the same floats); with momentum (set between calls) it calls the method.
        A weight and its bias packed into one array (``[W | b]``) whose gradients are the two
        parts of one ``[dW | db]`` are updated together: two ufuncs for both."""
        code = self.code
        code.line(f"if {optimizer}.momentum:")
        code.line(f"    {method}({optimizer})")
        code.line("else:")
        lr = code.local("lr")
        code.line(f"    {lr} = {optimizer}.lr")
        done: set[int] = set()
        for p, scratch_array in zip(opt.params, opt._scratch):  # noqa: B905
            if id(p) in done:
                continue
            t = self.tensors.get(id(p)) or self.target(GradRef(p))
            pair = self._packed_pair(opt, p)
            if pair is not None:
                b, whole, grad = pair
                done.add(id(b))
                data, scratch = self._pack_scratch(opt, p, b, whole)
                self._update(data, grad, scratch, lr, "    ",
                             f"[{self._data_name(p)} | {self._data_name(b)}]")
                code.line(f"    {t}.mark_modified()")
                code.line(f"    {self.tensors[id(b)]}.mark_modified()")
                continue
            data = self._data_name(p)
            s = code.bind(f"{data}_step", scratch_array)
            if data not in code.namespace:  # not a slot of the step: read it now
                code.line(f"    {data} = {t}.data")
            g = code.local("g")
            code.line(f"    {g} = {t}.grad")
            code.line(f"    if {g} is not None:")
            self._update(data, g, s, lr, "        ", data)
            code.line(f"        {t}.mark_modified()")

    def _update(self, data: str, g: str, scratch: str, lr: str, indent: str, what: str
                ) -> None:
        """``data -= lr·g`` as ``SGD.step`` computes it (``lr·g`` into the scratch array), in
        row halves on two cores when big; ``what`` names the parameter in a comment."""
        self.code.indent = indent
        SGD_UPDATE.emit(self.code, self.code.namespace[scratch].shape, f"{what} -= lr·grad",
                        g=g, s=scratch, p=data, lr=lr)
        self.code.indent = ""

    def _packed_pair(self, opt: SGD, W: Tensor) -> tuple[Tensor, str, str] | None:
        """(b, the name of [W | b], the name of [dW | db]) when W's data and gradient are the
        first parts of a pack whose second parts are an optimized parameter b's."""
        base = W.data.base
        for whole_grad, (dW, db) in self.code.packed_grads.items():
            if self.grads_set.get(id(W)) != dW:
                continue
            for b in opt.params:
                if (b is not W and self.grads_set.get(id(b)) == db and b.data.base is base
                        and base is not None and id(b) in self.tensors):
                    name = next(n for n, v in self.code.namespace.items() if v is base)
                    return b, name, whole_grad
        return None

    def _pack_scratch(self, opt: SGD, W: Tensor, b: Tensor, whole: str) -> tuple[str, str]:
        """The optimizer's scratch arrays for W and b, made the two parts of one array of the
        pack's shape (what ``SGD.step`` writes into them is unchanged)."""
        array = self.code.namespace[whole]
        scratch = np.empty_like(array)
        for k, p in enumerate(opt.params):
            if p is W:
                opt._scratch[k] = scratch[:, :-1]
            elif p is b:
                opt._scratch[k] = scratch[:, -1:]
        return whole, self.code.bind(f"{whole}_step", scratch)

    def _data_name(self, t: Tensor) -> str:
        """The variable of a parameter's data: its slot's (checked by the plan's guards before
        every replay), or a new local."""
        for slot, name in self.names.items():
            s = self.tape.slots[slot]
            if s.kind == "leaf" and s.tensor is t:
                return name
        return self.code.local(t.name or "param")

    # ---- backward ----------------------------------------------------------------------------

    def _backward(self, index: int, event: BackwardEvent, recorded: list[int]) -> None:
        """``backward()`` written out: for each node, newest first, its rules (an executed step
        each, ``"backward: gemm_bias(out=Z3)"``), then the gradients into the leaves' ``.grad``.
        """
        code = self.code
        grads: dict[int, _Grad] = {event.root: _Grad(self.names[event.seed], "borrowed")}
        start = len(code.shown)
        for k, node in enumerate(event.nodes):  # a kept .grad must not be overwritten
            if node.leaf_target is not None and not event.assign.get(k, False):
                code.line(f"unshare({self.target(node.leaf_target)}, buffer_ids)")
        later = self._read_after(index)
        read_by_rules = [self._rule_reads(n) for n in event.nodes]
        leaves: list[str] = []
        for k, node in enumerate(event.nodes):
            entry = grads.pop(node.slot, None)
            if entry is None:
                continue
            if node.leaf_target is not None:
                self._to_leaf(node.leaf_target, entry, event.assign.get(k, False))
                leaves.append(self.names.get(node.slot, "?"))
                continue
            producer = self.producers[node.slot]
            still_read = {code.storage(self.names[s])
                          for s in later.union(*read_by_rules[k + 1:]) if s in self.names}
            self._rules_of(producer, node, entry, grads, still_read)
            name = producer.label or f"op:{producer.name}"
            self.steps.append(ExecutedStep(f"backward: {name}", recorded, "backward",
                                           code.shown[start:]))
            start = len(code.shown)
        if len(code.shown) > start:
            self.steps.append(ExecutedStep(f"backward: .grad of {', '.join(leaves)}", recorded,
                                           "backward", code.shown[start:]))

    def _rules_of(self, producer: OpEvent, node: Any, g: _Grad, grads: dict[int, _Grad],
                  still_read: set[str]) -> None:
        """The lines of one node's rules: a kernel writes them (into planned buffers, writing
        over ``g`` or its saved output when nothing reads them any more); a generic op's rules
        run through :func:`grad_of`, as the engine runs them."""
        code = self.code
        inputs = [self.names[s] for s in producer.inputs]
        out = self.names[node.slot]
        for parent, rule_index in node.parents:
            if isinstance(producer.forward, Kernel):
                code._writable = {g.name} if g.owner == "own" else set()
                if code.storage(out) not in still_read:
                    code._writable.add(out)
                name = producer.forward.rule(code, rule_index, inputs, out, g.name)
                code._writable = set()
                self._add(grads, parent, _Grad(name, "own"))
                continue
            s = self.tape.slots[parent]
            name, fresh = code.local("g"), code.local("fresh")
            shape, dtype = repr(s.shape), code.bind("dtype", s.dtype)
            code.line(f"{name}, {fresh} = grad_of({self.rules[node.slot]}, {rule_index}, "
                      f"{g.name}, {shape}, {dtype})")
            self._add(grads, parent, _Grad(name, fresh))

    def _add(self, grads: dict[int, _Grad], slot: int, g: _Grad) -> None:
        """The engine's accumulation: the first gradient is kept, later ones are added."""
        total = grads.get(slot)
        if total is None:
            grads[slot] = g
        elif total.owner == "own":
            self.code.line(f"add({total.name}, {g.name}, out={total.name})")
        elif total.owner == "borrowed":
            name = self.code.local("total")
            self.code.line(f"{name} = add_new({total.name}, {g.name})")
            grads[slot] = _Grad(name, "own")
        else:
            self.code.line(f"{total.name}, {total.owner} = accumulate({total.name}, "
                           f"{total.owner}, {g.name})")

    def _to_leaf(self, ref: GradRef, g: _Grad, assign: bool) -> None:
        t = self.target(ref)
        value = {"own": g.name, "borrowed": f"{g.name}.copy()"}.get(
            g.owner, f"({g.name} if {g.owner} else {g.name}.copy())")
        if assign:
            self.code.line(f"{t}.grad = {value}")
            if ref.tensor is not None:
                self.grads_set[id(ref.tensor)] = value
        else:
            self.code.line(f"{t}.grad = {value} if {t}.grad is None else "
                           f"add_new({t}.grad, {g.name})")

    def _rule_reads(self, node: Any) -> set[int]:
        """The slots a node's rules may read: its op's inputs, and its output unless a kernel
        says its rules never read it."""
        producer = self.producers.get(node.slot)
        if node.leaf_target is not None or producer is None:
            return set()
        if isinstance(producer.forward, Kernel) and not producer.forward.rules_read_output:
            return set(producer.inputs)
        return {*producer.inputs, node.slot}

    def _read_after(self, index: int) -> set[int]:
        """The slots read by the events after event ``index``, or returned by the step."""
        read: set[int] = set(_output_slots(self.tape.output))
        for event in self.tape.events[index + 1:]:
            if isinstance(event, OpEvent):
                read.update(event.inputs)
            elif isinstance(event, UfuncEvent):
                read.update(x for x in (*event.inputs, *event.out) if isinstance(x, int))
            elif isinstance(event, SetItemEvent):
                read.update(x for x in (event.target, event.value) if isinstance(x, int))
            elif isinstance(event, SetGradEvent) and isinstance(event.value, int):
                read.add(event.value)
            elif isinstance(event, CopyEvent) and isinstance(event.source, int):
                read.add(event.source)
            elif isinstance(event, BackwardEvent):
                read.add(event.seed)
                for node in event.nodes:
                    read |= self._rule_reads(node)
        return read


def _output_slots(structure: Any) -> list[int]:
    if structure is None:
        return []
    if structure[0] == "slot":
        return [structure[1]]
    if structure[0] in ("tuple", "list", "dict"):
        return [s for item in structure[1] for s in _output_slots(item)]
    return []


def lower(tape: Tape, threads: int = 1, arg_names: list[str] | None = None) -> Lowered:
    """The replay function of a (rewritten) tape, with its source and steps; ``arg_names``
    name the arguments' variables (the step's own parameter names).

    Examples
    --------
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([2.0], requires_grad=True, name="w")
    >>> step = tinygrad_nn.compile(lambda: (w * w).sum())
    >>> _ = step(); _ = step()
    >>> print(step.plan.source)
    def replay(args):
        mul1 = op_mul(w, w)[0]
        sum2 = op_sum(mul1, None, False)[0]
        sum2 = asarray(sum2)
        return result(sum2, None)
    <BLANKLINE>
    """
    return _Lowering(tape, threads, arg_names or []).lower()

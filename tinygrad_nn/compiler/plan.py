"""The plan: a traced tape turned into a list of steps that replay it on numpy arrays.

A :class:`Plan` holds one array per slot of the tape (``env``) and a program: one Python
closure per executed step. Arguments and parameters are loaded into their slots at the start of
each replay; everything else is computed. Each step knows which recorded ops it stands for, so
:meth:`Plan.steps` (and the picture in :mod:`tinygrad_nn.viz.plan`) can show which recorded ops
became which executed step.

The generic step of an op replays the op's own forward and backward from the registry, so every
registered op compiles; :mod:`tinygrad_nn.compiler.passes` replaces groups of them with fast
kernels writing into buffers planned once.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn.autograd import unbroadcast
from tinygrad_nn.compiler import _parallel
from tinygrad_nn.compiler._kernels import KERNELS
from tinygrad_nn.compiler._trace import (
    BackwardEvent,
    CompileError,
    GradRef,
    HostEvent,
    OpEvent,
    SetItemEvent,
    Tape,
    UfuncEvent,
)
from tinygrad_nn.optim import SGD
from tinygrad_nn.tensor import Tensor

__all__ = ["ExecutedStep", "Plan"]


@dataclass
class ExecutedStep:
    """One step of a plan: its name (``"gemm_bias(out=Z1)"``) and the recorded ops it runs.

    Attributes
    ----------
    name : str
        What runs, e.g. ``"gemm_bias(out=Z1)"``, ``"bce_logits"``, ``"op:exp"``.
    recorded : list of int
        Indices of the tape's events this step stands for (ops, backward, updates).
    phase : str
        ``"forward"``, ``"backward"`` or ``"update"``.
    run : callable
        The closure that does it.

    Examples
    --------
    >>> step = ExecutedStep("op:exp", [0], "forward", lambda: None)
    >>> step.name, step.recorded
    ('op:exp', [0])
    """

    name: str
    recorded: list[int]
    phase: str
    run: Callable[[], None] = field(repr=False)


class Plan:
    """A tape made executable. Built by :func:`tinygrad_nn.compile`; run with :meth:`replay`.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> @tinygrad_nn.compile
    ... def step(x):
    ...     return (w * x).sum()
    >>> for _ in range(3):
    ...     loss = step(np.array([3.0, 4.0]))
    >>> [s.name for s in step.plan.steps]
    ['op:mul', 'op:sum']
    """

    def __init__(self, tape: Tape, optimize: bool = True, threads: int = 1) -> None:
        self.tape = tape
        self.env: list[Any] = [s.array for s in tape.slots]
        self.rules: dict[int, tuple[Callable[[np.ndarray], np.ndarray], ...]] = {}
        self.args: tuple[Any, ...] = ()
        self._loaders = [
            (s.index, s.arg, s.cast, s.dtype) for s in tape.slots if s.kind == "input"
        ]
        self._leaves: list[tuple[int, Tensor]] = [
            (s.index, s.tensor) for s in tape.slots if s.kind == "leaf" and s.tensor is not None
        ]
        self.expected = [(t, t.data, t.requires_grad) for _, t in self._leaves]
        self.steps: list[ExecutedStep] = []
        if optimize:
            from tinygrad_nn.compiler.passes import optimize as run_passes

            run_passes(tape)
        else:
            tape.recorded = list(tape.events)
        self._buffer_ids = {id(b) for b in tape.buffers}
        needs_rules = {n.slot for e in tape.events if isinstance(e, BackwardEvent)
                       for n in e.nodes if n.op is not None}
        position = {id(e): i for i, e in enumerate(tape.recorded)}
        for event in tape.events:
            recorded = getattr(event, "recorded", None) or [position.get(id(event), -1)]
            self.steps.append(self._generic(recorded, event, needs_rules))
        self._program = [s.run for s in self.steps]
        # Two cores only where a kernel is big enough to split (compiler._parallel); else the
        # replay touches no process-wide setting.
        big = any(b.size >= _parallel.MIN_ELEMENTS for b in tape.buffers)
        self.threads = 2 if threads >= 2 and big and _parallel.available() else 1
        self._cores: Callable[[], Any] = (
            _parallel.TwoCores if self.threads == 2 else contextlib.nullcontext)

    def to_dot(self) -> str:
        """DOT text of this plan beside the recorded step (see :func:`tinygrad_nn.viz.plan_to_dot`).

        Examples
        --------
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * w).sum())
        >>> _ = step(); _ = step()
        >>> step.plan.to_dot().splitlines()[0]
        'digraph plan {'
        """
        from tinygrad_nn.viz.plan import plan_to_dot

        return plan_to_dot(self)

    # ---- guards ---------------------------------------------------------------------------

    def still_valid(self) -> bool:
        """False when a parameter's data was replaced, an optimizer's list changed or a module
        the step called switched between train() and eval().

        Examples
        --------
        >>> import numpy as np
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * 2).sum())
        >>> _ = step(); _ = step()
        >>> step.plan.still_valid()
        True
        >>> w.data = np.array([5.0])
        >>> step.plan.still_valid()
        False
        """
        for t, data, requires_grad in self.expected:
            if t.data is not data or t._requires_grad is not requires_grad:
                return False
        for module, training in self.tape.modules:  # train()/eval() changes Python branches
            if module.training != training:
                return False
        for owner, params in self.tape.optimizers:
            current = owner.params
            if len(current) != len(params):
                return False
            for a, b in zip(current, params):  # noqa: B905
                if a is not b:
                    return False
        return True

    # ---- replay ---------------------------------------------------------------------------

    def replay(self, args: tuple[Any, ...]) -> Any:
        """Run the plan on new arguments of the traced shapes; return the step's result.

        Examples
        --------
        >>> import numpy as np
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda x: (w * x).sum())
        >>> _ = step(np.ones(2)); _ = step(np.ones(2))
        >>> step.plan.replay((np.array([1.0, 10.0]),)).item()
        21.0
        """
        env = self.env
        self.args = args
        for slot, arg, cast, dtype in self._loaders:
            a = args[arg]
            a = a.data if isinstance(a, Tensor) else a
            env[slot] = a.astype(dtype, copy=False) if cast else a
        for slot, t in self._leaves:
            env[slot] = t.data
        with np.errstate(over="ignore"), self._cores():  # a sigmoid's e^−x → inf: its limit
            for run in self._program:
                run()
        for ref in self.tape.grads_none_at_end:
            self._target(ref).grad = None
        self.rules.clear()
        return self._build(self.tape.output)

    def _target(self, ref: GradRef) -> Tensor:
        if ref.tensor is not None:
            return ref.tensor
        return self.args[ref.arg]

    def _build(self, structure: Any) -> Any:
        kind = structure[0]
        if kind == "none":
            return None
        if kind == "slot":
            out = Tensor._leaf(np.array(self.env[structure[1]], copy=True))
            out.name = structure[2]
            return out
        if kind == "static":
            return structure[1]
        items = [self._build(s) for s in structure[1]]
        if kind == "tuple":
            return tuple(items)
        if kind == "list":
            return items
        return dict(zip(structure[2], items))  # noqa: B905

    def resolve(self, ref: Any) -> Any:
        """The array (or Python value) a tape reference stands for, now.

        Examples
        --------
        >>> import numpy as np
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * 2).sum())
        >>> _ = step(); _ = step()
        >>> step.plan.resolve(("py", 3))
        3
        """
        if isinstance(ref, int):
            return self.env[ref]
        if isinstance(ref, GradRef):
            grad = self._target(ref).grad
            if grad is None:
                raise CompileError("compile: replay read a .grad that is None")
            return grad
        return ref[1]

    # ---- generic steps --------------------------------------------------------------------

    def _generic(self, index: list[int], event: Any, needs_rules: set[int]) -> ExecutedStep:
        env, rules = self.env, self.rules
        if isinstance(event, OpEvent):
            forward, inputs, rest, static, out = (
                event.forward, event.inputs, event.rest, event.static, event.out)
            keep = out in needs_rules
            sequence = event.sequence

            def run_op() -> None:
                arrays = [[env[i] for i in inputs]] if sequence else [env[i] for i in inputs]
                y, r = forward(*arrays, *rest, **static)
                env[out] = y if type(y) is np.ndarray else np.asarray(y)
                if keep:
                    rules[out] = (r,) if callable(r) else tuple(r)

            return ExecutedStep(event.label or f"op:{event.name}", index, "forward", run_op)
        if isinstance(event, BackwardEvent):
            return ExecutedStep("backward", index, "backward", self._generic_backward(event))
        if isinstance(event, UfuncEvent):
            return ExecutedStep(f"numpy:{event.ufunc.__name__}", index, "update",
                                self._ufunc(event))
        if isinstance(event, SetItemEvent):
            target, key, value = event.target, event.key, event.value

            def run_setitem() -> None:
                self.resolve(target)[key] = self.resolve(value)

            return ExecutedStep("numpy:setitem", index, "update", run_setitem)
        if isinstance(event, HostEvent):
            method, owner, hargs, hkwargs = event.method, event.owner, event.args, event.kwargs
            name = f"{type(owner).__name__}.{method.__name__}"
            if type(owner) is SGD and method is SGD.step.__wrapped__ and not hargs:  # type: ignore[attr-defined]
                return ExecutedStep(name, index, "update", _sgd_step(owner, method))

            def run_host() -> None:
                method(owner, *hargs, **hkwargs)

            return ExecutedStep(name, index, "update", run_host)
        raise CompileError(f"compile: cannot replay event {event!r}")

    def _ufunc(self, event: UfuncEvent) -> Callable[[], None]:
        env, resolve = self.env, self.resolve
        call = getattr(event.ufunc, event.method)
        inputs, kwargs, out_refs, outs = event.inputs, event.kwargs, event.out, event.outs
        buffers: list[Any] = []
        for k, slot in enumerate(outs):
            if k < len(out_refs):
                buffers.append(out_refs[k])
            else:  # a fresh result: a buffer planned once
                s = self.tape.slots[slot]
                env[slot] = np.empty(s.shape, s.dtype)
                buffers.append(slot)

        def run_ufunc() -> None:
            call(*[resolve(x) for x in inputs], out=tuple(resolve(b) for b in buffers), **kwargs)

        return run_ufunc

    def _unshare_kept_grads(self, leaves: list[GradRef]) -> None:
        """A ``.grad`` kept from the last replay is a planned buffer: copy it before the kernels
        overwrite it (gradients accumulating across calls)."""
        target, buffer_ids = self._target, self._buffer_ids
        for ref in leaves:
            t = target(ref)
            if t.grad is not None and id(t.grad) in buffer_ids:
                t.grad = t.grad.copy()

    def _generic_backward(self, event: BackwardEvent) -> Callable[[], None]:
        """The engine's backward (autograd.py), over slots: same order, same sums, same floats."""
        lean = self._straight_backward(event)
        if lean is not None:
            return lean
        env, rules, target = self.env, self.rules, self._target
        nodes = [
            (n.slot, n.leaf_target, [(p, i, self.tape.slots[p].shape,
                                      self.tape.slots[p].dtype) for p, i in n.parents],
             event.assign.get(position, False))
            for position, n in enumerate(event.nodes)
        ]
        root, seed = event.root, event.seed
        leaves = [n.leaf_target for n in event.nodes if n.leaf_target is not None]
        unshare = self._unshare_kept_grads

        def run_backward() -> None:
            unshare(leaves)
            grads: dict[int, list[Any]] = {root: [env[seed], False]}
            for slot, leaf, parents, assign in nodes:
                entry = grads.pop(slot, None)
                if entry is None:
                    continue
                g, owned = entry
                if leaf is not None:
                    t = target(leaf)
                    if t.grad is None or assign:
                        t.grad = g if owned else g.copy()
                    else:
                        t.grad = _sum(t.grad, g)
                    continue
                node_rules = rules[slot]
                for parent, rule_index, shape, dtype in parents:
                    gp = node_rules[rule_index](g)
                    if type(gp) is not np.ndarray:
                        gp = np.asarray(gp)
                    fresh = gp is not g and gp.base is None
                    if gp.shape != shape:
                        gp = unbroadcast(gp, shape)
                        fresh = True
                    if gp.dtype != dtype:
                        gp = gp.astype(dtype)
                        fresh = True
                    slot_entry = grads.get(parent)
                    if slot_entry is None:
                        grads[parent] = [gp, fresh]
                    elif slot_entry[1]:
                        np.add(slot_entry[0], gp, out=slot_entry[0])
                    else:
                        grads[parent] = [_sum(slot_entry[0], gp), True]

        return run_backward


    def _straight_backward(self, event: BackwardEvent) -> Callable[[], None] | None:
        """The backward as a straight line when every op node is a kernel (its rules return
        planned arrays of the parents' shapes and dtypes: no unbroadcast, no casts, checked
        here once) and every slot gets exactly one gradient (no sums); else None.

        The same rules in the same order as the generic walk: the same floats.
        """
        kernels = {e.out for e in self.tape.events
                   if isinstance(e, OpEvent) and e.forward in KERNELS}
        counts: dict[int, int] = {}
        for n in event.nodes:
            if n.leaf_target is None and n.slot not in kernels:
                return None
            for p, _ in n.parents:
                counts[p] = counts.get(p, 0) + 1
        if event.root in counts or any(c != 1 for c in counts.values()):
            return None
        position: dict[int, int] = {}
        for slot in [event.root, *(n.slot for n in event.nodes), *counts]:
            position.setdefault(slot, len(position))
        program = [
            (position[n.slot], n.slot, n.leaf_target, event.assign.get(k, False),
             [(position[p], i) for p, i in n.parents])
            for k, n in enumerate(event.nodes)
        ]
        env, rules, target = self.env, self.rules, self._target
        root, seed, size = position[event.root], event.seed, len(position)
        leaves = [n.leaf_target for n in event.nodes if n.leaf_target is not None]
        unshare = self._unshare_kept_grads

        def run_straight_backward() -> None:
            unshare(leaves)
            grads: list[Any] = [None] * size
            owned = [False] * size
            grads[root] = env[seed]
            for at, slot, leaf, assign, parents in program:
                g = grads[at]
                if g is None:
                    continue
                if leaf is not None:
                    t = target(leaf)
                    if t.grad is None or assign:
                        t.grad = g if owned[at] else g.copy()
                    else:
                        t.grad = _sum(t.grad, g)
                    continue
                node_rules = rules[slot]
                for parent, rule_index in parents:
                    gp = node_rules[rule_index](g)
                    grads[parent] = gp
                    owned[parent] = gp is not g and gp.base is None

        return run_straight_backward


def _sgd_step(opt: SGD, method: Callable[..., None]) -> Callable[[], None]:
    """``opt.step()`` without momentum, unrolled: the same two ufuncs per parameter (the same
    floats), without the per-call checks the guards already make. With momentum, or before
    every scratch array exists, it calls the optimizer's own step."""
    params = list(enumerate(opt.params))
    scratch = opt._scratch

    def run_sgd() -> None:
        if opt.momentum or any(
            s is None or (p.grad is not None and s.shape != p.grad.shape)
            for (_, p), s in zip(params, scratch)  # noqa: B905
        ):
            method(opt)
            return
        lr = opt.lr
        for i, p in params:
            g = p.grad
            if g is None:
                continue
            s = scratch[i]
            assert s is not None  # checked above
            if s.size >= _parallel.MIN_ELEMENTS:
                _parallel.halves(functools.partial(_update, lr), g, s, p.data)
            else:  # too small to split: no per-call checks
                _update(lr, g, s, p.data)
            p.mark_modified()

    return run_sgd


def _update(lr: Any, g: np.ndarray, s: np.ndarray, p: np.ndarray) -> None:
    np.multiply(g, lr, out=s)  # p -= lr·g, as SGD.step does it
    np.subtract(p, s, out=p)


def _sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    shape = a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape)
    return np.add(a, b, out=np.empty(shape, a.dtype))

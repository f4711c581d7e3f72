"""Tracing: run the user's step once, eagerly, and write down everything it did as a tape.

The tape is a list of events in the order they ran:

* :class:`OpEvent` — a registered op (``matmul``, ``sigmoid``…), seen by the ``# compiler hook``
  in :mod:`tinygrad_nn.ops.registry`;
* :class:`BackwardEvent` — ``loss.backward()``: which nodes, in which order, with which rules,
  and which leaves receive a gradient (op outputs are :class:`TracedTensor` during tracing, whose
  ``backward`` reports here);
* :class:`UfuncEvent` — numpy work on gradients (``p -= lr * p.grad`` under ``no_grad``):
  during tracing every leaf's ``.grad`` is a :class:`TracedArray`, a view that records the
  ufuncs applied to it;
* :class:`HostEvent` — an optimizer's ``step()`` or ``zero_grad()``, replayed by calling it;
* :class:`SetGradEvent` — the step's own ``p.grad = ...`` (seen by ``Tensor.grad``'s setter).

Every array the tape mentions is a *slot*: an argument of the step, a leaf tensor's data (a
parameter), a value the tape computes, or a constant frozen at tracing time.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nn import modes
from tinygrad_nn.compiler._tape import (
    BackwardEvent,
    BackwardNode,
    CopyEvent,
    GradRef,
    HostEvent,
    OpEvent,
    SetGradEvent,
    SetItemEvent,
    Slot,
    Tape,
    UfuncEvent,
)
from tinygrad_nn.tensor import Tensor, topological_order

__all__ = ["TRACE_STATE", "CompileError", "TracedArray", "TracedTensor", "Tracer"]


class CompileError(RuntimeError):
    """A step that ``tinygrad_nn.compile`` cannot replay faithfully (the message says why).

    Examples
    --------
    >>> from tinygrad_nn.compiler import CompileError
    >>> issubclass(CompileError, RuntimeError)
    True
    """


#: The per-thread state of :mod:`tinygrad_nn.modes`; its ``tracer`` is set while tracing (read
#: by the ``# compiler hook`` in ops/registry.py and optim.py).
TRACE_STATE = modes.state


# --------------------------------------------------------------------------------------------
# the traced array and tensor
# --------------------------------------------------------------------------------------------


def _concrete(what: str) -> CompileError:
    return CompileError(
        f"compile: {what} of a gradient or argument while tracing: a compiled step cannot "
        f"read a value into Python (the number would be frozen into every replay). Keep the "
        f"work in numpy ufuncs or Tensor ops, or run the step eagerly"
    )


class TracedArray(np.ndarray):
    """A gradient or numpy argument seen while tracing: a view that records numpy work on it.

    Ufuncs (``*``, ``-=``, ``np.sqrt``, ``.sum()``), ``a[...] = v`` and ``fill`` are recorded;
    reading a value into Python as a number (``float``, ``.item()``) raises
    :class:`CompileError`; a branch on it (``bool``) is frozen as it went.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.ones(2).view(TracedArray)
    >>> type(a * 2).__name__       # no tracer is active: behaves like an ndarray
    'ndarray'
    """

    _slot: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self._slot = None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        tracer = TRACE_STATE.tracer
        plain = [x.view(np.ndarray) if isinstance(x, TracedArray) else x for x in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(
                o.view(np.ndarray) if isinstance(o, TracedArray) else o for o in out
            )
        result = getattr(ufunc, method)(*plain, **kwargs)
        if tracer is None or tracer.suspended:
            return result
        return tracer.on_ufunc(ufunc, method, inputs, out, kwargs, result)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.view(np.ndarray)[key] = value
        tracer = TRACE_STATE.tracer
        if tracer is not None and not tracer.suspended:
            tracer.on_setitem(self, key, value)

    def fill(self, value: Any) -> None:
        """Fill with ``value`` (recorded while tracing).

        Examples
        --------
        >>> import numpy as np
        >>> a = np.ones(2).view(TracedArray)
        >>> a.fill(0.0)
        >>> a.view(np.ndarray)
        array([0., 0.])
        """
        self[...] = value

    def __float__(self) -> float:
        if TRACE_STATE.tracer is not None:
            raise _concrete("float()")
        return float(self.view(np.ndarray))

    def __bool__(self) -> bool:  # a branch (or a check) is frozen as it went while tracing
        return bool(self.view(np.ndarray))

    def item(self, *args: Any) -> Any:
        """The value as a Python scalar (refused while tracing).

        Examples
        --------
        >>> import numpy as np
        >>> np.ones(1).view(TracedArray).item()
        1.0
        """
        if TRACE_STATE.tracer is not None:
            raise _concrete(".item()")
        return self.view(np.ndarray).item(*args)


class TracedTensor(Tensor):
    """An op's result while tracing: a Tensor whose ``backward()`` is recorded.

    The tracer turns every op result into this class while it traces and back into
    :class:`~tinygrad_nn.Tensor` when it ends.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> issubclass(TracedTensor, Tensor)
    True
    """

    __slots__ = ()

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """``Tensor.backward``, recorded by the active tracer.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0], requires_grad=True)
        >>> y = x * 3
        >>> y.__class__ = TracedTensor
        >>> y.backward()             # no tracer active: the plain backward
        >>> x.grad
        array([3.])
        """
        tracer = TRACE_STATE.tracer
        if tracer is None or tracer.suspended:
            Tensor.backward(self, grad, retain_graph)
        else:
            tracer.on_backward(self, grad, retain_graph)


# --------------------------------------------------------------------------------------------
# the tracer
# --------------------------------------------------------------------------------------------


class _IdMap:
    """A dict keyed by object identity that holds its keys weakly."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[Any], Any]] = {}

    def put(self, key: Any, value: Any) -> None:
        self._items[id(key)] = (weakref.ref(key), value)

    def get(self, key: Any) -> Any:
        entry = self._items.get(id(key))
        if entry is None or entry[0]() is not key:
            return None
        return entry[1]


def _flat_inputs(args: tuple[Any, ...]) -> list[tuple[int, np.ndarray, Tensor | None]]:
    out: list[tuple[int, np.ndarray, Tensor | None]] = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            out.append((i, a.data, a))
        elif isinstance(a, np.ndarray):
            out.append((i, a, None))
    return out


class Tracer:
    """Records one eager run of a step into a :class:`Tape` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> tracer = Tracer((np.ones(2),))
    >>> with tracer:
    ...     y = (w * tracer.args[0]).sum()
    >>> [type(e).__name__ for e in tracer.tape.events]
    ['OpEvent', 'OpEvent']
    """

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args
        self.tape = Tape()
        self.suspended = False
        # Arrays by identity, through weak references: the trace keeps nothing alive that the
        # eager step would free (its peak memory is the eager step's), and a dead array's id,
        # reused by a new one, is not mistaken for it.
        self._by_array = _IdMap()  # array -> slot
        self._traced_tensors: list[weakref.ref[Tensor]] = []
        self._leaves: dict[int, tuple[Tensor, GradRef]] = {}  # id(tensor) -> (tensor, ref)
        self._grad_views = _IdMap()  # TracedArray view of a leaf's grad -> its GradRef
        self._grad_seen: dict[int, bool] = {}  # id(leaf tensor) -> had a grad at some point
        self._inputs = _flat_inputs(args)
        self._input_tensors = {id(t): i for i, _, t in self._inputs if t is not None}
        self._start_seq = Tensor._leaf(np.empty(0))._seq
        traced_args = list(args)
        for i, array, t in self._inputs:
            slot = self._new_slot("input", array, arg=i, from_tensor=t is not None,
                                  name=None if t is None else t.name)
            if t is None:  # a numpy argument: numpy work on it is recorded too (1 - Y)
                view = array.view(TracedArray)
                view._slot = slot
                traced_args[i] = view
        #: The arguments to call the step with while tracing (numpy ones as TracedArray views).
        self.traced_args = tuple(traced_args)

    # ---- entering and leaving -------------------------------------------------------------

    def __enter__(self) -> Tracer:
        if TRACE_STATE.tracer is not None:
            raise CompileError("compile: a compiled step called another while tracing")
        TRACE_STATE.tracer = self
        modes.tracing[0] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        TRACE_STATE.tracer = None
        modes.tracing[0] -= 1
        for weak in self._traced_tensors:
            traced = weak()
            if traced is not None:
                traced.__class__ = Tensor
        for t, _ in self._leaves.values():
            if isinstance(t._grad, TracedArray):
                t._grad = t._grad.view(np.ndarray)
        self._traced_tensors.clear()

    # ---- slots ----------------------------------------------------------------------------

    def _new_slot(self, kind: str, array: np.ndarray, **fields: Any) -> int:
        index = len(self.tape.slots)
        slot = Slot(index, kind, array.shape, array.dtype, **fields)
        if kind == "const":
            slot.array = array
        self.tape.slots.append(slot)
        self._by_array.put(array, index)
        return index

    def _known(self, array: np.ndarray) -> int | None:
        """The slot holding ``array`` (or the array it is a whole view of)."""
        a: Any = array
        while a is not None:
            index = self._by_array.get(a)
            if index is not None:
                if a is array or (a.shape == array.shape and a.dtype == array.dtype):
                    return index
                return None
            if not isinstance(a, np.ndarray):
                return None
            a = a.base
        return None

    def _grad_ref(self, array: Any) -> GradRef | None:
        a: Any = array
        while isinstance(a, np.ndarray):
            ref = self._grad_views.get(a)
            if ref is not None:
                return ref if a.shape == array.shape else None
            a = a.base
        return None

    def slot_of_tensor(self, t: Tensor) -> int:
        """The slot of a tensor used as an op input."""
        index = self._known(t.data)
        if index is not None:
            return index
        ref = self._grad_ref(t.data)
        if ref is not None:
            raise CompileError(
                "compile: a gradient (p.grad) wrapped in a Tensor while tracing cannot be "
                "replayed; update parameters with numpy on p.grad (p -= lr * p.grad) or an "
                "optimizer"
            )
        if t._seq < self._start_seq and t.is_leaf:
            return self._new_slot("leaf", t.data, tensor=t, name=t.name)
        # Made during the step from something unknown: a copy of an input, or a constant.
        for i, array, given in self._inputs:
            if array.shape == t.data.shape and np.array_equal(array, t.data):
                return self._new_slot("input", t.data, arg=i, cast=array.dtype != t.data.dtype,
                                      from_tensor=given is not None, name=t.name)
        return self._new_slot("const", t.data)

    def _value_ref(self, x: Any) -> Any:
        """A slot index, a :class:`GradRef`, or ``("py", x)`` for a Python value."""
        if not isinstance(x, np.ndarray):
            return ("py", x)
        if isinstance(x, TracedArray) and x._slot is not None:
            return x._slot
        ref = self._grad_ref(x)
        if ref is not None:
            return ref
        index = self._known(x)
        if index is not None:
            return index
        if isinstance(x, TracedArray):
            raise CompileError(
                "compile: a gradient was changed by an operation the tracer cannot see "
                "(a copy, a transpose, a reshape, or indexing of p.grad) and then used; "
                "write the update with numpy ufuncs on p.grad itself"
            )
        return self._new_slot("const", x)

    # ---- events ---------------------------------------------------------------------------

    def on_op(
        self,
        name: str,
        forward: Callable[..., Any],
        tensors: tuple[Tensor, ...],
        sequence: bool,
        rest: tuple[Any, ...],
        static: dict[str, Any],
        out: Tensor,
    ) -> None:
        """Record an op (called by the hook in ops/registry.py)."""
        slots = [self.slot_of_tensor(t) for t in tensors]
        index = len(self.tape.events)
        out_slot = self._new_slot("value", out.data, producer=index)
        self.tape.events.append(
            OpEvent(
                name,
                forward,
                slots,
                sequence,
                rest,
                dict(static),
                out_slot,
                out.requires_grad,
                tuple(t.requires_grad for t in tensors),
            )
        )
        if type(out) is Tensor:
            out.__class__ = TracedTensor
            self._traced_tensors.append(weakref.ref(out))

    def _leaf_ref(self, t: Tensor) -> GradRef:
        entry = self._leaves.get(id(t))
        if entry is None:
            arg = self._input_tensors.get(id(t), -1)
            ref = GradRef(None if arg >= 0 else t, arg)
            entry = self._leaves[id(t)] = (t, ref)
            if t.grad is not None:
                self._grad_seen[id(t)] = True
        return entry[1]

    def on_backward(self, root: Tensor, grad: Any, retain_graph: bool) -> None:
        """Record ``root.backward(grad)`` and run it."""
        if root.requires_grad and root._op is not None and root._rules is None:
            Tensor.backward(root, grad, retain_graph)  # raises the engine's own error
        order = topological_order(root) if root.requires_grad else []
        nodes: list[BackwardNode] = []
        assign: dict[int, bool] = {}
        for position, node in enumerate(order):
            if node._op is None:
                ref = self._leaf_ref(node)
                if node.grad is None and self._grad_seen.get(id(node)):
                    assign[position] = True  # the step itself set grad to None before
                slot = self._known(node.data)
                nodes.append(BackwardNode(-1 if slot is None else slot, ref, [], None))
                continue
            parents = [
                (self.slot_of_tensor(p), i)
                for i, p in enumerate(node._parents)
                if p._requires_grad
            ]
            slot = self._known(node.data)
            if slot is None:
                raise CompileError(f"compile: backward through an op the tracer did not see "
                                   f"('{node._op}', shape {node.shape}): made before the step?")
            nodes.append(BackwardNode(slot, None, parents, node._op))
        root_slot = self._known(root.data)
        Tensor.backward(root, grad, retain_graph)  # the eager backward: this call's results
        if grad is None:
            seed = self._new_slot("const", np.ones_like(root.data))
        else:
            seed_ref = self._value_ref(np.asarray(grad, dtype=root.dtype))
            if not isinstance(seed_ref, int):
                raise CompileError("compile: backward(grad=...) must be an array or Tensor")
            seed = seed_ref
        self.tape.events.append(BackwardEvent(root_slot or 0, seed, nodes, assign))
        for node in order:
            if node._op is None and node.grad is not None:
                self._grad_seen[id(node)] = True
                self._watch_grad(node)

    def _watch_grad(self, t: Tensor) -> None:
        if t.grad is None or isinstance(t.grad, TracedArray):
            return
        view = t.grad.view(TracedArray)
        ref = self._leaf_ref(t)
        self._grad_views.put(view, ref)
        t._grad = view  # the tracer's own change: not a step's assignment

    def on_ufunc(
        self,
        ufunc: np.ufunc,
        method: str,
        inputs: tuple[Any, ...],
        out: tuple[Any, ...] | None,
        kwargs: dict[str, Any],
        result: Any,
    ) -> Any:
        """Record a ufunc applied to a traced gradient; return its result, traced."""
        refs = [self._value_ref(x) for x in inputs]
        kw = {k: v for k, v in kwargs.items() if k != "out"}
        for key, v in kw.items():
            if isinstance(v, np.ndarray):
                raise CompileError(f"compile: ufunc argument {key}= as an array is not traced")
        out_refs = [self._value_ref(o) for o in out] if out is not None else []
        results = result if isinstance(result, tuple) else (result,)
        index = len(self.tape.events)
        outs: list[int] = []
        traced = []
        for k, r in enumerate(results):
            r_arr = np.asarray(r)
            if out is not None and k < len(out):
                o = out[k]
                if isinstance(o, TracedArray):
                    traced.append(o)
                    outs.append(-1)
                    continue
                slot = out_refs[k]
                outs.append(slot if isinstance(slot, int) else -1)
                traced.append(r)
                continue
            slot = self._new_slot("value", r_arr, producer=index)
            view = r_arr.view(TracedArray)
            view._slot = slot
            outs.append(slot)
            traced.append(view)
        self.tape.events.append(UfuncEvent(ufunc, method, refs, kw, out_refs, outs))
        return tuple(traced) if isinstance(result, tuple) else traced[0]

    def on_copy(self, source: Any, copy: np.ndarray) -> None:
        """A Tensor's data copied from ``source`` (``Tensor(X / 255)``, an array operand of an
        op): when the step computed or received ``source``, the copy stands for that value at
        every replay, not for a constant frozen now."""
        if not isinstance(source, np.ndarray):
            return
        ref: Any = source._slot if isinstance(source, TracedArray) else None
        if ref is None:
            ref = self._grad_ref(source)
        if ref is None:
            ref = self._known(source)
        if ref is None:
            return
        if isinstance(ref, int) and self.tape.slots[ref].kind == "input":  # an argument: the
            s = self.tape.slots[ref]  # replay reads it (cast if the copy's dtype differs)
            self._new_slot("input", copy, arg=s.arg, cast=copy.dtype != s.dtype,
                           from_tensor=s.from_tensor, name=s.name)
            return
        out = self._new_slot("value", copy, producer=len(self.tape.events))
        self.tape.events.append(CopyEvent(ref, out))

    def on_set_grad(self, t: Tensor, value: Any) -> None:
        """Record the step's own ``t.grad = value`` (``p.grad = None`` before a backward, say):
        replayed, so every replay starts the backward from what the eager step would."""
        ref = self._leaf_ref(t)
        self._grad_seen[id(t)] = True  # a grad set (or cleared) by the step itself
        if value is None or not isinstance(value, np.ndarray):
            self.tape.events.append(SetGradEvent(ref, ("py", value)))
            return
        self.tape.events.append(SetGradEvent(ref, self._value_ref(value)))
        self._watch_grad(t)  # numpy work on it from now on is traced too

    def on_inplace(self, t: Tensor, ufunc: np.ufunc, value: Any) -> None:
        """Run and record ``t op= value`` (``w *= 0.5`` under ``no_grad()``)."""
        self.suspended = True
        try:
            ufunc(t.data, value, out=t.data)
        finally:
            self.suspended = False
        slot = self.slot_of_tensor(t)
        operand = self._value_ref(value) if isinstance(value, np.ndarray) else ("py", value)
        self.tape.events.append(UfuncEvent(ufunc, "__call__", [slot, operand], {}, [slot], [slot]))

    def on_mark_modified(self, t: Tensor) -> None:
        """Record ``t.mark_modified()`` after a change the tape holds; refuse one after a change
        of ``t.data`` the tracer did not see (a replay would not repeat it: a wrong number)."""
        slot = self._known(t.data)
        last = self.tape.events[-1] if self.tape.events else None
        wrote = slot is not None and (
            (isinstance(last, UfuncEvent) and slot in last.out)
            or (isinstance(last, SetItemEvent) and last.target == slot)
        )
        if not wrote and not isinstance(last, HostEvent):
            raise CompileError(
                f"compile: {t.name or 'a tensor'} (shape {t.shape}) was changed in place by "
                f"code the tracer cannot see (numpy work on its .data), so a replay would not "
                f"repeat the change; use the Tensor's in-place operators under no_grad() "
                f"(w *= 0.5, w -= lr * w.grad) or an optimizer, or run the step eagerly"
            )
        self.tape.events.append(HostEvent(type(t).mark_modified, t, (), {}))

    def on_setitem(self, target: TracedArray, key: Any, value: Any) -> None:
        """Record ``target[key] = value`` on a traced gradient."""
        self.tape.events.append(
            SetItemEvent(self._value_ref(target), key, self._value_ref(value))
        )

    def on_module(self, module: Any) -> None:
        """Note a module called in the step, and its train/eval mode (a guard of the plan)."""
        if not any(m is module for m, _ in self.tape.modules):
            self.tape.modules.append((module, module.training))

    def on_host_call(
        self, method: Callable[..., Any], owner: Any, args: tuple, kwargs: dict
    ) -> Any:
        """Record an optimizer's ``step()``/``zero_grad()`` and run it on plain arrays."""
        params = tuple(getattr(owner, "params", ()))
        if not any(o is owner for o, _ in self.tape.optimizers):
            self.tape.optimizers.append((owner, params))
        self.tape.events.append(HostEvent(method, owner, args, dict(kwargs)))
        for p in params:
            self._leaf_ref(p)
            if isinstance(p._grad, TracedArray):
                p._grad = p._grad.view(np.ndarray)
        self.suspended = True
        try:
            result = method(owner, *args, **kwargs)
        finally:
            self.suspended = False
        for p in params:
            if p.grad is not None:
                self._grad_seen[id(p)] = True
                self._watch_grad(p)
        return result

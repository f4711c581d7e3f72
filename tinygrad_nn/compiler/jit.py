"""``tinygrad_nn.compile``: run a training step eagerly once, trace it once, replay it after.

The rules, the way tinygrad's ``TinyJit`` and ``jax.jit`` have theirs:

* **Calls 1, 2, 3…** The first call with a new *signature* runs eagerly; the second is traced
  (it runs eagerly too, recording what it does); later calls replay the plan. Every call's
  results (parameters, ``.grad``, optimizer state, the returned loss) equal the eager step's.
* **Signature.** The arguments' shapes, dtypes and ``requires_grad``, the values of Python
  scalar arguments and the identity of other arguments, and grad mode. A new signature gets its
  own plan (traced afresh). Each plan has a generated guard (``plan.accepts.source``) that
  checks all of this, and the re-trace conditions below, in one expression before a replay.
* **Packed parameters.** A plan may pack a weight and its bias into one array
  (:func:`~tinygrad_nn.compiler._kernels.pack_bias`): their ``.data`` become views of it, with
  the same values, and everything goes on reading and updating them as before.
* **Re-trace.** A plan is dropped (and the step re-traced) when a parameter's data is replaced
  (``p.data = new_array``), an optimizer's parameter list changes, a module the step called
  changed between ``train()`` and ``eval()``, or a global or closure variable the step names is
  rebound (``model = MLP(...)``, ``lr = 0.1``).
* **Anomaly mode.** Under :func:`~tinygrad_nn.detect_anomaly` the step runs eagerly, so the
  checks run and name the op.
* **Nested steps.** A compiled function called by a step that is being traced runs eagerly,
  so its ops become part of the outer step's trace (as ``jax.jit`` inlines a nested jit).
* **What a trace follows.** Ops, ``backward()``, optimizers' ``step()``/``zero_grad()``,
  arguments and numpy ufuncs on them and on gradients, Tensors made from those (``model(X /
  255)``), assignments to ``.grad`` and Tensors' in-place operators: replayed with each call's
  values.
* **What a trace cannot see.** Python control flow on a tensor's value (``if loss.item() < 1``)
  is frozen as it went while tracing; Python side effects (``print``, appending to a list) run
  only in the eager and traced calls; numpy work other than ufuncs on an argument (indexing
  with it, ``np.where``) and arrays made from nothing the tracer knows (``np.random.rand(...)``)
  are frozen constants; numpy work on a tensor's ``.data`` is refused at its
  ``mark_modified()``, and numpy work on a module's own state is not replayed — so a
  ``BatchNorm`` in training mode refuses to be traced. The step must return Tensors (or None,
  or tuples/lists/dicts of them): a Python number would be frozen, so returning one is an
  error.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nn import _allocator, modes
from tinygrad_nn.compiler._code import Code
from tinygrad_nn.compiler._trace import CompileError, Tracer
from tinygrad_nn.compiler.plan import Plan, same_items
from tinygrad_nn.tensor import Tensor

__all__ = ["CompiledFunction", "compile"]


def _signature(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    key: list[Any] = [modes.is_grad_enabled()]
    for a in (*args, *(kwargs[k] for k in sorted(kwargs))):
        if isinstance(a, Tensor):
            key.append(("T", a.data.shape, a.data.dtype.str, a._requires_grad))
        elif isinstance(a, np.ndarray):
            key.append(("A", a.shape, a.dtype.str))
        elif a is None or isinstance(a, (bool, int, float, str)):
            key.append(("S", type(a), a))
        else:
            key.append(("O", id(a)))
    if kwargs:
        key.append(tuple(sorted(kwargs)))
    return tuple(key)


def _free_objects(fn: Callable[..., Any]) -> list[tuple[Any, str, Any]]:
    """(namespace, name, object) for the globals and closure cells ``fn`` names directly."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found: list[tuple[Any, str, Any]] = []
    namespace = getattr(fn, "__globals__", {})
    for name in code.co_names:
        if name in namespace and not isinstance(namespace[name], types.ModuleType):
            found.append((namespace, name, namespace[name]))
    for cell_name, cell in zip(code.co_freevars, fn.__closure__ or ()):  # noqa: B905
        try:
            found.append((cell, cell_name, cell.cell_contents))
        except ValueError:  # an empty cell
            continue
    return found


def _still_bound(free: list[tuple[Any, str, Any]]) -> bool:
    for namespace, name, obj in free:
        current = namespace.get(name) if isinstance(namespace, dict) else namespace.cell_contents
        if current is not obj:
            return False
    return True


def _structure(value: Any, tracer: Tracer) -> Any:
    """The returned value as a replayable structure of slots."""
    if value is None:
        return ("none",)
    if isinstance(value, Tensor):
        return ("slot", tracer.slot_of_tensor(value), value.name)
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return (kind, [_structure(v, tracer) for v in value])
    if isinstance(value, dict):
        return ("dict", [_structure(v, tracer) for v in value.values()], list(value))
    if isinstance(value, str):
        return ("static", value)
    raise CompileError(
        f"compile: the step returned {type(value).__name__} {value!r}; a compiled step must "
        f"return Tensors (or None, or tuples/lists/dicts of them), because a Python number "
        f"computed while tracing would be returned unchanged by every replay. Return the loss "
        f"Tensor and call .item() on the result"
    )


class CompiledFunction:
    """A step function compiled by :func:`compile`: call it like the function itself.

    Attributes
    ----------
    fn : callable
        The function as written.
    traces : int
        How many times it was traced (one per signature, plus every re-trace).
    replays : int
        How many calls replayed a plan.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> step = tinygrad_nn.compile(lambda x: (w * x).sum())
    >>> [step(np.array([1.0, float(k)])).item() for k in range(4)]
    [1.0, 0.0, -1.0, -2.0]
    >>> step.traces, step.replays
    (1, 2)
    """

    def __init__(self, fn: Callable[..., Any], optimize: bool = True, threads: int = 1) -> None:
        self.fn = fn
        self.optimize = optimize
        self.threads = threads
        self.traces = 0
        self.replays = 0
        self._plans: dict[tuple[Any, ...], Any] = {}  # signature -> Plan, or int (calls so far)
        self._free: list[tuple[Any, str, Any]] = []
        self._last: Plan | None = None
        functools.update_wrapper(self, fn)

    @property
    def plan(self) -> Plan:
        """The plan of the last traced or replayed call.

        Examples
        --------
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * w).sum())
        >>> _ = step(); _ = step()
        >>> len(step.plan.steps)
        2
        """
        if self._last is None:
            raise CompileError(
                f"compile: {getattr(self.fn, '__name__', 'the step')} has no plan yet: it is "
                f"traced on its second call"
            )
        return self._last

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        last = self._last
        if last is not None and not kwargs and last.accepts(args):  # the common case, fast
            self.replays += 1
            return last.replay(args)
        if modes.is_anomaly_enabled():
            return self.fn(*args, **kwargs)  # eager: the anomaly checks name the op
        if modes.state.tracer is not None:  # called by a step being traced: its ops are
            return self.fn(*args, **kwargs)  # recorded into that step (a replay would not be)
        key = _signature(args, kwargs)
        entry = self._plans.get(key)
        if isinstance(entry, Plan):
            if entry.still_valid() and _still_bound(self._free):
                self.replays += 1
                self._last = entry
                if kwargs:
                    args = (*args, *(kwargs[k] for k in sorted(kwargs)))
                return entry.replay(args)
            entry = None
        if entry is None:
            self._plans[key] = 1
            return self.fn(*args, **kwargs)
        return self._trace(key, args, kwargs)

    def _trace(self, key: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        flat = (*args, *(kwargs[k] for k in sorted(kwargs)))
        tracer = Tracer(flat)
        self._plans.pop(key, None)
        traced = tracer.traced_args
        with tracer:
            named = dict(zip(sorted(kwargs), traced[len(args) :], strict=True))
            result = self.fn(*traced[: len(args)], **named)
            tracer.tape.output = _structure(result, tracer)
        for slot in tracer.tape.slots:
            if slot.kind == "leaf" and slot.tensor is not None and (
                slot.tensor.data.shape != slot.shape or slot.tensor.data.dtype != slot.dtype
            ):
                raise CompileError(
                    f"compile: the step replaced the data of {slot.tensor.name or 'a tensor'} "
                    f"with another shape; update parameters in place (p -= ..., an optimizer)"
                )
        plan = Plan(tracer.tape, optimize=self.optimize, threads=self.threads,
                    arg_names=_parameter_names(self.fn, len(args), sorted(kwargs)))
        del tracer  # the traced call's arrays go now, and with them the memory below
        _allocator.release_kept_memory()  # the eager calls' temporaries, kept for reuse
        self.traces += 1
        self._plans[key] = plan
        self._free = _free_objects(self.fn)
        plan.accepts = _guard(plan, flat if not kwargs else None, self._free)
        self._last = plan
        return result


def _parameter_names(fn: Callable[..., Any], positional: int, keywords: list[str]) -> list[str]:
    """The names of the step's arguments as its code calls them (``X``, ``Y``), for the
    replay's source; ``arg0``… where they cannot be read."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    ordered = names[:positional] if len(names) >= positional else []
    return ordered + keywords if ordered else []


def _guard(plan: Plan, args: tuple[Any, ...] | None, free: list[tuple[Any, str, Any]]
           ) -> Callable[[tuple[Any, ...]], bool]:
    """A generated function that says, in one expression, whether positional ``args`` have the
    plan's signature and the plan still holds (what :func:`_signature`,
    :meth:`Plan.still_valid` and :func:`_still_bound` check, written out for this plan). It
    may say no where the full check says yes (then the full check runs), never the reverse.
    """
    if args is None:  # keyword arguments: the full check every time
        return lambda args: False
    code = Code(threads=1)
    state, contents = code.bind("state", modes.state), code.bind("contents", _cell)
    code.bind("Tensor", Tensor)
    code.bind("ndarray", np.ndarray)
    tests = [f"{state}.tracer is None", f"not {state}.switches.anomaly_enabled",
             f"{state}.switches.grad_enabled is {modes.is_grad_enabled()}",
             f"len(args) == {len(args)}"]
    for i, a in enumerate(args):
        item = f"args[{i}]"
        if isinstance(a, Tensor):
            tests.append(f"type({item}) is Tensor and {item}.data.shape == {a.data.shape!r} and "
                         f"{item}.data.dtype == {code.bind('dtype', a.data.dtype)} and "
                         f"{item}._requires_grad is {a._requires_grad}")
        elif isinstance(a, np.ndarray):
            tests.append(f"type({item}) is ndarray and {item}.shape == {a.shape!r} and "
                         f"{item}.dtype == {code.bind('dtype', a.dtype)}")
        elif a is None or isinstance(a, (bool, int, float, str)):
            tests.append(f"type({item}) is {type(a).__name__} and {item} == {a!r}")
        else:
            tests.append(f"id({item}) == {id(a)}")
    for t, data, requires_grad in plan.expected:
        tensor, array = code.bind("tensor", t), code.bind("data", data)
        tests.append(f"{tensor}.data is {array} and {tensor}._requires_grad is {requires_grad}")
    for module, training in plan.tape.modules:
        tests.append(f"{code.bind('module', module)}.training is {training}")
    for owner, params in plan.tape.optimizers:
        same = code.bind("same_items", same_items)
        tests.append(f"{same}({code.bind('optimizer', owner)}.params, "
                     f"{code.bind('params', tuple(params))})")
    for namespace, name, obj in free:
        value = (f"{code.bind('namespace', namespace)}.get({name!r})"
                 if isinstance(namespace, dict) else f"{contents}({code.bind('cell', namespace)})")
        tests.append(f"{value} is {code.bind(name, obj)}")
    source = "def accepts(args):\n    return (" + "\n            and ".join(tests) + ")\n"
    exec(builtins.compile(source, "<tinygrad_nn guard>", "exec"), code.namespace)
    accepts = code.namespace["accepts"]
    accepts.source = source
    return accepts


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _cell


def compile(
    fn: Callable[..., Any] | None = None, *, optimize: bool = True, threads: int = 1
) -> Any:
    """Compile a training step: traced on its second call, replayed on every call after.

    Write the step as you would eagerly: forward with Tensor ops or ``nn`` modules, the loss,
    ``opt.zero_grad(); loss.backward(); opt.step()`` (or a hand-written update under
    ``no_grad()``), and return the loss. A replay reuses buffers planned once and runs fast
    kernels (see :mod:`tinygrad_nn.compiler`); its results equal the eager step's. The rules
    (signatures, re-tracing, what a trace cannot see) are in :mod:`tinygrad_nn.compiler.jit`.

    Parameters
    ----------
    fn : callable
        The step. Its arguments may be Tensors, numpy arrays, Python scalars (part of the
        signature) or any other object (by identity).
    optimize : bool
        False replays every recorded op with its own forward and backward (no fast kernels).
    threads : int
        1 (the default) or 2: with 2, a replay runs the row halves of its big kernels on two
        threads and OpenBLAS on one thread while it runs (a process-wide setting, restored
        after; see :mod:`tinygrad_nn.compiler._parallel`). Needs ``threadpoolctl``; without
        it, or for a step too small to split, the plan runs on one core (``step.plan.threads``
        says which).

    Returns
    -------
    CompiledFunction

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor, nn, optim
    >>> model = nn.MLP([2, 3, 1], seed=0)
    >>> opt = optim.SGD(model.parameters(), lr=0.5)
    >>> @tinygrad_nn.compile
    ... def step(X, Y):
    ...     loss = nn.binary_cross_entropy(model(X), Y)
    ...     opt.zero_grad(); loss.backward(); opt.step()
    ...     return loss
    >>> X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0]])
    >>> losses = [step(X, Y).item() for _ in range(5)]
    >>> losses[-1] < losses[0], step.replays
    (True, 3)
    """
    if fn is None:
        return functools.partial(compile, optimize=optimize, threads=threads)
    if isinstance(fn, CompiledFunction):
        return fn
    if not callable(fn):
        raise TypeError(f"compile: needs a function; got {type(fn).__name__}")
    if isinstance(threads, bool) or threads not in (1, 2):
        raise ValueError(f"compile: threads must be 1 or 2; got {threads!r}")
    return CompiledFunction(fn, optimize=optimize, threads=threads)

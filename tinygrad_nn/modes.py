"""Grad mode, anomaly mode and the module scope: the per-thread switches every op reads.

:class:`no_grad` / :class:`enable_grad` turn graph recording off and on, :class:`detect_anomaly`
turns on the NaN/Inf checks of :mod:`tinygrad_nn.autograd`, and :class:`scope` names the
``nn`` module whose forward is running (the graph pictures cluster by it). All of them live in
one ``threading.local`` object, :data:`state`, so a ``no_grad()`` in one thread never switches
recording off in another (as in PyTorch); every thread starts with grad on, anomaly off and no
scope. The engine (:mod:`tinygrad_nn.tensor`, :mod:`tinygrad_nn.autograd`) reads
``state.switches`` once per op; :mod:`tinygrad_nn.compiler` sets ``state.tracer`` while it
traces a step.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "scope",
    "set_detect_anomaly",
    "state",
    "tracing",
]

F = TypeVar("F", bound=Callable[..., Any])


class _Switches:
    """One thread's switches, in a plain object: an op reads the thread-local once
    (``state.switches``), then these fields at plain attribute speed (each attribute read of
    a ``threading.local`` costs ~30 ns more, and every op needs three of them)."""

    __slots__ = ("anomaly_enabled", "grad_enabled", "saved_anomaly", "saved_grad", "scope")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly_enabled = False
        self.scope: str | None = None  # name of the nn.Module whose forward is running
        # What each entered mode block replaces, restored when it exits (innermost last).
        self.saved_grad: list[bool] = []
        self.saved_anomaly: list[bool] = []


class _ThreadState(threading.local):
    """The calling thread's state (``__init__`` runs once in each thread that reads it)."""

    def __init__(self) -> None:
        self.switches = _Switches()
        self.tracer: Any = None  # the compiler's tracer while it traces this thread's step


#: The calling thread's state: ``state.switches`` (grad mode, anomaly mode, module scope) and
#: ``state.tracer``. Internal: use the functions and context managers below.
state = _ThreadState()

#: ``[n]``: how many tracers are active, in all threads. The compiler's hooks test it before
#: reading this thread's ``state.tracer``: a plain list item costs less than a thread-local
#: attribute, and while nothing is compiled (almost always) it is 0.
tracing = [0]


def is_grad_enabled() -> bool:
    """Whether ops record the graph in this thread (False inside :class:`no_grad`).

    Examples
    --------
    >>> from tinygrad_nn import is_grad_enabled, no_grad
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return state.switches.grad_enabled


class _Switch:
    """Sets one switch of this thread's :class:`_Switches` for a ``with`` block or a decorated
    call.

    The object keeps no state of its own (what it replaces goes on a per-thread stack), so one
    object can be entered again, nested, shared by threads, and used as a decorator.
    """

    _attribute = ""  # the switch: "grad_enabled" or "anomaly_enabled"
    _saved = ""  # the per-thread stack of replaced values: "saved_grad" or "saved_anomaly"
    __slots__ = ("_value",)

    def __init__(self, value: bool) -> None:
        self._value = bool(value)

    def __enter__(self) -> None:
        here = state.switches
        getattr(here, self._saved).append(getattr(here, self._attribute))
        setattr(here, self._attribute, self._value)

    def __exit__(self, *exc_info: object) -> None:
        here = state.switches
        setattr(here, self._attribute, getattr(here, self._saved).pop())

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def switched(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return switched  # type: ignore[return-value]


class _GradSwitch(_Switch):
    _attribute = "grad_enabled"
    _saved = "saved_grad"
    __slots__ = ()


class no_grad(_GradSwitch):  # lower case: used like a function, as in PyTorch
    """Context manager or decorator under which ops record nothing, in this thread only.

    Results made inside never require grad and are leaves, so parameter updates and evaluation
    cost no memory for the graph. One object may be reused, nested and shared by threads.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad, y.is_leaf
    (False, True)
    >>> @no_grad()
    ... def evaluate(t):
    ...     return t * 3
    >>> evaluate(w).requires_grad
    False
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradSwitch):
    """Context manager or decorator that turns recording back on inside a :class:`no_grad`.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, enable_grad, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     with enable_grad():
    ...         y = w * 2
    >>> y.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(True)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread (see :class:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import detect_anomaly, is_anomaly_enabled
    >>> is_anomaly_enabled()
    False
    >>> with detect_anomaly():
    ...     is_anomaly_enabled()
    True
    """
    return state.switches.anomaly_enabled


def set_detect_anomaly(enabled: bool) -> None:
    """Turn anomaly detection on or off for this thread (see :class:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import is_anomaly_enabled, set_detect_anomaly
    >>> set_detect_anomaly(True)
    >>> is_anomaly_enabled()
    True
    >>> set_detect_anomaly(False)   # the default: no checks, no cost
    """
    state.switches.anomaly_enabled = bool(enabled)


class detect_anomaly(_Switch):  # lower case: used like a function, as in PyTorch
    """Check every op's output and every backward gradient for NaN/Inf, in this thread.

    The first non-finite value raises :class:`FloatingPointError` naming the op, the pass
    (forward or backward), the shapes, which input or output went bad, and the line of user code
    that created the op. The creation line is recorded only in this mode, so normal runs pay
    nothing. A context manager or a decorator; ``detect_anomaly(False)`` turns the checks off.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, detect_anomaly
    >>> x = Tensor([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = x.log()   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FloatingPointError: forward of 'log' produced a non-finite output ...
    """

    _attribute = "anomaly_enabled"
    _saved = "saved_anomaly"
    __slots__ = ()

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)


class scope:  # lower case: used like a function, ``with scope("layer1"):``
    """Tag every tensor made inside with ``name`` (nn modules use it; pictures cluster by it).

    Nested scopes join with dots (``"net.layer1"``). A class rather than a generator-based
    context manager: it is entered for every module call, and this is ~3x cheaper.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> from tinygrad_nn.modes import scope
    >>> with scope("layer1"):
    ...     y = Tensor([1.0], requires_grad=True).exp()
    >>> y.scope
    'layer1'
    """

    __slots__ = ("name", "previous")

    def __init__(self, name: str | None) -> None:
        self.name = name

    def __enter__(self) -> None:
        here = state.switches
        self.previous = current = here.scope
        if self.name is not None:
            here.scope = self.name if current is None else f"{current}.{self.name}"

    def __exit__(self, *exc_info: object) -> None:
        state.switches.scope = self.previous

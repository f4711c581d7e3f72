"""Grad mode, anomaly mode and the module scope: the switches every op reads when it records.

:func:`no_grad` / :func:`enable_grad` turn graph recording off and on, :func:`detect_anomaly`
turns on the NaN/Inf checks of :mod:`tinygrad_nn.autograd`, and :class:`scope` names the
``nn`` module whose forward is running (the graph pictures cluster by it). The engine
(:mod:`tinygrad_nn.tensor`, :mod:`tinygrad_nn.autograd`) reads the state kept here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = [
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "scope",
    "set_detect_anomaly",
]

# Module-level switches, read on every op: plain globals are the cheapest thing Python can read.
_grad_enabled = True
_anomaly_enabled = False
_scope: str | None = None  # name of the nn.Module whose forward is running (for graph clusters)


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph (False inside :func:`no_grad`).

    Examples
    --------
    >>> from tinygrad_nn import is_grad_enabled, no_grad
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _grad_enabled


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager (or decorator) under which ops record nothing.

    Results made inside never require grad, so parameter updates and evaluation cost no memory
    for the graph.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns graph recording back on inside a :func:`no_grad` block.

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
    return _grad_mode(True)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (see :func:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import detect_anomaly, is_anomaly_enabled
    >>> is_anomaly_enabled()
    False
    >>> with detect_anomaly():
    ...     is_anomaly_enabled()
    True
    """
    return _anomaly_enabled


def set_detect_anomaly(enabled: bool) -> None:
    """Turn anomaly detection on or off globally (see :func:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import is_anomaly_enabled, set_detect_anomaly
    >>> set_detect_anomaly(True)
    >>> is_anomaly_enabled()
    True
    >>> set_detect_anomaly(False)   # the default: no checks, no cost
    """
    global _anomaly_enabled
    _anomaly_enabled = bool(enabled)


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Check every op's output and every backward gradient for NaN/Inf.

    The first non-finite value raises :class:`FloatingPointError` naming the op, the pass
    (forward or backward), the shapes, which input or output went bad, and the line of user code
    that created the op. The creation line is recorded only in this mode, so normal runs pay
    nothing.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, detect_anomaly
    >>> x = Tensor([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = x.log()   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FloatingPointError: forward of 'log' produced a non-finite output ...
    """
    global _anomaly_enabled
    previous = _anomaly_enabled
    _anomaly_enabled = enabled
    try:
        yield
    finally:
        _anomaly_enabled = previous


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
        global _scope
        self.previous = _scope
        if self.name is not None:
            _scope = self.name if _scope is None else f"{_scope}.{self.name}"

    def __exit__(self, *exc_info: object) -> None:
        global _scope
        _scope = self.previous

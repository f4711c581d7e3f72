"""Optimizers: the update rules PyTorch users know, applied in place with numpy.

An optimizer holds a list of parameters (leaf Tensors with ``requires_grad=True``). After
``loss.backward()`` has filled every ``p.grad``, ``step()`` changes every ``p.data`` in place and
calls ``p.mark_modified()``, so a graph built *before* the update refuses to backpropagate through
the old values. ``zero_grad()`` forgets the gradients before the next ``backward()`` (the engine
adds gradients up across ``backward()`` calls).

The updates are plain numpy on ``.data``, never recorded in a graph, so they need no
``no_grad()`` block. Parameters whose ``grad`` is ``None`` (unused in the last forward pass) are
skipped, as in PyTorch, and their optimizer state is left as it was.

* :class:`SGD` without momentum is exactly the article's ``update_parameters``:
  ``W = W - lr * dW`` gives the same floats as ``W -= lr * dW``.
* :class:`SGD` with momentum keeps a buffer ``v = μ·v + g`` (``v = g`` on the first step) and
  takes ``p -= lr·v``.
* :class:`Adam` keeps running means of ``g`` and ``g²`` and corrects their bias towards zero.

Examples
--------
>>> import numpy as np
>>> from tinygrad_nn import Tensor
>>> from tinygrad_nn.optim import SGD
>>> w = Tensor([1.0, -2.0], requires_grad=True, name="w")
>>> optimizer = SGD([w], lr=0.1)
>>> loss = (w * w).sum()          # dloss/dw = 2w
>>> loss.backward()
>>> optimizer.step()
>>> w.data
array([ 0.8, -1.6])
>>> optimizer.zero_grad()
>>> w.grad is None
True
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinygrad_nn.modes import state as TRACE_STATE  # its .tracer: the compiler's, while tracing
from tinygrad_nn.tensor import Tensor

__all__ = ["SGD", "Adam", "Optimizer"]


def _real(value: Any, name: str, owner: str) -> float:
    """``value`` as a finite float, or a TypeError/ValueError naming ``owner``'s argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{owner}: {name} must be a real number; got {value!r} ({type(value).__name__})"
        )
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range, such as 10**400
        raise ValueError(f"{owner}: {name} must be a finite number; got {value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number; got {value}")
    return value


def _in_unit_interval(value: Any, name: str, owner: str) -> float:
    """A float in [0, 1): momentum and Adam's betas (1 would never forget, 1 - β = 0 divides)."""
    value = _real(value, name, owner)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1); got {value}")
    return value


def _positive(value: Any, name: str, owner: str) -> float:
    value = _real(value, name, owner)
    if value <= 0.0:
        raise ValueError(f"{owner}: {name} must be > 0; got {value}")
    return value


def _non_negative(value: Any, name: str, owner: str) -> float:
    value = _real(value, name, owner)
    if value < 0.0:
        raise ValueError(f"{owner}: {name} must be >= 0; got {value}")
    return value


def _recorded(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, seen by ``tinygrad_nn.compile`` while it traces (replayed by calling it)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        tracer = TRACE_STATE.tracer
        if tracer is None or tracer.suspended:  # compiler hook
            return method(self, *args, **kwargs)
        return tracer.on_host_call(method, self, args, kwargs)

    return wrapper


class Optimizer:
    """Base class: holds the parameters, validates them, and zeroes their gradients.

    Subclasses implement :meth:`step`.

    Parameters
    ----------
    params : iterable of Tensor
        Leaf tensors with ``requires_grad=True``, e.g. ``model.parameters()``. At least one;
        each at most once (a repeated tensor would be updated twice per step).
    lr : float
        The learning rate, >= 0 (0 leaves the parameters unchanged: a dry run). It may be
        changed between steps (``optimizer.lr = 0.01``); the new value is validated the same
        way.

    Attributes
    ----------
    params : list of Tensor
        The parameters, in the order given.

    Examples
    --------
    A new update rule is a subclass with a ``step``:

    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> class SignDescent(Optimizer):
    ...     def step(self):
    ...         for p in self.params:
    ...             if p.grad is not None:
    ...                 p.data -= self.lr * np.sign(p.grad)
    ...                 p.mark_modified()
    >>> w = Tensor([1.0, -1.0], requires_grad=True)
    >>> optimizer = SignDescent([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> optimizer.step()
    >>> w.data
    array([ 0.9, -0.9])
    """

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        owner = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{owner}: params must be an iterable of Tensors (e.g. model.parameters()); got "
                f"a single Tensor: wrap it in a list, [{params.name or 'tensor'}]"
            )
        try:
            self.params: list[Tensor] = list(params)
        except TypeError:
            raise TypeError(
                f"{owner}: params must be an iterable of Tensors (e.g. model.parameters()); "
                f"got {type(params).__name__}"
            ) from None
        if not self.params:
            raise ValueError(f"{owner}: params is empty; the optimizer would have nothing to do")
        seen: set[int] = set()
        for index, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{owner}: params[{index}] must be a Tensor; got {type(p).__name__}"
                )
            if not p.requires_grad or not p.is_leaf:
                what = "does not require grad" if not p.requires_grad else f"was made by '{p.op}'"
                raise ValueError(
                    f"{owner}: {_param(p, index)} must be a leaf Tensor with requires_grad=True; "
                    f"this one {what}"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{owner}: {_param(p, index)} appears more than once; it would be updated "
                    f"twice per step"
                )
            seen.add(id(p))
        self.lr = lr
        # Each parameter's shape and dtype when given: state (velocity, Adam's means, scratch)
        # is made for them, so a parameter whose data is replaced by another kind is refused.
        self._kinds = [(p.data.shape, p.data.dtype) for p in self.params]
        # One scratch array per parameter, reused every step, so an update allocates nothing.
        self._scratch: list[np.ndarray | None] = [None] * len(self.params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("step", "zero_grad"):
            if name in cls.__dict__:
                setattr(cls, name, _recorded(cls.__dict__[name]))

    @property
    def lr(self) -> float:
        """The learning rate (settable; validated).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> optimizer = SGD([Tensor([1.0], requires_grad=True)], lr=0.1)
        >>> optimizer.lr = 0.01       # e.g. a decay schedule between steps
        >>> optimizer.lr
        0.01
        >>> optimizer.lr = -1
        Traceback (most recent call last):
        ValueError: SGD: lr must be >= 0; got -1.0
        """
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _non_negative(value, "lr", type(self).__name__)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next ``backward()``.

        Parameters
        ----------
        set_to_none : bool
            ``True`` (the default, as in PyTorch) sets every ``p.grad`` to ``None``, which
            costs nothing; ``False`` fills existing gradients with zeros in place.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> optimizer = SGD([w], lr=0.1)
        >>> (w * 3).sum().backward()
        >>> optimizer.zero_grad(set_to_none=False)
        >>> w.grad
        array([0.])
        >>> optimizer.zero_grad()
        >>> print(w.grad)
        None
        """
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.fill(0.0)

    def step(self) -> None:
        """Update every parameter that has a gradient (implemented by subclasses).

        Examples
        --------
        The training loop every optimizer is made for:

        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> optimizer = SGD([w], lr=0.25)
        >>> for _ in range(3):
        ...     optimizer.zero_grad()
        ...     (w * w).sum().backward()      # dloss/dw = 2w
        ...     optimizer.step()              # w -= 0.25·2w halves w
        >>> w.data
        array([0.25])
        """
        raise NotImplementedError

    def _gradients(self) -> Iterable[tuple[int, Tensor, np.ndarray, np.ndarray]]:
        """``(index, p, grad, scratch)`` for every parameter whose grad is set."""
        for index, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            shape, dtype = self._kinds[index]
            if p.data.shape != shape or p.data.dtype != dtype:
                raise ValueError(
                    f"{type(self).__name__}: the data of {_param(p, index)} was replaced: it was "
                    f"{shape} {dtype} when the optimizer was made and is now {p.data.shape} "
                    f"{p.data.dtype}; the optimizer's state is for the old one. Make a new "
                    f"optimizer for the new parameters"
                )
            if g.shape != p.data.shape:
                raise ValueError(
                    f"{type(self).__name__}: {_param(p, index)} has shape {p.data.shape} but its "
                    f"grad has shape {g.shape}"
                )
            scratch = self._scratch[index]
            if scratch is None or scratch.shape != g.shape or scratch.dtype != p.data.dtype:
                scratch = self._scratch[index] = np.empty_like(p.data)
            yield index, p, g, scratch

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.params)} parameters, {self._settings()})"

    def _settings(self) -> str:
        return f"lr={self.lr}"


def _param(p: Tensor, index: int) -> str:
    """How an error names a parameter: ``params[0] ('W1', shape (4, 2))``."""
    detail = f"{p.name!r}, shape {p.shape}" if p.name else f"shape {p.shape}"
    return f"params[{index}] ({detail})"


Optimizer.zero_grad = _recorded(Optimizer.zero_grad)  # type: ignore[method-assign]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's rule).

    Without momentum: ``p -= lr·g``, the article's ``update_parameters``. With momentum μ:
    ``v = μ·v + g`` (``v = g`` on a parameter's first step), then ``p -= lr·v``.

    Parameters
    ----------
    params : iterable of Tensor
        Leaf tensors with ``requires_grad=True``.
    lr : float
        Learning rate, >= 0.
    momentum : float
        μ in [0, 1); 0 (the default) is plain gradient descent.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0], requires_grad=True)
    >>> optimizer = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0])          # a constant gradient
    ...     optimizer.step()
    >>> w.data                                # 1 - 0.5·1 - 0.5·(0.9·1 + 1)
    array([-0.45])
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _in_unit_interval(momentum, "momentum", "SGD")
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Apply one update to every parameter whose ``grad`` is set.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> optimizer = SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> optimizer.step()          # w -= 0.1·2w
        >>> w.data
        array([0.8, 1.6])
        """
        lr, momentum = self.lr, self.momentum
        for index, p, g, scratch in self._gradients():
            if momentum:
                v = self._velocity[index]
                if v is None:
                    v = self._velocity[index] = g.copy()
                else:
                    v *= momentum
                    v += g
                g = v
            # p = p - lr·g, computed into the scratch array: the same floats as the article's
            # W - learning_rate * dW, with no temporary allocated.
            np.multiply(g, lr, out=scratch)
            np.subtract(p.data, scratch, out=p.data)
            p.mark_modified()

    def _settings(self) -> str:
        return f"lr={self.lr}, momentum={self.momentum}"


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba; PyTorch's rule, no weight decay).

    For each parameter, at its step t (counted per parameter)::

        m = β1·m + (1−β1)·g          v = β2·v + (1−β2)·g²
        m̂ = m / (1−β1^t)             v̂ = v / (1−β2^t)
        p -= lr·m̂ / (√v̂ + eps)

    Parameters
    ----------
    params : iterable of Tensor
        Leaf tensors with ``requires_grad=True``.
    lr : float
        Learning rate, >= 0.
    betas : (float, float)
        Decay rates β1, β2 of the running means of g and g², each in [0, 1).
    eps : float
        Added to √v̂ so the step stays finite where v̂ = 0; > 0.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 1.0], requires_grad=True)
    >>> optimizer = Adam([w], lr=0.1)
    >>> w.grad = np.array([0.001, 100.0])
    >>> optimizer.step()                       # first step: about lr·sign(g), whatever |g|
    >>> w.data.round(6)
    array([0.900001, 0.9     ])
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable):
            raise TypeError(f"Adam: betas must be a pair of floats (β1, β2); got {betas!r}")
        pair = tuple(betas)
        if len(pair) != 2:
            raise ValueError(f"Adam: betas must be a pair of floats (β1, β2); got {pair!r}")
        self.betas = (
            _in_unit_interval(pair[0], "betas[0]", "Adam"),
            _in_unit_interval(pair[1], "betas[1]", "Adam"),
        )
        self.eps = _positive(eps, "eps", "Adam")
        n = len(self.params)
        self._steps = [0] * n
        self._mean: list[np.ndarray | None] = [None] * n  # m: running mean of g
        self._mean_square: list[np.ndarray | None] = [None] * n  # v: running mean of g²

    def step(self) -> None:
        """Apply one update to every parameter whose ``grad`` is set.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> optimizer = Adam([w], lr=0.1)
        >>> for _ in range(3):
        ...     optimizer.zero_grad()
        ...     (w * w).sum().backward()
        ...     optimizer.step()          # about lr per step towards the minimum at 0
        >>> w.data.round(4)
        array([0.7016])
        """
        lr, (beta1, beta2), eps = self.lr, self.betas, self.eps
        for index, p, g, scratch in self._gradients():
            m, v = self._mean[index], self._mean_square[index]
            if m is None or v is None:
                m = self._mean[index] = np.zeros_like(p.data)
                v = self._mean_square[index] = np.zeros_like(p.data)
            self._steps[index] = t = self._steps[index] + 1

            # m = β1·m + (1−β1)·g
            m *= beta1
            np.multiply(g, 1.0 - beta1, out=scratch)
            m += scratch
            # v = β2·v + (1−β2)·g²
            v *= beta2
            np.multiply(g, g, out=scratch)
            scratch *= 1.0 - beta2
            v += scratch
            # p -= lr·m̂/(√v̂ + eps), with m̂ = m/c1 and √v̂ = √v/√c2 (c1 = 1−β1^t, c2 = 1−β2^t).
            # Multiplying through by √c2 leaves only scalars to correct, so m̂ and v̂ are never
            # stored: p -= (lr·√c2/c1)·m/(√v + eps·√c2).
            root_c2 = math.sqrt(1.0 - beta2**t)
            np.sqrt(v, out=scratch)
            scratch += eps * root_c2
            np.divide(m, scratch, out=scratch)
            scratch *= lr * root_c2 / (1.0 - beta1**t)
            p.data -= scratch
            p.mark_modified()

    def _settings(self) -> str:
        return f"lr={self.lr}, betas={self.betas}, eps={self.eps}"

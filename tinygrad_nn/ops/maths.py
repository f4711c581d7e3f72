"""More maths: logsumexp, var/std, prod, cumsum reductions, and the elementwise log1p, expm1,
sin, cos, sign, rsqrt."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nn.ops.reduce import _spread
from tinygrad_nn.ops.registry import op


def _count(x: np.ndarray, axis: Any) -> int:
    """How many elements each output of a reduction over ``axis`` combines."""
    if axis is None:
        return x.size
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1


@op(1, method="logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    """y = ln Σ e^x   dx = g·e^(x − y) (the softmax)

    Computed as m + ln Σ e^(x − m) with m = max x, so logits of ±1000 stay finite.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1000.0, 1000.0]], requires_grad=True)
    >>> y = x.logsumexp(axis=1)
    >>> y.data.round(4)
    array([1000.6931])
    >>> y.backward([1.0])
    >>> x.grad
    array([[0.5, 0.5]])
    """
    m = x.max(axis=axis, keepdims=True) if x.size else np.zeros((1,) * x.ndim)
    m = np.where(np.isfinite(m), m, 0.0)  # all −inf: ln 0 = −inf, not NaN
    with np.errstate(divide="ignore"):  # ln 0 = −inf for an all −inf row, no warning
        kept = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    y = kept if keepdims else (kept.reshape(()) if axis is None else np.squeeze(kept, axis))
    return y, lambda g: _spread(g, x.shape, axis, keepdims) * np.exp(x - kept)


def _check_ddof(x: np.ndarray, axis: Any, ddof: Any) -> int:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ValueError(f"ddof must be a non-negative int; got {ddof!r}")
    n = _count(x, axis)
    if n - ddof <= 0:
        raise ValueError(
            f"ddof={ddof} leaves no degrees of freedom: each variance averages {n} element(s) "
            f"(axis={axis}); use a smaller ddof"
        )
    return n - int(ddof)


@op(1, method="var")
def var(x, axis=None, ddof=0, keepdims=False):
    """y = Σ (x − x̄)² / (n − ddof)   dx = g·2(x − x̄) / (n − ddof)

    ``ddof=0`` (numpy's default) is the population variance; ``ddof=1`` is the unbiased one,
    PyTorch's default (``correction=1``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
    >>> y = x.var()
    >>> y.backward()
    >>> y.item(), x.grad
    (3.5, array([-1. , -0.5,  0. ,  1.5]))
    >>> x.var(ddof=1).item()
    4.666666666666667
    """
    dof = _check_ddof(x, axis, ddof)
    centred = x - x.mean(axis=axis, keepdims=True)
    y = (centred * centred).sum(axis=axis, keepdims=keepdims) / dof
    return np.asarray(y), lambda g: _spread(g, x.shape, axis, keepdims) * (2.0 / dof) * centred


@op(1, method="std")
def std(x, axis=None, ddof=0, keepdims=False):
    """y = √(Σ (x − x̄)² / (n − ddof))   dx = g·(x − x̄) / ((n − ddof)·y)

    At y = 0 (all elements equal) the gradient is NaN, as in PyTorch.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 3.0], requires_grad=True)
    >>> y = x.std()
    >>> y.backward()
    >>> y.item(), x.grad
    (1.0, array([-0.5,  0.5]))
    """
    dof = _check_ddof(x, axis, ddof)
    centred = x - x.mean(axis=axis, keepdims=True)
    y = np.sqrt((centred * centred).sum(axis=axis, keepdims=True) / dof)

    def d_x(g: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _spread(g, x.shape, axis, keepdims) * centred / (dof * y)

    out = y if keepdims else (y.reshape(()) if axis is None else np.squeeze(y, axis))
    return out, d_x


def _products_of_the_others(x: np.ndarray, axis: Any) -> np.ndarray:
    """For each element, the product of the other elements it was multiplied with (exact at
    zeros, unlike y / x): the exclusive products from the left times those from the right."""
    axes = tuple(range(x.ndim)) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    axes = tuple(int(a) % x.ndim for a in axes) if x.ndim else ()
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = np.transpose(x, rest + axes)
    flat = moved.reshape(*moved.shape[: len(rest)], -1)
    ones = np.ones((*flat.shape[:-1], 1), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(moved.shape)
    return np.transpose(others, np.argsort(rest + axes))


@op(1, method="prod")
def prod(x, axis=None, keepdims=False):
    """y = Π x   dx = g·Π of the other elements (= g·y/x where x ≠ 0)

    Exact where some elements are 0 (the product of the others is computed directly).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([2.0, 0.0, 5.0], requires_grad=True)
    >>> y = x.prod()
    >>> y.backward()
    >>> y.item(), x.grad
    (0.0, array([ 0., 10.,  0.]))
    """
    y = np.prod(x, axis=axis, keepdims=keepdims)
    return np.asarray(y), lambda g: _spread(g, x.shape, axis, keepdims) * _products_of_the_others(
        x, axis
    )


@op(1, method="cumsum")
def cumsum(x, axis=None):
    """y_i = Σ_{j≤i} x_j   dx_j = Σ_{i≥j} g_i (a cumulative sum of g from the end)

    ``axis=None`` sums the flattened tensor, as numpy.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x.cumsum()
    >>> y.backward([1.0, 10.0, 100.0])
    >>> y.data, x.grad
    (array([1., 3., 6.]), array([111., 110., 100.]))
    """
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be None or one int; got {axis!r}")
    y = np.cumsum(x, axis=axis)
    along = 0 if axis is None else int(axis)

    def d_x(g: np.ndarray) -> np.ndarray:
        flipped = np.flip(g, axis=along)
        return np.flip(np.cumsum(flipped, axis=along), axis=along).reshape(x.shape)

    return y, d_x


@op(1, method="log1p")
def log1p(x):
    """y = ln(1 + x)   dx = g / (1 + x)

    Accurate for tiny x (where 1 + x would round to 1).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1e-20, 1.0], requires_grad=True)
    >>> x.log1p().sum().backward()
    >>> x.log1p().data, x.grad
    (array([1.00000000e-20, 6.93147181e-01]), array([1. , 0.5]))
    """
    return np.log1p(x), lambda g: g / (1.0 + x)


@op(1, method="expm1")
def expm1(x):
    """y = e^x − 1   dx = g·(y + 1)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1e-20, 0.0], requires_grad=True)
    >>> y = x.expm1()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([1.e-20, 0.e+00]), array([1., 1.]))
    """
    y = np.expm1(x)
    return y, lambda g: g * (y + 1.0)


@op(1, method="sin")
def sin(x):
    """y = sin x   dx = g·cos x

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0], requires_grad=True)
    >>> x.sin().backward([1.0])
    >>> x.grad
    array([1.])
    """
    return np.sin(x), lambda g: g * np.cos(x)


@op(1, method="cos")
def cos(x):
    """y = cos x   dx = −g·sin x

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([np.pi / 2], requires_grad=True)
    >>> x.cos().backward([1.0])
    >>> x.grad
    array([-1.])
    """
    return np.cos(x), lambda g: -g * np.sin(x)


@op(1, method="sign")
def sign(x):
    """y = sign x   dx = 0

    −1, 0 or +1 (a float tensor); piecewise constant, so the gradient is 0 (as PyTorch).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> y = x.sign()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([-1.,  0.,  1.]), array([0., 0., 0.]))
    """
    return np.sign(x), lambda g: np.zeros_like(g)


@op(1, method="rsqrt")
def rsqrt(x):
    """y = 1/√x   dx = −½·g·y³

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([4.0], requires_grad=True)
    >>> y = x.rsqrt()
    >>> y.backward([1.0])
    >>> y.data, x.grad
    (array([0.5]), array([-0.0625]))
    """
    with np.errstate(divide="ignore"):
        y = 1.0 / np.sqrt(x)
    return y, lambda g: -0.5 * g * y * y * y

"""Comparisons and selection: < <= > >= == != (boolean, not differentiable), where, maximum,
minimum, clip, argmax/argmin, masked_fill, tril/triu."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nn.ops.registry import op
from tinygrad_nn.tensor import Tensor


def is_comparable(other: object) -> bool:
    """Whether ``tensor == other`` compares values: a Tensor, array, number, list or tuple.

    For anything else (None, a string, an object) ``Tensor.__eq__`` returns ``NotImplemented``
    and Python answers by identity, as PyTorch does: ``t == None`` is False, ``t != None`` True.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> is_comparable(2.0), is_comparable(None)
    (True, False)
    >>> Tensor([1.0]) == None, Tensor([1.0]) != None
    (False, True)
    """
    return isinstance(other, (Tensor, np.ndarray, np.generic, int, float, list, tuple))


# ---- comparisons: boolean results, so nothing flows back through them ----------------------
# The engine never lets a boolean (or integer) result require grad, so the zero rules below are
# the math (a step function has derivative 0 wherever it is defined), never a shortcut taken.


def _zeros_for(a: np.ndarray, b: np.ndarray):
    a_shape, b_shape = a.shape, b.shape  # keep the shapes, not the arrays
    return (lambda g: np.zeros(a_shape, dtype=g.dtype), lambda g: np.zeros(b_shape, dtype=g.dtype))


@op(2, method="lt", operators=("__lt__",), broadcasting=True)
def lt(a, b):
    """y = [a < b]   da = 0   db = 0

    A boolean tensor (no gradient flows through a comparison); use it as a mask, e.g.
    ``x * (x > 0)`` or ``where(x < 0, -x, x)``.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> m = Tensor([1.0, 2.0, 3.0]) < 2.5
    >>> m.data, m.requires_grad
    (array([ True,  True, False]), False)
    """
    return np.less(a, b), _zeros_for(a, b)


@op(2, method="le", operators=("__le__",), broadcasting=True)
def le(a, b):
    """y = [a ≤ b]   da = 0   db = 0

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> (Tensor([1.0, 2.0, 3.0]) <= 2.0).data
    array([ True,  True, False])
    """
    return np.less_equal(a, b), _zeros_for(a, b)


@op(2, method="gt", operators=("__gt__",), broadcasting=True)
def gt(a, b):
    """y = [a > b]   da = 0   db = 0

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = x * (x > 0)           # a float times a boolean mask
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([-0.,  0.,  2.]), array([0., 0., 1.]))
    """
    return np.greater(a, b), _zeros_for(a, b)


@op(2, method="ge", operators=("__ge__",), broadcasting=True)
def ge(a, b):
    """y = [a ≥ b]   da = 0   db = 0

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> (Tensor([1.0, 2.0, 3.0]) >= 2.0).data
    array([False,  True,  True])
    """
    return np.greater_equal(a, b), _zeros_for(a, b)


@op(2, method="eq", operators=("__eq__",), broadcasting=True)
def eq(a, b):
    """y = [a = b]   da = 0   db = 0

    ``==`` compares values elementwise (as numpy and PyTorch do); tensors still hash by
    identity, so they stay usable as dict keys and set members. Use ``a is b`` for identity.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> pred, labels = Tensor([0.0, 1.0, 1.0]), Tensor([0.0, 1.0, 0.0])
    >>> (pred == labels).mean().item()     # accuracy
    0.6666666666666666
    """
    return np.equal(a, b), _zeros_for(a, b)


@op(2, method="ne", operators=("__ne__",), broadcasting=True)
def ne(a, b):
    """y = [a ≠ b]   da = 0   db = 0

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> t = Tensor([0.0, 3.0, 0.0, -2.0], requires_grad=True)
    >>> (t * (t != 0)).data          # multiplies by the mask, not by True
    array([ 0.,  3.,  0., -2.])
    """
    return np.not_equal(a, b), _zeros_for(a, b)


# ---- selection -----------------------------------------------------------------------------


def _as_condition(cond: np.ndarray, what: str) -> np.ndarray:
    if cond.dtype == np.bool_:
        return cond
    if cond.dtype.kind in "iuf" and np.isin(cond, (0, 1)).all():
        return cond.astype(bool)
    raise TypeError(
        f"the {what} must be boolean (a comparison such as x > 0, or a bool "
        f"array); got dtype {cond.dtype} with values other than 0 and 1"
    )


@op(3, broadcasting=True)
def where(cond, a, b):
    """y = a if cond else b   dcond = 0   da = g·[cond]   db = g·[¬cond]

    ``cond`` is boolean (or 0/1); all three broadcast against each other.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> x = Tensor([-2.0, 3.0], requires_grad=True)
    >>> y = ops.where(x > 0, x, 0.1 * x)
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([-0.2,  3. ]), array([0.1, 1. ]))
    """
    mask = _as_condition(cond, "condition")
    return np.where(mask, a, b), (
        lambda g: np.zeros(cond.shape, dtype=g.dtype),
        lambda g: g * mask,
        lambda g: g * ~mask,
    )


def _split_at_ties(a: np.ndarray, b: np.ndarray, a_wins: np.ndarray):
    """Gradient rules for maximum/minimum: the winner gets g, a tie gives each half (as PyTorch)."""
    ties = a == b

    def share(g: np.ndarray, wins: np.ndarray) -> np.ndarray:
        return np.where(ties, 0.5 * g, g * wins)

    return (lambda g: share(g, a_wins), lambda g: share(g, ~a_wins & ~ties))


@op(2, method="maximum", broadcasting=True)
def maximum(a, b):
    """y = max(a, b)   da = g·[a > b] (½g at a tie)   db = g·[b > a] (½g at a tie)

    Elementwise; a tie splits the gradient evenly, as PyTorch does.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> a = Tensor([1.0, 5.0, 2.0], requires_grad=True)
    >>> b = Tensor([3.0, 4.0, 2.0], requires_grad=True)
    >>> a.maximum(b).sum().backward()
    >>> a.grad, b.grad
    (array([0. , 1. , 0.5]), array([1. , 0. , 0.5]))
    """
    return np.maximum(a, b), _split_at_ties(a, b, a > b)


@op(2, method="minimum", broadcasting=True)
def minimum(a, b):
    """y = min(a, b)   da = g·[a < b] (½g at a tie)   db = g·[b < a] (½g at a tie)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> a = Tensor([1.0, 5.0], requires_grad=True)
    >>> a.minimum(3.0).sum().backward()
    >>> a.grad
    array([1., 0.])
    """
    return np.minimum(a, b), _split_at_ties(a, b, a < b)


@op(1, method="clip")
def clip(x, low=None, high=None):
    """y = min(max(x, low), high)   dx = g·[low ≤ x ≤ high]

    Either bound may be None. At a bound the gradient passes (as ``torch.clamp``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-2.0, 0.5, 1.0, 3.0], requires_grad=True)
    >>> y = x.clip(0.0, 1.0)
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([0. , 0.5, 1. , 1. ]), array([0., 1., 1., 0.]))
    """
    # Bounds in x's dtype, so a float64 bound does not promote a float32 tensor.
    lo = None if low is None else np.asarray(low, dtype=x.dtype)
    hi = None if high is None else np.asarray(high, dtype=x.dtype)
    if lo is not None and hi is not None:
        if np.any(lo > hi):
            raise ValueError(f"low must not exceed high; got low={low}, high={high}")
        return np.clip(x, lo, hi), lambda g: g * ((x >= lo) & (x <= hi))
    if hi is not None:  # one bound: one elementwise op forward, one comparison in the rule
        return np.minimum(x, hi), lambda g: g * (x <= hi)
    if lo is not None:
        return np.maximum(x, lo), lambda g: g * (x >= lo)
    raise ValueError("needs low or high (or both); got neither")


def _index_of_extreme(x: np.ndarray, axis: Any, keepdims: bool, pick) -> np.ndarray:
    if x.size == 0:
        raise ValueError(f"an empty tensor (shape {x.shape}) has no extreme to point at")
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be None or one int; got {axis!r}")
    return np.asarray(pick(x, axis=axis, keepdims=keepdims))


@op(1, method="argmax")
def argmax(x, axis=None, keepdims=False):
    """y = index of max x   dx = 0 (an integer result: not differentiable)

    The first index at a tie (as numpy and PyTorch). With ``axis=None`` the index into the
    flattened tensor. The result is an int64 tensor, usable as an index.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> logits = Tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 5.0]])
    >>> logits.argmax(axis=1).data
    array([1, 0])
    """
    return _index_of_extreme(x, axis, keepdims, np.argmax), lambda g: np.zeros_like(x)


@op(1, method="argmin")
def argmin(x, axis=None, keepdims=False):
    """y = index of min x   dx = 0 (an integer result: not differentiable)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Tensor([3.0, -1.0, -1.0]).argmin().item()
    1
    """
    return _index_of_extreme(x, axis, keepdims, np.argmin), lambda g: np.zeros_like(x)


@op(2, method="masked_fill")
def masked_fill(x, mask, value):
    """y = value where mask, else x   dx = g·[¬mask]   dmask = 0

    ``mask`` is boolean and broadcasts to x's shape (the result has x's shape), as
    ``torch.Tensor.masked_fill``; a typical use is −inf above the diagonal before a softmax.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> future = np.triu(np.ones((2, 2), dtype=bool), k=1)
    >>> y = x.masked_fill(future, -np.inf).softmax(axis=-1)
    >>> y.data.round(3)
    array([[1.   , 0.   ],
           [0.269, 0.731]])
    """
    mask = _as_condition(mask, "mask")
    if np.broadcast_shapes(x.shape, mask.shape) != x.shape:
        raise ValueError(f"the mask of shape {mask.shape} must broadcast to x's shape {x.shape}")
    y = np.where(mask, np.asarray(value, dtype=x.dtype), x)
    return y, (lambda g: np.where(mask, 0.0, g), lambda g: np.zeros(mask.shape, dtype=g.dtype))


def _check_matrix(x: np.ndarray) -> None:
    if x.ndim < 2:
        raise ValueError(f"needs a matrix or a batch of them (2+ dimensions); got {x.shape}")


@op(1, method="tril")
def tril(x, k=0):
    """y = x on and below diagonal k, 0 above   dx = g on and below diagonal k, 0 above

    Acts on the last two axes (a batch of matrices is fine); ``k`` > 0 keeps diagonals above.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).tril().data
    array([[1., 0.],
           [3., 4.]])
    """
    _check_matrix(x)
    return np.tril(x, k), lambda g: np.tril(g, k)


@op(1, method="triu")
def triu(x, k=0):
    """y = x on and above diagonal k, 0 below   dx = g on and above diagonal k, 0 below

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).triu(1).data
    array([[0., 2.],
           [0., 0.]])
    """
    _check_matrix(x)
    return np.triu(x, k), lambda g: np.triu(g, k)

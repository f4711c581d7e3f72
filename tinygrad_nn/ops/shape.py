"""Shape ops: reshape, transpose, indexing, concatenate and stack."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinygrad_nn.ops.registry import op
from tinygrad_nn.tensor import Tensor


def _shape_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept both f((2, 3)) and f(2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


@op(1, method="reshape")
def reshape(x, *shape):
    """y = x reshaped   dx = g reshaped back to x's shape

    Takes a tuple or separate sizes; one size may be −1.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    >>> y = x.reshape(2, -1)
    >>> y.shape
    (2, 3)
    >>> (y * Tensor([[1.0], [2.0]])).sum().backward()
    >>> x.grad
    array([1., 1., 1., 2., 2., 2.])
    """
    x_shape = x.shape  # the rule keeps the shape only: it saves no array
    return x.reshape(_shape_args(shape)), lambda g: g.reshape(x_shape)


@op(1, method="transpose")
def transpose(x, *axes):
    """y = x with axes permuted   dx = g with the inverse permutation

    With no axes, reverses them (``x.T``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> y = x.T
    >>> y.shape
    (3, 1)
    >>> (y * Tensor([[10.0], [20.0], [30.0]])).sum().backward()
    >>> x.grad
    array([[10., 20., 30.]])
    """
    order = _shape_args(axes)
    if not order:
        if axes and x.ndim:  # transpose(()) is a permutation of no axes, not "reverse them"
            raise ValueError(f"an empty permutation cannot reorder the {x.ndim} axes of {x.shape}")
        order = tuple(reversed(range(x.ndim)))
    y = x.transpose(order)
    inverse = tuple(np.argsort([a % x.ndim for a in order])) if x.ndim else ()
    return y, lambda g: g.transpose(inverse)


def _is_basic_index(index: tuple[Any, ...]) -> bool:
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index
    )


@op(1, operators=("__getitem__",))
def getitem(x, index):
    """y = x[index]   dx = g scattered back into zeros at index (repeats add up)

    Ints, slices, Ellipsis, None, integer arrays (repeated indices add up their gradients) and
    boolean masks, as in numpy.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    >>> y = x[[0, 0, 2]]
    >>> y.data
    array([10., 10., 30.])
    >>> y.sum().backward()
    >>> x.grad                    # x[0] was used twice
    array([2., 0., 1.])
    """
    if isinstance(index, Tensor):
        index = index.data
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p.data if isinstance(p, Tensor) else p for p in parts)
    parts = tuple(np.asarray(p) if isinstance(p, list) else p for p in parts)
    for p in parts:
        if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
            raise TypeError(f"index arrays must hold integers or booleans; got dtype {p.dtype}")
        if isinstance(p, (float, str)):
            raise TypeError(f"indices must be ints, slices, arrays or masks; got {p!r}")
    basic = _is_basic_index(parts)
    # Basic indexing gives a view of x, as in numpy and PyTorch (an int index too: the Ellipsis
    # keeps numpy from returning a scalar copy); integer arrays and masks give a copy.
    y = x[parts if not basic or Ellipsis in parts else (*parts, Ellipsis)]
    x_shape = x.shape  # the rule keeps the shape only: it saves no array

    def scatter(g):
        dx = np.zeros(x_shape, dtype=g.dtype)
        if basic:
            dx[parts] = g
        else:
            np.add.at(dx, parts, g)
        return dx

    return y, scatter


@op("sequence")
def concatenate(arrays, axis=0):
    """y = [x₁, x₂, …] joined along axis   dxᵢ = g's slice where xᵢ sits

    Examples
    --------
    >>> from tinygrad_nn import Tensor, concatenate
    >>> a = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> b = Tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    >>> y = concatenate([a, b], axis=0)
    >>> y.shape
    (3, 2)
    >>> (y * Tensor([[1.0], [2.0], [3.0]])).sum().backward()
    >>> a.grad
    array([[1., 1.]])
    >>> b.grad
    array([[2., 2.],
           [3., 3.]])
    """
    y = np.concatenate(arrays, axis=axis)
    axis = axis % y.ndim
    bounds = np.cumsum([0, *(a.shape[axis] for a in arrays)])
    lead = (slice(None),) * axis
    return y, [
        (lambda g, s=slice(lo, hi): g[(*lead, s)]) for lo, hi in itertools.pairwise(bounds)
    ]


@op("sequence")
def stack(arrays, axis=0):
    """y = [x₁, x₂, …] stacked along a new axis   dxᵢ = g[…, i, …]

    Examples
    --------
    >>> from tinygrad_nn import Tensor, stack
    >>> a = Tensor([1.0, 2.0], requires_grad=True)
    >>> b = Tensor([3.0, 4.0], requires_grad=True)
    >>> y = stack([a, b], axis=1)
    >>> y.data
    array([[1., 3.],
           [2., 4.]])
    >>> (y * Tensor([10.0, 20.0])).sum().backward()
    >>> a.grad, b.grad
    (array([10., 10.]), array([20., 20.]))
    """
    y = np.stack(arrays, axis=axis)
    lead = (slice(None),) * (axis % y.ndim)
    return y, [(lambda g, i=i: g[(*lead, i)]) for i in range(len(arrays))]

"""Reductions: sum, mean, max, min over all or some axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nn.ops.registry import op


def _spread(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Put the reduced axes back into g (as length 1) and broadcast it over the input's shape."""
    if axis is None and g.ndim == 0:
        # A full reduction: g everywhere (empty + fill: ~2.5x cheaper than np.full's wrapper).
        spread = np.empty(shape, g.dtype)
        spread.fill(g)
        return spread
    if not keepdims and axis is not None and shape:  # numpy lets a 0-d array "reduce" axis 0
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


@op(1, method="sum")
def sum_(x, axis=None, keepdims=False):
    """y = Σ x   dx = g (copied to every summed element)

    ``axis`` is None (all), an int or a tuple of ints; ``keepdims`` as in numpy.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> y = x.sum(axis=1)
    >>> y.data
    array([ 6., 15.])
    >>> y.backward([1.0, 2.0])    # each row's g, copied to the elements it summed
    >>> x.grad
    array([[1., 1., 1.],
           [2., 2., 2.]])
    """
    shape = x.shape  # the rule keeps the shape only: it saves no array
    return x.sum(axis=axis, keepdims=keepdims), lambda g: _spread(g, shape, axis, keepdims)


@op(1, method="mean")
def mean(x, axis=None, keepdims=False):
    """y = (1/n) Σ x   dx = g / n (n = number of averaged elements)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    >>> y = x.mean()
    >>> y.backward()
    >>> y.item(), x.grad
    (2.5, array([0.25, 0.25, 0.25, 0.25]))
    """
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4 and x.size and x.ndim:
        # np.mean's own steps (a sum, then a division), without its Python wrapper: ~2 µs less
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        n = x.size // max(total.size, 1)
        y = np.true_divide(total, n)
    else:  # float16 sums in float32, integers give float64, empty input warns, 0-d refuses
        # axis 0: as numpy's mean does
        y = x.mean(axis=axis, keepdims=keepdims)
        n = x.size // max(y.size, 1) if x.size else 1
    shape = x.shape  # the rule keeps the shape only: it saves no array
    return y, lambda g: _spread(g / n, shape, axis, keepdims)


def _extreme(x: np.ndarray, y: np.ndarray, axis: Any, keepdims: bool):
    def rule(g):
        y_kept = _spread(y, x.shape, axis, keepdims)
        winners = x == y_kept
        if np.isnan(y).any():  # a NaN input makes y NaN: as in torch.max, the NaNs "won"
            winners |= np.isnan(x) & np.isnan(y_kept)
        count = winners.sum(axis=axis, keepdims=True)
        return _spread(g, x.shape, axis, keepdims) * winners / count

    return rule


@op(1, method="max")
def max_(x, axis=None, keepdims=False):
    """y = max x   dx = g·[x = y] / (number of ties)

    Ties split the gradient evenly among the elements that reach the maximum. A NaN input
    makes y NaN, and then the NaNs share the gradient (PyTorch's ``max()``/``min()``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> x.max().backward()
    >>> x.grad                    # a tie: half each
    array([0. , 0.5, 0.5])
    """
    y = x.max(axis=axis, keepdims=keepdims)
    return y, _extreme(x, y, axis, keepdims)


@op(1, method="min")
def min_(x, axis=None, keepdims=False):
    """y = min x   dx = g·[x = y] / (number of ties)

    Ties split the gradient evenly among the elements that reach the minimum. A NaN input
    makes y NaN, and then the NaNs share the gradient (PyTorch's ``max()``/``min()``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[2.0, 1.0], [5.0, 7.0]], requires_grad=True)
    >>> y = x.min(axis=1)
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([1., 5.]), array([[0., 1.],
           [1., 0.]]))
    """
    y = x.min(axis=axis, keepdims=keepdims)
    return y, _extreme(x, y, axis, keepdims)

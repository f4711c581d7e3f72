"""Pooling over (N, C, H, W): max_pool2d (the gradient goes to the first maximum of each window,
as PyTorch) and avg_pool2d, on strided windows."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_nn.ops._windows import Geometry, add_windows, disjoint, geometry, offsets, pad
from tinygrad_nn.ops.registry import op


def _pool_geometry(name: str, x: np.ndarray, kernel_size, stride, padding) -> Geometry:
    if x.ndim != 4:
        raise ValueError(f"the input must be (N, C, H, W); got shape {x.shape}")
    kernel = (kernel_size,) * 2 if isinstance(kernel_size, (int, np.integer)) else kernel_size
    if len(tuple(kernel)) != 2 or not all(isinstance(k, (int, np.integer)) and k >= 1
                                          for k in kernel):
        raise ValueError(f"kernel_size must be a positive int or a pair; got {kernel_size!r}")
    kernel = tuple(int(k) for k in kernel)
    geo = geometry(name, x.shape, kernel, kernel if stride is None else stride, padding, 1)
    if any(2 * p > k for p, k in zip(geo.padding, kernel, strict=True)):
        raise ValueError(
            f"padding {geo.padding} must be at most half the kernel {kernel} (as PyTorch), so "
            f"that no window is all padding"
        )
    return geo


@op(1, method="max_pool2d")
def max_pool2d(x, kernel_size, stride=None, padding=0):
    """y = max of each window   dx = g to the window's first maximum (added where windows overlap)

    ``stride`` defaults to ``kernel_size``; padding is −inf (it never wins). At a tie inside a
    window the first maximum in row-major order takes the gradient, as in PyTorch; a window
    holding NaN gives NaN, and its first NaN takes the gradient. Computed with one elementwise
    maximum per kernel offset over strided slices (no copy of the windows).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[[[1.0, 3.0], [3.0, 2.0]]]], requires_grad=True)
    >>> y = x.max_pool2d(2)
    >>> y.backward(np.ones((1, 1, 1, 1)))
    >>> y.item(), x.grad              # a tie: the first 3 takes it
    (3.0, array([[[[0., 1.],
             [0., 0.]]]]))
    """
    geo = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    xp = pad(x, geo, -np.inf)
    head = (slice(None), slice(None))
    where = [w for _, w in offsets(geo)]  # the input slice each kernel offset reads
    y = xp[(*head, *where[0])].copy()
    for w in where[1:]:  # one elementwise maximum per kernel offset (no window copies)
        np.maximum(y, xp[(*head, *w)], out=y)

    apart = disjoint(geo)

    def d_x(g: np.ndarray) -> np.ndarray:
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        taken = np.zeros(y.shape, dtype=bool)  # windows whose first maximum was found
        nan = np.isnan(y)
        for w in where:  # offsets in row-major order: the first maximum takes g
            part = xp[(*head, *w)]
            hit = part == y
            if nan.any():  # a NaN is the maximum of its window, as in PyTorch
                hit |= np.isnan(part) & nan
            hit &= ~taken
            taken |= hit
            if apart:  # no element is in two windows: write g·hit straight into place
                np.multiply(g, hit, out=dxp[(*head, *w)])
            else:
                dxp[(*head, *w)] += g * hit
        return dxp[(*head, *(slice(p, p + n) for p, n in
                             zip(geo.padding, x.shape[2:], strict=True)))]

    return y, d_x


@op(1, method="avg_pool2d")
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """y = mean of each window   dx = g / (kh·kw) to every element of the window

    ``stride`` defaults to ``kernel_size``; zero padding counts in the mean (PyTorch's default,
    ``count_include_pad=True``). One slice-add per kernel offset, forward and backward.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> y = x.avg_pool2d(2)
    >>> y.data
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    >>> y.sum().backward()
    >>> x.grad[0, 0, 0]
    array([0.25, 0.25, 0.25, 0.25])
    """
    geo = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    taps = math.prod(geo.kernel)
    xp = pad(x, geo)
    head = (slice(None), slice(None))
    where = [w for _, w in offsets(geo)]
    y = xp[(*head, *where[0])].copy()
    for w in where[1:]:  # one slice-add per kernel offset (no window copies)
        y += xp[(*head, *w)]
    y /= taps
    return y, lambda g: add_windows(lambda k: g / taps, x.shape, geo, g.dtype)

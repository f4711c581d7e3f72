"""Convolutions, conv1d and conv2d: im2col as a strided view, one BLAS product, and backward
rules that are convolutions again (dw correlates x with g; dx is the transposed convolution)."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_nn.ops._windows import add_windows, geometry, pad, windows
from tinygrad_nn.ops.registry import op

_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}
_WEIGHT = {1: "(F, C/groups, k)", 2: "(F, C/groups, kh, kw)"}


def _conv(name: str, x: np.ndarray, w: np.ndarray, stride, padding, dilation, groups, nd: int):
    """Forward and both rules of an nd convolution (cross-correlation, as PyTorch)."""
    if x.ndim != nd + 2:
        raise ValueError(f"the input must be {_LAYOUT[nd]}; got shape {x.shape}")
    if w.ndim != nd + 2:
        raise ValueError(f"the weight must be {_WEIGHT[nd]}; got shape {w.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int; got {groups!r}")
    n, c = x.shape[:2]
    f, cg = w.shape[:2]
    if c != cg * groups or f % groups:
        raise ValueError(
            f"the input has {c} channels but the weight {w.shape} with groups={groups} expects "
            f"{cg * groups} (weight axis 1 = C/groups) and F={f} divisible by groups"
        )
    geo = geometry(name, x.shape, w.shape[2:], stride, padding, dilation)
    positions, taps = math.prod(geo.out), math.prod(geo.kernel)
    # im2col in the layout (N, groups, C/groups·taps, positions): the copy that reshape makes of
    # the strided windows is the only copy of the input, and every product below then keeps
    # numpy's (N, C, H, W) order, so no result needs transposing.
    out_axes = tuple(range(2, 2 + nd))
    cols = windows(pad(x, geo), geo).transpose(0, 1, *(a + nd for a in out_axes), *out_axes)
    cols = cols.reshape(n, groups, cg * taps, positions)
    w2 = w.reshape(groups, f // groups, cg * taps)
    y = (w2 @ cols).reshape(n, f, *geo.out)  # one BLAS product per image and group

    def d_x(g: np.ndarray) -> np.ndarray:  # the transposed convolution: wᵀ·g, then col2im
        dcols = (w2.transpose(0, 2, 1) @ g.reshape(n, groups, f // groups, positions)).reshape(
            n, c, *geo.kernel, *geo.out
        )
        head = (slice(None), slice(None))
        return add_windows(lambda k: dcols[(*head, *k)], x.shape, geo, g.dtype)

    def d_w(g: np.ndarray) -> np.ndarray:  # x correlated with g: Σ over images and positions
        g4 = g.reshape(n, groups, f // groups, positions)
        return (g4 @ cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w.shape)

    return y, (d_x, d_w)


@op(2, method="conv2d")
def conv2d(x, w, stride=1, padding=0, dilation=1, groups=1):
    """y = x ⋆ w (cross-correlation)   dx = g ⋆ᵀ w (transposed convolution)   dw = x ⋆ g

    ``x`` is (N, C, H, W), ``w`` is (F, C/groups, kh, kw), the result (N, F, H', W') with
    H' = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1. ``stride``, ``padding`` and
    ``dilation`` are an int or a pair; zero padding; ``groups`` splits the channels into
    independent groups. No bias: add one of shape (F, 1, 1), the engine sums its gradient
    (``nn.Conv2d`` does). Computed as im2col (a strided view of the windows, copied once) and
    one BLAS product (per image); the backward is one product per input, and dx adds the
    windows back with one slice-add per kernel offset (col2im).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    >>> w = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    >>> y = x.conv2d(w, stride=2)     # sums of the four 2x2 blocks
    >>> y.data
    array([[[[10., 18.],
             [42., 50.]]]])
    >>> y.sum().backward()
    >>> w.grad                        # each tap saw one pixel of every block
    array([[[[24., 28.],
             [40., 44.]]]])
    """
    return _conv("conv2d", x, w, stride, padding, dilation, groups, nd=2)


@op(2, method="conv1d")
def conv1d(x, w, stride=1, padding=0, dilation=1, groups=1):
    """y = x ⋆ w (cross-correlation)   dx = g ⋆ᵀ w (transposed convolution)   dw = x ⋆ g

    ``x`` is (N, C, L), ``w`` is (F, C/groups, k), the result (N, F, L'); as :func:`conv2d`
    with one spatial axis.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)
    >>> w = Tensor([[[1.0, -1.0]]], requires_grad=True)    # a difference filter
    >>> y = x.conv1d(w)
    >>> y.data
    array([[[-1., -1., -1.]]])
    >>> y.sum().backward()
    >>> x.grad
    array([[[ 1.,  0.,  0., -1.]]])
    """
    return _conv("conv1d", x, w, stride, padding, dilation, groups, nd=1)

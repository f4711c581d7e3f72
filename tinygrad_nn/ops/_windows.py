"""Sliding windows over the spatial axes of (N, C, *spatial) arrays: the one im2col (a strided
view, no copy) and its transpose, col2im (a loop over kernel offsets adding slices), shared by
convolution and pooling."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["Geometry", "add_windows", "disjoint", "geometry", "offsets", "pad", "windows"]


class Geometry:
    """Sizes of one sliding-window pass: kernel, stride, padding, dilation and output, per axis.

    Examples
    --------
    >>> g = geometry("conv2d", (1, 1, 8, 8), (3, 3), stride=1, padding=1, dilation=1)
    >>> g.out, g.padded
    ((8, 8), (10, 10))
    """

    __slots__ = ("dilation", "kernel", "out", "padded", "padding", "stride")

    def __init__(
        self,
        kernel: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
        out: tuple[int, ...],
        padded: tuple[int, ...],
    ) -> None:
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.dilation, self.out, self.padded = dilation, out, padded


def _per_axis(name: str, what: str, value: int | tuple[int, ...], nd: int, low: int) -> tuple:
    values = (value,) * nd if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != nd or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{name}: {what} must be an int or {nd} ints; got {value!r}")
    if any(v < low for v in values):
        raise ValueError(f"{name}: {what} must be >= {low}; got {value!r}")
    return tuple(int(v) for v in values)


def geometry(
    name: str,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: int | tuple[int, ...],
    padding: int | tuple[int, ...],
    dilation: int | tuple[int, ...],
) -> Geometry:
    """Check the arguments of a window op on an input of ``shape`` and work out its sizes.

    Examples
    --------
    >>> geometry("max_pool2d", (2, 3, 8, 8), (2, 2), stride=2, padding=0, dilation=1).out
    (4, 4)
    """
    nd = len(kernel)
    spatial = shape[2:]
    stride_ = _per_axis(name, "stride", stride, nd, 1)
    padding_ = _per_axis(name, "padding", padding, nd, 0)
    dilation_ = _per_axis(name, "dilation", dilation, nd, 1)
    padded = tuple(n + 2 * p for n, p in zip(spatial, padding_, strict=True))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation_, strict=True))
    if any(r > n for r, n in zip(reach, padded, strict=True)):
        raise ValueError(
            f"{name}: the kernel {kernel} (dilation {dilation_}, reaching {reach}) does not fit "
            f"in the input's spatial size {spatial} padded by {padding_}"
        )
    out = tuple((n - r) // s + 1 for n, r, s in zip(padded, reach, stride_, strict=True))
    return Geometry(kernel, stride_, padding_, dilation_, out, padded)


def disjoint(geo: Geometry) -> bool:
    """True when no input element lies in two windows (stride ≥ the kernel's reach per axis).

    Examples
    --------
    >>> disjoint(geometry("max_pool2d", (1, 1, 4, 4), (2, 2), 2, 0, 1))
    True
    """
    return all(
        s >= d * (k - 1) + 1 for s, d, k in zip(geo.stride, geo.dilation, geo.kernel, strict=True)
    )


def pad(x: np.ndarray, geo: Geometry, value: float = 0.0) -> np.ndarray:
    """``x`` with ``geo.padding`` added on both sides of each spatial axis (x itself if none).

    Examples
    --------
    >>> geo = geometry("conv1d", (1, 1, 2), (1,), 1, 1, 1)
    >>> pad(np.ones((1, 1, 2)), geo)
    array([[[0., 1., 1., 0.]]])
    """
    if not any(geo.padding):
        return x
    padded = np.full((*x.shape[:2], *geo.padded), value, dtype=x.dtype)  # cheaper than np.pad
    padded[(slice(None), slice(None), *(slice(p, p + n) for p, n in
                                       zip(geo.padding, x.shape[2:], strict=True)))] = x
    return padded


def windows(xp: np.ndarray, geo: Geometry) -> np.ndarray:
    """A read-only strided view of shape (N, C, *out, *kernel): window (i, j) of every image.

    Examples
    --------
    >>> x = np.arange(4.0).reshape(1, 1, 4)
    >>> geo = geometry("conv1d", x.shape, (2,), 1, 0, 1)
    >>> windows(x, geo)[0, 0]
    array([[0., 1.],
           [1., 2.],
           [2., 3.]])
    """
    n, c = xp.shape[:2]
    steps = xp.strides[2:]
    strides = (
        *xp.strides[:2],
        *(st * s for st, s in zip(steps, geo.stride, strict=True)),
        *(st * d for st, d in zip(steps, geo.dilation, strict=True)),
    )
    return as_strided(xp, (n, c, *geo.out, *geo.kernel), strides, writeable=False)


def offsets(geo: Geometry) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
    """Each kernel offset, with the slices of the padded input its window elements cover.

    Examples
    --------
    >>> geo = geometry("conv1d", (1, 1, 4), (2,), 1, 0, 1)
    >>> [(k, s) for k, s in offsets(geo)]
    [((0,), (slice(0, 3, 1),)), ((1,), (slice(1, 4, 1),))]
    """
    for k in np.ndindex(*geo.kernel):
        yield k, tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s)
            for i, d, s, o in zip(k, geo.dilation, geo.stride, geo.out, strict=True)
        )


def add_windows(per_offset, shape: tuple[int, ...], geo: Geometry, dtype: np.dtype) -> np.ndarray:
    """col2im: add ``per_offset(k)`` (shape (N, C, *out)) back where kernel offset k read from,
    then crop the padding. A loop over the few kernel offsets, each one strided slice-add.

    Examples
    --------
    >>> geo = geometry("conv1d", (1, 1, 3), (2,), 1, 0, 1)
    >>> add_windows(lambda k: np.ones((1, 1, 2)), (1, 1, 3), geo, np.dtype(float))
    array([[[1., 2., 1.]]])
    """
    full = np.zeros((*shape[:2], *geo.padded), dtype=dtype)
    apart = disjoint(geo)  # then each element gets one value: assign instead of add
    for k, where in offsets(geo):
        if apart:
            full[(slice(None), slice(None), *where)] = per_offset(k)
        else:
            full[(slice(None), slice(None), *where)] += per_offset(k)
    if not any(geo.padding):
        return full
    return full[(slice(None), slice(None), *(slice(p, p + n) for p, n in
                                               zip(geo.padding, shape[2:], strict=True)))]

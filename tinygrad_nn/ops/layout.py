"""Shape ops beyond reshape and transpose: expand, pad, tile, repeat, flip, take_along_axis; and
the helpers recorded as existing ops (flatten, squeeze, unsqueeze as reshape; permute as
transpose; split and chunk as slices; gather as take_along_axis)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinygrad_nn.ops.registry import op
from tinygrad_nn.ops.shape import _shape_args, getitem, reshape, transpose
from tinygrad_nn.tensor import Tensor

__all__ = [
    "broadcast_to", "chunk", "expand", "flatten", "flip", "gather", "pad", "permute", "repeat",
    "split", "squeeze", "take_along_axis", "tile", "unsqueeze",
]


def _axis(axis: Any, ndim: int, what: str = "axis") -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what} must be an int; got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what} {axis} is out of range for {ndim} dimension(s)")
    return int(axis) % ndim


@op(1, method="expand")
def expand(x, *shape):
    """y = x broadcast to shape   dx = g summed over the broadcast axes

    numpy's broadcasting rules (``broadcast_to``); a size of −1 keeps x's size on that axis, as
    ``torch.Tensor.expand``. The result is a copy. The rule hands g back whole: the engine sums
    it over the stretched axes, as for any broadcast.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> b = Tensor([[1.0], [2.0]], requires_grad=True)
    >>> y = b.expand(2, 3)
    >>> y.data
    array([[1., 1., 1.],
           [2., 2., 2.]])
    >>> y.sum().backward()
    >>> b.grad
    array([[3.],
           [3.]])
    """
    target = _shape_args(shape)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ValueError(f"cannot expand {x.shape} to fewer dimensions {target}")
    target = tuple(
        x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target)
    )
    try:
        y = np.array(np.broadcast_to(x, target))
    except ValueError:
        raise ValueError(
            f"cannot expand {x.shape} to {target}: each axis must match or be 1"
        ) from None
    return y, lambda g: g


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """numpy's name for :func:`expand` (recorded as ``expand``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> ops.broadcast_to(Tensor([1.0, 2.0]), (2, 2)).data
    array([[1., 2.],
           [1., 2.]])
    """
    return expand(x, *shape)


def _pad_widths(x: np.ndarray, widths: Any) -> list[tuple[int, int]]:
    array = np.asarray(widths)
    if array.dtype.kind not in "iu" or (array < 0).any():
        raise ValueError(f"pad widths must be non-negative ints; got {widths!r}")
    try:
        full = np.broadcast_to(array, (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad widths {widths!r} do not fit {x.ndim} dimension(s): give an int, a (before, "
            f"after) pair, or one pair per axis"
        ) from None
    return [(int(a), int(b)) for a, b in full]


@op(1, method="pad")
def pad(x, widths, value=0.0):
    """y = x surrounded by value   dx = the centre of g (where x sits)

    ``widths`` as numpy's ``pad_width``: an int, a (before, after) pair, or one pair per axis.
    Constant padding only.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = x.pad(((0, 0), (1, 2)))
    >>> y.data
    array([[0., 1., 2., 0., 0.]])
    >>> (y * Tensor([[9.0, 1.0, 2.0, 9.0, 9.0]])).sum().backward()
    >>> x.grad
    array([[1., 2.]])
    """
    pairs = _pad_widths(x, widths)
    y = np.pad(x, pairs, constant_values=value)
    centre = tuple(slice(a, a + n) for (a, _), n in zip(pairs, x.shape, strict=True))
    return y, lambda g: g[centre]


@op(1, method="tile")
def tile(x, *reps):
    """y = x repeated reps times along each axis (numpy.tile)   dx = Σ of g over the copies

    numpy's ``tile``, which is what ``torch.Tensor.repeat`` does.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.tile(2, 2)
    >>> y.data
    array([[1., 2., 1., 2.],
           [1., 2., 1., 2.]])
    >>> y.sum().backward()
    >>> x.grad
    array([4., 4.])
    """
    counts = _shape_args(reps)
    if not counts or not all(isinstance(r, (int, np.integer)) and r >= 0 for r in counts):
        raise ValueError(f"reps must be non-negative ints; got {reps!r}")
    nd = max(len(counts), x.ndim)
    counts = (1,) * (nd - len(counts)) + tuple(int(r) for r in counts)
    base = (1,) * (nd - x.ndim) + x.shape
    y = np.tile(x.reshape(base), counts)
    split_shape = [n for pair in zip(counts, base, strict=True) for n in pair]
    copies = tuple(range(0, 2 * nd, 2))
    return y, lambda g: g.reshape(split_shape).sum(axis=copies).reshape(x.shape)


@op(1, method="repeat")
def repeat(x, repeats, axis=None):
    """y = each element repeated r times along axis   dx = Σ of g over the r repeats

    numpy's ``repeat`` (PyTorch calls it ``repeat_interleave``; PyTorch's ``repeat`` is
    :func:`tile`). ``axis=None`` repeats the flattened tensor. ``repeats`` is one int.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.repeat(3)
    >>> y.data
    array([1., 1., 1., 2., 2., 2.])
    >>> y.backward([1.0, 1.0, 1.0, 0.0, 0.0, 10.0])
    >>> x.grad
    array([ 3., 10.])
    """
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise ValueError(f"repeats must be one non-negative int; got {repeats!r}")
    flat = x.reshape(-1) if axis is None else x
    along = 0 if axis is None else _axis(axis, x.ndim)
    y = np.repeat(flat, repeats, axis=along)
    split_shape = (*flat.shape[:along], flat.shape[along], int(repeats), *flat.shape[along + 1:])
    return y, lambda g: g.reshape(split_shape).sum(axis=along + 1).reshape(x.shape)


@op(1, method="flip")
def flip(x, axis=None):
    """y = x reversed along axis   dx = g reversed along axis

    ``axis`` is None (every axis), an int or a tuple of ints.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = x.flip()
    >>> y.backward([1.0, 2.0, 3.0])
    >>> y.data, x.grad
    (array([3., 2., 1.]), array([3., 2., 1.]))
    """
    return np.flip(x, axis=axis).copy(), lambda g: np.flip(g, axis=axis)


def _along_axis_index(indices: np.ndarray, shape: tuple[int, ...], axis: int) -> tuple:
    """The full fancy index that take_along_axis uses: indices on axis, aranges elsewhere."""
    index = []
    for a, n in enumerate(shape):
        if a == axis:
            index.append(indices)
        else:
            index.append(np.arange(n).reshape([-1 if b == a else 1 for b in range(len(shape))]))
    return tuple(index)


@op(1, method="take_along_axis")
def take_along_axis(x, indices, axis):
    """y = x[…, indices, …] along axis   dx = g added back at indices (repeats add up)

    numpy's ``take_along_axis``: ``indices`` has x's number of dimensions and broadcasts
    against x on the other axes; an int array or an int Tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> logp = Tensor([[-0.1, -2.0, -3.0], [-1.5, -0.3, -2.5]], requires_grad=True)
    >>> labels = np.array([[0], [1]])
    >>> picked = logp.take_along_axis(labels, axis=1)      # each row's label entry
    >>> picked.data
    array([[-0.1],
           [-0.3]])
    >>> picked.sum().backward()
    >>> logp.grad
    array([[1., 0., 0.],
           [0., 1., 0.]])
    """
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers; got dtype {idx.dtype}")
    along = _axis(axis, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"indices of shape {idx.shape} must have x's {x.ndim} dimensions (x {x.shape})"
        )
    n = x.shape[along]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"an index is out of range for axis {along} of size {n}")
    y = np.take_along_axis(x, idx, axis=along)
    full = _along_axis_index(idx, x.shape, along)

    def d_x(g: np.ndarray) -> np.ndarray:
        dx = np.zeros(x.shape, dtype=g.dtype)
        np.add.at(dx, full, g)
        return dx

    return y, d_x


def gather(x: Tensor, axis: int, indices: Any) -> Tensor:
    """PyTorch's ``gather(dim, index)``: :func:`take_along_axis` with the axis first.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor, ops
    >>> ops.gather(Tensor([[1.0, 2.0], [3.0, 4.0]]), 1, np.array([[1], [0]])).data
    array([[2.],
           [3.]])
    """
    return take_along_axis(x, indices, axis)


# ---- helpers recorded as reshape / transpose / getitem --------------------------------------


def flatten(x: Tensor, start: int = 0, end: int = -1) -> Tensor:
    """Merge axes ``start`` … ``end`` into one (recorded as ``reshape``).

    ``x.flatten(1)`` turns (N, C, H, W) into (N, C·H·W), as ``torch.flatten(x, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Tensor(np.zeros((2, 3, 4, 5))).flatten(1).shape
    (2, 60)
    """
    if x.ndim == 0:
        return reshape(x, 1)
    lo, hi = _axis(start, x.ndim, "start"), _axis(end, x.ndim, "end")
    if lo > hi:
        raise ValueError(f"flatten: start {start} comes after end {end} for shape {x.shape}")
    merged = int(np.prod(x.shape[lo : hi + 1]))
    return reshape(x, *x.shape[:lo], merged, *x.shape[hi + 1 :])


def squeeze(x: Tensor, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Drop axes of length 1 (all of them, or those given) (recorded as ``reshape``).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Tensor(np.zeros((1, 3, 1))).squeeze().shape, Tensor(np.zeros((1, 3, 1))).squeeze(0).shape
    ((3,), (3, 1))
    """
    axes = [_axis(a, x.ndim) for a in ((axis,) if isinstance(axis, (int, np.integer)) else
                                       axis)] if axis is not None else None
    if axes is not None and any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have length 1")
    keep = [n for a, n in enumerate(x.shape) if (n != 1 if axes is None else a not in axes)]
    return reshape(x, *keep) if keep else reshape(x, ())


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """Insert an axis of length 1 at ``axis`` (recorded as ``reshape``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Tensor([1.0, 2.0]).unsqueeze(0).shape, Tensor([1.0, 2.0]).unsqueeze(-1).shape
    ((1, 2), (2, 1))
    """
    where = _axis(axis, x.ndim + 1)
    return reshape(x, *x.shape[:where], 1, *x.shape[where:])


def permute(x: Tensor, *axes: int) -> Tensor:
    """Reorder the axes (recorded as ``transpose``, which takes the same order).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Tensor(np.zeros((2, 3, 4))).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    order = _shape_args(axes)
    if sorted(a % max(x.ndim, 1) for a in order) != list(range(x.ndim)):
        raise ValueError(f"permute: {order} is not an order of the {x.ndim} axes of {x.shape}")
    return transpose(x, *order)


def split(x: Tensor, size: int | list[int], axis: int = 0) -> list[Tensor]:
    """Cut along ``axis`` into pieces of ``size`` (the last may be shorter), or of the sizes in a
    list, as ``torch.split``; each piece is a slice (recorded as ``getitem``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> [p.data for p in Tensor([1.0, 2.0, 3.0, 4.0, 5.0]).split(2)]
    [array([1., 2.]), array([3., 4.]), array([5.])]
    >>> [p.shape for p in Tensor([1.0, 2.0, 3.0]).split([1, 2])]
    [(1,), (2,)]
    """
    along = _axis(axis, x.ndim)
    n = x.shape[along]
    if isinstance(size, (int, np.integer)):
        if isinstance(size, bool) or size < 1:
            raise ValueError(f"split: the piece size must be an int >= 1; got {size!r}")
        sizes = [min(int(size), n - lo) for lo in range(0, n, int(size))]
    else:
        sizes = [int(s) for s in size]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {list(size)} must add up to {n} (axis {along})")
    bounds = np.cumsum([0, *sizes])
    lead = (slice(None),) * along
    return [getitem(x, (*lead, slice(int(lo), int(hi)))) for lo, hi in itertools.pairwise(bounds)]


def chunk(x: Tensor, chunks: int, axis: int = 0) -> list[Tensor]:
    """Cut along ``axis`` into ``chunks`` pieces of ⌈n / chunks⌉ (fewer if n runs out), as
    ``torch.chunk``; recorded as ``getitem``.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> [p.shape for p in Tensor([[1.0] * 6]).chunk(3, axis=1)]
    [(1, 2), (1, 2), (1, 2)]
    """
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int; got {chunks!r}")
    n = x.shape[_axis(axis, x.ndim)]
    return split(x, max(-(-n // int(chunks)), 1), axis)


# The Tensor methods of the helpers above carry the helpers' docstrings (the registry does the
# same for the ops' methods).
for _helper in (flatten, squeeze, unsqueeze, permute, split, chunk):
    _method = Tensor.__dict__.get(_helper.__name__)
    if callable(_method):
        _method.__doc__ = _helper.__doc__

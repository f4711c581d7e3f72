"""Image layers on (N, C, H, W) batches: Conv2d, MaxPool2d, AvgPool2d, and Flatten, which hands
the features to Linear in the article's column layout (features, N)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_nn import _checks, ops
from tinygrad_nn.nn.layers import INITS
from tinygrad_nn.nn.module import Module
from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]


def _pair(value: Any, name: str, owner: str, low: int) -> tuple[int, int]:
    values = (value, value) if isinstance(value, (int, np.integer)) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
    ):
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints; got {value!r}")
    if any(v < low for v in values):
        raise ValueError(f"{owner}: {name} must be >= {low}; got {value!r}")
    return int(values[0]), int(values[1])


def _as_input(x: Any, dtype: np.dtype, what: str) -> Tensor:
    """Tensors pass through; arrays become constants of the layer's dtype."""
    if isinstance(x, Tensor):
        return x
    array = as_array(x, what)
    return Tensor(array if array.dtype == dtype else array.astype(dtype))


def _image_input(x: Any, dtype: np.dtype, owner: str, channels: int | None = None) -> Tensor:
    x = _as_input(x, dtype, f"{owner} input")
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = "(N, C, H, W)" if channels is None else f"(N, {channels}, H, W)"
        raise ValueError(
            f"{owner}: the input must be a batch of images {want}, as in PyTorch; got shape "
            f"{x.shape}" + (" (one image? add a batch axis: x[None])" if x.ndim == 3 else "")
        )
    return x


class Conv2d(Module):
    """A 2-D convolution layer: ``Y = conv2d(X, W) + b`` on (N, C, H, W) images, as PyTorch.

    Parameters
    ----------
    in_channels, out_channels : int
        C and F.
    kernel_size : int or (int, int)
    stride, padding, dilation : int or (int, int)
        As the op ``conv2d`` takes them (zero padding).
    groups : int
        Split the channels into this many independent groups (divides C and F).
    bias : bool
        Add a learned ``b`` of shape ``(F, 1, 1)`` (broadcast over N, H, W).
    init : {"he", "xavier", "article"}
        Weights ``randn(F, C/groups, kh, kw) * scale`` with fan_in = C/groups·kh·kw: He
        ``sqrt(2/fan_in)`` (the default, for ReLU), Xavier ``sqrt(2/(fan_in + fan_out))``,
        the article's ``0.01``. Biases start at zero.
    seed : int, numpy RandomState or None
    dtype : float32 or float64

    Attributes
    ----------
    W : Tensor
        ``(F, C/groups, kh, kw)``, PyTorch's ``weight``.
    b : Tensor or None
        ``(F, 1, 1)``; PyTorch's ``bias`` is ``b.reshape(F)``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Conv2d(1, 4, 3, padding=1, seed=0)
    >>> layer.W.shape, layer.b.shape
    ((4, 1, 3, 3), (4, 1, 1))
    >>> layer(np.zeros((2, 1, 8, 8))).shape
    (2, 4, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        *,
        bias: bool = True,
        init: str = "he",
        seed: int | np.random.RandomState | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        owner = "Conv2d"
        self.in_channels = _checks.positive_int(in_channels, "in_channels", owner)
        self.out_channels = _checks.positive_int(out_channels, "out_channels", owner)
        self.kernel_size = _pair(kernel_size, "kernel_size", owner, 1)
        self.stride = _pair(stride, "stride", owner, 1)
        self.padding = _pair(padding, "padding", owner, 0)
        self.dilation = _pair(dilation, "dilation", owner, 1)
        self.groups = _checks.positive_int(groups, "groups", owner)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{owner}: groups={self.groups} must divide in_channels={self.in_channels} and "
                f"out_channels={self.out_channels}"
            )
        self.init = _checks.choice(init, "init", INITS, owner)
        self.dtype = _checks.float_dtype(dtype, owner)
        self.seed = None if isinstance(seed, np.random.RandomState) else seed
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        fan_in = math.prod(shape[1:])
        fan_out = self.out_channels // self.groups * math.prod(self.kernel_size)
        scale = {"article": 0.01, "he": math.sqrt(2.0 / fan_in)}.get(
            self.init, math.sqrt(2.0 / (fan_in + fan_out))
        )
        weights = _checks.random_state(seed, owner).randn(*shape) * scale
        self.W = Tensor(weights.astype(self.dtype, copy=False), requires_grad=True, name="W")
        self.b: Tensor | None = None
        if bias:
            zeros = np.zeros((self.out_channels, 1, 1), dtype=self.dtype)
            self.b = Tensor(zeros, requires_grad=True, name="b")

    def forward(self, x: Any) -> Tensor:
        """``conv2d(x, W) + b`` for ``x`` of shape ``(N, in_channels, H, W)``.

        Examples
        --------
        >>> Conv2d(3, 2, 3, stride=2, seed=0)(np.ones((1, 3, 7, 7))).shape
        (1, 2, 3, 3)
        """
        x = _image_input(x, self.dtype, "Conv2d", self.in_channels)
        y = ops.conv2d(
            x, self.W, stride=self.stride, padding=self.padding, dilation=self.dilation,
            groups=self.groups,
        )
        return y if self.b is None else y + self.b

    def config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> Conv2d(1, 8, 3, padding=1, seed=0).config()["padding"]
        (1, 1)
        """
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.b is not None,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class _Pool2d(Module):
    _op = "max_pool2d"

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", owner, 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", owner, 1)
        self.padding = _pair(padding, "padding", owner, 0)

    def forward(self, x: Any) -> Tensor:
        dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.dtype(np.float64)
        if dtype.kind != "f":
            dtype = np.dtype(np.float64)
        x = _image_input(x, dtype, type(self).__name__)
        pool = ops.max_pool2d if self._op == "max_pool2d" else ops.avg_pool2d
        return pool(x, self.kernel_size, stride=self.stride, padding=self.padding)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}


class MaxPool2d(_Pool2d):
    """The maximum of each window (the op ``max_pool2d``) on (N, C, H, W) images.

    ``stride`` defaults to ``kernel_size`` (windows side by side); padding is −inf. A tie
    sends the gradient to the window's first maximum, as in PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """

    _op = "max_pool2d"


class AvgPool2d(_Pool2d):
    """The mean of each window (the op ``avg_pool2d``) on (N, C, H, W) images.

    ``stride`` defaults to ``kernel_size``; zero padding counts in the mean, as PyTorch's
    default.

    Examples
    --------
    >>> import numpy as np
    >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """

    _op = "avg_pool2d"


class Flatten(Module):
    """From (N, C, H, W) images to the article's column layout ``(C·H·W, N)``, for Linear.

    Each image becomes one column, its features in PyTorch's ``flatten(1)`` order (channel,
    then row, then column), so ``Flatten()(x)`` is PyTorch's ``x.flatten(1)`` transposed and a
    CNN ending in ``Linear`` needs no hand-written transpose. Any (N, ...) input works.

    Examples
    --------
    >>> import numpy as np
    >>> Flatten()(np.zeros((5, 16, 2, 2))).shape
    (64, 5)
    """

    def forward(self, x: Any) -> Tensor:
        """``x.reshape(N, -1).T``: one column per example.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Flatten()(Tensor(np.arange(4.0).reshape(2, 1, 2))).data
        array([[0., 2.],
               [1., 3.]])
        """
        if not isinstance(x, Tensor):
            x = _as_input(x, np.dtype(np.float64), "Flatten input")
        if x.ndim < 2:
            raise ValueError(
                f"Flatten: the input needs a batch axis first, (N, ...); got shape {x.shape}"
            )
        return x.reshape(x.shape[0], -1).T

    def config(self) -> dict[str, Any]:
        """No arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> Flatten().config()
        {}
        """
        return {}

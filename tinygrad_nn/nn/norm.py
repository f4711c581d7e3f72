"""Normalisation layers: LayerNorm and BatchNorm1d on the column layout (features, m), BatchNorm2d
on (N, C, H, W) images; batch norms keep running statistics by PyTorch's momentum/eps rules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_nn import _checks, modes
from tinygrad_nn.compiler import CompileError
from tinygrad_nn.nn.module import Module
from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _as_input(x: Any, dtype: np.dtype, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    array = as_array(x, what)
    return Tensor(array if array.dtype == dtype else array.astype(dtype))


def _eps(value: Any, owner: str) -> float:
    return _checks.positive_float(value, "eps", owner)


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """``(x − mean) / √(var + eps)`` over ``axes`` (biased variance), with the mean and var."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) * (var + eps).rsqrt(), mean, var


class LayerNorm(Module):
    """Normalise each example (column) over its features: ``y = γ·(x − μ)/√(σ² + ε) + β``.

    In the article's column layout, ``x`` is ``(n_features, m)``; μ and σ² (biased) are taken
    over axis 0 for every column separately, the same in training and evaluation. PyTorch's
    ``LayerNorm(n)`` on ``x.T`` is the same layer.

    Parameters
    ----------
    n_features : int
    eps : float
        Added to the variance (PyTorch's default 1e-5).
    affine : bool
        Learn ``gamma`` (ones) and ``beta`` (zeros), each ``(n_features, 1)``.
    dtype : float32 or float64

    Examples
    --------
    >>> import numpy as np
    >>> layer = LayerNorm(3)
    >>> y = layer(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 6.0]]))
    >>> y.data.mean(axis=0).round(12), y.data.var(axis=0).round(4)
    (array([0., 0.]), array([1., 1.]))
    """

    def __init__(
        self, n_features: int, eps: float = 1e-5, *, affine: bool = True, dtype: Any = np.float64
    ) -> None:
        super().__init__()
        self.n_features = _checks.positive_int(n_features, "n_features", "LayerNorm")
        self.eps = _eps(eps, "LayerNorm")
        self.dtype = _checks.float_dtype(dtype, "LayerNorm")
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None
        if affine:
            shape = (self.n_features, 1)
            self.gamma = Tensor(np.ones(shape, self.dtype), requires_grad=True, name="gamma")
            self.beta = Tensor(np.zeros(shape, self.dtype), requires_grad=True, name="beta")

    def forward(self, x: Any) -> Tensor:
        """The normalised ``x`` of shape ``(n_features, m)``.

        Examples
        --------
        >>> LayerNorm(4)(np.ones((4, 2))).shape
        (4, 2)
        """
        x = _as_input(x, self.dtype, "LayerNorm input")
        if x.ndim != 2 or x.shape[0] != self.n_features:
            raise ValueError(
                f"LayerNorm(n_features={self.n_features}): the input must be "
                f"({self.n_features}, m), one example per column; got shape {x.shape}"
            )
        y, _, _ = _normalize(x, (0,), self.eps)
        if self.gamma is None or self.beta is None:
            return y
        return y * self.gamma + self.beta

    def config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> LayerNorm(8).config()
        {'n_features': 8, 'eps': 1e-05, 'affine': True, 'dtype': 'float64'}
        """
        return {
            "n_features": self.n_features,
            "eps": self.eps,
            "affine": self.gamma is not None,
            "dtype": self.dtype.name,
        }


class _BatchNorm(Module):
    running_mean: np.ndarray | None  # buffers (Module.register_buffer)
    running_var: np.ndarray | None
    _layout = "(C, m)"
    _axes: tuple[int, ...] = (1,)
    _stat_shape: tuple[int, ...] = (-1, 1)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        self.num_features = _checks.positive_int(num_features, "num_features", owner)
        self.eps = _eps(eps, owner)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not (
            0.0 <= momentum <= 1.0
        ):
            raise ValueError(f"{owner}: momentum must be a number in [0, 1]; got {momentum!r}")
        self.momentum = float(momentum)
        self.dtype = _checks.float_dtype(dtype, owner)
        shape = tuple(self.num_features if s == -1 else s for s in self._stat_shape)
        self.gamma: Tensor | None = None
        self.beta: Tensor | None = None
        if affine:
            self.gamma = Tensor(np.ones(shape, self.dtype), requires_grad=True, name="gamma")
            self.beta = Tensor(np.zeros(shape, self.dtype), requires_grad=True, name="beta")
        self.track_running_stats = bool(track_running_stats)
        tracked = self.track_running_stats
        # buffers: not trained, but in state_dict() and checkpoints (an evaluation needs them)
        self.register_buffer("running_mean", np.zeros(shape, self.dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(shape, self.dtype) if tracked else None)

    def _check(self, x: Tensor) -> None:
        owner = type(self).__name__
        want = 2 if len(self._stat_shape) == 2 else 4  # (C, m) or (N, C, H, W)
        channel_axis = 0 if want == 2 else 1
        if x.ndim != want or x.shape[channel_axis] != self.num_features:
            layout = self._layout.replace("C", str(self.num_features))
            raise ValueError(
                f"{owner}(num_features={self.num_features}): the input must be {layout}; got "
                f"shape {x.shape}"
            )

    def forward(self, x: Any) -> Tensor:
        x = _as_input(x, self.dtype, f"{type(self).__name__} input")
        self._check(x)
        use_batch = self.training or self.running_mean is None
        if use_batch:
            n = math.prod(x.shape[a] for a in self._axes)
            if n < 2 and self.training:
                raise ValueError(
                    f"{type(self).__name__}: training needs more than one value per channel to "
                    f"take a variance; got input shape {x.shape}"
                )
            y, mean, var = _normalize(x, self._axes, self.eps)
            if self.training and self.running_mean is not None and self.running_var is not None:
                if modes.state.tracer is not None:
                    # numpy work on the buffers is invisible to the tracer: a replay would
                    # leave them frozen at the traced step's values, silently
                    raise CompileError(
                        f"compile: {type(self).__name__} in training mode updates its running "
                        f"statistics with numpy, which a compiled step cannot replay; run this "
                        f"step eagerly, or use eval() or track_running_stats=False"
                    )
                # PyTorch's rule: running = (1 − momentum)·running + momentum·batch statistic,
                # with the unbiased variance (n/(n − 1)) for running_var.
                k, shape = self.momentum, self.running_mean.shape
                self.running_mean *= 1.0 - k
                self.running_mean += k * mean.data.reshape(shape)
                self.running_var *= 1.0 - k
                self.running_var += k * var.data.reshape(shape) * (n / (n - 1))
        else:
            assert self.running_var is not None
            scale = 1.0 / np.sqrt(self.running_var + self.eps)
            y = (x - Tensor(self.running_mean)) * Tensor(scale.astype(self.dtype, copy=False))
        if self.gamma is None or self.beta is None:
            return y
        return y * self.gamma + self.beta

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.gamma is not None,
            "track_running_stats": self.track_running_stats,
            "dtype": self.dtype.name,
        }


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of each feature (row) over the m examples of ``(C, m)`` columns.

    ``y = γ·(x − μ)/√(σ² + ε) + β`` with μ and the biased σ² of each row of the batch in
    training mode; each step also updates ``running_mean`` / ``running_var`` as PyTorch does
    (``running = (1 − momentum)·running + momentum·stat``, unbiased variance). After
    ``eval()`` the running statistics are used instead. ``gamma``, ``beta`` and the running
    statistics are ``(C, 1)``. PyTorch's ``BatchNorm1d(C)`` on ``x.T`` is the same layer.
    The running statistics are buffers, not parameters: no gradient, but ``state_dict``,
    ``load_state_dict`` and ``save`` hold them, so a reloaded model evaluates the same.

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNorm1d(2)
    >>> y = layer(np.array([[1.0, 3.0], [0.0, 10.0]]))
    >>> y.data.round(3)
    array([[-1.,  1.],
           [-1.,  1.]])
    >>> layer.running_mean.ravel()
    array([0.2, 0.5])
    """

    _layout = "(C, m), one example per column"
    _axes = (1,)
    _stat_shape = (-1, 1)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of each channel of (N, C, H, W) images, over N, H and W.

    The rules of :class:`BatchNorm1d` (the same as PyTorch's ``BatchNorm2d``); ``gamma``,
    ``beta`` and the running statistics are ``(C, 1, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = BatchNorm2d(3)
    >>> x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 3, 5, 5))
    >>> y = layer(x)
    >>> bool(np.allclose(y.data.mean(axis=(0, 2, 3)), 0.0))
    True
    >>> layer.eval()(x).shape
    (4, 3, 5, 5)
    """

    _layout = "(N, C, H, W)"
    _axes = (0, 2, 3)
    _stat_shape = (-1, 1, 1)

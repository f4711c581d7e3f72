"""The activations beyond the article's: leaky_relu, elu, gelu (exact and tanh), silu, softplus;
each registered with its default weight init, so nn.MLP and the CLI accept it."""

from __future__ import annotations

import math

import numpy as np

from tinygrad_nn.ops.registry import op

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_erf = np.vectorize(math.erf, otypes=[np.float64])  # the C library's erf, element by element


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


@op(1, method="leaky_relu", activation_init="he")
def leaky_relu(x, negative_slope=0.01):
    """y = x if x > 0 else α·x   dx = g if x > 0 else α·g

    α = ``negative_slope`` (0.01, as PyTorch); at x = 0 the gradient is α·g (as PyTorch).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-2.0, 3.0], requires_grad=True)
    >>> y = x.leaky_relu(0.1)
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([-0.2,  3. ]), array([0.1, 1. ]))
    """
    positive = x > 0
    slope = np.where(positive, 1.0, negative_slope).astype(x.dtype, copy=False)
    return x * slope, lambda g: g * slope


@op(1, method="elu", activation_init="he")
def elu(x, alpha=1.0):
    """y = x if x > 0 else α·(e^x − 1)   dx = g if x > 0 else g·(y + α)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-1.0, 2.0], requires_grad=True)
    >>> y = x.elu()
    >>> y.sum().backward()
    >>> y.data.round(4), x.grad.round(4)
    (array([-0.6321,  2.    ]), array([0.3679, 1.    ]))
    """
    positive = x > 0
    y = np.where(positive, x, alpha * np.expm1(np.minimum(x, 0.0)))
    return y, lambda g: np.where(positive, g, g * (y + alpha))


@op(1, method="gelu", activation_init="he")
def gelu(x, approximate="none"):
    """y = x·Φ(x)   dx = g·(Φ(x) + x·φ(x))

    Φ is the standard normal CDF, φ its density. ``approximate="tanh"`` uses
    Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))) and its exact derivative, as PyTorch's
    ``gelu(approximate="tanh")`` (GPT-2's form).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0, 1.0], requires_grad=True)
    >>> y = x.gelu()
    >>> y.sum().backward()
    >>> y.data.round(4), x.grad.round(4)
    (array([0.    , 0.8413]), array([0.5   , 1.0833]))
    >>> x.gelu(approximate="tanh").data.round(4)
    array([0.    , 0.8412])
    """
    if approximate == "none":
        cdf = (0.5 * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)
        slope = cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        return x * cdf, lambda g: g * slope
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        slope = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
        return 0.5 * x * (1.0 + t), lambda g: g * slope
    raise ValueError(f"approximate must be 'none' or 'tanh'; got {approximate!r}")


@op(1, method="silu", activation_init="he")
def silu(x):
    """y = x·σ(x)   dx = g·σ(x)·(1 + x·(1 − σ(x)))

    Also called swish. σ is the sigmoid, computed without overflow for any x.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0, 1000.0, -1000.0], requires_grad=True)
    >>> y = x.silu()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([    0.,  1000.,    -0.]), array([0.5, 1. , 0. ]))
    """
    s = _stable_sigmoid(x)
    return x * s, lambda g: g * s * (1.0 + x * (1.0 - s))


@op(1, method="softplus", activation_init="he")
def softplus(x, beta=1.0):
    """y = ln(1 + e^(βx)) / β   dx = g·σ(βx)

    Computed as max(x, 0) + ln(1 + e^(−β|x|))/β: no overflow for any x (PyTorch switches to
    y = x above βx > 20; the two differ there by less than e^−20).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0, 1000.0], requires_grad=True)
    >>> y = x.softplus()
    >>> y.sum().backward()
    >>> y.data.round(4), x.grad
    (array([   0.6931, 1000.    ]), array([0.5, 1. ]))
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive; got {beta!r}")
    bx = beta * x
    y = np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(bx))) / beta
    return y, lambda g: g * _stable_sigmoid(bx)

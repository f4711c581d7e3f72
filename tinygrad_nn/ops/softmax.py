"""The softmax family, stable for logits of any size (the max is subtracted first)."""

from __future__ import annotations

import numpy as np

from tinygrad_nn.ops.registry import op


@op(1, method="softmax")
def softmax(x, axis=-1):
    """y = e^x / Σ e^x   dx = y·(g − Σ g·y)

    Computed as e^(x − max x) so logits of ±1000 neither overflow nor underflow to 0/0.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1000.0, 1000.0]], requires_grad=True)
    >>> y = x.softmax()
    >>> y.data
    array([[0.5, 0.5]])
    >>> y[0, 0].backward()        # dx = y·(g − Σ g·y) with g = [1, 0]
    >>> x.grad
    array([[ 0.25, -0.25]])
    """
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return y, lambda g: y * (g - (g * y).sum(axis=axis, keepdims=True))


@op(1, method="log_softmax")
def log_softmax(x, axis=-1):
    """y = x − ln Σ e^x   dx = g − softmax(x)·Σ g

    Computed as (x − max x) − ln Σ e^(x − max x): finite for logits of ±1000.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[0.0, 0.0]], requires_grad=True)
    >>> y = x.log_softmax()
    >>> y.data.round(4)
    array([[-0.6931, -0.6931]])
    >>> y[0, 0].backward()        # dx = g − softmax(x)·Σ g with g = [1, 0]
    >>> x.grad
    array([[ 0.5, -0.5]])
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return y, lambda g: g - np.exp(y) * g.sum(axis=axis, keepdims=True)

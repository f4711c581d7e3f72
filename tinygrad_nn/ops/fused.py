"""Fused ops: each exists for numerical stability or measured speed (said on each)."""

from __future__ import annotations

import numpy as np

from tinygrad_nn.ops.registry import op


@op(3, fused=True)
def linear(W, A, b):
    """Z = W @ A + b   dW = g @ Aᵀ   dA = Wᵀ @ g   db = g (summed over columns by the engine)

    Fused for speed: the bias is added in place into the product, one array instead of two per
    layer (equal to ``W @ A + b`` bit for bit). The article's layout: A is (n_in, m), W is
    (n_out, n_in), b is (n_out, 1).

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> W = Tensor([[1.0, -1.0]], requires_grad=True)          # (n_out, n_in) = (1, 2)
    >>> A = Tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 1.0]])         # (n_in, m) = (2, 3)
    >>> b = Tensor([[0.5]], requires_grad=True)                # (n_out, 1)
    >>> Z = ops.linear(W, A, b)
    >>> Z.data
    array([[1.5, 1.5, 2.5]])
    >>> Z.sum().backward()
    >>> W.grad, b.grad
    (array([[6., 2.]]), array([[3.]]))
    """
    if W.ndim != 2 or A.ndim != 2:
        raise ValueError(
            f"W (n_out, n_in) and A (n_in, m) must be matrices; got {W.shape} and {A.shape}"
        )
    Z = W @ A
    Z += b
    return Z, (lambda g: g @ A.T, lambda g: W.T @ g, lambda g: g)


@op(2, fused=True)
def bce_with_logits(z, y):
    """J = mean(max(z,0) − z·y + ln(1+e^−|z|))   dz = g·(σ(z) − y)/n   dy = −g·z/n

    Fused for stability: the binary cross-entropy of σ(z), computed from the logits z, so it
    stays finite for any z (no log(0), no overflow). Its gradient is the article's
    dZ_L = A_L − Y, divided by the number of elements n.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> z = Tensor([[0.0, -1000.0]], requires_grad=True)   # logits
    >>> y = Tensor([[1.0, 0.0]])                           # labels
    >>> J = ops.bce_with_logits(z, y)
    >>> round(J.item(), 4)        # (ln 2 + 0) / 2: finite even at z = −1000
    0.3466
    >>> J.backward()
    >>> z.grad                    # (σ(z) − y) / n
    array([[-0.25,  0.  ]])
    """
    if z.shape != y.shape:  # broadcasting (1, m) against (m, 1) would average m² pairs
        raise ValueError(f"logits {z.shape} and labels {y.shape} must have the same shape")
    n = z.size
    with np.errstate(over="ignore"):
        probability = 1.0 / (1.0 + np.exp(-z))
    J = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    return np.asarray(J, dtype=z.dtype), (
        lambda g: g * (probability - y) / n,
        lambda g: -g * z / n,
    )

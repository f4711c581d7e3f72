"""Elementwise ops of two inputs, and matmul (numpy broadcasting; the engine sums the gradients
back to each shape)."""

from __future__ import annotations

import numpy as np

from tinygrad_nn.ops.registry import op


@op(2, method="add", operators=("__add__",), reflected=("__radd__",), broadcasting=True)
def add(a, b):
    """y = a + b   da = g   db = g

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Z = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> b = Tensor([[0.5], [-0.5]], requires_grad=True)
    >>> (Z + b).sum().backward()
    >>> b.grad                    # b was broadcast over 3 columns: the engine sums them
    array([[3.],
           [3.]])
    """
    return a + b, (lambda g: g, lambda g: g)


@op(2, method="sub", operators=("__sub__",), reflected=("__rsub__",), broadcasting=True)
def sub(a, b):
    """y = a − b   da = g   db = −g

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> a = Tensor([3.0, 1.0], requires_grad=True)
    >>> b = Tensor([1.0, 1.0], requires_grad=True)
    >>> y = a - b
    >>> y.sum().backward()
    >>> y.data, a.grad, b.grad
    (array([2., 0.]), array([1., 1.]), array([-1., -1.]))
    """
    return a - b, (lambda g: g, lambda g: -g)


@op(2, method="mul", operators=("__mul__",), reflected=("__rmul__",), broadcasting=True)
def mul(a, b):
    """y = a·b   da = g·b   db = g·a

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> a = Tensor([2.0, 3.0], requires_grad=True)
    >>> b = Tensor([5.0, 7.0], requires_grad=True)
    >>> (a * b).sum().backward()
    >>> a.grad, b.grad
    (array([5., 7.]), array([2., 3.]))
    """
    return a * b, (lambda g: g * b, lambda g: g * a)


@op(2, method="div", operators=("__truediv__",), reflected=("__rtruediv__",), broadcasting=True)
def div(a, b):
    """y = a / b   da = g / b   db = −g·y / b

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> a = Tensor([1.0, 6.0], requires_grad=True)
    >>> b = Tensor([2.0, 4.0], requires_grad=True)
    >>> y = a / b
    >>> y.sum().backward()
    >>> y.data, a.grad, b.grad
    (array([0.5, 1.5]), array([0.5 , 0.25]), array([-0.25 , -0.375]))
    """
    y = a / b
    return y, (lambda g: g / b, lambda g: -g * y / b)


@op(2, method="pow", operators=("__pow__",), reflected=("__rpow__",), broadcasting=True)
def pow_(x, p):
    """y = x^p   dx = g·p·x^(p−1)   dp = g·y·ln x

    The exponent may be a number or a Tensor. At the edges the rules take PyTorch's limits:
    dx = 0 where p = 0 (x⁰ is the constant 1, also at x = 0, so polynomial features
    ``Σ x**k`` stay finite there); dp = 0 where x = 0 and p ≥ 0 (y = 0 or 1 there, flat in p),
    −∞·g where x = 0 and p < 0, and NaN where x < 0 (the real power is not differentiable in p).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([2.0, 3.0], requires_grad=True)
    >>> p = Tensor(2.0, requires_grad=True)
    >>> (x**p).sum().backward()
    >>> x.grad                    # p·x^(p−1)
    array([4., 6.])
    >>> round(p.grad.item(), 4)   # Σ x^p·ln x = 4 ln 2 + 9 ln 3
    12.6601
    >>> x0 = Tensor([0.0, 1.0], requires_grad=True)
    >>> (x0**0).sum().backward()
    >>> x0.grad                   # d(x⁰)/dx = 0, also at x = 0
    array([0., 0.])
    """

    def d_base(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p == 0, 0.0, g * p * x ** (p - 1))

    def d_exponent(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((x == 0) & (p >= 0), 0.0, g * y * np.log(x))

    y = x**p
    return y, (d_base, d_exponent)


@op(2, method="matmul", operators=("__matmul__",), reflected=("__rmatmul__",))
def matmul(a, b):
    """y = a @ b   da = g @ bᵀ   db = aᵀ @ g

    Follows numpy's matmul: 1-d operands are treated as a row (left) or column (right) vector,
    and leading batch dimensions broadcast.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> W = Tensor([[1.0, 2.0]], requires_grad=True)     # (1, 2)
    >>> A = Tensor([[3.0], [4.0]], requires_grad=True)   # (2, 1)
    >>> y = W @ A
    >>> y.backward()
    >>> y.data, W.grad            # dW = g @ Aᵀ
    (array([[11.]]), array([[3., 4.]]))
    >>> A.grad                    # dA = Wᵀ @ g
    array([[1.],
           [2.]])
    """
    try:
        y = a @ b
    except ValueError:  # the shapes are checked only then (~0.2 µs less per product)
        _check_matmul_shapes(a, b)  # the usual mistakes in the engine's words
        raise  # else numpy's own message (batch dimensions that do not broadcast)
    if a.ndim == 2 and b.ndim == 2:
        return y, (lambda g: g @ b.T, lambda g: a.T @ g)
    # 1-d operands: promote to matrices, apply the same two formulas, drop the added axis.
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    y2_shape = (*batch, a2.shape[-2], b2.shape[-1])

    def d_a(g):
        da = g.reshape(y2_shape) @ np.swapaxes(b2, -1, -2)
        return da[..., 0, :] if a.ndim == 1 else da

    def d_b(g):
        db = np.swapaxes(a2, -1, -2) @ g.reshape(y2_shape)
        return db[..., 0] if b.ndim == 1 else db

    return y, (d_a, d_b)


def _check_matmul_shapes(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("operands must have at least one dimension; got a 0-d operand")
    rows_of_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if a.shape[-1] != rows_of_b:
        raise ValueError(
            f"inner dimensions differ: a has {a.shape[-1]} columns but b has {rows_of_b} rows"
        )

"""Every op, defined once: its forward, and right beside it its backward written as the math.

How to read an op
-----------------
Each op is a function decorated with :func:`op`. It receives the input *arrays* and returns the
output array together with one backward rule per input. A rule maps ``g`` — the gradient flowing
into the op's output, dL/dy — to the gradient for that input, dL/dx. The first line of the
docstring is the op's formula, ``y = ...`` then one ``dx = ...`` per input, separated by wide
gaps; the graph pictures (:mod:`tinygrad_nn.viz`), ``explain`` and ``docs/ops.md`` show it.

What an op never does: undo broadcasting, add up gradients from several consumers, cast dtypes,
or skip inputs that need no gradient. The engine (:mod:`tinygrad_nn.tensor`) does each of these
in one place. A rule may return ``g`` itself or a view of it; the engine copies before writing.

Adding an op: write one decorated function here, and add one row to ``tests/test_ops.py``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["REGISTRY", "OpInfo", "concatenate", "op", "stack"]


class TensorIndexError(IndexError, ValueError):
    """An index out of range for a Tensor (both an IndexError and a ValueError, like numpy's
    AxisError, so code catching either works).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> try:
    ...     Tensor([1.0, 2.0])[5]
    ... except IndexError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    TensorIndexError True
    """


@dataclass(frozen=True)
class OpInfo:
    """What the docs and pictures know about an op: its name and formulas.

    Attributes
    ----------
    name : str
        The op's name, as ``Tensor.op`` reports it (``"sigmoid"``).
    formula : str
        The docstring's first line, e.g. ``"y = 1/(1+e^-x)   dx = g·y·(1−y)"``.
    forward : str
        The forward part, ``"y = 1/(1+e^-x)"``.
    backward : tuple of str
        One local backward rule per input, ``("dx = g·y·(1−y)",)``.
    notes : str
        The rest of the docstring: broadcasting, ties, kinks, fusion, then the Examples.
    method : str or None
        The Tensor method name, if any.
    fused : bool
        True for ops that exist for stability or speed and could be written with other ops.

    Examples
    --------
    >>> from tinygrad_nn import ops
    >>> info = ops.REGISTRY["sigmoid"]
    >>> info.forward
    'y = 1/(1+e^−x)'
    >>> info.backward
    ('dx = g·y·(1−y)',)
    >>> info.method, info.fused
    ('sigmoid', False)
    """

    name: str
    formula: str
    forward: str
    backward: tuple[str, ...]
    notes: str = ""
    method: str | None = None
    operators: tuple[str, ...] = field(default=())
    fused: bool = False


REGISTRY: dict[str, OpInfo] = {}

Rules = Callable[[np.ndarray], np.ndarray] | Sequence[Callable[[np.ndarray], np.ndarray]]


def _parse_docstring(name: str, doc: str | None) -> tuple[str, str, tuple[str, ...], str]:
    if not doc or not doc.strip():
        raise TypeError(f"op '{name}' needs a docstring whose first line is its formula")
    lines = doc.strip().splitlines()
    formula = lines[0].strip()
    parts = [p.strip() for p in re.split(r"\s{3,}", formula) if p.strip()]
    notes = "\n".join(line.strip() for line in lines[1:]).strip()
    return formula, parts[0], tuple(parts[1:]), notes


def _like_dtype(args: Sequence[Any]) -> np.dtype | None:
    for a in args:
        if isinstance(a, Tensor):
            return a.data.dtype
    return None


def _constant(value: Any, dtype: np.dtype | None) -> Tensor:
    """Wrap a non-Tensor operand. Python scalars take the Tensor operand's dtype, so that
    ``x32 * 2.0`` stays float32; arrays keep theirs (numpy's promotion applies)."""
    if dtype is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            data = np.asarray(value, dtype=dtype)
        except OverflowError:
            raise ValueError(f"operand {value!r} is too large for {dtype}") from None
    else:
        data = as_array(value, "operand")
    return Tensor._leaf(data)


def _shapes(tensors: Sequence[Tensor]) -> str:
    return ", ".join(str(t.shape) for t in tensors)


def op(
    inputs: int | str = 1,
    *,
    method: str | None = None,
    operators: tuple[str, ...] = (),
    reflected: tuple[str, ...] = (),
    fused: bool = False,
) -> Callable[[Callable[..., tuple[np.ndarray, Rules]]], Callable[..., Tensor]]:
    """Register a function ``forward(*arrays, **static) -> (y, rules)`` as an op.

    Parameters
    ----------
    inputs : int or "sequence"
        How many leading arguments are Tensor inputs; ``"sequence"`` when the first argument is
        a list of Tensors (concatenate, stack).
    method : str, optional
        Attach the op to Tensor under this method name.
    operators, reflected : tuple of str
        Python operators (``"__add__"``) and reflected ones (``"__radd__"``) that call the op.
    fused : bool
        Mark an op that exists only for numerical stability or measured speed.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> @ops.op(1)
    ... def cube(x):
    ...     '''y = x³   dx = g·3x²'''
    ...     return x**3, lambda g: g * 3 * x**2
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> cube(x).sum().backward()
    >>> x.grad
    array([ 3., 12.])
    >>> ops.REGISTRY["cube"].backward
    ('dx = g·3x²',)
    >>> del ops.REGISTRY["cube"]   # keep this example out of the op reference
    """

    def register(forward: Callable[..., tuple[np.ndarray, Rules]]) -> Callable[..., Tensor]:
        name = forward.__name__.rstrip("_")
        formula, fwd, bwd, notes = _parse_docstring(name, forward.__doc__)
        REGISTRY[name] = OpInfo(
            name, formula, fwd, bwd, notes, method, operators + reflected, fused
        )

        def record(tensors: tuple[Tensor, ...], arrays: list[Any], rest: tuple, static: dict):
            try:
                y, rules = forward(*arrays, *rest, **static)
            except TensorIndexError:
                raise
            except (ValueError, IndexError, TypeError, OverflowError) as error:
                kind = {IndexError: TensorIndexError, OverflowError: ValueError}.get(
                    type(error), TensorIndexError if isinstance(error, IndexError) else type(error)
                )
                message = str(error).removeprefix(f"{name}: ")  # numpy's matmul says "matmul: "
                raise kind(f"{name}: {message} (input shapes: {_shapes(tensors)})") from None
            if type(y) is not np.ndarray:  # numpy returns scalars for 0-d results
                y = np.asarray(y)
            return Tensor._from_op(y, name, tensors, (rules,) if callable(rules) else tuple(rules))

        # Three ways of gathering the inputs; the one- and two-input ones are the hot paths of
        # every training step, so they avoid generic loops (measured: ~1 µs per op saved).
        if inputs == 1:

            def apply(x: Any, *rest: Any, **static: Any) -> Tensor:
                if not isinstance(x, Tensor):
                    x = _constant(x, None)
                return record((x,), [x.data], rest, static)

        elif inputs == 2:

            def apply(a: Any, b: Any, *rest: Any, **static: Any) -> Tensor:
                if not isinstance(b, Tensor):
                    b = _constant(b, a.data.dtype if isinstance(a, Tensor) else None)
                if not isinstance(a, Tensor):
                    a = _constant(a, b.data.dtype)
                return record((a, b), [a.data, b.data], rest, static)

        elif inputs == "sequence":

            def apply(items: Any, *rest: Any, **static: Any) -> Tensor:
                if not isinstance(items, (list, tuple)) or not items:
                    raise ValueError(f"{name}: needs a non-empty list of tensors; got {items!r}")
                dtype = _like_dtype(items)
                tensors = tuple(t if isinstance(t, Tensor) else _constant(t, dtype) for t in items)
                return record(tensors, [[t.data for t in tensors]], rest, static)

        else:

            def apply(*args: Any, **static: Any) -> Tensor:
                n = int(inputs)
                if len(args) < n:
                    raise TypeError(f"{name}: needs {n} inputs; got {len(args)}")
                dtype = _like_dtype(args[:n])
                tensors = tuple(
                    a if isinstance(a, Tensor) else _constant(a, dtype) for a in args[:n]
                )
                return record(tensors, [t.data for t in tensors], args[n:], static)

        apply.__name__ = name
        apply.__qualname__ = name
        apply.__doc__ = forward.__doc__
        apply.__wrapped__ = forward  # type: ignore[attr-defined]
        if method:
            setattr(Tensor, method, apply)
        for dunder in operators:
            setattr(Tensor, dunder, apply)
        for dunder in reflected:
            setattr(Tensor, dunder, lambda self, other, _apply=apply: _apply(other, self))
        return apply

    return register


# ============================================================================================
# elementwise, two inputs (numpy broadcasting; the engine sums gradients back to each shape)
# ============================================================================================


@op(2, method="add", operators=("__add__",), reflected=("__radd__",))
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


@op(2, method="sub", operators=("__sub__",), reflected=("__rsub__",))
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


@op(2, method="mul", operators=("__mul__",), reflected=("__rmul__",))
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


@op(2, method="div", operators=("__truediv__",), reflected=("__rtruediv__",))
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


@op(2, method="pow", operators=("__pow__",), reflected=("__rpow__",))
def pow_(x, p):
    """y = x^p   dx = g·p·x^(p−1)   dp = g·y·ln x

    The exponent may be a number or a Tensor. dp is taken as 0 where x = 0 (there y = 0 for
    p > 0) and is NaN where x < 0, where the real power is not differentiable in p.

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
    """

    def d_exponent(g):
        with np.errstate(divide="ignore", invalid="ignore"):
            y_log_x = np.where(x == 0, 0.0, y * np.log(x))
        return g * y_log_x

    y = x**p
    return y, (lambda g: g * p * x ** (p - 1), d_exponent)


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
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("operands must have at least one dimension; got a 0-d operand")
    rows_of_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if a.shape[-1] != rows_of_b:
        raise ValueError(
            f"inner dimensions differ: a has {a.shape[-1]} columns but b has {rows_of_b} rows"
        )
    y = a @ b
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


# ============================================================================================
# elementwise, one input
# ============================================================================================


@op(1, method="neg", operators=("__neg__",))
def neg(x):
    """y = −x   dx = −g

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, -2.0], requires_grad=True)
    >>> y = -x
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([-1.,  2.]), array([-1., -1.]))
    """
    return -x, lambda g: -g


@op(1, method="exp")
def exp(x):
    """y = e^x   dx = g·y

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0, np.log(2.0)], requires_grad=True)
    >>> y = x.exp()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([1., 2.]), array([1., 2.]))
    """
    y = np.exp(x)
    return y, lambda g: g * y


@op(1, method="log")
def log(x):
    """y = ln x   dx = g / x

    ln 0 = −inf and ln of a negative number is NaN, as in numpy (with numpy's warning);
    ``detect_anomaly()`` turns either into an error naming the op.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.log()
    >>> y.sum().backward()
    >>> y.data.round(4), x.grad
    (array([0.    , 0.6931]), array([1. , 0.5]))
    """
    return np.log(x), lambda g: g / x


@op(1, method="sigmoid")
def sigmoid(x):
    """y = 1/(1+e^−x)   dx = g·y·(1−y)

    Stable for any x: e^−x overflows to inf for x < −709 (float64), and 1/(1+inf) = 0 is the
    right limit, so the overflow warning is silenced instead of the input being clipped. The
    backward uses the saved output y, so the sigmoid is evaluated once.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0], requires_grad=True)
    >>> y = x.sigmoid()
    >>> y.backward()
    >>> y.data, x.grad            # y·(1−y) = 0.5·0.5
    (array([0.5]), array([0.25]))
    >>> Tensor([-1000.0, 1000.0]).sigmoid().data   # no overflow, no warning
    array([0., 1.])
    """
    y = np.negative(x, out=np.empty_like(x))  # one buffer, updated in place below
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1.0
    np.reciprocal(y, out=y)
    return y, lambda g: g * y * (1.0 - y)


@op(1, method="tanh")
def tanh(x):
    """y = tanh x   dx = g·(1−y²)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([0.0, 20.0], requires_grad=True)
    >>> y = x.tanh()
    >>> y.sum().backward()
    >>> y.data, x.grad            # saturated at 20: almost no gradient
    (array([0., 1.]), array([1., 0.]))
    """
    y = np.tanh(x)
    return y, lambda g: g * (1.0 - y * y)


@op(1, method="relu")
def relu(x):
    """y = max(x, 0)   dx = g·[x > 0]

    At the kink x = 0 the gradient is 0 (as in PyTorch).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = x.relu()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([0., 0., 2.]), array([0., 0., 1.]))
    """
    y = np.maximum(x, 0.0)
    return y, lambda g: g * (x > 0)


@op(1, method="sqrt")
def sqrt(x):
    """y = √x   dx = g / (2y)

    At x = 0 the gradient is +inf.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([4.0, 16.0], requires_grad=True)
    >>> y = x.sqrt()
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([2., 4.]), array([0.25 , 0.125]))
    """
    y = np.sqrt(x)
    return y, lambda g: g / (2.0 * y)


@op(1, method="abs", operators=("__abs__",))
def abs_(x):
    """y = |x|   dx = g·sign(x)

    At the kink x = 0 the gradient is 0 (sign(0) = 0, as in PyTorch).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> abs(x).sum().backward()
    >>> x.grad
    array([-1.,  0.,  1.])
    """
    return np.abs(x), lambda g: g * np.sign(x)


# ============================================================================================
# reductions
# ============================================================================================


def _spread(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Put the reduced axes back into g (as length 1) and broadcast it over the input's shape."""
    if axis is None and g.ndim == 0:
        return np.full(shape, g, dtype=g.dtype)  # a full reduction: ~3x cheaper than broadcast_to
    if not keepdims and axis is not None and shape:  # numpy lets a 0-d array "reduce" axis 0
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


@op(1, method="sum")
def sum_(x, axis=None, keepdims=False):
    """y = Σ x   dx = g (copied to every summed element)

    ``axis`` is None (all), an int or a tuple of ints; ``keepdims`` as in numpy.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> y = x.sum(axis=1)
    >>> y.data
    array([ 6., 15.])
    >>> y.backward([1.0, 2.0])    # each row's g, copied to the elements it summed
    >>> x.grad
    array([[1., 1., 1.],
           [2., 2., 2.]])
    """
    return x.sum(axis=axis, keepdims=keepdims), lambda g: _spread(g, x.shape, axis, keepdims)


@op(1, method="mean")
def mean(x, axis=None, keepdims=False):
    """y = (1/n) Σ x   dx = g / n (n = number of averaged elements)

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    >>> y = x.mean()
    >>> y.backward()
    >>> y.item(), x.grad
    (2.5, array([0.25, 0.25, 0.25, 0.25]))
    """
    y = x.mean(axis=axis, keepdims=keepdims)
    n = x.size // max(y.size, 1) if x.size else 1
    return y, lambda g: _spread(g / n, x.shape, axis, keepdims)


def _extreme(x: np.ndarray, y: np.ndarray, axis: Any, keepdims: bool):
    def rule(g):
        y_kept = _spread(y, x.shape, axis, keepdims)
        winners = x == y_kept
        count = winners.sum(axis=axis, keepdims=True)
        return _spread(g, x.shape, axis, keepdims) * winners / count

    return rule


@op(1, method="max")
def max_(x, axis=None, keepdims=False):
    """y = max x   dx = g·[x = y] / (number of ties)

    Ties split the gradient evenly among the elements that reach the maximum.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> x.max().backward()
    >>> x.grad                    # a tie: half each
    array([0. , 0.5, 0.5])
    """
    y = x.max(axis=axis, keepdims=keepdims)
    return y, _extreme(x, y, axis, keepdims)


@op(1, method="min")
def min_(x, axis=None, keepdims=False):
    """y = min x   dx = g·[x = y] / (number of ties)

    Ties split the gradient evenly among the elements that reach the minimum.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[2.0, 1.0], [5.0, 7.0]], requires_grad=True)
    >>> y = x.min(axis=1)
    >>> y.sum().backward()
    >>> y.data, x.grad
    (array([1., 5.]), array([[0., 1.],
           [1., 0.]]))
    """
    y = x.min(axis=axis, keepdims=keepdims)
    return y, _extreme(x, y, axis, keepdims)


# ============================================================================================
# shape
# ============================================================================================


def _shape_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Accept both f((2, 3)) and f(2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


@op(1, method="reshape")
def reshape(x, *shape):
    """y = x reshaped   dx = g reshaped back to x's shape

    Takes a tuple or separate sizes; one size may be −1.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    >>> y = x.reshape(2, -1)
    >>> y.shape
    (2, 3)
    >>> (y * Tensor([[1.0], [2.0]])).sum().backward()
    >>> x.grad
    array([1., 1., 1., 2., 2., 2.])
    """
    return x.reshape(_shape_args(shape)), lambda g: g.reshape(x.shape)


@op(1, method="transpose")
def transpose(x, *axes):
    """y = x with axes permuted   dx = g with the inverse permutation

    With no axes, reverses them (``x.T``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    >>> y = x.T
    >>> y.shape
    (3, 1)
    >>> (y * Tensor([[10.0], [20.0], [30.0]])).sum().backward()
    >>> x.grad
    array([[10., 20., 30.]])
    """
    order = _shape_args(axes)
    if not order:
        if axes and x.ndim:  # transpose(()) is a permutation of no axes, not "reverse them"
            raise ValueError(f"an empty permutation cannot reorder the {x.ndim} axes of {x.shape}")
        order = tuple(reversed(range(x.ndim)))
    y = x.transpose(order)
    inverse = tuple(np.argsort([a % x.ndim for a in order])) if x.ndim else ()
    return y, lambda g: g.transpose(inverse)


Tensor.T = property(
    lambda self: self.transpose(),
    doc="""The tensor with its axes reversed.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Tensor([[1.0, 2.0, 3.0]]).T.shape
    (3, 1)
    """,
)


def _is_basic_index(index: tuple[Any, ...]) -> bool:
    return all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index
    )


@op(1, operators=("__getitem__",))
def getitem(x, index):
    """y = x[index]   dx = g scattered back into zeros at index (repeats add up)

    Ints, slices, Ellipsis, None, integer arrays (repeated indices add up their gradients) and
    boolean masks, as in numpy.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    >>> y = x[[0, 0, 2]]
    >>> y.data
    array([10., 10., 30.])
    >>> y.sum().backward()
    >>> x.grad                    # x[0] was used twice
    array([2., 0., 1.])
    """
    if isinstance(index, Tensor):
        index = index.data
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p.data if isinstance(p, Tensor) else p for p in parts)
    parts = tuple(np.asarray(p) if isinstance(p, list) else p for p in parts)
    for p in parts:
        if isinstance(p, np.ndarray) and p.dtype.kind not in "iub":
            raise TypeError(f"index arrays must hold integers or booleans; got dtype {p.dtype}")
        if isinstance(p, (float, str)):
            raise TypeError(f"indices must be ints, slices, arrays or masks; got {p!r}")
    y = x[parts]
    basic = _is_basic_index(parts)

    def scatter(g):
        dx = np.zeros(x.shape, dtype=g.dtype)
        if basic:
            dx[parts] = g
        else:
            np.add.at(dx, parts, g)
        return dx

    return np.array(y) if basic else y, scatter


@op("sequence")
def concatenate(arrays, axis=0):
    """y = [x₁, x₂, …] joined along axis   dxᵢ = g's slice where xᵢ sits

    Examples
    --------
    >>> from tinygrad_nn import Tensor, concatenate
    >>> a = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> b = Tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    >>> y = concatenate([a, b], axis=0)
    >>> y.shape
    (3, 2)
    >>> (y * Tensor([[1.0], [2.0], [3.0]])).sum().backward()
    >>> a.grad
    array([[1., 1.]])
    >>> b.grad
    array([[2., 2.],
           [3., 3.]])
    """
    y = np.concatenate(arrays, axis=axis)
    axis = axis % y.ndim
    bounds = np.cumsum([0, *(a.shape[axis] for a in arrays)])
    lead = (slice(None),) * axis
    return y, [
        (lambda g, s=slice(lo, hi): g[(*lead, s)]) for lo, hi in itertools.pairwise(bounds)
    ]


@op("sequence")
def stack(arrays, axis=0):
    """y = [x₁, x₂, …] stacked along a new axis   dxᵢ = g[…, i, …]

    Examples
    --------
    >>> from tinygrad_nn import Tensor, stack
    >>> a = Tensor([1.0, 2.0], requires_grad=True)
    >>> b = Tensor([3.0, 4.0], requires_grad=True)
    >>> y = stack([a, b], axis=1)
    >>> y.data
    array([[1., 3.],
           [2., 4.]])
    >>> (y * Tensor([10.0, 20.0])).sum().backward()
    >>> a.grad, b.grad
    (array([10., 10.]), array([20., 20.]))
    """
    y = np.stack(arrays, axis=axis)
    lead = (slice(None),) * (axis % y.ndim)
    return y, [(lambda g, i=i: g[(*lead, i)]) for i in range(len(arrays))]


# ============================================================================================
# softmax family (stable for logits of any size: the max is subtracted first)
# ============================================================================================


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


# ============================================================================================
# fused ops: each exists for numerical stability or measured speed (said on each)
# ============================================================================================


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

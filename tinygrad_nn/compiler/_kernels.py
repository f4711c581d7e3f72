"""The compiler's kernels: each has an op's contract, ``kernel(*arrays) -> (y, rules)``, and
writes its output and its gradients into buffers allocated once, when the plan is built.

Where a docstring says so, a kernel gives the same floats as the eager ops it replaces (the same
ufuncs in the same order). :mod:`tinygrad_nn.compiler.passes` decides where they go.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nn.compiler._parallel import MIN_ELEMENTS, halves
from tinygrad_nn.compiler._tape import Tape

__all__ = ["KERNELS", "Buffers", "activation", "bce_logits", "gemm_bias"]

Rules = tuple[Callable[[np.ndarray], np.ndarray], ...]


#: Every kernel made here: its rules always return a planned ndarray of their input's shape and
#: dtype, so the plan's backward need not check them (plan.Plan's straight-line backward).
KERNELS: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def _big(*shapes: tuple[int, ...]) -> bool:
    """Whether :func:`halves` could split a kernel over arrays of these shapes."""
    return max(int(np.prod(s)) for s in shapes) >= MIN_ELEMENTS


def _whole(kernel: Callable[..., Any], *arrays: np.ndarray) -> None:
    kernel(*arrays)


# --------------------------------------------------------------------------------------------
# kernels: forward + rules into planned buffers (bit for bit the eager ops where said)
# --------------------------------------------------------------------------------------------


class Buffers:
    """The buffers a plan's kernels write into: allocated once, some shared.

    ``scratch(shape, dtype)`` is one array per shape, shared by every kernel that needs a
    temporary only inside one call; ``exclusive`` holds the ids of gradient buffers that only
    ever hold one tensor's gradient, which an activation's backward may overwrite in place.
    """

    def __init__(self, tape: Tape) -> None:
        self.all = tape.buffers
        self.exclusive: set[int] = set()
        self._scratch: dict[tuple[tuple[int, ...], str], np.ndarray] = {}

    def new(self, shape: tuple[int, ...], dtype: Any, exclusive: bool = False) -> np.ndarray:
        array = np.empty(shape, dtype)
        self.all.append(array)
        if exclusive:
            self.exclusive.add(id(array))
        return array

    def scratch(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        key = (shape, np.dtype(dtype).str)
        if key not in self._scratch:
            self._scratch[key] = self.new(shape, dtype)
        return self._scratch[key]


def gemm_bias(z_shape: tuple[int, ...], w_shape: tuple[int, ...], a_shape: tuple[int, ...],
               b_shape: tuple[int, ...], dtype: np.dtype, buffers: Buffers, a_grad: bool
               ) -> Callable[..., tuple[np.ndarray, Rules]]:
    Z, dW, db = buffers.new(z_shape, dtype), buffers.new(w_shape, dtype), buffers.new(
        b_shape, dtype)
    dA = buffers.new(a_shape, dtype, exclusive=True) if a_grad else Z
    axes = tuple(i for i, n in enumerate(b_shape) if n == 1 and z_shape[i] != 1)
    # Row halves on two cores (compiler._parallel) for the 2-D layer of a network: W (n, k),
    # A (k, m), b (n, 1); anything else runs whole.
    rows = (len(z_shape) == len(w_shape) == len(a_shape) == len(b_shape) == 2
            and b_shape[0] == z_shape[0] and axes == (1,))
    # below MIN_ELEMENTS no call would split: skip halves' per-call checks (same floats)
    rows = rows and _big(z_shape, w_shape, a_shape, b_shape)

    def kernel(W: np.ndarray, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Rules]:
        def forward(w: np.ndarray, z: np.ndarray, bias: np.ndarray) -> None:
            np.matmul(w, A, out=z)  # Z = W @ A + b, as matmul then add: the same floats
            np.add(z, bias, out=z)

        if rows:
            halves(forward, W, Z, b)
        else:
            forward(W, Z, b)

        def d_w(g: np.ndarray) -> np.ndarray:
            if rows:
                halves(lambda g_rows, dw_rows: np.matmul(g_rows, A.T, out=dw_rows), g, dW)
                return dW
            return np.matmul(g, A.T, out=dW)

        def d_a(g: np.ndarray) -> np.ndarray:
            if rows:
                halves(lambda wt_rows, da_rows: np.matmul(wt_rows, g, out=da_rows), W.T, dA)
                return dA
            return np.matmul(W.T, g, out=dA)

        def d_b(g: np.ndarray) -> np.ndarray:
            if not axes:
                np.copyto(db, g)
                return db
            if rows:
                halves(lambda g_rows, db_rows: np.add.reduce(g_rows, axis=1, keepdims=True,
                                                             out=db_rows), g, db)
                return db
            return np.add.reduce(g, axis=axes, keepdims=True, out=db)

        return Z, (d_w, d_a, d_b)

    KERNELS.add(kernel)
    return kernel


def activation(name: str, shape: tuple[int, ...], dtype: np.dtype, buffers: Buffers
                ) -> Callable[..., tuple[np.ndarray, Rules]]:
    tmp = buffers.scratch(shape, dtype)
    mask = buffers.scratch(shape, bool) if name == "relu" else tmp
    exclusive = buffers.exclusive
    own: list[np.ndarray] = []
    split = halves if _big(shape) else _whole  # small: no per-call split checks

    def out_for(g: np.ndarray) -> np.ndarray:
        """g itself when it is a kernel's gradient buffer (dead after this rule), else a
        buffer of this kernel's own, made on first use."""
        if id(g) in exclusive:
            return g
        if not own:
            own.append(buffers.new(shape, dtype))
        return own[0]

    if name == "sigmoid":

        def forward(y: np.ndarray) -> None:  # in place: the product is read by nothing else
            np.negative(y, out=y)
            np.exp(y, out=y)  # e^−x overflows to inf for x < −709: the replay ignores it
            y += 1.0
            np.reciprocal(y, out=y)

        def backward(g: np.ndarray, y: np.ndarray, dx: np.ndarray, t: np.ndarray) -> None:
            np.multiply(g, y, out=dx)  # g·y·(1−y), in the eager op's order
            np.subtract(1.0, y, out=t)
            np.multiply(dx, t, out=dx)

        def kernel(x: np.ndarray) -> tuple[np.ndarray, Rules]:
            y = x
            split(forward, y)

            def rule(g: np.ndarray) -> np.ndarray:
                dx = out_for(g)
                split(backward, g, y, dx, tmp)
                return dx

            return y, (rule,)

    elif name == "tanh":

        def backward(g: np.ndarray, y: np.ndarray, dx: np.ndarray, t: np.ndarray) -> None:
            np.multiply(y, y, out=t)  # g·(1−y²)
            np.subtract(1.0, t, out=t)
            np.multiply(g, t, out=dx)

        def kernel(x: np.ndarray) -> tuple[np.ndarray, Rules]:
            y = x
            split(lambda rows: np.tanh(rows, out=rows), y)

            def rule(g: np.ndarray) -> np.ndarray:
                dx = out_for(g)
                split(backward, g, y, dx, tmp)
                return dx

            return y, (rule,)

    else:

        def backward(g: np.ndarray, y: np.ndarray, dx: np.ndarray, t: np.ndarray) -> None:
            np.greater(y, 0.0, out=t)  # g·[x > 0]; x > 0 exactly where y > 0 (t: the mask)
            np.multiply(g, t, out=dx)

        def kernel(x: np.ndarray) -> tuple[np.ndarray, Rules]:
            y = x
            split(lambda rows: np.maximum(rows, 0.0, out=rows), y)

            def rule(g: np.ndarray) -> np.ndarray:
                dx = out_for(g)
                split(backward, g, y, dx, mask)
                return dx

            return y, (rule,)

    KERNELS.add(kernel)
    return kernel


def bce_logits(shape: tuple[int, ...], dtype: np.dtype, floor: float | None,
                buffers: Buffers) -> Callable[..., tuple[np.ndarray, Rules]]:
    n = int(np.prod(shape))
    s, t, dz = buffers.new(shape, dtype), buffers.scratch(shape, dtype), buffers.new(shape, dtype)
    J = buffers.new((), dtype)
    # each −ln term is at most −ln(floor), in the dtype (≈ 99.98 for float32, as eager)
    cap = 0.0 if floor is None else -float(np.log(np.asarray(floor, dtype=dtype)))

    def kernel(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, Rules]:
        # s = softplus(z) = max(z, 0) + ln(1 + e^−|z|), finite for every z
        np.abs(z, out=t)
        saturated = floor is not None and float(t.max(initial=0.0)) >= cap - 1.0
        np.negative(t, out=t)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        np.maximum(z, 0.0, out=s)
        np.add(s, t, out=s)
        if saturated:  # keep the −100 floor of each log term, as the eager clip does
            np.subtract(s, z, out=t)  # −ln a = softplus(−z)
            np.minimum(t, cap, out=t)
            np.multiply(t, y, out=t)
            np.minimum(s, cap, out=dz)  # −ln(1 − a) = softplus(z)
            np.multiply(dz, 1.0 - y, out=dz)
            np.add(t, dz, out=t)
        else:  # y·softplus(−z) + (1−y)·softplus(z) = softplus(z) − y·z
            np.multiply(y, z, out=t)
            np.subtract(s, t, out=t)
        J[()] = np.add.reduce(t, axis=None) / n

        def rule(g: np.ndarray) -> np.ndarray:  # g·(σ(z) − y)/n, σ(z) = e^(z − softplus(z))
            np.subtract(z, s, out=dz)
            np.exp(dz, out=dz)
            if saturated:  # no gradient through a floored term
                np.subtract(dz, 1.0, out=t)
                np.multiply(t, y, out=t)
                np.multiply(t, np.subtract(s, z) < cap, out=t)
                np.multiply(dz, 1.0 - y, out=dz)
                np.multiply(dz, s < cap, out=dz)
                np.add(dz, t, out=dz)
            else:
                np.subtract(dz, y, out=dz)
            return np.multiply(dz, g / n, out=dz)

        return J, (rule,)

    KERNELS.add(kernel)
    return kernel

"""The compiler's kernels: each stands for a group of recorded ops and writes the numpy lines
that compute them, forward and backward, into buffers allocated once.

A kernel is used by :mod:`tinygrad_nn.compiler.codegen` through three methods:

* ``output(code, inputs)`` — the variable that will hold its result: a new planned buffer, or
  one of its inputs' buffers when it computes in place;
* ``forward(code, inputs, out)`` — the lines of the forward computation;
* ``rule(code, index, inputs, out, g)`` — the lines computing input ``index``'s gradient from
  ``g`` (the gradient of the output); returns the variable that holds it, always a planned
  buffer of the input's shape and dtype (so the backward needs no unbroadcast or cast).

Each sequence of ufunc calls a kernel makes is a :class:`Recipe`, written once: as lines of the
source, or run on a block of rows for two cores (where consecutive ones over the same rows
may run as one, :func:`fusable`). :func:`pack_bias` makes a weight and its bias one array.

Where a docstring says so, a kernel gives the same floats as the eager ops it replaces (the
same ufuncs in the same order). :mod:`tinygrad_nn.compiler.passes` decides where they go.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_nn.compiler._code import Code

__all__ = [
    "Activation", "BceLogits", "GemmBias", "Kernel", "bce_floored", "bce_floored_grad",
    "pack_bias",
]

Shape = tuple[int, ...]


class Kernel:
    """What every kernel has: its name in the plan and the recorded ops it stands for."""

    name = "kernel"
    label = "kernel"
    #: Whether a rule reads the kernel's output (then its buffer must outlive the rule).
    rules_read_output = False

    def output(self, code: Code, inputs: list[str]) -> str:
        raise NotImplementedError

    def forward(self, code: Code, inputs: list[str], out: str) -> None:
        raise NotImplementedError

    def rule(self, code: Code, index: int, inputs: list[str], out: str, g: str) -> str:
        raise NotImplementedError


class Recipe:
    """A few ufunc calls with ``out=``, written once and used two ways: as lines of the replay's
    source, or (for a big kernel on two cores) as a function run on a block of rows by
    :func:`~tinygrad_nn.compiler._parallel.halves`.

    ``calls`` are ``(ufunc, *operands, out)`` over the names in ``split`` (arrays cut into row
    halves) and ``whole`` (passed whole to each half); other operands are number literals.

    Examples
    --------
    >>> double = Recipe("double_rows", ("x", "y"), (), (("multiply", "x", "2.0", "y"),))
    >>> double.lines(x="A1", y="dA1")
    ['multiply(A1, 2.0, out=dA1)']
    >>> y = np.empty(2)
    >>> double(np.array([1.0, 3.0]), y)
    >>> y
    array([2., 6.])
    """

    def __init__(self, name: str, split: tuple[str, ...], whole: tuple[str, ...],
                 calls: tuple[tuple[str, ...], ...]) -> None:
        self.__name__ = name
        self.split, self.whole, self.calls = split, whole, calls
        self._ufuncs = [getattr(np, ufunc) for ufunc, *_ in calls]

    def lines(self, **names: str) -> list[str]:
        """The calls as source lines, with the operands named as given."""
        return [f"{ufunc}({', '.join(names.get(o, o) for o in operands)}, out={names[out]})"
                for ufunc, *operands, out in self.calls]

    def __call__(self, *arrays: Any) -> None:
        env = dict(zip((*self.split, *self.whole), arrays, strict=True))
        for ufunc, (_, *operands, out) in zip(self._ufuncs, self.calls, strict=True):
            ufunc(*(env[o] if o in env else float(o) for o in operands), out=env[out])

    def emit(self, code: Code, shape: Shape, comment: str = "", **names: str) -> None:
        """Write the calls into ``code``: as lines, or, when arrays of ``shape`` run in row
        halves on two cores, as one ``halves(...)`` call (which ``code`` may fuse with the
        calls before it)."""
        if code.splits(shape):
            code.parallel(self, names, comment)
            return
        for k, line in enumerate(self.lines(**names)):
            code.line(f"{line}  # {comment}" if comment and k == 0 else line)

    def halves_line(self, names: dict[str, str], label: str | None = None) -> str:
        """The ``halves(...)`` call that runs this recipe on two cores, its operands named."""
        arrays = ", ".join(names[n] for n in self.split)
        whole = "".join(f"{names[n]}, " for n in self.whole).rstrip()
        return (f"halves({label or self.__name__}, {arrays}"
                + (f", whole=({whole}))" if whole else ")"))


def fuse(calls: list[tuple[Recipe, dict[str, str]]], name: str) -> tuple[Recipe, dict[str, str]]:
    """One recipe doing ``calls`` one after the other on the same block of rows (a single
    hand-off to the second core instead of one each), and its operands' names.

    Examples
    --------
    >>> names = {"x": "Z1"}
    >>> fused, operands = fuse([(RELU, names), (TANH, names)], "relu_tanh")
    >>> fused.lines(**operands)
    ['maximum(Z1, 0.0, out=Z1)', 'tanh(Z1, out=Z1)']
    """
    split: list[str] = []
    whole: list[str] = []
    steps: list[tuple[str, ...]] = []
    for recipe, names in calls:
        for n in recipe.split:
            split += [] if names[n] in split else [names[n]]
        for n in recipe.whole:
            whole += [] if names[n] in whole else [names[n]]
        steps += [(ufunc, *(names.get(o, o) for o in operands))
                  for ufunc, *operands in recipe.calls]
    return Recipe(name, tuple(split), tuple(whole), tuple(steps)), {n: n for n in split + whole}


def fusable(calls: list[tuple[Recipe, dict[str, str]]], namespace: dict[str, Any]) -> bool:
    """Whether ``calls`` (each a recipe and its operands' names) can run as one, each half of
    the rows on its own core: every split array has the same rows, and no array one of them
    writes is read whole, or under another view, by another (the halves run at once).

    Examples
    --------
    >>> ns = {"Z1": np.empty((4, 3)), "A0": np.empty((2, 3)), "W1": np.empty((4, 2))}
    >>> product = {"left": "W1", "out": "Z1", "right": "A0"}
    >>> fusable([(PRODUCT, product), (SIGMOID, {"x": "Z1"})], ns)
    True
    >>> fusable([(SIGMOID, {"x": "Z1"}), (PRODUCT, product)], ns)  # reads all of Z1's rows?
    True
    >>> fusable([(SIGMOID, {"x": "A0"}), (PRODUCT, product)], ns)  # A0 written, then read whole
    False
    """

    def array(name: str) -> Any:
        base = namespace.get(name.removesuffix(".T"))
        if not isinstance(base, np.ndarray):
            return None
        return base.T if name.endswith(".T") else base

    split = [(array(names[n]), names[n]) for recipe, names in calls for n in recipe.split]
    whole = [(array(names[n]), names[n]) for recipe, names in calls for n in recipe.whole]
    if any(a is None for a, _ in split + whole) or len({a.shape[0] for a, _ in split}) != 1:
        return False
    written = [(array(names[call[-1]]), names[call[-1]])
               for recipe, names in calls for call in recipe.calls]
    for w, w_name in written:
        for a, _ in whole:
            if np.may_share_memory(w, a):
                return False
        for a, a_name in split:  # the same rows only through the same view
            if a_name != w_name and np.may_share_memory(w, a):
                return False
    return True


# The ufunc sequences of the kernels, each written once. Elementwise ones are the eager ops'
# own (the same calls in the same order: the same floats).
GEMM_BIAS = Recipe("gemm_bias_rows", ("w", "z", "b"), ("a",),
                   (("matmul", "w", "a", "z"), ("add", "z", "b", "z")))
PRODUCT = Recipe("product_rows", ("left", "out"), ("right",),
                 (("matmul", "left", "right", "out"),))
SIGMOID = Recipe("sigmoid_in_place", ("x",), (), (  # e^−x → inf below −709: its right limit
    ("negative", "x", "x"), ("exp", "x", "x"), ("add", "x", "1.0", "x"),
    ("reciprocal", "x", "x")))
TANH = Recipe("tanh_in_place", ("x",), (), (("tanh", "x", "x"),))
RELU = Recipe("relu_in_place", ("x",), (), (("maximum", "x", "0.0", "x"),))
SIGMOID_RULE = Recipe("sigmoid_rule", ("g", "y", "dx", "t"), (), (  # g·y·(1−y)
    ("multiply", "g", "y", "dx"), ("subtract", "1.0", "y", "t"), ("multiply", "dx", "t", "dx")))
TANH_RULE = Recipe("tanh_rule", ("g", "y", "dx", "t"), (), (  # g·(1−y²)
    ("multiply", "y", "y", "t"), ("subtract", "1.0", "t", "t"), ("multiply", "g", "t", "dx")))
RELU_RULE = Recipe("relu_rule", ("g", "y", "dx", "t"), (), (  # g·[y > 0], t a boolean mask
    ("greater", "y", "0.0", "t"), ("multiply", "g", "t", "dx")))
SGD_UPDATE = Recipe("sgd_rows", ("g", "s", "p"), ("lr",), (  # p -= lr·g, as SGD.step
    ("multiply", "g", "lr", "s"), ("subtract", "p", "s", "p")))
_ACTIVATIONS = {"sigmoid": (SIGMOID, SIGMOID_RULE), "tanh": (TANH, TANH_RULE),
                "relu": (RELU, RELU_RULE)}


class GemmBias(Kernel):
    """``Z = W @ A + b``, forward and backward, into planned buffers.

    Two ways, chosen by :mod:`~tinygrad_nn.compiler.passes`:

    * **packed** (``pack`` set: W and b are the two parts of one array ``[W | b]``, see
      :func:`pack_bias`): ``Z = [W | b]·[A; 1]`` in one product, where ``[A; 1]`` is A with a
      row of ones (the buffer of the layer that made A has that row, or A is copied into one);
      backward ``[dW | db] = g·[A; 1]ᵀ`` in one product, ``dA = Wᵀ·g``. The bias is added
      inside the product's sums, so the floats differ from eager's in the last bits.
    * otherwise, the product, then the bias added in place (bit for bit the eager ``matmul``
      then ``add``); ``dW = g·Aᵀ``, ``dA = Wᵀ·g``, ``db = Σ g`` over the broadcast axes.

    On two cores (``compile(..., threads=2)``) a big layer runs each product in row halves.
    """

    name = "gemm_bias"

    def __init__(self, z: Shape, w: Shape, a: Shape, b: Shape, dtype: np.dtype,
                 layer: int) -> None:
        self.z, self.w, self.a, self.b, self.dtype = z, w, a, b, dtype
        self.layer = layer
        self.label = f"gemm_bias(out=Z{layer})"
        self.axes = tuple(i for i, n in enumerate(b) if n == 1 and z[i] != 1)
        # Row halves for the 2-D layer of a network: W (n, k), A (k, m), b (n, 1).
        self.rows = (len(z) == len(w) == len(a) == len(b) == 2 and b[0] == z[0]
                     and self.axes == (1,))
        #: ``[W | b]``, whose two parts are W's and b's data, when the bias is folded in.
        self.pack: np.ndarray | None = None
        #: Set when the next layer's packed product reads this output: it gets a row of ones.
        self.ones_row = False
        #: What the next layer reads from this output's buffer: ``A1`` after an activation.
        self.read_as = f"Z{layer}"
        self._packed_grad: tuple[str, str, str] | None = None  # g, and [dW | db]'s two parts
        self._A1 = ""  # the name of [A; 1] in the replay's source

    def output(self, code: Code, inputs: list[str]) -> str:
        if not self.ones_row:
            return code.buffer(f"Z{self.layer}", self.z, self.dtype)
        n, m = self.z
        ones = code.buffer(f"{self.read_as}_ones", (n + 1, m), self.dtype)
        code.namespace[ones][-1] = 1.0  # written once: replays write the rows above it
        out = code.part(ones, f"Z{self.layer}", np.s_[:-1])
        code.ones_rows[out] = ones
        return out

    def _shape(self) -> Shape:
        """The shape that decides a split: a 2-D layer's biggest array (each product splits
        the rows of its first operand; one row runs whole), else none."""
        return max(self.z, self.w, self.a, key=math.prod) if self.rows else ()

    def forward(self, code: Code, inputs: list[str], out: str) -> None:
        W, A, b = inputs
        if self.pack is not None:
            Wb = code.bind(f"{W}_{b}", self.pack)
            A1 = self._A1 = self._with_ones(code, A)
            PRODUCT.emit(code, self._shape(), f"[{W} | {b}]·[{A}; 1]", left=Wb, right=A1,
                         out=out)
            return
        GEMM_BIAS.emit(code, self._shape(), w=W, a=A, z=out, b=b)

    def _with_ones(self, code: Code, A: str) -> str:
        """``[A; 1]``: the buffer A lives in when it has the row of ones, else a buffer that A
        is copied into at every replay."""
        full = code.ones_rows.get(code.storage(A))
        if full is None:
            k, m = self.a
            full = code.buffer(f"{A}_ones", (k + 1, m), self.dtype)
            code.namespace[full][-1] = 1.0
            rows = code.part(full, f"{A}_rows", np.s_[:-1])
            code.line(f"copyto({rows}, {A})")
        return full

    def rule(self, code: Code, index: int, inputs: list[str], out: str, g: str) -> str:
        W, A, b = inputs
        shape = self._shape()
        if index == 1:
            dA = code.buffer(f"d{A}", self.a, self.dtype)
            PRODUCT.emit(code, shape, left=f"{W}.T", right=g, out=dA)
            return dA
        if self.pack is not None:
            if self._packed_grad is None or self._packed_grad[0] != g:
                dWb = code.buffer(f"d{W}_{b}", self.pack.shape, self.dtype)
                dW = code.part(dWb, f"d{W}", np.s_[:, :-1])
                db = code.part(dWb, f"d{b}", np.s_[:, -1:])
                PRODUCT.emit(code, shape, f"[d{W} | d{b}]", left=g, right=f"{self._A1}.T",
                             out=dWb)
                self._packed_grad = (g, dW, db)
                code.packed_grads[dWb] = (dW, db)
            return self._packed_grad[1] if index == 0 else self._packed_grad[2]
        if index == 0:
            dW = code.buffer(f"d{W}", self.w, self.dtype)
            PRODUCT.emit(code, shape, left=g, right=f"{A}.T", out=dW)
            return dW
        db = code.buffer(f"d{b}", self.b, self.dtype)
        if not self.axes:
            code.line(f"copyto({db}, {g})")
        elif code.splits(shape):
            code.line(f"halves(row_sums, {g}, {db})")
        else:
            code.line(f"add.reduce({g}, axis={self.axes!r}, keepdims=True, out={db})")
        return db


def pack_bias(W: Any, b: Any) -> np.ndarray | None:
    """Make the data of a weight ``W`` (n, k) and its bias ``b`` (n, 1) the two parts of one
    array ``[W | b]`` (n, k + 1) and return it, so that one product computes ``W @ A + b``;
    or return None where that cannot be done without changing what a user sees.

    The values stay the same and ``W.data``/``b.data`` become views of the new array (updates
    in place reach it, as PyTorch's ``RNN.flatten_parameters`` does for its weights). It is
    done only when nothing but the tensors holds the old arrays (an array you took from
    ``W.data`` would silently stop following the parameter) and only for C-ordered float
    arrays of matching dtype; a pair packed before (by another plan) is reused as it is.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> W = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> b = Tensor(np.zeros((2, 1)), requires_grad=True)
    >>> Wb = pack_bias(W, b)
    >>> Wb.shape, W.data.base is Wb, b.data.base is Wb
    ((2, 4), True, True)
    >>> pack_bias(W, b) is Wb      # packed already: the same array
    True
    """
    if W is None or b is None or W is b:
        return None
    # before any local name holds the arrays: a fresh pack needs them held by the tensors only
    alone = _held_only_by_its_tensor(W) and _held_only_by_its_tensor(b)
    w, bias = W.data, b.data
    if w.ndim != 2 or bias.shape != (w.shape[0], 1) or w.dtype != bias.dtype:
        return None
    n, k = w.shape
    base = w.base
    if base is not None and base is bias.base and base.shape == (n, k + 1) and (
            w.__array_interface__ == base[:, :-1].__array_interface__
            and bias.__array_interface__ == base[:, -1:].__array_interface__):
        return base
    if not alone or base is not None or bias.base is not None or not w.flags.c_contiguous:
        return None
    packed = np.empty((n, k + 1), w.dtype)
    packed[:, :-1] = w
    packed[:, -1:] = bias
    W.data, b.data = packed[:, :-1], packed[:, -1:]
    return packed


def _held_only_by_its_tensor(t: Any) -> bool:
    """Whether nothing but ``t`` holds ``t.data`` (no user variable, view or saved graph):
    its reference count is what a tensor's own array shows, measured the same way."""
    return sys.getrefcount(t.data) <= sys.getrefcount(_ALONE.data)


class Activation(Kernel):
    """``sigmoid``, ``tanh`` or ``relu`` of a product, in place in the product's buffer (nothing
    else reads it); the rule writes into the incoming gradient's buffer when that buffer is the
    kernel's alone, and uses the saved output's buffer for its temporary when nothing reads the
    output any more. Bit for bit the eager ops.
    """

    rules_read_output = True  # g·y·(1−y), g·(1−y²), g·[y > 0]

    def __init__(self, name: str, shape: Shape, dtype: np.dtype, layer: int) -> None:
        self.name = name
        self.shape, self.dtype = shape, dtype
        self.layer = layer
        self.label = f"{name}(in place, Z{layer})"

    def output(self, code: Code, inputs: list[str]) -> str:
        return code.alias(inputs[0], f"A{self.layer}")

    def forward(self, code: Code, inputs: list[str], out: str) -> None:
        z = inputs[0]  # computed in z's buffer, which is y's
        code.quiet_overflow = code.quiet_overflow or self.name == "sigmoid"
        _ACTIVATIONS[self.name][0].emit(code, self.shape, f"{out} = {self.name}({z})", x=z)

    def rule(self, code: Code, index: int, inputs: list[str], out: str, g: str) -> str:
        y = out
        dx = g if code.writable(g) else code.buffer(f"d{inputs[0]}", self.shape, self.dtype)
        if self.name == "relu":
            t = code.scratch(self.shape, bool)
        else:  # y's buffer holds the temporary once nothing reads y any more
            t = y if code.writable(y) else code.scratch(self.shape, self.dtype)
        _ACTIVATIONS[self.name][1].emit(code, self.shape, g=g, y=y, dx=dx, t=t)
        return dx


class BceLogits(Kernel):
    """The article's cost of ``A = sigmoid(Z)``, ``−mean(Y·ln A + (1−Y)·ln(1−A))``, in the
    stable logits form: ``mean(softplus(Z) − Y·Z)`` with ``softplus(z) = ln(1 + e^z)``
    (numpy's ``logaddexp(0, z)``: ``max(z, 0) + ln(1 + e^−|z|)``, finite for every z);
    gradient ``(σ(Z) − Y)/n`` with ``σ(z) = e^(z − softplus(z))``.

    With the loss's clip at ``floor`` (``nn.binary_cross_entropy``), each log term keeps its
    floor (``−ln a ≤ −ln floor``, 100 in float64) and a floored term passes no gradient, as in
    eager; that branch (:func:`bce_floored`) runs only when some ``|z|`` comes near the floor.
    """

    name = "bce_logits"
    label = "bce_logits"

    def __init__(self, shape: Shape, dtype: np.dtype, floor: float | None) -> None:
        self.shape, self.dtype = shape, dtype
        self.n = int(np.prod(shape))
        # each −ln term is at most −ln(floor), in the dtype (≈ 99.98 for float32, as eager)
        self.cap = None if floor is None else -float(np.log(np.asarray(floor, dtype=dtype)))

    def output(self, code: Code, inputs: list[str]) -> str:
        return code.buffer("J", (), self.dtype)

    def forward(self, code: Code, inputs: list[str], out: str) -> None:
        z, y = inputs
        self.s = s = code.buffer("softplus", self.shape, self.dtype)
        self.t = t = code.scratch(self.shape, self.dtype)
        code.line(f"logaddexp(0.0, {z}, out={s})  # softplus(z) = ln(1 + e^z)")
        if self.cap is not None:
            self.saturated = code.local("saturated")
            near = repr(self.cap - 1.0)
            code.line(f"{self.saturated} = (maximum.reduce({z}, axis=None) >= {near} "
                      f"or minimum.reduce({z}, axis=None) <= -{near})")
        self._unless_floored(
            code, f"bce_floored({z}, {y}, {s}, {t}, {out}, {self.cap!r})",
            "keep the floor of each log term",
            "y·softplus(−z) + (1−y)·softplus(z) = softplus(z) − y·z",
            [f"multiply({y}, {z}, out={t})", f"subtract({s}, {t}, out={t})",
             f"{out}[()] = add.reduce({t}, axis=None) / {self.n}"])

    def _unless_floored(self, code: Code, floored: str, why_floored: str, why: str,
                        lines: list[str]) -> None:
        """``lines``, or (with the loss's floor) ``floored`` where some |z| is near it."""
        if self.cap is None:
            for line in lines:
                code.line(line)
            return
        code.line(f"if {self.saturated}:  # {why_floored}")
        code.line(f"    {floored}")
        code.line(f"else:  # {why}")
        for line in lines:
            code.line(f"    {line}")

    def rule(self, code: Code, index: int, inputs: list[str], out: str, g: str) -> str:
        z, y = inputs
        dz = code.buffer(f"d{z}", self.shape, self.dtype)
        s, n = self.s, self.n
        self._unless_floored(
            code, f"bce_floored_grad({z}, {y}, {s}, {self.t}, {dz}, {self.cap!r})",
            "no gradient through a floored term", "σ(z) − y",
            [f"subtract({z}, {s}, out={dz})", f"exp({dz}, out={dz})",
             f"subtract({dz}, {y}, out={dz})"])
        if g in code.constants:  # the seed of backward(): g/n computed once, here
            scale = code.bind(f"{g}_over_n", np.asarray(code.namespace[g] / n))
            code.line(f"multiply({dz}, {scale}, out={dz})  # ·g/n, g = {g} (a constant)")
        else:
            code.line(f"multiply({dz}, {g} / {n}, out={dz})")
        return dz


# --------------------------------------------------------------------------------------------
# helpers the generated code calls: the floored cost, and row halves for two cores
# --------------------------------------------------------------------------------------------


def bce_floored(z: np.ndarray, y: np.ndarray, s: np.ndarray, t: np.ndarray, J: np.ndarray,
                cap: float) -> None:
    """The cost with each log term floored: ``mean(y·min(softplus(−z), cap) +
    (1−y)·min(softplus(z), cap))``, into ``J`` (``s`` holds softplus(z); ``t`` is scratch).

    Examples
    --------
    >>> z, y = np.array([[1000.0, 0.0]]), np.array([[0.0, 1.0]])
    >>> s, t, J = np.logaddexp(0.0, z), np.empty((1, 2)), np.empty(())
    >>> bce_floored(z, y, s, t, J, 100.0)
    >>> round(float(J), 6)             # (100 + ln 2) / 2
    50.346574
    """
    np.subtract(s, z, out=t)  # −ln a = softplus(−z)
    np.minimum(t, cap, out=t)
    np.multiply(t, y, out=t)
    t += (1.0 - y) * np.minimum(s, cap)  # −ln(1 − a) = softplus(z)
    J[()] = np.add.reduce(t, axis=None) / t.size


def bce_floored_grad(z: np.ndarray, y: np.ndarray, s: np.ndarray, t: np.ndarray,
                     dz: np.ndarray, cap: float) -> None:
    """``σ(z) − y`` with no gradient through a floored term, into ``dz`` (before ``g/n``).

    Examples
    --------
    >>> z, y = np.array([[1000.0, 0.0]]), np.array([[0.0, 1.0]])
    >>> s, t, dz = np.logaddexp(0.0, z), np.empty((1, 2)), np.empty((1, 2))
    >>> bce_floored_grad(z, y, s, t, dz, 100.0)
    >>> dz                              # the floored term at z = 1000 passes nothing
    array([[ 0. , -0.5]])
    """
    np.subtract(z, s, out=dz)
    np.exp(dz, out=dz)  # σ(z)
    np.subtract(dz, 1.0, out=t)  # d/dz of y·softplus(−z) is y·(σ(z) − 1)
    np.multiply(t, y, out=t)
    np.multiply(t, np.subtract(s, z) < cap, out=t)
    np.multiply(dz, 1.0 - y, out=dz)  # d/dz of (1−y)·softplus(z) is (1−y)·σ(z)
    np.multiply(dz, s < cap, out=dz)
    np.add(dz, t, out=dz)


def row_sums(g: np.ndarray, out: np.ndarray) -> None:
    """``out = Σ g`` along axis 1, for a block of rows.

    Examples
    --------
    >>> out = np.empty((1, 1))
    >>> row_sums(np.array([[1.0, 2.0]]), out)
    >>> out
    array([[3.]])
    """
    np.add.reduce(g, axis=1, keepdims=True, out=out)


_ALONE = type("_Holder", (), {"data": None})()  # an array held by one object only
_ALONE.data = np.empty(0)

#: What the generated code may call by name, besides numpy's ufuncs.
HELPERS: dict[str, Any] = {
    f.__name__: f for f in (
        bce_floored, bce_floored_grad, row_sums, GEMM_BIAS, PRODUCT, SIGMOID, TANH, RELU,
        SIGMOID_RULE, TANH_RULE, RELU_RULE, SGD_UPDATE,
    )
}

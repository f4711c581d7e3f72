"""The Tensor: an n-d array that records the ops applied to it, and ``backward()``.

A :class:`Tensor` wraps a numpy array. Every op applied to tensors that require gradients records
the op's name, its inputs (``parents``) and one backward rule per input, so that
:meth:`Tensor.backward` can walk the graph in reverse topological order and apply the chain rule.

The engine is split along its seams, one job per file:

* :mod:`tinygrad_nn.tensor` (here) — the Tensor class: its slots, how a tensor and an op's
  result are made, ``detach``, ``backward()``, and one line per op method calling
  :mod:`tinygrad_nn.ops`;
* :mod:`tinygrad_nn.tensor_base` — its base class: graph introspection (``op``, ``parents``,
  ``is_leaf``…), the array-like attributes (``shape``, ``item()``…) and in-place updates;
* :mod:`tinygrad_nn.autograd` — the backward pass: topological order, ``unbroadcast``, gradient
  accumulation, anomaly checks;
* :mod:`tinygrad_nn.modes` — grad mode (:func:`no_grad`), anomaly mode (:func:`detect_anomaly`)
  and the module scope used by the graph pictures.

Every public name of those modules still imports from here. The ops themselves (forward and
backward formulas side by side) live in :mod:`tinygrad_nn.ops`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from tinygrad_nn import modes
from tinygrad_nn.autograd import (
    BackwardRule,
    _check_forward,
    _user_frame,
    run_backward,
    topological_order,
    unbroadcast,
)
from tinygrad_nn.modes import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    scope,
    set_detect_anomaly,
)
from tinygrad_nn.tensor_base import Operand, TensorBase
from tinygrad_nn.versions import next_number, output_counter

__all__ = [
    "BackwardRule",
    "Tensor",
    "as_array",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "scope",
    "set_detect_anomaly",
    "topological_order",
    "unbroadcast",
]

# Every tensor gets the next number when it is made. An op's inputs always exist before its
# output, so "newest first" is a topological order: the engine sorts by it instead of searching.
# In-place changes are numbered by the same clock (tinygrad_nn.versions).
_next_creation_number = next_number

#: A reduction's ``axis``: one axis, several, or all (None).
Axis: TypeAlias = int | tuple[int, ...] | None
#: A window size, stride, padding or dilation: one int for every axis, or one per axis.
Size: TypeAlias = int | tuple[int, ...]


# --------------------------------------------------------------------------------------------
# input conversion
# --------------------------------------------------------------------------------------------


def _unpickle(
    data: np.ndarray,
    requires_grad: bool,
    name: str | None,
    grad: np.ndarray | None,
    scope: str | None,
) -> Tensor:
    """Rebuild a pickled tensor (see ``Tensor.__reduce__``) as a new leaf of this process."""
    tensor = Tensor._leaf(data, requires_grad)
    tensor.name, tensor.grad, tensor._scope = name, grad, scope
    return tensor


def as_array(data: Any, what: str = "Tensor data") -> np.ndarray:
    """Convert ``data`` to a numpy array, as the Tensor constructor does.

    Floating arrays keep their dtype. Integer and boolean numpy arrays keep theirs too (indices,
    masks, labels: they never require grad); Python numbers and lists of ints or bools become
    float64 (the article's data). Anything else is a ``TypeError`` that says what was given.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn.tensor import as_array
    >>> as_array([1, 2]).dtype
    dtype('float64')
    >>> as_array(np.zeros(2, dtype=np.float32)).dtype
    dtype('float32')
    >>> as_array(np.array([3, 1])).dtype, as_array(np.array([True])).dtype
    (dtype('int64'), dtype('bool'))
    >>> as_array(["a", "b"])
    Traceback (most recent call last):
    TypeError: Tensor data must be numeric (float, int or bool); got list of dtype <U1
    """
    if isinstance(data, Tensor):
        return data.data
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{what} must be a rectangular numeric array; got {type(data).__name__} that numpy "
            f"cannot turn into one ({error})"
        ) from None
    kind = array.dtype.kind
    if kind == "f":
        return array
    if kind in "iub":
        return array if isinstance(data, np.ndarray) else array.astype(np.float64)
    raise TypeError(
        f"{what} must be numeric (float, int or bool); got {type(data).__name__} of dtype "
        f"{array.dtype}" + (" (ragged or mixed-type nested sequences give dtype object)"
                            if kind == "O" else "")
    )


# --------------------------------------------------------------------------------------------
# the Tensor
# --------------------------------------------------------------------------------------------


class Tensor(TensorBase):
    """An n-d array that records the ops applied to it, so that ``backward()`` can differentiate.

    Parameters
    ----------
    data : array_like
        Anything ``np.asarray`` accepts. Floating arrays keep their dtype (float32 stays float32);
        integer and boolean numpy arrays keep theirs (indices, masks, labels); Python ints and
        bools become float64; non-numeric data is a ``TypeError``. The data is copied.
    requires_grad : bool
        Whether ``backward()`` should compute ``.grad`` for this tensor (floating tensors only).
    name : str, optional
        A label shown by ``repr`` and the graph pictures (``"W1"``, ``"X"``).

    Attributes
    ----------
    data : np.ndarray
        The values.
    grad : np.ndarray or None
        The gradient of the last ``backward()`` root with respect to this tensor, same shape and
        dtype as ``data``; accumulates across ``backward()`` calls until set to ``None``.
    op : str or None
        Name of the op that made this tensor (``"matmul"``, ``"sigmoid"``…); ``None`` for a leaf.
    parents : tuple of Tensor
        The op's inputs, in order (empty for leaves, and after ``backward()`` released the graph).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True, name="x")
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4., 6.]])
    """

    __slots__ = ()  # the fields are TensorBase's slots

    # numpy must hand mixed expressions (ndarray + Tensor) to the Tensor's reflected operators.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None) -> None:
        source = as_array(data)
        array = np.array(source, copy=True)
        if modes.tracing[0]:  # compiler hook: a copy of a value the traced step computed
            tracer = modes.state.tracer
            if tracer is not None and not tracer.suspended:
                tracer.on_copy(source, array)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating tensors can require grad; got dtype {array.dtype} (an index or "
                f"mask); convert with .astype(np.float64) if it is data"
            )
        self._set_fields(array, bool(requires_grad), modes.state.switches.scope)
        self.name = name

    @classmethod
    def _leaf(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Make a leaf around ``data`` without copying or validating it (internal fast path)."""
        out = object.__new__(cls)
        out._set_fields(data, requires_grad, modes.state.switches.scope)
        return out

    def _set_fields(
        self,
        data: np.ndarray,
        requires_grad: bool,
        scope: str | None,
        op: str | None = None,
        parents: tuple[Tensor, ...] = (),
        rules: tuple[BackwardRule, ...] | None = None,
        versions_seen: tuple[int, ...] = (),
        version: list[int] | None = None,
        seq: int | None = None,
    ) -> None:
        """Set every field a tensor has, in one place: leaves take the defaults, op results
        (:meth:`_from_op`) pass what the op recorded."""
        self.data = data
        self._grad = None
        self.name = None
        self._requires_grad = requires_grad
        self._retains_grad = False
        self._op = op
        self._parents = parents
        self._rules = rules
        self._scope = scope
        # [count of in-place changes], shared with the views and detach() of this memory
        self._version = [0] if version is None else version
        self._versions_seen = versions_seen
        self._creation_line = None
        self._seq = _next_creation_number() if seq is None else seq

    @classmethod
    def _from_op(
        cls,
        data: np.ndarray,
        op: str,
        parents: tuple[Tensor, ...],
        rules: tuple[BackwardRule, ...],
    ) -> Tensor:
        """Make an op's result (no copy, no validation: the op produced ``data``)."""
        out = object.__new__(cls)
        here = modes.state.switches  # this thread's switches: one thread-local read per op
        grad_enabled, anomaly = here.grad_enabled, here.anomaly_enabled
        # A view of an input's memory (reshape, .T, slicing) shares that input's version counter.
        if data.base is None and data is not parents[0].data:
            version = [0]
        else:
            version = output_counter(data, parents)
        requires_grad = False
        if grad_enabled and data.dtype.kind == "f":  # boolean/integer results: no grad
            for parent in parents:
                if parent._requires_grad:
                    requires_grad = True
                    break
        if requires_grad:
            # The inputs' and the output's version counts now, to catch an in-place change of
            # anything a rule saved before backward() (tinygrad_nn.versions); numbered first, so
            # that a change after the counts were read has a later number.
            seq = _next_creation_number()
            versions = (
                (parents[0]._version[0], version[0])
                if len(parents) == 1
                else (parents[0]._version[0], parents[1]._version[0], version[0])
                if len(parents) == 2
                else (*(p._version[0] for p in parents), version[0])
            )
            out._set_fields(data, True, here.scope, op, parents, rules, versions, version, seq)
            if anomaly:
                out._creation_line = _user_frame()
        else:
            # Nothing to differentiate. With grad mode on (constants only) keep the inputs for
            # pictures; under no_grad keep nothing, so a kept evaluation result holds no graph.
            out._set_fields(
                data, False, here.scope, op, parents if grad_enabled else (), version=version
            )
        if anomaly:
            _check_forward(out)
        return out

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as a leaf with its data, requires_grad, name, grad and scope. Unpickling makes
        # a new tensor, so it takes a fresh creation number in the process that loads it: the
        # backward order compares these numbers, and the pickled one belongs to another
        # process (copy.deepcopy goes through here too).
        return _unpickle, (self.data, self._requires_grad, self.name, self.grad, self._scope)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut off from the graph.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0], requires_grad=True)
        >>> y = x.exp().detach()
        >>> y.is_leaf, y.requires_grad
        (True, False)
        """
        out = Tensor._leaf(self.data)
        out._version = self._version  # shared: a change through either is seen by both
        return out

    # ---- backward ---------------------------------------------------------------------------

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        Parameters
        ----------
        grad : array_like, optional
            The upstream gradient dL/d(self); may be omitted only for a one-element tensor
            (then it is 1).
        retain_graph : bool
            Keep the saved arrays so that ``backward()`` can run through this graph again.
            By default they are released, and a second ``backward()`` raises ``RuntimeError``.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([2.0, -1.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> w.grad
        array([ 4., -2.])
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the graph has "
                "requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a one-element (scalar) tensor; this one "
                    f"has shape {self.shape}: pass grad= of that shape"
                )
            seed = np.ones(self.data.shape, self.data.dtype)  # (ones_like: ~0.15 µs more)
        else:
            seed = as_array(grad, "backward(grad=...)")
            if seed.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...) must have the tensor's shape {self.shape}; "
                    f"got {seed.shape}"
                )
            seed = seed.astype(self.dtype, copy=False)
        run_backward(self, seed, retain_graph)

    # ---- the ops, one line each --------------------------------------------------------------
    # Every method and operator the op registry names is written here, calling its op in
    # tinygrad_nn.ops (``F``); a test fails if one is missing. Each one's docstring is its op's
    # formula (``Tensor.sigmoid.__doc__``), set by the registry; the op's own docstring has the
    # details and an example. A reflected operator (``2 - x``) passes the other operand first.

    def add(self, other: Operand) -> Tensor: return F.add(self, other)
    def sub(self, other: Operand) -> Tensor: return F.sub(self, other)
    def mul(self, other: Operand) -> Tensor: return F.mul(self, other)
    def div(self, other: Operand) -> Tensor: return F.div(self, other)
    def pow(self, exponent: Operand) -> Tensor: return F.pow_(self, exponent)
    def matmul(self, other: Operand) -> Tensor: return F.matmul(self, other)
    def __add__(self, other: Operand) -> Tensor: return F.add(self, other)
    def __sub__(self, other: Operand) -> Tensor: return F.sub(self, other)
    def __mul__(self, other: Operand) -> Tensor: return F.mul(self, other)
    def __truediv__(self, other: Operand) -> Tensor: return F.div(self, other)
    def __pow__(self, exponent: Operand) -> Tensor: return F.pow_(self, exponent)
    def __matmul__(self, other: Operand) -> Tensor: return F.matmul(self, other)
    def __radd__(self, other: Operand) -> Tensor: return F.add(other, self)
    def __rsub__(self, other: Operand) -> Tensor: return F.sub(other, self)
    def __rmul__(self, other: Operand) -> Tensor: return F.mul(other, self)
    def __rtruediv__(self, other: Operand) -> Tensor: return F.div(other, self)
    def __rpow__(self, other: Operand) -> Tensor: return F.pow_(other, self)
    def __rmatmul__(self, other: Operand) -> Tensor: return F.matmul(other, self)

    def neg(self) -> Tensor: return F.neg(self)
    def exp(self) -> Tensor: return F.exp(self)
    def log(self) -> Tensor: return F.log(self)
    def sigmoid(self) -> Tensor: return F.sigmoid(self)
    def tanh(self) -> Tensor: return F.tanh(self)
    def relu(self) -> Tensor: return F.relu(self)
    def sqrt(self) -> Tensor: return F.sqrt(self)
    def abs(self) -> Tensor: return F.abs_(self)
    def __neg__(self) -> Tensor: return F.neg(self)
    def __abs__(self) -> Tensor: return F.abs_(self)

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.sum_(self, axis, keepdims)
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.mean(self, axis, keepdims)
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.max_(self, axis, keepdims)
    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.min_(self, axis, keepdims)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor: return F.reshape(self, *shape)
    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor: return F.transpose(self, *axes)
    def __getitem__(self, index: Any) -> Tensor: return F.getitem(self, index)
    def softmax(self, axis: int = -1) -> Tensor: return F.softmax(self, axis)
    def log_softmax(self, axis: int = -1) -> Tensor: return F.log_softmax(self, axis)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.logsumexp(self, axis, keepdims)
    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return F.var(self, axis, ddof, keepdims)
    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return F.std(self, axis, ddof, keepdims)
    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return F.prod(self, axis, keepdims)
    def cumsum(self, axis: int | None = None) -> Tensor: return F.cumsum(self, axis)
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return F.argmax(self, axis, keepdims)
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return F.argmin(self, axis, keepdims)

    def log1p(self) -> Tensor: return F.log1p(self)
    def expm1(self) -> Tensor: return F.expm1(self)
    def sin(self) -> Tensor: return F.sin(self)
    def cos(self) -> Tensor: return F.cos(self)
    def sign(self) -> Tensor: return F.sign(self)
    def rsqrt(self) -> Tensor: return F.rsqrt(self)
    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return F.leaky_relu(self, negative_slope)
    def elu(self, alpha: float = 1.0) -> Tensor: return F.elu(self, alpha)
    def gelu(self, approximate: str = "none") -> Tensor: return F.gelu(self, approximate)
    def silu(self) -> Tensor: return F.silu(self)
    def softplus(self, beta: float = 1.0) -> Tensor: return F.softplus(self, beta)
    def dropout(
        self, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None
    ) -> Tensor:
        return F.dropout(self, p, training, rng)

    # comparisons give boolean tensors (no gradient); == and != compare elementwise, so a
    # Tensor hashes by identity, as before
    def lt(self, other: Operand) -> Tensor: return F.lt(self, other)
    def le(self, other: Operand) -> Tensor: return F.le(self, other)
    def gt(self, other: Operand) -> Tensor: return F.gt(self, other)
    def ge(self, other: Operand) -> Tensor: return F.ge(self, other)
    def eq(self, other: Operand) -> Tensor: return F.eq(self, other)
    def ne(self, other: Operand) -> Tensor: return F.ne(self, other)
    def __lt__(self, other: Operand) -> Tensor: return F.lt(self, other)
    def __le__(self, other: Operand) -> Tensor: return F.le(self, other)
    def __gt__(self, other: Operand) -> Tensor: return F.gt(self, other)
    def __ge__(self, other: Operand) -> Tensor: return F.ge(self, other)
    # == / != with None, a string or an object: Python's identity answer (False / True), as torch
    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return F.eq(self, other) if F.compare.is_comparable(other) else NotImplemented
    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return F.ne(self, other) if F.compare.is_comparable(other) else NotImplemented
    __hash__ = object.__hash__
    def maximum(self, other: Operand) -> Tensor: return F.maximum(self, other)
    def minimum(self, other: Operand) -> Tensor: return F.minimum(self, other)
    def clip(self, low: ArrayLike | None = None, high: ArrayLike | None = None) -> Tensor:
        return F.clip(self, low, high)
    def masked_fill(self, mask: Operand, value: float) -> Tensor:
        return F.masked_fill(self, mask, value)
    def tril(self, k: int = 0) -> Tensor: return F.tril(self, k)
    def triu(self, k: int = 0) -> Tensor: return F.triu(self, k)

    def conv2d(
        self, weight: Operand, stride: Size = 1, padding: Size = 0, dilation: Size = 1,
        groups: int = 1,
    ) -> Tensor:
        return F.conv2d(self, weight, stride, padding, dilation, groups)
    def conv1d(
        self, weight: Operand, stride: Size = 1, padding: Size = 0, dilation: Size = 1,
        groups: int = 1,
    ) -> Tensor:
        return F.conv1d(self, weight, stride, padding, dilation, groups)
    def max_pool2d(
        self, kernel_size: Size, stride: Size | None = None, padding: Size = 0
    ) -> Tensor:
        return F.max_pool2d(self, kernel_size, stride, padding)
    def avg_pool2d(
        self, kernel_size: Size, stride: Size | None = None, padding: Size = 0
    ) -> Tensor:
        return F.avg_pool2d(self, kernel_size, stride, padding)

    def expand(self, *shape: int | tuple[int, ...]) -> Tensor: return F.expand(self, *shape)
    def pad(self, widths: Any, value: float = 0.0) -> Tensor: return F.pad(self, widths, value)
    def tile(self, *reps: int | tuple[int, ...]) -> Tensor: return F.tile(self, *reps)
    def repeat(self, repeats: int | ArrayLike, axis: int | None = None) -> Tensor:
        return F.repeat(self, repeats, axis)
    def flip(self, axis: Axis = None) -> Tensor: return F.flip(self, axis)
    def take_along_axis(self, indices: Any, axis: int) -> Tensor:
        return F.take_along_axis(self, indices, axis)
    # helpers recorded as reshape/transpose/getitem (their docstrings come from tinygrad_nn.ops)
    def flatten(self, start: int = 0, end: int = -1) -> Tensor: return F.flatten(self, start, end)
    def squeeze(self, axis: Axis = None) -> Tensor: return F.squeeze(self, axis)
    def unsqueeze(self, axis: int) -> Tensor: return F.unsqueeze(self, axis)
    def permute(self, *axes: int) -> Tensor: return F.permute(self, *axes)
    def split(self, size: int | list[int], axis: int = 0) -> list[Tensor]:
        return F.split(self, size, axis)
    def chunk(self, chunks: int, axis: int = 0) -> list[Tensor]: return F.chunk(self, chunks, axis)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (the op ``transpose``).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).T.shape
        (3, 1)
        """
        return F.transpose(self)

    def _repr_html_(self) -> str:  # a notebook's display: shape, dtype, values, .grad
        from tinygrad_nn.viz.html import tensor_html  # picture summary (viz imports Tensor)

        return tensor_html(self)


# The op functions are imported last because they import Tensor; the methods above look them up
# when called. (Importing tinygrad_nn.ops first works too: it imports this module, which then
# finds the half-imported ops package in sys.modules, filled in by the time a method runs.)
from tinygrad_nn import ops as F  # noqa: E402

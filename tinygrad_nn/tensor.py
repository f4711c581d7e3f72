"""The Tensor: an n-d array that records the ops applied to it, and ``backward()``.

A :class:`Tensor` wraps a numpy array. Every op applied to tensors that require gradients records
the op's name, its inputs (``parents``) and one backward rule per input, so that
:meth:`Tensor.backward` can walk the graph in reverse topological order and apply the chain rule.

The engine is split along its seams, one job per file:

* :mod:`tinygrad_nn.tensor` (here) — the Tensor class: its fields, how an op's result is made,
  introspection, in-place updates, and one line per op method calling :mod:`tinygrad_nn.ops`;
* :mod:`tinygrad_nn.autograd` — the backward pass: topological order, ``unbroadcast``, gradient
  accumulation, anomaly checks;
* :mod:`tinygrad_nn.modes` — grad mode (:func:`no_grad`), anomaly mode (:func:`detect_anomaly`)
  and the module scope used by the graph pictures.

Every public name of those modules still imports from here. The ops themselves (forward and
backward formulas side by side) live in :mod:`tinygrad_nn.ops`.
"""

from __future__ import annotations

import itertools
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from tinygrad_nn import modes
from tinygrad_nn.autograd import (
    BackwardRule,
    _check_forward,
    _format_frame,
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
from tinygrad_nn.versions import output_counter

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
_next_creation_number = itertools.count().__next__

#: What an op accepts besides a Tensor: numbers and arrays, which become constants.
Operand: TypeAlias = "Tensor | ArrayLike"
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


class Tensor:
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

    __slots__ = (
        "__weakref__",
        "_creation_line",
        "_op",
        "_parents",
        "_requires_grad",
        "_retains_grad",
        "_rules",
        "_scope",
        "_seq",
        "_version",
        "_versions_seen",
        "data",
        "grad",
        "name",
    )

    # numpy must hand mixed expressions (ndarray + Tensor) to the Tensor's reflected operators.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None) -> None:
        array = np.array(as_array(data), copy=True)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating tensors can require grad; got dtype {array.dtype} (an index or "
                f"mask); convert with .astype(np.float64) if it is data"
            )
        self._set_fields(array, bool(requires_grad))
        self.name = name

    @classmethod
    def _leaf(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Make a leaf around ``data`` without copying or validating it (internal fast path)."""
        out = object.__new__(cls)
        out._set_fields(data, requires_grad)
        return out

    def _set_fields(
        self,
        data: np.ndarray,
        requires_grad: bool,
        op: str | None = None,
        parents: tuple[Tensor, ...] = (),
        rules: tuple[BackwardRule, ...] | None = None,
        versions_seen: tuple[int, ...] = (),
        version: list[int] | None = None,
    ) -> None:
        """Set every field a tensor has, in one place: leaves take the defaults, op results
        (:meth:`_from_op`) pass what the op recorded."""
        self.data: np.ndarray = data
        self.grad: np.ndarray | None = None
        self.name = None
        self._requires_grad = requires_grad
        self._retains_grad = False
        self._op = op
        self._parents = parents
        self._rules = rules
        self._scope = modes.state.scope
        # [count of in-place changes], shared with the views and detach() of this memory
        self._version = [0] if version is None else version
        self._versions_seen = versions_seen
        self._creation_line: tuple[str, int, str] | None = None
        self._seq = _next_creation_number()

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
        here = modes.state  # this thread's switches: read once per op
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
            # anything a rule saved before backward() (tinygrad_nn.versions).
            versions = (
                (parents[0]._version[0], version[0])
                if len(parents) == 1
                else (parents[0]._version[0], parents[1]._version[0], version[0])
                if len(parents) == 2
                else (*(p._version[0] for p in parents), version[0])
            )
            out._set_fields(data, True, op, parents, rules, versions, version)
            if anomaly:
                out._creation_line = _user_frame()
        else:
            # Nothing to differentiate. With grad mode on (constants only) keep the inputs for
            # pictures; under no_grad keep nothing, so a kept evaluation result holds no graph.
            out._set_fields(data, False, op, parents if grad_enabled else (), version=version)
        if anomaly:
            _check_forward(out)
        return out

    # ---- read-only graph introspection ---------------------------------------------------

    @property
    def op(self) -> str | None:
        """Name of the op that made this tensor, or ``None`` for a leaf.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 2).op, x.op
        ('mul', None)
        """
        return self._op

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The inputs of the op that made this tensor (empty for a leaf or a released graph).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> a = Tensor([1.0], requires_grad=True, name="a")
        >>> b = Tensor([2.0], name="b")
        >>> [p.name for p in (a + b).parents]
        ['a', 'b']
        """
        return self._parents

    @property
    def is_leaf(self) -> bool:
        """True unless an op made this tensor from tensors that require grad, as in PyTorch:
        tensors the user made, and every tensor that does not require grad (constants, results
        made under ``no_grad()``). ``.grad`` is kept only on leaves.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, no_grad
        >>> x = Tensor([1.0], requires_grad=True)
        >>> x.is_leaf, x.exp().is_leaf
        (True, False)
        >>> with no_grad():
        ...     y = x.exp()
        >>> y.is_leaf
        True
        """
        return self._op is None or not self._requires_grad

    @property
    def scope(self) -> str | None:
        """Name of the ``nn`` module whose forward made this tensor (``"layer2"``), if any.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, nn
        >>> net = nn.MLP([2, 3, 1])
        >>> net(Tensor([[1.0], [2.0]])).scope
        'layer2'
        """
        return self._scope

    @property
    def creation_line(self) -> str | None:
        """The user code line that created this tensor (recorded only under detect_anomaly).

        Examples
        --------
        >>> from tinygrad_nn import Tensor, detect_anomaly
        >>> x = Tensor([1.0], requires_grad=True)
        >>> print(x.exp().creation_line)
        None
        >>> with detect_anomaly():
        ...     y = x.exp()
        >>> y.creation_line.splitlines()[-1].strip()
        'y = x.exp()'
        """
        return None if self._creation_line is None else _format_frame(self._creation_line)

    @property
    def graph_released(self) -> bool:
        """True once ``backward()`` freed this op's saved arrays (without ``retain_graph``).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (x * x).sum()
        >>> loss.graph_released
        False
        >>> loss.backward()
        >>> loss.graph_released
        True
        """
        return self._op is not None and self._requires_grad and self._rules is None

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor. Settable on leaves only.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0])
        >>> x.requires_grad
        False
        >>> x.requires_grad = True
        >>> x.exp().requires_grad
        True
        """
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        # PyTorch's rules: a tensor made from tensors that require grad keeps its graph; only
        # floating tensors can require grad. W = Tensor(a) * 0.01 needs no grad: W is a leaf,
        # and from now on a parameter like any other (its link to `a` is dropped).
        if self._requires_grad and self._op is not None:
            raise RuntimeError(
                f"requires_grad can only be changed on a leaf; this tensor (shape {self.shape}) "
                f"was made by '{self._op}' from tensors that require grad. Use .detach() for a "
                f"leaf that shares its data"
            )
        if value and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating tensors can require grad; this one has dtype {self.data.dtype} "
                f"(convert with Tensor(t.data.astype(np.float64)) if it is data)"
            )
        if value and self._op is not None:
            self._op, self._parents, self._rules, self._versions_seen = None, (), None, ()
        self._requires_grad = bool(value)

    # ---- array-like attributes --------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).shape
        (1, 3)
        """
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of ``data``.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).ndim
        2
        """
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).size
        3
        """
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``: floating, or integer/boolean for indices and masks.

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import Tensor
        >>> Tensor([1, 2]).dtype, (Tensor([1.0]) > 0).dtype, Tensor(np.array([2, 0])).dtype
        (dtype('float64'), dtype('bool'), dtype('int64'))
        """
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor's value; any other size is a ``ValueError``.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> bool(Tensor([0.0])), bool(Tensor(2.5))
        (False, True)
        >>> bool(Tensor([1.0, 2.0]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ValueError: bool() of a Tensor needs exactly one element; this one has shape (2,) ...
        """
        if self.data.size != 1:
            raise ValueError(
                f"bool() of a Tensor needs exactly one element; this one has shape {self.shape} "
                f"({self.data.size} elements), so its truth is ambiguous: use "
                f"bool(t.data.any()) or bool(t.data.all())"
            )
        return bool(self.data.reshape(()))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as a leaf with its data, requires_grad, name, grad and scope. Unpickling makes
        # a new tensor, so it takes a fresh creation number in the process that loads it: the
        # backward order compares these numbers, and the pickled one belongs to another
        # process (copy.deepcopy goes through here too).
        return _unpickle, (self.data, self._requires_grad, self.name, self.grad, self._scope)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        """The values as a numpy array (shared with the tensor, not a copy).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0, 2.0])
        >>> x.numpy()
        array([1., 2.])
        >>> x.numpy() is x.data
        True
        """
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([[3.5]]).item()
        3.5
        """
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor; this one has shape {self.shape}")
        return self.data.item()

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

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (leaves always keep it).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> h = (x * 3).retain_grad()
        >>> (h * h).sum().backward()
        >>> h.grad                    # d(h²)/dh = 2h
        array([ 6., 12.])
        """
        if not self._requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    def __repr__(self) -> str:
        parts = []
        if self.name:
            parts.append(f"name={self.name!r}")
        parts.append(f"shape={self.shape}")
        parts.append(f"dtype={self.dtype}")
        if self._op is not None:
            parts.append(f"op={self._op}")
        if self._requires_grad:
            parts.append("requires_grad=True")
        if self.data.size <= 16:
            values = np.array2string(self.data, precision=4, separator=", ", threshold=16)
            return f"Tensor({values}, {', '.join(parts)})"
        return f"Tensor({', '.join(parts)})"

    # ---- in-place updates (for optimizers and hand-written SGD) ---------------------------

    def _check_inplace(self, what: str) -> None:
        if modes.state.grad_enabled and self._requires_grad:
            raise RuntimeError(
                f"in-place '{what}' on a tensor that requires grad would not be recorded; "
                f"do the update inside tinygrad_nn.no_grad()"
            )

    def _inplace(self, what: str, other: Any, ufunc: np.ufunc) -> Tensor:
        self._check_inplace(what)
        value = other.data if isinstance(other, Tensor) else other
        ufunc(self.data, value, out=self.data)
        self.mark_modified()
        return self

    def __iadd__(self, other: Operand) -> Tensor:
        return self._inplace("+=", other, np.add)

    def __isub__(self, other: Operand) -> Tensor:
        return self._inplace("-=", other, np.subtract)

    def __imul__(self, other: Operand) -> Tensor:
        return self._inplace("*=", other, np.multiply)

    def __itruediv__(self, other: Operand) -> Tensor:
        return self._inplace("/=", other, np.divide)

    def mark_modified(self) -> None:
        """Record that ``data`` was changed in place (optimizers call this after an update).

        A graph that saved this tensor before the change refuses to backpropagate through it,
        instead of silently using the new values.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> w.data[0] = 5.0           # changed behind the engine's back...
        >>> w.mark_modified()         # ...so say so
        >>> loss.backward()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        RuntimeError: an input of 'mul' (shape (2,)) was modified in place after 'mul' used it; ...
        """
        self._version[0] += 1

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
            seed = np.ones_like(self.data)
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

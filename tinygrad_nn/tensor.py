"""The Tensor and its backward engine.

A :class:`Tensor` wraps a numpy array. Every op applied to tensors that require gradients records
the op's name, its inputs (``parents``) and one backward rule per input, so that
:meth:`Tensor.backward` can walk the graph in reverse topological order and apply the chain rule.

What lives here, and only here:

* ``topological_order`` — the iterative (recursion-free) order in which backward visits nodes;
* ``unbroadcast`` — undoing numpy broadcasting on a gradient, for every op at once;
* gradient accumulation — when a tensor feeds several consumers, their gradients are added here;
* grad mode (:func:`no_grad`), anomaly mode (:func:`detect_anomaly`) and the module scope used by
  the graph pictures.

The ops themselves (forward and backward formulas side by side) live in :mod:`tinygrad_nn.ops`.
"""

from __future__ import annotations

import contextlib
import itertools
import linecache
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "Tensor",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "topological_order",
    "unbroadcast",
]

# Module-level switches, read on every op: plain globals are the cheapest thing Python can read.
_grad_enabled = True
_anomaly_enabled = False
_scope: str | None = None  # name of the nn.Module whose forward is running (for graph clusters)

# Every tensor gets the next number when it is made. An op's inputs always exist before its
# output, so "newest first" is a topological order: the engine sorts by it instead of searching.
_next_creation_number = itertools.count().__next__

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_PACKAGE_PREFIX = _PACKAGE_DIR + os.sep

BackwardRule = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# grad mode, anomaly mode, scope
# --------------------------------------------------------------------------------------------


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph (False inside :func:`no_grad`).

    Examples
    --------
    >>> from tinygrad_nn import is_grad_enabled, no_grad
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _grad_enabled


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager (or decorator) under which ops record nothing.

    Results made inside never require grad, so parameter updates and evaluation cost no memory
    for the graph.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns graph recording back on inside a :func:`no_grad` block.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, enable_grad, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     with enable_grad():
    ...         y = w * 2
    >>> y.requires_grad
    True
    """
    return _grad_mode(True)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (see :func:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import detect_anomaly, is_anomaly_enabled
    >>> is_anomaly_enabled()
    False
    >>> with detect_anomaly():
    ...     is_anomaly_enabled()
    True
    """
    return _anomaly_enabled


def set_detect_anomaly(enabled: bool) -> None:
    """Turn anomaly detection on or off globally (see :func:`detect_anomaly`).

    Examples
    --------
    >>> from tinygrad_nn import is_anomaly_enabled, set_detect_anomaly
    >>> set_detect_anomaly(True)
    >>> is_anomaly_enabled()
    True
    >>> set_detect_anomaly(False)   # the default: no checks, no cost
    """
    global _anomaly_enabled
    _anomaly_enabled = bool(enabled)


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Check every op's output and every backward gradient for NaN/Inf.

    The first non-finite value raises :class:`FloatingPointError` naming the op, the pass
    (forward or backward), the shapes, which input or output went bad, and the line of user code
    that created the op. The creation line is recorded only in this mode, so normal runs pay
    nothing.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, detect_anomaly
    >>> x = Tensor([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = x.log()   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    FloatingPointError: forward of 'log' produced a non-finite output ...
    """
    global _anomaly_enabled
    previous = _anomaly_enabled
    _anomaly_enabled = enabled
    try:
        yield
    finally:
        _anomaly_enabled = previous


class scope:  # lower case: used like a function, ``with scope("layer1"):``
    """Tag every tensor made inside with ``name`` (nn modules use it; pictures cluster by it).

    Nested scopes join with dots (``"net.layer1"``). A class rather than a generator-based
    context manager: it is entered for every module call, and this is ~3x cheaper.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> with scope("layer1"):
    ...     y = Tensor([1.0], requires_grad=True).exp()
    >>> y.scope
    'layer1'
    """

    __slots__ = ("name", "previous")

    def __init__(self, name: str | None) -> None:
        self.name = name

    def __enter__(self) -> None:
        global _scope
        self.previous = _scope
        if self.name is not None:
            _scope = self.name if _scope is None else f"{_scope}.{self.name}"

    def __exit__(self, *exc_info: object) -> None:
        global _scope
        _scope = self.previous


def _user_frame() -> tuple[str, int, str] | None:
    """(file, line, function) of the innermost frame outside this package: the user's code.

    Walks frames directly and reads no source (that waits for an error), because anomaly mode
    calls this for every op.
    """
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_PREFIX):
            return filename, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


def _format_frame(where: tuple[str, int, str] | None) -> str:
    if where is None:
        return "<unknown>"
    filename, lineno, function = where
    source = linecache.getline(filename, lineno).strip()
    return f'File "{filename}", line {lineno}, in {function}\n    {source}'


def _describe_nonfinite(array: np.ndarray) -> str:
    n_nan = int(np.isnan(array).sum())
    n_inf = int(np.isinf(array).sum())
    return f"{n_nan} NaN and {n_inf} Inf among {array.size} values"


# --------------------------------------------------------------------------------------------
# input conversion
# --------------------------------------------------------------------------------------------


def as_array(data: Any, what: str = "Tensor data") -> np.ndarray:
    """Convert ``data`` to a floating numpy array, as the Tensor constructor does.

    Floating arrays keep their dtype; ints and bools become float64; anything else is a
    ``TypeError`` that says what was given.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn.tensor import as_array
    >>> as_array([1, 2]).dtype
    dtype('float64')
    >>> as_array(np.zeros(2, dtype=np.float32)).dtype
    dtype('float32')
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
        return array.astype(np.float64)
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
        ints and bools become float64; non-numeric data is a ``TypeError``. The data is copied.
    requires_grad : bool
        Whether ``backward()`` should compute ``.grad`` for this tensor.
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
        self._set_leaf_fields(np.array(as_array(data), copy=True), bool(requires_grad))
        self.name = name

    @classmethod
    def _leaf(cls, data: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Make a leaf around ``data`` without copying or validating it (internal fast path)."""
        out = object.__new__(cls)
        out._set_leaf_fields(data, requires_grad)
        return out

    def _set_leaf_fields(self, data: np.ndarray, requires_grad: bool) -> None:
        self.data: np.ndarray = data
        self.grad: np.ndarray | None = None
        self.name: str | None = None
        self._requires_grad = requires_grad
        self._retains_grad = False
        self._op: str | None = None
        self._parents: tuple[Tensor, ...] = ()
        self._rules: tuple[BackwardRule | None, ...] | None = None
        self._scope = _scope
        self._version = 0
        self._versions_seen: tuple[int, ...] = ()
        self._creation_line: tuple[str, int, str] | None = None
        self._seq = _next_creation_number()

    @classmethod
    def _from_op(
        cls,
        data: np.ndarray,
        op: str,
        parents: tuple[Tensor, ...],
        rules: tuple[BackwardRule | None, ...],
    ) -> Tensor:
        """Make an op's result (no copy, no validation: the op produced ``data``)."""
        out = object.__new__(cls)
        out.data = data
        out.grad = None
        out.name = None
        out._retains_grad = False
        out._op = op
        out._scope = _scope
        out._version = 0
        out._creation_line = None
        out._seq = _next_creation_number()
        requires_grad = False
        if _grad_enabled:
            for parent in parents:
                if parent._requires_grad:
                    requires_grad = True
                    break
        if requires_grad:
            out._requires_grad = True
            out._parents = parents
            out._rules = rules
            # The inputs' versions now, to catch an in-place change before backward().
            out._versions_seen = (
                (parents[0]._version,)
                if len(parents) == 1
                else (parents[0]._version, parents[1]._version)
                if len(parents) == 2
                else tuple(p._version for p in parents)
            )
            if _anomaly_enabled:
                out._creation_line = _user_frame()
        else:
            # Nothing to differentiate. With grad mode on (constants only) keep the inputs for
            # pictures; under no_grad keep nothing, so a kept evaluation result holds no graph.
            out._requires_grad = False
            out._parents = parents if _grad_enabled else ()
            out._rules = None
            out._versions_seen = ()
        if _anomaly_enabled:
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
        """True for tensors made by the user, not by an op (``.grad`` is kept only on leaves).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> x = Tensor([1.0], requires_grad=True)
        >>> x.is_leaf, x.exp().is_leaf
        (True, False)
        """
        return self._op is None

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
        if self._op is not None:
            raise RuntimeError(
                f"requires_grad can only be set on leaf tensors; this one was made by "
                f"'{self._op}' (use .detach() to get a leaf)"
            )
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
        """The dtype of ``data``: always floating (ints and bools became float64).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Tensor([1, 2]).dtype
        dtype('float64')
        """
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

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
        return Tensor._leaf(self.data)

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
        if _grad_enabled and self._requires_grad:
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

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace("+=", other, np.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace("-=", other, np.subtract)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace("*=", other, np.multiply)

    def __itruediv__(self, other: Any) -> Tensor:
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
        self._version += 1

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
        _run_backward(self, seed, retain_graph)

    # Ops (+, @, sigmoid, sum, ...) are attached to this class by tinygrad_nn.ops.


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------


def topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that require grad and that ``root`` depends on, each after all its consumers.

    Collects what ``root`` depends on with an explicit stack (no recursion, so a 10,000-op chain
    works), then sorts newest first: every tensor is numbered when it is made, and an op's inputs
    are always made before its output, so each tensor comes after every tensor made from it.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor(2.0, requires_grad=True, name="x")
    >>> y = (x * 3).exp()
    >>> [t.op or t.name for t in topological_order(y)]
    ['exp', 'mul', 'x']
    """
    # Tensors hash by identity (the class defines no __eq__), so they key sets and dicts directly.
    reached = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent._requires_grad and parent not in reached:
                reached.add(parent)
                stack.append(parent)
    return sorted(reached, key=_creation_number, reverse=True)


def _creation_number(tensor: Tensor) -> int:
    return tensor._seq


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that numpy broadcasting added or stretched to reach its shape.

    If ``x`` of ``shape`` was broadcast in the forward pass, each of its elements was used many
    times, so its gradient is the sum over those uses.

    Examples
    --------
    >>> import numpy as np
    >>> unbroadcast(np.ones((3, 4)), (3, 1))   # the article's bias b (n, 1) added to (n, m)
    array([[4.],
           [4.],
           [4.]])
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"gradient of shape {grad.shape} cannot belong to shape {shape}")
    summed = np.add.reduce(grad, axis=tuple(range(extra))) if extra else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and summed.shape[i] != 1)
    if stretched:
        summed = np.add.reduce(summed, axis=stretched, keepdims=True)
    if summed.shape != shape:
        raise ValueError(f"gradient of shape {grad.shape} cannot belong to shape {shape}")
    return np.asarray(summed)  # a reduction to 0-d gives a numpy scalar


def _run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool) -> None:
    # grads[t] = [array, owned]; "owned" arrays were made here and may be added to in place.
    # An op's rule may return g itself or a view of it (add, reshape...), which must never be
    # written to or handed to a leaf without a copy.
    grads: dict[Tensor, list[Any]] = {root: [seed, False]}
    for node in topological_order(root):
        entry = grads.pop(node, None)
        if entry is None:
            continue
        g, owned = entry
        if _anomaly_enabled:
            _check_gradient_sum(node, g)
        if node._op is None:
            _accumulate_leaf_grad(node, g, owned)
            continue
        if node._retains_grad:
            node.grad = g if owned else g.copy()
        rules = node._rules
        if rules is None:
            raise RuntimeError(
                f"backward() through '{node._op}' (shape {node.shape}) a second time: its saved "
                f"arrays were freed by the first backward(); call backward(retain_graph=True) the "
                f"first time to keep them"
            )
        for parent, rule, version in zip(node._parents, rules, node._versions_seen):  # noqa: B905
            if not parent._requires_grad:
                continue
            if parent._version != version:
                raise RuntimeError(
                    f"an input of '{node._op}' (shape {parent.shape}) was modified in place after "
                    f"'{node._op}' used it; backward() would use the new values. Update "
                    f"parameters after backward(), not between the forward pass and backward()"
                )
            grad_parent = rule(g)
            if type(grad_parent) is not np.ndarray:  # numpy returns scalars for 0-d results
                grad_parent = np.asarray(grad_parent)
            fresh = grad_parent is not g and grad_parent.base is None
            data = parent.data
            if grad_parent.shape != data.shape:
                grad_parent = unbroadcast(grad_parent, data.shape)
                fresh = True
            if grad_parent.dtype is not data.dtype and grad_parent.dtype != data.dtype:
                grad_parent = grad_parent.astype(data.dtype)
                fresh = True
            if _anomaly_enabled:
                _check_backward(node, parent, grad_parent)
            slot = grads.get(parent)
            if slot is None:
                grads[parent] = [grad_parent, fresh]
            elif slot[1]:
                np.add(slot[0], grad_parent, out=slot[0])
            else:
                grads[parent] = [_sum(slot[0], grad_parent), True]
        if not retain_graph:
            # Free the saved arrays and cut the edges, so the graph's memory goes now, even if
            # the user keeps the root (say, in a list of losses).
            node._rules = None
            node._parents = ()


def _accumulate_leaf_grad(leaf: Tensor, g: np.ndarray, owned: bool) -> None:
    if leaf.grad is None:
        leaf.grad = g if owned else g.copy()
    else:
        leaf.grad = _sum(leaf.grad, g)


def _sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b as a new array (numpy would return a scalar for 0-d arrays)."""
    shape = a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape)
    return np.add(a, b, out=np.empty(shape, a.dtype))


# --------------------------------------------------------------------------------------------
# anomaly checks (only called when detect_anomaly is on)
# --------------------------------------------------------------------------------------------


def _all_finite(array: np.ndarray) -> bool:
    # A sum is NaN or inf whenever an element is; when the sum is finite, so is every element.
    # (A finite array whose sum overflows takes the exact path.) Cheaper than isfinite().all().
    return bool(np.isfinite(np.add.reduce(array, axis=None))) or bool(np.isfinite(array).all())


def _check_forward(out: Tensor) -> None:
    if _all_finite(out.data):
        return
    bad_inputs = [i for i, p in enumerate(out._parents) if not np.isfinite(p.data).all()]
    shapes = ", ".join(str(p.shape) for p in out._parents)
    cause = (
        f"input {bad_inputs[0]} was already non-finite" if bad_inputs else "all inputs were finite"
    )
    raise FloatingPointError(
        f"forward of '{out._op}' produced a non-finite output of shape {out.shape} "
        f"({_describe_nonfinite(out.data)}); input shapes: {shapes}; {cause}.\n"
        f"The op was created at:\n  {_format_frame(out._creation_line or _user_frame())}"
    )


def _check_gradient_sum(node: Tensor, g: np.ndarray) -> None:
    if _all_finite(g):
        return
    what = f"'{node._op}'" if node._op else f"leaf {node.name or ''}".rstrip()
    raise FloatingPointError(
        f"backward: the gradients flowing into the output of {what} (shape {node.shape}) from "
        f"its consumers are each finite but their sum is not: {_describe_nonfinite(g)}.\n"
        f"The tensor was created at:\n  {_format_frame(node._creation_line)}"
    )


def _check_backward(node: Tensor, parent: Tensor, grad_parent: np.ndarray) -> None:
    if _all_finite(grad_parent):
        return
    index = next(i for i, p in enumerate(node._parents) if p is parent)
    raise FloatingPointError(
        f"backward of '{node._op}' produced a non-finite gradient for its input {index} "
        f"(shape {parent.shape}): {_describe_nonfinite(grad_parent)}; output shape {node.shape}.\n"
        f"The op was created at:\n  {_format_frame(node._creation_line)}"
    )

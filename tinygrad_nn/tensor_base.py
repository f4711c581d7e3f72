"""What a Tensor does to itself: its graph seen from outside, its array-like attributes, and
in-place updates — every method that reads or changes *this* tensor without making a new one.

:class:`TensorBase` is the base class of :class:`~tinygrad_nn.tensor.Tensor`, which adds how
tensors are made (its constructor, op results), ``backward()`` and the op methods. The fields
are declared here, as slots (set in ``Tensor._set_fields``).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from tinygrad_nn import modes
from tinygrad_nn.autograd import BackwardRule, _format_frame
from tinygrad_nn.versions import last_change, next_number

if TYPE_CHECKING:
    from tinygrad_nn.tensor import Tensor

__all__ = ["Operand", "TensorBase"]

#: What an op accepts besides a Tensor: numbers and arrays, which become constants.
Operand: TypeAlias = "Tensor | ArrayLike"


class TensorBase:
    """The fields of a tensor and the methods that read or update them in place.

    Not made directly: every tensor is a :class:`~tinygrad_nn.tensor.Tensor`.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
    >>> isinstance(x, TensorBase), x.shape, x.is_leaf
    (True, (1, 2), True)
    """

    # the fields every tensor has, as slots: no per-tensor __dict__
    __slots__ = (
        "__weakref__",
        "_creation_line",
        "_grad",
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
        "name",
    )

    data: np.ndarray
    _grad: np.ndarray | None
    name: str | None
    _requires_grad: bool
    _retains_grad: bool
    _op: str | None
    _parents: tuple[Tensor, ...]
    _rules: tuple[BackwardRule, ...] | None
    _scope: str | None
    _version: list[int]
    _versions_seen: tuple[int, ...]
    _creation_line: tuple[str, int, str] | None
    _seq: int

    # ---- the gradient ----------------------------------------------------------------------

    def _set_grad(self, value: np.ndarray | None) -> None:
        self._grad = value
        if modes.tracing[0]:  # compiler hook: an assignment in a traced step is replayed
            tracer = modes.state.tracer
            if tracer is not None and not tracer.suspended:
                tracer.on_set_grad(self, value)

    if TYPE_CHECKING:

        @property
        def grad(self) -> np.ndarray | None: ...

        @grad.setter
        def grad(self, value: np.ndarray | None) -> None: ...

    else:  # the getter is a C-level attrgetter: the backward and every optimizer read it
        grad = property(
            attrgetter("_grad"), _set_grad,
            doc="""The gradient of the last ``backward()`` root with respect to this tensor
            (same shape and dtype as ``data``), or None; settable (``p.grad = None``).

            Examples
            --------
            >>> from tinygrad_nn import Tensor
            >>> w = Tensor([2.0], requires_grad=True)
            >>> (w * w).sum().backward()
            >>> w.grad
            array([4.])
            >>> w.grad = None
            """,
        )

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

    def retain_grad(self) -> Self:
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

    def _inplace(self, what: str, other: Any, ufunc: np.ufunc) -> Self:
        if self._requires_grad and modes.state.switches.grad_enabled:
            raise RuntimeError(
                f"in-place '{what}' on a tensor that requires grad would not be recorded; "
                f"do the update inside tinygrad_nn.no_grad()"
            )
        value = other.data if isinstance(other, TensorBase) else other
        tracer = modes.state.tracer if modes.tracing[0] else None
        if tracer is None or tracer.suspended:
            ufunc(self.data, value, out=self.data)
        else:  # compiler hook: the tracer runs it and records it, so a replay repeats it
            tracer.on_inplace(self, ufunc, value)
        self.mark_modified()
        return self

    def __iadd__(self, other: Operand) -> Self:
        return self._inplace("+=", other, np.add)

    def __isub__(self, other: Operand) -> Self:
        return self._inplace("-=", other, np.subtract)

    def __imul__(self, other: Operand) -> Self:
        return self._inplace("*=", other, np.multiply)

    def __itruediv__(self, other: Operand) -> Self:
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
        # Numbered after counting: an op numbered before this change may have read the old count.
        last_change[0] = next_number()
        if modes.tracing[0]:  # compiler hook: replayed, or refused
            tracer = modes.state.tracer
            if tracer is not None and not tracer.suspended:
                tracer.on_mark_modified(self)

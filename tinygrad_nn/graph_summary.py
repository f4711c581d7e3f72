"""What backward() leaves for the pictures: a light summary of the last graph it ran through.

``backward()`` frees each op's saved arrays and cuts the graph's edges as it goes, so that a
training loop that keeps every loss keeps no graph. The pictures (:mod:`tinygrad_nn.viz`) still
want to draw the graph *after* ``backward()``, with a gradient on every node. So the backward
pass leaves one :class:`GraphSummary` per thread, of the **last** graph it ran through:

* after ``backward()``: every tensor's op, name, module scope, shape, dtype and its inputs (as
  creation numbers, not references), plus a *copy* of its values and of its gradient when the
  tensor has at most :data:`KEEP_ELEMENTS` elements. Leaves (parameters, data, constants) are
  held themselves, so they are drawn live with their ``.grad``; results that need no gradient
  (``1 − Y``) are held by weak reference. No array the graph computed is kept, and the summary
  is replaced by the next ``backward()`` on the thread: memory stays flat however many losses
  are kept.
* after ``backward(retain_graph=True)``: the graph itself is still there; the summary holds the
  intermediate gradients, so that a picture shows them without ``retain_grad()``. They go with
  the next ``backward()`` on the thread.

Bigger tensors' values and gradients are not copied: copying or summarising them costs more
than the step of a small network (measured: min/mean/max of the 46 arrays of the benchmark's
tiny step take ~40 % of the step; the summary as built here costs about 0.5 µs per op: ~8 µs
of that step's ~140 µs, ~1 µs of the ~12 µs that ``(a * b).sum().backward()`` takes on 8×8
tensors, with and without :func:`paused` alternating in one process). Their pictures say so,
and ``backward(retain_graph=True)`` shows them in full. :func:`paused` switches the summary off
for a loop that never draws.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_nn.tensor import Tensor

__all__ = ["KEEP_ELEMENTS", "GraphSummary", "SummaryNode", "last_summary", "paused"]

#: Tensors with at most this many elements keep a copy of their values and gradient.
KEEP_ELEMENTS = 16

class _ThreadState(threading.local):
    """Per thread: whether backward leaves a summary, and the last one it left."""

    enabled: bool = True  # class attributes: each thread's defaults, no AttributeError to catch
    last: GraphSummary | None = None


_thread = _ThreadState()
_creation_number = attrgetter("_seq")


class SummaryNode:
    """A tensor of a released graph as the pictures see it: the read-only part of a Tensor.

    Same attribute names as :class:`~tinygrad_nn.tensor.Tensor` (``op``, ``name``, ``parents``,
    ``shape``, ``data``, ``grad``, …), so the pictures draw either. ``data`` and ``grad`` are
    copies for tensors of at most :data:`KEEP_ELEMENTS` elements and ``None`` for bigger ones
    (``values_kept`` is False then).

    Examples
    --------
    >>> from tinygrad_nn import Tensor, graph_summary
    >>> a = Tensor(2.0, requires_grad=True, name="a")
    >>> loss = a * 3
    >>> loss.backward()
    >>> node = graph_summary.last_summary().node(loss)
    >>> node.op, node.shape, float(node.grad), [p.name for p in node.parents]
    ('mul', (), 1.0, ['a', None])
    """

    __slots__ = ("_parents", "_requires_grad", "_seq", "data", "dtype", "grad", "name", "op",
                 "scope", "shape")

    graph_released = False

    def __init__(self, seq: int, op: str | None, name: str | None, scope: str | None,
                 shape: tuple[int, ...], dtype: np.dtype, data: np.ndarray | None,
                 grad: np.ndarray | None, requires_grad: bool = True) -> None:
        self._seq = seq
        self._requires_grad = requires_grad
        self.op = op
        self.name = name
        self.scope = scope
        self.shape = shape
        self.dtype = dtype
        self.data = data
        self.grad = grad
        self._parents: tuple[Any, ...] = ()

    @property
    def parents(self) -> tuple[Any, ...]:
        """The op's inputs: SummaryNodes, or the live leaf Tensors.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True, name="x")
        >>> (x * x).sum().backward()
        >>> root = graph_summary.last_summary().root()
        >>> root.parents[0].op
        'mul'
        """
        return self._parents

    @property
    def is_leaf(self) -> bool:
        """True for a leaf whose Tensor is gone (a constant of the expression).

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 2).sum().backward()
        >>> graph_summary.last_summary().root().is_leaf
        False
        """
        return self.op is None

    @property
    def requires_grad(self) -> bool:
        """Whether backward sent this tensor a gradient.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * 2).sum().backward()
        >>> graph_summary.last_summary().root().requires_grad
        True
        """
        return self._requires_grad

    @property
    def size(self) -> int:
        """The number of elements.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> graph_summary.last_summary().root().parents[0].size
        2
        """
        size = 1
        for n in self.shape:
            size *= n
        return size

    @property
    def ndim(self) -> int:
        """The number of axes.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> graph_summary.last_summary().root().ndim
        0
        """
        return len(self.shape)

    @property
    def values_kept(self) -> bool:
        """Whether ``data`` (and ``grad``) were kept: at most KEEP_ELEMENTS elements.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0] * 100, requires_grad=True)
        >>> (x * x).sum().backward()
        >>> root = graph_summary.last_summary().root()
        >>> root.values_kept, root.parents[0].values_kept
        (True, False)
        """
        return self.data is not None

    def __repr__(self) -> str:
        return f"SummaryNode(op={self.op!r}, shape={self.shape}, name={self.name!r})"


class GraphSummary:
    """The summary one ``backward()`` leaves of its graph (see the module's docstring).

    Built by the backward pass (:meth:`add` for every tensor it visits, then :meth:`publish`);
    read by the pictures through :func:`last_summary`.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, graph_summary
    >>> w = Tensor([1.0, -2.0], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> summary = graph_summary.last_summary()
    >>> summary.covers(loss), summary.retained
    (True, False)
    >>> summary.node(loss).parents[0].grad          # the intermediate w*w's gradient
    array([1., 1.])
    """

    __slots__ = ("_records", "_root_seq", "retained")

    def __init__(self, root: Tensor, retained: bool) -> None:
        self._root_seq: int = root._seq
        self.retained = retained
        # creation number -> (op, name, scope, shape, dtype, inputs: leaves themselves and
        # creation numbers, kept values, kept gradient, requires grad), or for a result that
        # needs no gradient (weak reference, name, scope, shape, dtype, False, values, None);
        # retained: creation number -> the gradient array
        self._records: dict[int, Any] = {}

    # ---- written by the backward pass ----------------------------------------------------

    @classmethod
    def start(cls, root: Tensor, retained: bool) -> GraphSummary | None:
        """A new summary for ``root``'s backward pass, or None while :func:`paused`.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> y = Tensor([1.0], requires_grad=True) * 2
        >>> graph_summary.GraphSummary.start(y, retained=False) is not None
        True
        >>> with graph_summary.paused():
        ...     graph_summary.GraphSummary.start(y, retained=False)
        """
        return cls(root, retained) if _thread.enabled else None

    def add(self, node: Tensor, entry: list[Any] | None) -> None:
        """Record the op result ``node`` (visited by backward) and its gradient ``entry[0]``,
        before backward cuts its edges. Leaves are not passed: their consumers hold them.

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0], requires_grad=True)
        >>> y = x * 2
        >>> summary = graph_summary.GraphSummary(y, retained=False)
        >>> summary.add(y, [np.ones(1), False])
        >>> summary.node(y).grad
        array([1.])
        """
        records = self._records
        if self.retained:  # the graph stays: only the gradients are needed
            if entry is not None:
                records[node._seq] = entry[0]
            return
        parents = node._parents
        data = node.data
        # An input is held itself if it is a leaf (a parameter, the data, a constant: drawn
        # live, until the next backward), else by its creation number.
        if len(parents) == 2:  # the common cases spelled out: this runs for every node
            first, second = parents
            inputs: tuple[Any, ...] = (first if first._op is None else first._seq,
                                       second if second._op is None else second._seq)
            if not first._requires_grad and first._op is not None:
                self._add_constant(first)
            if not second._requires_grad and second._op is not None:
                self._add_constant(second)
        elif len(parents) == 1:
            first = parents[0]
            inputs = (first if first._op is None else first._seq,)
        else:
            inputs = tuple(p if p._op is None else p._seq for p in parents)
            for parent in parents:
                if not parent._requires_grad and parent._op is not None:
                    self._add_constant(parent)
        # tolist(): a copy as cheap as it gets (0-d arrays: 4x cheaper than .copy())
        if data.size <= KEEP_ELEMENTS:
            records[node._seq] = (node._op, node.name, node._scope, data.shape, data.dtype,
                                  inputs, data.tolist(),
                                  None if entry is None else entry[0].tolist(), True)
        else:
            records[node._seq] = (node._op, node.name, node._scope, data.shape, data.dtype,
                                  inputs, None, None, True)

    def _add_constant(self, t: Tensor) -> None:
        """A result that needs no gradient (an op on data and constants only, ``1 − Y``):
        held weakly, drawn live (with what it was made from) while it lives, else as a box
        with the copy of its values if it is small."""
        if t._seq not in self._records:
            data = t.data
            self._records[t._seq] = (
                weakref.ref(t), t.name, t._scope, data.shape, data.dtype, False,
                data.tolist() if data.size <= KEEP_ELEMENTS else None, None,
            )

    def publish(self) -> None:
        """Make this the thread's summary, replacing (and freeing) the previous one.

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> y = Tensor([1.0], requires_grad=True) * 2
        >>> summary = graph_summary.GraphSummary(y, retained=False)
        >>> summary.add(y, [np.ones(1), False])
        >>> summary.publish()
        >>> graph_summary.last_summary() is summary
        True
        """
        _thread.last = self

    # ---- read by the pictures ------------------------------------------------------------

    def covers(self, tensor: Any) -> bool:
        """Whether ``tensor`` belongs to this summary's graph.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0], requires_grad=True)
        >>> loss = (x * 2).sum()
        >>> loss.backward()
        >>> graph_summary.last_summary().covers(loss), graph_summary.last_summary().covers(x * 5)
        (True, False)
        """
        return getattr(tensor, "_seq", None) in self._records

    def gradient(self, tensor: Any) -> np.ndarray | None:
        """The gradient backward computed for a non-leaf ``tensor`` of a *retained* graph.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3
        >>> h.sum().backward(retain_graph=True)
        >>> graph_summary.last_summary().gradient(h)
        array([1., 1.])
        """
        if not self.retained:
            return None
        value = self._records.get(getattr(tensor, "_seq", -1))
        return value if isinstance(value, np.ndarray) else None

    def root(self) -> SummaryNode | Tensor | None:
        """The graph's root as a :class:`SummaryNode` (None for a retained summary).

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> graph_summary.last_summary().root().op
        'sum'
        """
        return None if self.retained else self._node(self._root_seq, {})

    def node(self, tensor: Any) -> SummaryNode | Tensor | None:
        """``tensor``'s node in a released graph, with its inputs linked; None if not in it.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, graph_summary
        >>> x = Tensor([3.0], requires_grad=True, name="x")
        >>> h = x * x
        >>> h.sum().backward()
        >>> graph_summary.last_summary().node(h).grad
        array([1.])
        """
        if self.retained or not self.covers(tensor):
            return None
        return self._node(tensor._seq, {})

    def _node(self, seq: int, built: dict[int, Any]) -> Any:
        # Iterative: a 10,000-op chain must not hit the recursion limit.
        records = self._records
        pending = [seq]
        order = []
        while pending:
            s = pending.pop()
            if s in built or s not in records:
                continue
            record = records[s]
            if isinstance(record[0], weakref.ref):
                ref, name, scope, shape, dtype, requires_grad, data, grad = record
                live = ref()
                built[s] = live if live is not None else SummaryNode(
                    s, None, name, scope, shape, dtype, _array(data, shape, dtype), None,
                    requires_grad)
                continue
            op, name, scope, shape, dtype, parent_seqs, data, grad, requires_grad = record
            built[s] = SummaryNode(s, op, name, scope, shape, dtype, _array(data, shape, dtype),
                                   _array(grad, shape, dtype), requires_grad)
            order.append((s, parent_seqs))
            pending.extend(p for p in parent_seqs if isinstance(p, int))
        for s, parent_seqs in order:
            built[s]._parents = tuple(p if not isinstance(p, int) else built[p]
                                      for p in parent_seqs
                                      if not isinstance(p, int) or p in built)
        return built.get(seq)


def _array(values: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    return None if values is None else np.array(values, dtype=dtype).reshape(shape)


def last_summary() -> GraphSummary | None:
    """The summary of the last ``backward()`` on this thread, or None before any.

    Examples
    --------
    >>> import threading
    >>> from tinygrad_nn import Tensor, graph_summary
    >>> (Tensor([1.0], requires_grad=True) * 2).sum().backward()
    >>> graph_summary.last_summary() is not None
    True
    >>> seen = []
    >>> thread = threading.Thread(target=lambda: seen.append(graph_summary.last_summary()))
    >>> thread.start(); thread.join()
    >>> seen                                   # each thread has its own
    [None]
    """
    return _thread.last


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Backward passes on this thread leave no summary inside the block (the last one stays).

    For a long training loop that never draws its steps: each ``backward()`` saves the <1 µs per
    tensor of the graph that building the summary costs.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, graph_summary
    >>> x = Tensor([1.0], requires_grad=True)
    >>> first = (x * 2).sum()
    >>> first.backward()
    >>> with graph_summary.paused():
    ...     (x * 3).sum().backward()
    >>> graph_summary.last_summary().covers(first)
    True
    """
    previous = _thread.enabled
    _thread.enabled = False
    try:
        yield
    finally:
        _thread.enabled = previous

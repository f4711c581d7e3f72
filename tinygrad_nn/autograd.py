"""The backward pass: the order it visits the graph, undoing broadcasting, adding up gradients,
and the NaN/Inf checks of anomaly mode.

What lives here, and only here:

* ``topological_order`` — the iterative (recursion-free) order in which backward visits nodes;
* ``unbroadcast`` — undoing numpy broadcasting on a gradient, for every op at once;
* gradient accumulation — when a tensor feeds several consumers, their gradients are added here;
* the anomaly checks (:func:`~tinygrad_nn.modes.detect_anomaly`) of forward outputs and backward
  gradients, and the user-code line they point to.

:meth:`Tensor.backward <tinygrad_nn.tensor.Tensor.backward>` checks its arguments and calls
:func:`run_backward`; the ops' own rules live in :mod:`tinygrad_nn.ops`.
"""

from __future__ import annotations

import functools
import linecache
import operator
import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_nn import modes
from tinygrad_nn.graph_summary import GraphSummary  # picture summary
from tinygrad_nn.versions import check_saved_arrays, last_change

if TYPE_CHECKING:
    from tinygrad_nn.tensor import Tensor

__all__ = ["BackwardRule", "run_backward", "topological_order", "unbroadcast"]

#: A backward rule: maps ``g`` = dL/dy of an op's output to dL/dx of one input.
BackwardRule = Callable[[np.ndarray], np.ndarray]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_PACKAGE_PREFIX = _PACKAGE_DIR + os.sep


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


_creation_number = operator.attrgetter("_seq")  # a tensor's creation number (C speed)


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
    added, stretched = _broadcast_axes(grad.shape, shape)
    summed = np.add.reduce(grad, axis=added) if added else grad
    if stretched:
        summed = np.add.reduce(summed, axis=stretched, keepdims=True)
    return np.asarray(summed)  # a reduction to 0-d gives a numpy scalar


@functools.lru_cache(maxsize=1024)
def _broadcast_axes(
    grad_shape: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes :func:`unbroadcast` sums: those broadcasting added in front, then (numbered
    after those are gone) those it stretched from length 1. Cached: a training step asks the
    same few questions every time (the bias's, ~0.5 µs each to answer)."""
    extra = len(grad_shape) - len(shape)
    kept = grad_shape[extra:]
    if extra < 0 or any(n != 1 and n != m for n, m in zip(shape, kept, strict=True)):
        raise ValueError(f"gradient of shape {grad_shape} cannot belong to shape {shape}")
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and kept[i] != 1)
    return tuple(range(extra)), stretched


def run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate ``seed`` = dL/d(root) to every tensor ``root`` depends on that requires grad.

    The engine behind :meth:`Tensor.backward <tinygrad_nn.tensor.Tensor.backward>`, which checks
    ``seed``'s shape and dtype first; leaves' ``.grad`` accumulate, non-leaves keep theirs only
    after ``retain_grad()``. Without ``retain_graph`` the saved arrays and edges are freed.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> run_backward(x * x, np.array([1.0, 10.0]))
    >>> x.grad
    array([ 2., 40.])
    """
    # grads[t] = [array, owned]; "owned" arrays were made here and may be added to in place.
    # An op's rule may return g itself or a view of it (add, reshape...), which must never be
    # written to or handed to a leaf without a copy.
    grads: dict[Tensor, list[Any]] = {root: [seed, False]}
    anomaly = modes.state.switches.anomaly_enabled  # this thread's, read once per backward()
    summary = GraphSummary.start(root, retain_graph)  # picture summary: what viz draws after
    for node in topological_order(root):
        entry = grads.pop(node, None)
        if node._op is None:  # a leaf: its gradient accumulates in .grad
            if entry is not None:
                g, owned = entry
                if anomaly:
                    _check_gradient_sum(node, g)
                # (the engine writes _grad: its own writes are not a step's to replay)
                if node._grad is None:  # a borrowed array is copied: .grad aliases nothing
                    node._grad = g if owned else g.copy()
                else:  # a new array, so a .grad saved earlier keeps its values
                    node._grad = _sum(node._grad, g)
            continue
        if summary is not None:
            summary.add(node, entry)  # picture summary (op results only: leaves stay live)
        if entry is None:
            continue
        g, owned = entry
        if anomaly:
            _check_gradient_sum(node, g)
        if node._retains_grad:
            node._grad = g if owned else g.copy()
        rules = node._rules
        if rules is None:
            raise RuntimeError(
                f"backward() through '{node._op}' (shape {node.shape}) a second time: its saved "
                f"arrays were freed by the first backward(); call backward(retain_graph=True) the "
                f"first time to keep them"
            )
        # An in-place change since the op ran (numbered by the same clock, tinygrad_nn.versions,
        # read at each node as another thread may change a tensor meanwhile): did it touch what
        # a rule that runs saved? (raises if so)
        if node._seq < last_change[0]:
            check_saved_arrays(node)
        for parent, rule in zip(node._parents, rules):  # noqa: B905
            if not parent._requires_grad:
                continue
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
            if anomaly:
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
    if summary is not None:
        summary.publish()  # picture summary


def _sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b as a new array (numpy would return a scalar for 0-d arrays)."""
    shape = a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape)
    return np.add(a, b, out=np.empty(shape, a.dtype))


# --------------------------------------------------------------------------------------------
# anomaly checks (only called when detect_anomaly is on)
# --------------------------------------------------------------------------------------------


def _user_frame() -> tuple[str, int, str] | None:
    """(file, line, function) of the innermost frame outside this package: the user's code.

    Walks frames directly and reads no source (that waits for an error), because anomaly mode
    calls this for every op.
    """
    frame: FrameType | None = sys._getframe(1)
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

"""What the pictures share: optional imports, walking a graph, formatting values and rules."""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections import deque
from typing import Any

import numpy as np

from tinygrad_nn import ops as _ops
from tinygrad_nn.graph_summary import GraphSummary, last_summary
from tinygrad_nn.tensor import Tensor

__all__: list[str] = []


_SMALL = 6  # tensors with at most this many elements show their values, bigger ones a summary
_PIP_HINT = "pip install 'tinygrad-nn[viz]'"


def _optional(module: str, what: str) -> Any:
    """Import an optional dependency, or say how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.split(".")[0]
        raise ImportError(
            f"tinygrad_nn.viz.{what} needs the Python package '{package}', which is not "
            f"installed: {_PIP_HINT}"
        ) from error


# --------------------------------------------------------------------------------------------
# walking the graph
# --------------------------------------------------------------------------------------------


def _released_error(what: str) -> ValueError:
    return ValueError(
        f"{what}: the graph of this tensor was released by backward(), and it is not the graph "
        f"of the last backward() on this thread (only that one leaves a summary to draw). Draw "
        f"right after its backward(), call loss.backward(retain_graph=True) to keep the whole "
        f"graph, or call {what}() before backward()"
    )


def _check_root(root: Any, what: str) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"{what}: root must be a tinygrad_nn Tensor; got {type(root).__name__}")


class _View:
    """The graph a picture draws: the live graph, or the summary backward() left of it.

    ``root`` is the tensor itself, or its :class:`~tinygrad_nn.graph_summary.SummaryNode` when
    backward() released the graph; :meth:`grad` also finds the intermediate gradients that
    backward() computed (kept in the summary), which ``.grad`` holds only after retain_grad().
    """

    def __init__(self, root: Any, summary: GraphSummary | None, released: bool) -> None:
        self.root = root
        self.summary = summary
        self.released = released

    def grad(self, t: Any) -> Any:
        grad = t.grad
        if grad is None and self.summary is not None and not self.released:
            grad = self.summary.gradient(t)
        return grad


def _resolve(root: Any, what: str) -> _View:
    """Check ``root`` and find what to draw of it (see :class:`_View`)."""
    _check_root(root, what)
    summary = last_summary()
    if root.graph_released:
        node = None if summary is None else summary.node(root)
        if node is None:
            raise _released_error(what)
        return _View(node, summary, released=True)
    if summary is not None and summary.retained and summary.covers(root):
        return _View(root, summary, released=False)
    return _View(root, None, released=False)


def _walk(root: Any, what: str) -> list[Any]:
    """Every tensor ``root`` depends on, breadth first from the root (nearest first); no
    recursion, so a 10,000-op chain is fine."""
    seen = {id(root)}
    order = [root]
    queue = deque((root,))
    while queue:
        node = queue.popleft()
        if node.graph_released:
            raise _released_error(what)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
                queue.append(parent)
    return order


# --------------------------------------------------------------------------------------------
# formatting values
# --------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.4g}"
    return "0" if text == "-0" else text


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return _number(values)


def _summary(array: np.ndarray | None) -> tuple[str, str | None]:
    """(values or min/mean/max, a warning about non-finite values or None). ``None`` is an
    array backward() did not keep (see :mod:`tinygrad_nn.graph_summary`)."""
    if array is None:
        return "not kept by backward()", None
    size = array.size
    if size == 0:
        return "empty", None
    if size <= _SMALL:
        # Plain Python on at most 6 numbers: several times faster than numpy calls, which
        # matters for graphs of 10,000 small tensors.
        flat = array.ravel().tolist()
        nested = array.tolist()
        if array.ndim >= 2:  # a matrix reads best one row per line
            text = "[" + ",\n ".join(_nested(row) for row in nested) + "]"
        else:
            text = _nested(nested)
        if all(math.isfinite(v) for v in flat):
            return text, None
        n_nan = sum(1 for v in flat if math.isnan(v))
        n_inf = sum(1 for v in flat if math.isinf(v))
        return text, f"⚠ {n_nan} NaN, {n_inf} Inf"
    finite = np.isfinite(array)
    all_finite = bool(finite.all())
    values = array if all_finite else array[finite]
    if values.size:
        text = (f"min {_number(float(values.min()))}  mean {_number(float(values.mean()))}"
                f"  max {_number(float(values.max()))}")
    else:
        text = "no finite values"
    if all_finite:
        return text, None
    n_nan = int(np.isnan(array).sum())
    n_inf = int(size - finite.sum() - n_nan)
    return text, f"⚠ {n_nan} NaN, {n_inf} Inf"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(shape)


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _input_letters(op_name: str, n_parents: int) -> tuple[str, ...] | None:
    """The rules' names for the inputs (``W``, ``A``, ``b`` for linear), if they match."""
    info = _ops.REGISTRY.get(op_name)
    if info is None or len(info.backward) != n_parents:
        return None
    return _rule_letters(info.backward)


@functools.lru_cache(maxsize=256)
def _rule_letters(backward: tuple[str, ...]) -> tuple[str, ...] | None:
    # Cached by the rules themselves, not the op's name: an op registered again under the
    # same name (a notebook cell run twice) gets its new letters.
    letters = []
    for rule in backward:
        match = re.match(r"\s*d(\S+?)\s*=", rule)
        if match is None:
            return None
        letters.append(match.group(1))
    return tuple(letters)

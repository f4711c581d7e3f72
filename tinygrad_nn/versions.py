"""In-place changes: the version counter a tensor shares with its views and ``detach()``, and the
check at ``backward()`` that no array a backward rule saved was changed since its op ran.

A tensor's ``_version`` is a one-element list, ``[count]``: a mutable cell that in-place
operators and :meth:`~tinygrad_nn.tensor.Tensor.mark_modified` increase. An op whose output is a
view of an input's memory (reshape, transpose, basic slicing), and ``detach()``, hand the same
list to the new tensor, so a change through any alias increases the one count all of them see
(PyTorch does the same). Each op records its inputs' and its output's counts when it runs.

Tensors are numbered when they are made, and in-place changes are numbered too, from the same
clock (:data:`next_number`): an op made after the latest change anywhere has seen every count as
it still is, so backward checks its counts only when an in-place change came after it (in a
training loop, none does: the update comes after ``backward()``).

At backward, a count that moved is checked against what the rules that will run actually
saved: the arrays a rule closes over. A rule must close over the arrays it reads and nothing
else (``shape = x.shape`` rather than ``x`` when only the shape is needed), so this is exact: an
op that saved nothing (``add``) may see its inputs change, as in PyTorch; ``exp``, ``sigmoid``,
``tanh`` and ``sqrt`` saved their output, which must not change.
"""

from __future__ import annotations

import functools
import itertools
import types
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_nn.tensor import Tensor

__all__ = ["check_saved_arrays", "last_change", "next_number", "output_counter", "saved_arrays"]

#: The clock: the next creation number of a tensor (tensor.py numbers every tensor with it), or
#: of an in-place change (``mark_modified`` numbers each one).
next_number = itertools.count().__next__

#: ``[number]`` of the latest in-place change of any tensor, in any thread (-1: none yet).
last_change = [-1]


# Objects a rule may close over that hold no array.
_HOLD_NO_ARRAY = (
    int, float, complex, bool, str, bytes, type(None), slice, type(Ellipsis), range, np.dtype,
    np.generic, np.ufunc, type, types.ModuleType, types.BuiltinFunctionType,
)


def output_counter(data: np.ndarray, parents: tuple[Tensor, ...]) -> list[int]:
    """The version counter for an op's output: its input's when ``data`` is a view of (or is)
    that input's memory, else a new one.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor(np.zeros((2, 3)))
    >>> output_counter(x.data.T, (x,)) is x._version, output_counter(x.data + 1, (x,))
    (True, [0])
    """
    base = data.base
    for parent in parents:
        memory = parent.data
        owner = memory if memory.base is None else memory.base  # numpy keeps the final owner
        if data is memory or (base is not None and base is owner):
            return parent._version
    return [0]


def saved_arrays(rule: Any) -> list[np.ndarray] | None:
    """The arrays a backward rule holds (what it closes over, its defaults), or ``None`` when it
    holds an object that could hide one (then everything it might read counts as saved).

    Examples
    --------
    >>> import numpy as np
    >>> def mul_rule(b):          # the shape of every op's rule: a closure over what it reads
    ...     return lambda g: g * b
    >>> b = np.zeros(2)
    >>> [a is b for a in saved_arrays(mul_rule(b))]
    [True]
    >>> saved_arrays(lambda g: g)  # add's rule saves nothing
    []
    """
    found: list[np.ndarray] = []
    return found if _collect(rule, found, set()) else None


def _collect(obj: Any, found: list[np.ndarray], visited: set[int]) -> bool:
    """Add the arrays reachable from obj to found; False if obj may hold arrays out of sight."""
    if isinstance(obj, np.ndarray):
        found.append(obj)
        return True
    if isinstance(obj, _HOLD_NO_ARRAY) or id(obj) in visited:
        return True
    visited.add(id(obj))
    if isinstance(obj, (tuple, list, set, frozenset)):
        return all(_collect(item, found, visited) for item in obj)
    if isinstance(obj, dict):
        return all(_collect(item, found, visited) for item in obj.values())
    if isinstance(obj, types.FunctionType):
        held = [cell.cell_contents for cell in obj.__closure__ or () if _filled(cell)]
        held += [*(obj.__defaults__ or ()), *(obj.__kwdefaults__ or {}).values()]
        return all(_collect(item, found, visited) for item in held)
    if isinstance(obj, types.MethodType):
        return _collect(obj.__func__, found, visited) and _collect(obj.__self__, found, visited)
    if isinstance(obj, functools.partial):
        return all(_collect(x, found, visited) for x in (obj.func, obj.args, obj.keywords))
    from tinygrad_nn.tensor import Tensor  # here: tensor.py imports this module

    if isinstance(obj, Tensor):
        found.append(obj.data)
        return True
    return False


def _filled(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True


def _reads(rule: Any, array: np.ndarray) -> bool:
    held = saved_arrays(rule)
    return held is None or any(np.may_share_memory(a, array) for a in held)


def check_saved_arrays(node: Tensor) -> None:
    """Raise ``RuntimeError`` if an array that a rule about to run saved has changed in place
    since ``node``'s op ran (an input's or the output's version count moved and the rule holds
    its memory). A count that moved for an array no running rule holds is fine.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> y = w.exp()
    >>> alias = y.detach()
    >>> alias += 1                # exp's rule saved y, which alias shares
    >>> check_saved_arrays(y)     # doctest: +ELLIPSIS
    Traceback (most recent call last):
    RuntimeError: the output of 'exp' (shape (2,)) was modified in place after 'exp' saved it; ...
    """
    op, parents, seen = node._op, node._parents, node._versions_seen
    running = [rule for parent, rule in zip(parents, node._rules or (), strict=True)
               if parent._requires_grad]
    for index, parent in enumerate(parents):
        now = parent._version[0]
        if now != seen[index] and any(_reads(rule, parent.data) for rule in running):
            name = f" ({parent.name})" if parent.name else ""
            alias = parent.name or "x"
            raise RuntimeError(
                f"an input of '{op}' (shape {parent.shape}) was modified in place after '{op}' "
                f"used it; backward() would use the new values. It is input {index}{name} of "
                f"'{op}', at version {seen[index]} when saved and {now} now: it, a view of it or "
                f"its detach() was changed by += -= *= /= or mark_modified(). Change it after "
                f"backward(), or make a new tensor instead of changing this one "
                f"({alias} = {alias} + 1 instead of {alias} += 1)"
            )
    now = node._version[0]
    if now != seen[-1] and any(_reads(rule, node.data) for rule in running):
        raise RuntimeError(
            f"the output of '{op}' (shape {node.shape}) was modified in place after '{op}' saved "
            f"it; backward() would use the new values ('{op}'s rule reads its output; version "
            f"{seen[-1]} when saved, {now} now: a view of it or its detach() was changed by "
            f"+= -= *= /= or mark_modified()). Change it after backward(), or change a copy "
            f"(Tensor(y.data) copies; detach() shares the memory)"
        )

"""The replay's source as it is written: its lines, its variable names and the objects they
are bound to, and the helpers the generated lines call for generic ops and leaves.

:mod:`tinygrad_nn.compiler.codegen` writes the replay with a :class:`Code`; the kernels
(:mod:`tinygrad_nn.compiler._kernels`) write their lines into it.
"""

from __future__ import annotations

import keyword
import math
from typing import Any

import numpy as np

from tinygrad_nn.autograd import _sum as add_new
from tinygrad_nn.autograd import unbroadcast
from tinygrad_nn.compiler._kernels import fusable, fuse
from tinygrad_nn.compiler._parallel import MIN_ELEMENTS, halves
from tinygrad_nn.compiler._trace import CompileError
from tinygrad_nn.tensor import Tensor

__all__ = ["Code", "ReplayResult", "accumulate", "grad_of", "result", "unshare"]

# The numpy functions the generated lines call by their own names.
_NUMPY_NAMES = (
    "add", "subtract", "multiply", "divide", "negative", "exp", "log", "log1p", "logaddexp",
    "reciprocal", "tanh", "maximum", "minimum", "greater", "matmul", "copyto", "asarray",
    "errstate",
)



class _Fused:
    """Consecutive recipes that run as one ``halves(...)`` call (see :meth:`Code.parallel`)."""

    def __init__(self, indent: str, calls: list[Any], comments: list[str]) -> None:
        self.indent, self.calls, self.comments = indent, calls, comments


class Code:
    """The replay function being written: its lines, its variable names and the objects the
    names are bound to (buffers, parameters, constants, helpers).

    Examples
    --------
    >>> code = Code(threads=1)
    >>> Z = code.buffer("Z1", (2, 3), np.dtype(np.float64))
    >>> code.line(f"multiply({Z}, 2.0, out={Z})")
    >>> Z, code.lines, code.namespace[Z].shape
    ('Z1', ['multiply(Z1, 2.0, out=Z1)'], (2, 3))
    """

    def __init__(self, threads: int, helpers: dict[str, Any] | None = None) -> None:
        #: The body: source lines, and groups of calls run on two cores (rendered at the end).
        self.lines: list[Any] = []
        #: What each line is for its step (a fused group's members show as themselves).
        self.shown: list[str] = []
        self.indent = ""  # of the lines being written (an if/else block's body)
        self.namespace: dict[str, Any] = {name: getattr(np, name) for name in _NUMPY_NAMES}
        self.namespace.update(helpers or {})
        self.namespace.update(halves=halves, add_new=add_new, grad_of=grad_of,
                              accumulate=accumulate, result=result, unshare=unshare)
        self.buffers: list[np.ndarray] = []
        self.threads = threads
        self._taken = set(self.namespace) | {"args", "np"}
        self._scratch: dict[tuple[tuple[int, ...], str], str] = {}
        self._writable: set[str] = set()
        self.aliases: dict[str, str] = {}  # a second name of a buffer -> its first name
        #: The buffer of an output with a row of ones under it (a packed product reads it).
        self.ones_rows: dict[str, str] = {}
        #: A packed gradient ``[dW | db]`` -> the names of its two parts.
        self.packed_grads: dict[str, tuple[str, str]] = {}
        self.part_ids: set[int] = set()  # views handed out as gradients (see unshare)
        self.constants: set[str] = set()  # names of arrays frozen when the step was traced
        #: Set by a kernel whose e^−x may overflow to inf (its right limit): the replay runs
        #: under ``errstate(over="ignore")``, as the eager op does.
        self.quiet_overflow = False

    def line(self, text: str) -> None:
        """Add a line to the function's body.

        Examples
        --------
        >>> code = Code(threads=1)
        >>> code.line("pass")
        >>> code.lines
        ['pass']
        """
        self.lines.append(self.indent + text)
        self.shown.append(self.indent + text)

    def parallel(self, recipe: Any, names: dict[str, str], comment: str = "") -> None:
        """A recipe run in row halves on two cores. A run of such calls over the same rows,
        none writing what another reads whole, becomes one call: one hand-off to the second
        core (~45 µs each on this project's machine) for several kernels.

        Examples
        --------
        >>> from tinygrad_nn.compiler._kernels import RELU, TANH
        >>> code = Code(threads=2)
        >>> Z = code.buffer("Z1", (256, 256), np.float64)
        >>> code.parallel(RELU, {"x": Z}, "A1 = relu(Z1)")
        >>> code.parallel(TANH, {"x": Z}, "tanh(A1)")
        >>> code.render()
        ['halves(relu_in_place_tanh_in_place, Z1)  # A1 = relu(Z1); tanh(A1)']
        """
        shown = self.indent + recipe.halves_line(names) + (f"  # {comment}" if comment else "")
        self.shown.append(shown)
        last = self.lines[-1] if self.lines else None
        if isinstance(last, _Fused) and last.indent == self.indent and fusable(
                [*last.calls, (recipe, names)], self.namespace):
            last.calls.append((recipe, names))
            last.comments.append(comment)
            return
        self.lines.append(_Fused(self.indent, [(recipe, names)], [comment]))

    def render(self) -> list[str]:
        """The body's lines, each group of calls on two cores as one ``halves(...)``."""
        out = []
        for item in self.lines:
            if not isinstance(item, _Fused):
                out.append(item)
                continue
            if len(item.calls) == 1:
                (recipe, names), = item.calls
            else:
                name = self.bind("_".join(r.__name__ for r, _ in item.calls), None)
                recipe, names = fuse(item.calls, name)
                self.namespace[name] = recipe
            comment = "; ".join(c for c in item.comments if c)
            out.append(item.indent + recipe.halves_line(names)
                       + (f"  # {comment}" if comment else ""))
        return out

    def _fresh_name(self, hint: str) -> str:
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint) or "v"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"v_{base}"
        candidate, k = base, 2
        while candidate in self._taken:
            candidate, k = f"{base}_{k}", k + 1
        self._taken.add(candidate)
        return candidate

    def local(self, hint: str) -> str:
        """A new name for a value computed at each replay (a local variable).

        Examples
        --------
        >>> code = Code(threads=1)
        >>> code.local("g"), code.local("g")
        ('g', 'g_2')
        """
        return self._fresh_name(hint)

    def bind(self, hint: str, obj: Any) -> str:
        """A new name bound to ``obj`` when the plan is built (looked up, not recomputed).

        Examples
        --------
        >>> code = Code(threads=1)
        >>> name = code.bind("lr", 0.5)
        >>> name, code.namespace[name]
        ('lr', 0.5)
        """
        name = self._fresh_name(hint)
        self.namespace[name] = obj
        return name

    def buffer(self, hint: str, shape: tuple[int, ...], dtype: Any) -> str:
        """A planned buffer: allocated now, written by every replay.

        Examples
        --------
        >>> code = Code(threads=1)
        >>> code.namespace[code.buffer("dW1", (2, 3), np.float32)].dtype
        dtype('float32')
        """
        array = np.empty(shape, dtype)
        self.buffers.append(array)
        return self.bind(hint, array)

    def scratch(self, shape: tuple[int, ...], dtype: Any) -> str:
        """A temporary used only inside one step: one buffer per shape and dtype, shared.

        Examples
        --------
        >>> code = Code(threads=1)
        >>> code.scratch((2, 3), np.float64) == code.scratch((2, 3), np.float64)
        True
        """
        key = (shape, np.dtype(dtype).str)
        if key not in self._scratch:
            self._scratch[key] = self.buffer("scratch", shape, dtype)
        return self._scratch[key]

    def alias(self, existing: str, hint: str) -> str:
        """A second name for a bound buffer (an op computed in place in it).

        Examples
        --------
        >>> code = Code(threads=1)
        >>> Z = code.buffer("Z1", (2, 3), np.float64)
        >>> A = code.alias(Z, "A1")
        >>> code.namespace[A] is code.namespace[Z], code.storage(A)
        (True, 'Z1')
        """
        name = self.bind(hint, self.namespace[existing])
        self.aliases[name] = self.storage(existing)
        return name

    def part(self, whole: str, hint: str, index: Any) -> str:
        """A name for a part (a view) of a bound buffer: ``whole[index]``.

        Examples
        --------
        >>> code = Code(threads=1)
        >>> dWb = code.buffer("dW1_b1", (2, 4), np.float64)
        >>> code.namespace[code.part(dWb, "db1", np.s_[:, -1:])].shape
        (2, 1)
        """
        view = self.namespace[whole][index]
        name = self.bind(hint, view)
        self.part_ids.add(id(view))
        return name

    def storage(self, name: str) -> str:
        """The first name of ``name``'s buffer (all names of one buffer give the same).

        Examples
        --------
        >>> Code(threads=1).storage("Z1")
        'Z1'
        """
        return self.aliases.get(name, name)

    def writable(self, name: str) -> bool:
        """Whether a rule being written may overwrite ``name``'s buffer (set by the lowering:
        a gradient buffer only this rule reads, or a saved output nothing reads any more).

        Examples
        --------
        >>> Code(threads=1).writable("A1")
        False
        """
        return name in self._writable

    def splits(self, *shapes: tuple[int, ...]) -> bool:
        """Whether a kernel over arrays of these shapes runs in row halves on two cores.

        Examples
        --------
        >>> Code(threads=2).splits((1024, 2048)), Code(threads=2).splits((8, 256))
        (True, False)
        """
        return self.threads == 2 and max(math.prod(s) for s in shapes) >= MIN_ELEMENTS

    def literal(self, value: Any, hint: str = "k") -> str:
        """A Python constant written into the source when it prints as itself, else bound.

        Examples
        --------
        >>> code = Code(threads=1)
        >>> code.literal((1,)), code.literal(np.ones(2))
        ('(1,)', 'k')
        """
        if value is None or type(value) in (bool, int, str) or (
                type(value) is float and math.isfinite(value)):  # numpy scalars: bound
            return repr(value)
        if isinstance(value, tuple) and all(
                v is None or isinstance(v, (bool, int)) for v in value):
            return repr(value)
        return self.bind(hint, value)


# --------------------------------------------------------------------------------------------
# runtime helpers of the generated code (generic ops and leaves)
# --------------------------------------------------------------------------------------------


def grad_of(rules: Any, index: int, g: np.ndarray, shape: tuple[int, ...], dtype: np.dtype
            ) -> tuple[np.ndarray, bool]:
    """A generic op's rule applied as the engine's backward applies it: the gradient for its
    input ``index``, summed back to ``shape`` and cast to ``dtype``, and whether the array is
    a fresh one (writable) rather than ``g`` or a view of it.

    Examples
    --------
    >>> g = np.ones((2, 3))
    >>> dx, fresh = grad_of(lambda g: g, 0, g, (2, 1), np.dtype(np.float64))
    >>> dx.ravel(), fresh
    (array([3., 3.]), True)
    """
    rule = rules if callable(rules) else rules[index]
    gp = rule(g)
    if type(gp) is not np.ndarray:  # numpy returns scalars for 0-d results
        gp = np.asarray(gp)
    fresh = gp is not g and gp.base is None
    if gp.shape != shape:
        gp, fresh = unbroadcast(gp, shape), True
    if gp.dtype != dtype:
        gp, fresh = gp.astype(dtype), True
    return gp, fresh


def accumulate(total: np.ndarray, owned: bool, g: np.ndarray) -> tuple[np.ndarray, bool]:
    """``total + g``, into ``total`` when the backward owns it, else as a new array.

    Examples
    --------
    >>> accumulate(np.ones(2), False, np.ones(2))
    (array([2., 2.]), True)
    """
    if owned:
        np.add(total, g, out=total)
        return total, True
    return add_new(total, g), True


class ReplayResult(Tensor):
    """A tensor a replay returned: a copy of its value, without the graph the step built (a
    replay runs numpy, not ops), so ``backward()`` on it says so instead of finding nothing.

    Examples
    --------
    >>> out = result(np.array(2.0), "loss")
    >>> out.item(), isinstance(out, Tensor)
    (2.0, True)
    >>> out.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tinygrad_nn.compiler._trace.CompileError: compile: backward() on 'loss', returned by a replay...
    """

    __slots__ = ()

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Refused: a replay's result has no graph (see the class).

        Examples
        --------
        >>> result(np.array(1.0), None).requires_grad
        False
        """
        raise CompileError(
            f"compile: backward() on {repr(self.name) if self.name else 'a tensor'}, returned by "
            f"a replay of a compiled step: a copy of its value, without a graph. Call backward() "
            f"inside the compiled step (compile the whole training step), or call the function "
            f"without tinygrad_nn.compile"
        )


def result(array: np.ndarray, name: str | None) -> Tensor:
    """A returned tensor: a fresh copy, so a later replay does not change it.

    Examples
    --------
    >>> result(np.array(2.0), "loss").item()
    2.0
    """
    out = ReplayResult._leaf(np.array(array, copy=True))
    out.name = name
    return out


def unshare(t: Tensor, buffer_ids: set[int]) -> None:
    """Copy a ``.grad`` kept from the last replay that is a planned buffer, before the kernels
    overwrite it (gradients accumulating across calls).

    Examples
    --------
    >>> t = Tensor([1.0], requires_grad=True)
    >>> t.grad = buffer = np.zeros(1)
    >>> unshare(t, {id(buffer)})
    >>> t.grad is buffer
    False
    """
    if t.grad is not None and id(t.grad) in buffer_ids:
        t.grad = t.grad.copy()

"""The op registry and the @op decorator: how a forward function with its backward rules
becomes a recorded Tensor op, and what the docs, pictures, nn and the CLI know about it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn.modes import state as _state  # its .tracer: the compiler's, while tracing
from tinygrad_nn.modes import tracing as _tracing
from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["REGISTRY", "OpInfo", "TensorIndexError", "activations", "op"]


class TensorIndexError(IndexError, ValueError):
    """An index out of range for a Tensor (both an IndexError and a ValueError, like numpy's
    AxisError, so code catching either works).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> try:
    ...     Tensor([1.0, 2.0])[5]
    ... except IndexError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    TensorIndexError True
    """


@dataclass(frozen=True)
class OpInfo:
    """What the docs and pictures know about an op: its name and formulas.

    Attributes
    ----------
    name : str
        The op's name, as ``Tensor.op`` reports it (``"sigmoid"``).
    formula : str
        The docstring's first line, e.g. ``"y = 1/(1+e^-x)   dx = g·y·(1−y)"``.
    forward : str
        The forward part, ``"y = 1/(1+e^-x)"``.
    backward : tuple of str
        One local backward rule per input, ``("dx = g·y·(1−y)",)``.
    notes : str
        The rest of the docstring: broadcasting, ties, kinks, fusion, then the Examples.
    method : str or None
        The Tensor method name, if any.
    operators : tuple of str
        The Python operators (``"__add__"``, reflected ``"__radd__"``) that call the op.
    fused : bool
        True for ops that exist for stability or speed and could be written with other ops.
    broadcasting : bool
        True for an elementwise op whose inputs numpy-broadcast against each other (add, sub,
        mul, div, pow); the engine sums its gradients back to each input's shape.
    activation_init : str or None
        Not None for a one-input elementwise activation that :class:`~tinygrad_nn.nn.MLP` and the
        CLI's ``--activation`` accept; the value names the default weight init for it
        (``"article"`` for sigmoid, ``"he"`` for relu, ``"xavier"`` for tanh).

    Examples
    --------
    >>> from tinygrad_nn import ops
    >>> info = ops.REGISTRY["sigmoid"]
    >>> info.forward
    'y = 1/(1+e^−x)'
    >>> info.backward
    ('dx = g·y·(1−y)',)
    >>> info.method, info.fused, info.activation_init
    ('sigmoid', False, 'article')
    >>> ops.REGISTRY["mul"].broadcasting
    True
    """

    name: str
    formula: str
    forward: str
    backward: tuple[str, ...]
    notes: str = ""
    method: str | None = None
    operators: tuple[str, ...] = field(default=())
    fused: bool = False
    broadcasting: bool = False
    activation_init: str | None = None


REGISTRY: dict[str, OpInfo] = {}

def activations() -> tuple[str, ...]:
    """The names of the activation ops (``activation_init`` set), in registry order.

    This is the one list of activations: :class:`~tinygrad_nn.nn.MLP` and the CLI's
    ``--activation`` accept exactly these.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> from tinygrad_nn import ops
    >>> ops.activations()[:3]
    ('sigmoid', 'tanh', 'relu')
    """
    return tuple(name for name, info in REGISTRY.items() if info.activation_init is not None)


Rules = Callable[[np.ndarray], np.ndarray] | Sequence[Callable[[np.ndarray], np.ndarray]]


def _parse_docstring(name: str, doc: str | None) -> tuple[str, str, tuple[str, ...], str]:
    if not doc or not doc.strip():
        raise TypeError(f"op '{name}' needs a docstring whose first line is its formula")
    lines = doc.strip().splitlines()
    formula = lines[0].strip()
    parts = [p.strip() for p in re.split(r"\s{3,}", formula) if p.strip()]
    notes = "\n".join(line.strip() for line in lines[1:]).strip()
    return formula, parts[0], tuple(parts[1:]), notes


def _constant(value: Any, dtype: np.dtype | None) -> Tensor:
    """Wrap a non-Tensor operand. Python scalars take the Tensor operand's dtype, so that
    ``x32 * 2.0`` stays float32; arrays keep theirs (numpy's promotion applies). Only a floating
    dtype is taken: a mask or index operand must not turn 2.5 into True or 2."""
    if (
        dtype is not None
        and dtype.kind == "f"
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        try:
            data = np.asarray(value, dtype=dtype)
        except OverflowError:
            raise ValueError(f"operand {value!r} is too large for {dtype}") from None
    else:
        data = as_array(value, "operand")
        if data is value:  # the caller's numpy array: copied, so changing it later is harmless
            data = data.copy()
            if _tracing[0] and _state.tracer is not None and not _state.tracer.suspended:
                _state.tracer.on_copy(value, data)  # compiler hook: the copy of a step's value
    return Tensor._leaf(data)


def _shapes(tensors: Sequence[Tensor]) -> str:
    return ", ".join(str(t.shape) for t in tensors)


def _sequence_items(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The inputs of a "sequence" op (concatenate, stack): the first argument, a non-empty list
    or tuple."""
    items = args[0] if args else None
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"{name}: needs a non-empty list of tensors; got {items!r}")
    return tuple(items)


def _with_constants(values: Sequence[Any]) -> tuple[Tensor, ...]:
    """``values`` with each non-Tensor wrapped as a constant in the dtype of the first floating
    Tensor among them (a where()'s boolean condition does not count)."""
    if len(values) == 2:  # x * 2, 1 - y: the common case spelled out (~0.3 µs less per op)
        a, b = values  # one of them is a Tensor; _constant takes its dtype only if floating
        if isinstance(a, Tensor):
            return a, _constant(b, a.data.dtype)
        if isinstance(b, Tensor):
            return _constant(a, b.data.dtype), b
    dtype = None
    for v in values:
        if isinstance(v, Tensor) and v.data.dtype.kind == "f":
            dtype = v.data.dtype
            break
    tensors = []
    for v in values:
        tensors.append(v if isinstance(v, Tensor) else _constant(v, dtype))
    return tuple(tensors)


def op(
    inputs: int | str = 1,
    *,
    method: str | None = None,
    operators: tuple[str, ...] = (),
    reflected: tuple[str, ...] = (),
    fused: bool = False,
    broadcasting: bool = False,
    activation_init: str | None = None,
) -> Callable[[Callable[..., tuple[np.ndarray, Rules]]], Callable[..., Tensor]]:
    """Register a function ``forward(*arrays, **static) -> (y, rules)`` as an op.

    Parameters
    ----------
    inputs : int or "sequence"
        How many leading arguments are Tensor inputs; ``"sequence"`` when the first argument is
        a list of Tensors (concatenate, stack).
    method : str, optional
        The Tensor method that calls the op. The method itself is one line in Tensor's class body
        (``def exp(self) -> Tensor: return F.exp(self)``); its docstring becomes the formula.
    operators, reflected : tuple of str
        Python operators (``"__add__"``) and reflected ones (``"__radd__"``) that call the op,
        likewise written in Tensor's class body.
    fused : bool
        Mark an op that exists only for numerical stability or measured speed.
    broadcasting : bool
        Mark an elementwise op whose inputs numpy-broadcast (see :class:`OpInfo`).
    activation_init : str, optional
        Mark a one-input elementwise activation and name its default weight init
        (``"article"``, ``"he"`` or ``"xavier"``; see :class:`OpInfo`).

    Examples
    --------
    >>> from tinygrad_nn import Tensor, ops
    >>> @ops.op(1)
    ... def cube(x):
    ...     '''y = x³   dx = g·3x²'''
    ...     return x**3, lambda g: g * 3 * x**2
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> cube(x).sum().backward()
    >>> x.grad
    array([ 3., 12.])
    >>> ops.REGISTRY["cube"].backward
    ('dx = g·3x²',)
    >>> del ops.REGISTRY["cube"]   # keep this example out of the op reference
    """

    def register(forward: Callable[..., tuple[np.ndarray, Rules]]) -> Callable[..., Tensor]:
        name = forward.__name__.rstrip("_")
        seq = inputs == "sequence"
        formula, fwd, bwd, notes = _parse_docstring(name, forward.__doc__)
        if activation_init is not None and inputs != 1:
            raise TypeError(f"op '{name}': an activation takes one input; got inputs={inputs!r}")
        REGISTRY[name] = OpInfo(
            name, formula, fwd, bwd, notes, method, operators + reflected, fused,
            broadcasting, activation_init,
        )

        # One way in for every op, in three steps: gather the inputs, make any non-Tensor among
        # them a constant, run the forward and record the result. It runs for every op, so the
        # common case (one or two inputs, all Tensors) costs one isinstance per input and
        # builds no list in a loop (measured: a comprehension costs ~0.2 µs per op).
        count = 1 if seq else int(inputs)

        def apply(*args: Any, **static: Any) -> Tensor:
            if seq:  # concatenate, stack: the inputs are the items of the first argument
                tensors, rest = _sequence_items(name, args), args[1:]
            elif len(args) == count:
                tensors, rest = args, ()
            elif len(args) > count:  # static arguments follow: axis=, shape, ...
                tensors, rest = args[:count], args[count:]
            else:
                raise TypeError(f"{name}: needs {count} input(s); got {len(args)}")
            for value in tensors:
                if not isinstance(value, Tensor):
                    tensors = _with_constants(tensors)
                    break
            try:
                # The common calls spelled out, each without a tuple of the arrays to spread
                # (and without empty * and ** when there is nothing to pass): this is every op.
                if seq:
                    y, rules = forward([t.data for t in tensors], *rest, **static)
                elif count == 1:
                    y, rules = (forward(tensors[0].data, *rest, **static) if rest or static
                                else forward(tensors[0].data))
                elif count == 2 and not (rest or static):
                    y, rules = forward(tensors[0].data, tensors[1].data)
                else:
                    y, rules = forward(*[t.data for t in tensors], *rest, **static)
            except TensorIndexError:
                raise
            except (ValueError, IndexError, TypeError, OverflowError) as error:
                kind = {IndexError: TensorIndexError, OverflowError: ValueError}.get(
                    type(error), TensorIndexError if isinstance(error, IndexError) else type(error)
                )
                message = str(error).removeprefix(f"{name}: ")  # numpy's matmul says "matmul: "
                raise kind(f"{name}: {message} (input shapes: {_shapes(tensors)})") from None
            if type(y) is not np.ndarray:  # numpy returns scalars for 0-d results
                y = np.asarray(y)
            if type(rules) is not tuple:  # one rule, or a list of them
                rules = (rules,) if callable(rules) else tuple(rules)
            out = Tensor._from_op(y, name, tensors, rules)
            if _tracing[0] and _state.tracer is not None:  # compiler hook
                _state.tracer.on_op(name, forward, tensors, seq, rest, static, out)
            return out

        apply.__name__ = name
        apply.__qualname__ = name
        apply.__doc__ = forward.__doc__
        apply.__wrapped__ = forward  # type: ignore[attr-defined]
        # The Tensor methods and operators that call this op are written out in Tensor's class
        # body (a test checks each one); their docstring is the op's formula, from here.
        for attribute in (method, *operators, *reflected):
            function = Tensor.__dict__.get(attribute) if attribute else None
            if callable(function) and function.__doc__ is None:
                function.__doc__ = formula
        return apply

    return register

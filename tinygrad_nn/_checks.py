"""Argument checks shared by the whole package: each returns the checked value or raises an error
naming the function at fault (``owner``), the argument and the value given.

Every message reads ``"<owner>: <name> must be <what>; got <value>"``, so a user sees which call
refused which value. ``owner=None`` leaves the owner out (for functions whose messages name the
argument alone). A bool is never accepted as a number (``True`` is an ``int`` to Python, but
``epochs=True`` is a mistake, not a request for one epoch).

Examples
--------
>>> from tinygrad_nn import _checks
>>> _checks.positive_int(3, "epochs", "train")
3
>>> _checks.positive_int(0, "epochs", "train")
Traceback (most recent call last):
...
ValueError: train: epochs must be an int >= 1; got 0
>>> _checks.choice("adam", "optimizer", ("sgd", "adam"), "train")
'adam'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "article_data",
    "article_layer_dims",
    "choice",
    "finite_array",
    "float_dtype",
    "is_whole_number",
    "layer_dims",
    "mismatches",
    "positive_float",
    "positive_int",
    "random_state",
    "real_number",
    "seed",
    "whole_number",
]

#: The floating dtypes models and layers accept.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _prefix(owner: str | None) -> str:
    return f"{owner}: " if owner else ""


def is_whole_number(value: Any) -> bool:
    """True for a Python or numpy integer that is not a bool.

    Examples
    --------
    >>> is_whole_number(3), is_whole_number(np.int64(3))
    (True, True)
    >>> is_whole_number(True), is_whole_number(3.0)
    (False, False)
    """
    return isinstance(value, Integral) and not isinstance(value, bool)


def whole_number(
    value: Any, name: str, owner: str | None, *, minimum: int | None = None, why: str = ""
) -> int:
    """``value`` as an ``int`` (not a bool, not a float), at least ``minimum`` if given.

    Parameters
    ----------
    value : Any
        What the caller passed.
    name : str
        The argument's name, as the caller wrote it (``"epochs"``, ``"layer_dims[1]"``).
    owner : str or None
        The function or class whose argument it is (``"train"``, ``"MLP"``).
    minimum : int, optional
        The smallest value allowed.
    why : str
        Why the minimum is what it is, shown in brackets after it.

    Raises
    ------
    TypeError
        Not an integer (a bool, a float, a string...).
    ValueError
        Below ``minimum``.

    Examples
    --------
    >>> whole_number(np.int32(4), "m", "moons", minimum=2)
    4
    >>> whole_number(2.0, "m", "moons")
    Traceback (most recent call last):
    ...
    TypeError: moons: m must be an int; got float 2.0
    >>> whole_number(1, "m", None, minimum=2, why="one example per class")
    Traceback (most recent call last):
    ...
    ValueError: m must be at least 2 (one example per class); got 1
    """
    if not is_whole_number(value):
        raise TypeError(f"{_prefix(owner)}{name} must be an int; got {type(value).__name__} "
                        f"{value!r}")
    if minimum is not None and value < minimum:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{_prefix(owner)}{name} must be at least {minimum}{reason}; got {value}")
    return int(value)


def positive_int(value: Any, name: str, owner: str | None) -> int:
    """``value`` as an ``int`` >= 1 (see :func:`whole_number`).

    Examples
    --------
    >>> positive_int(5, "n_out", "Linear")
    5
    >>> positive_int(True, "n_out", "Linear")
    Traceback (most recent call last):
    ...
    TypeError: Linear: n_out must be a positive int; got bool True
    """
    if not is_whole_number(value):
        raise TypeError(f"{_prefix(owner)}{name} must be a positive int; got "
                        f"{type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{_prefix(owner)}{name} must be an int >= 1; got {value}")
    return int(value)


def real_number(
    value: Any,
    name: str,
    owner: str | None,
    *,
    finite: bool = True,
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """``value`` as a ``float``: a real number (not a bool), finite unless ``finite=False``,
    and > 0 with ``positive=True`` or >= 0 with ``nonnegative=True``.

    Raises
    ------
    TypeError
        Not a real number.
    ValueError
        NaN, infinite (or an int beyond float range), or of the wrong sign.

    Examples
    --------
    >>> real_number(0.5, "noise", "moons", nonnegative=True)
    0.5
    >>> real_number(float("nan"), "lr", "train")
    Traceback (most recent call last):
    ...
    ValueError: train: lr must be a finite number; got nan
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{_prefix(owner)}{name} must be a real number; got "
                        f"{type(value).__name__} {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range, such as 10**400
        raise ValueError(f"{_prefix(owner)}{name} must be a finite number; got {value!r}") from None
    if finite and not math.isfinite(number):
        raise ValueError(f"{_prefix(owner)}{name} must be a finite number; got {number}")
    if math.isnan(number):
        raise ValueError(f"{_prefix(owner)}{name} must be a number, not NaN")
    if positive and not number > 0:
        raise ValueError(f"{_prefix(owner)}{name} must be > 0; got {number}")
    if nonnegative and not number >= 0:
        raise ValueError(f"{_prefix(owner)}{name} must be >= 0; got {number}")
    return number


def positive_float(value: Any, name: str, owner: str | None) -> float:
    """``value`` as a finite ``float`` > 0 (a learning rate, a tolerance).

    Examples
    --------
    >>> positive_float(2, "lr", "train")
    2.0
    >>> positive_float(0.0, "lr", "train")
    Traceback (most recent call last):
    ...
    ValueError: train: lr must be > 0; got 0.0
    """
    return real_number(value, name, owner, positive=True)


def choice(value: Any, name: str, choices: Sequence[str], owner: str | None) -> str:
    """``value`` if it is one of the strings ``choices``, else a ValueError listing them.

    Examples
    --------
    >>> choice("relu", "activation", ("sigmoid", "relu"), "MLP")
    'relu'
    >>> choice("softplus", "activation", ("sigmoid", "relu"), "MLP")
    Traceback (most recent call last):
    ...
    ValueError: MLP: unknown activation 'softplus'; valid choices are 'sigmoid', 'relu'
    """
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{_prefix(owner)}unknown {name} {value!r}; valid choices are {valid}")
    return value


def float_dtype(dtype: Any, owner: str | None) -> np.dtype:
    """``dtype`` resolved with ``np.dtype``, if it is float32 or float64.

    Examples
    --------
    >>> float_dtype("float32", "MLP")
    dtype('float32')
    >>> float_dtype(np.int64, "MLP")
    Traceback (most recent call last):
    ...
    ValueError: MLP: dtype must be float32 or float64; got int64
    """
    try:
        resolved = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):  # np.dtype(",") parses the string as a spec
        raise TypeError(
            f"{_prefix(owner)}dtype must be float32 or float64; got {dtype!r}"
        ) from None
    if resolved not in FLOAT_DTYPES:
        raise ValueError(f"{_prefix(owner)}dtype must be float32 or float64; got {resolved}")
    return resolved


def seed(value: Any, owner: str | None, *, allow_none: bool = True) -> int | None:
    """A seed for numpy's generators: an int in [0, 2**32), or ``None`` if allowed.

    Examples
    --------
    >>> seed(3, "MLP"), seed(None, "MLP")
    (3, None)
    >>> seed(-1, "MLP")
    Traceback (most recent call last):
    ...
    ValueError: MLP: seed must be in [0, 2**32); got -1
    """
    if value is None and allow_none:
        return None
    if not is_whole_number(value):
        accepted = "an int or None" if allow_none else "an int"
        raise TypeError(f"{_prefix(owner)}seed must be {accepted}; got {type(value).__name__} "
                        f"{value!r}")
    if not 0 <= value < 2**32:
        raise ValueError(f"{_prefix(owner)}seed must be in [0, 2**32); got {value}")
    return int(value)


def random_state(value: Any, owner: str | None) -> np.random.RandomState:
    """A ``RandomState`` from a seed (see :func:`seed`), or the given RandomState itself.

    Examples
    --------
    >>> rng = random_state(3, "Linear")
    >>> bool(rng.randn() == np.random.RandomState(3).randn())
    True
    >>> random_state(rng, "Linear") is rng
    True
    """
    if isinstance(value, np.random.RandomState):
        return value
    if value is not None and not is_whole_number(value):
        raise TypeError(f"{_prefix(owner)}seed must be an int, a RandomState or None; got "
                        f"{type(value).__name__} {value!r}")
    return np.random.RandomState(seed(value, owner))


def layer_dims(value: Any, owner: str | None) -> list[int]:
    """``value`` as a list of at least 2 positive ints ``[n_0, n_1, ..., n_L]``.

    Examples
    --------
    >>> layer_dims((2, np.int64(4), 1), "MLP")
    [2, 4, 1]
    >>> layer_dims([2, 0, 1], "train")
    Traceback (most recent call last):
    ...
    ValueError: train: layer_dims[1] must be a positive int; got 0 in [2, 0, 1]
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(
            f"{_prefix(owner)}layer_dims must be a sequence of ints [n_0, n_1, ..., n_L]; got "
            f"{type(value).__name__} {value!r}"
        )
    dims = list(value)
    if len(dims) < 2:
        raise ValueError(
            f"{_prefix(owner)}layer_dims needs at least 2 sizes (the input size and one layer's "
            f"width); got {dims}"
        )
    for index, size in enumerate(dims):
        if not is_whole_number(size):
            raise TypeError(
                f"{_prefix(owner)}layer_dims[{index}] must be a positive int; got "
                f"{type(size).__name__} {size!r} in {dims}"
            )
        if size < 1:
            raise ValueError(
                f"{_prefix(owner)}layer_dims[{index}] must be a positive int; got {size} in {dims}"
            )
    return [int(size) for size in dims]


# ---- data in the article's layout (train, crosscheck) -------------------------------------------


def finite_array(array: np.ndarray, name: str, owner: str | None) -> None:
    """Raise a ValueError naming the first NaN/Inf in ``array`` (row-major order), if any.

    Examples
    --------
    >>> finite_array(np.array([[0.0, 1.0]]), "X", "train")
    >>> try:
    ...     finite_array(np.array([[0.0, np.nan]]), "X", "train")
    ... except ValueError as error:
    ...     print(str(error)[:62])
    train: X contains non-finite values (1 of 2); the first is nan
    """
    finite = np.isfinite(array)
    if finite.all():
        return
    bad = np.argwhere(~finite)
    index = tuple(int(i) for i in bad[0])
    value = array[index]
    where = f"{name}[{', '.join(map(str, index))}]"
    if array.ndim == 2:
        where += f" (row {index[0]}, example {index[1]})"
    raise ValueError(
        f"{_prefix(owner)}{name} contains non-finite values ({len(bad)} of {array.size}); the "
        f"first is {value} at {where}. Clean or drop those examples before training"
    )


def article_data(X: np.ndarray, Y: np.ndarray, owner: str | None) -> None:
    """Check numeric arrays ``X`` (n_features, m) and ``Y`` (1, m): examples as columns, the
    same m, finite, labels in [0, 1].

    Examples
    --------
    >>> article_data(np.zeros((2, 3)), np.ones((1, 3)), "train")
    >>> article_data(np.zeros((2, 3)), np.ones(3), "train")
    Traceback (most recent call last):
    ...
    ValueError: train: Y must have shape (1, m) = (1, 3); got (3,) (use Y.reshape(1, 3))
    """
    p = _prefix(owner)
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(
            f"{p}X must be a 2-D array (n_features, m) with examples as columns and m >= 1; "
            f"got shape {X.shape}"
        )
    m = X.shape[1]
    if Y.ndim != 2 or Y.shape[0] != 1:
        hint = f" (use Y.reshape(1, {Y.shape[0]}))" if Y.ndim == 1 else ""
        raise ValueError(f"{p}Y must have shape (1, m) = (1, {m}); got {Y.shape}{hint}")
    if Y.shape[1] != m:
        raise ValueError(
            f"{p}X and Y must hold the same number of examples (columns): X has shape "
            f"{X.shape} (m={m}), Y has shape {Y.shape} (m={Y.shape[1]})"
        )
    finite_array(X, "X", owner)
    finite_array(Y, "Y", owner)
    outside = (Y < 0) | (Y > 1)
    if outside.any():
        j = int(np.argmax(outside[0]))
        raise ValueError(
            f"{p}Y holds binary labels (or probabilities) in [0, 1]; Y[0, {j}] = {Y[0, j]} is "
            f"outside"
        )


def article_layer_dims(value: Any, n_features: int, owner: str | None) -> list[int]:
    """:func:`layer_dims`, then what the data demands: the first size is the number of
    features, and the last layer has one (sigmoid) unit, as Y is (1, m).

    Examples
    --------
    >>> article_layer_dims([2, 4, 1], 2, "train")
    [2, 4, 1]
    >>> article_layer_dims([3, 1], 2, "train")
    Traceback (most recent call last):
    ...
    ValueError: train: layer_dims[0] = 3 must equal the number of features, X.shape[0] = 2
    """
    dims = layer_dims(value, owner)
    if dims[0] != n_features:
        raise ValueError(
            f"{_prefix(owner)}layer_dims[0] = {dims[0]} must equal the number of features, "
            f"X.shape[0] = {n_features}"
        )
    if dims[-1] != 1:
        raise ValueError(
            f"{_prefix(owner)}the last layer must have 1 unit (one sigmoid output per example, "
            f"Y is (1, m)); got layer_dims[-1] = {dims[-1]}"
        )
    return dims


def mismatches(
    missing: Sequence[str], unexpected: Sequence[str], mismatched: Sequence[str] = ()
) -> str:
    """How a set of named arrays differs from the one expected, or ``""`` when it does not.

    State dicts, checkpoints and archives all report a mismatch the same way.

    Examples
    --------
    >>> mismatches(["W2"], ["extra"], ["b1: shape (3,), expected (3, 1)"])
    'missing: W2 | unexpected: extra | mismatched: b1: shape (3,), expected (3, 1)'
    >>> mismatches([], [])
    ''
    """
    problems = []
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected: {', '.join(unexpected)}")
    if mismatched:
        problems.append(f"mismatched: {'; '.join(mismatched)}")
    return " | ".join(problems)

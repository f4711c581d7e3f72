"""The cross-check: one forward and backward pass of the article's network both ways, the
engine's ``loss.backward()`` against the article's hand-derived backprop, compared layer by layer.

:func:`crosscheck` (exported as ``tinygrad_nn.crosscheck`` and ``tinygrad_nn.training.crosscheck``)
reports, for every layer, how far the engine's ``dW``, ``db``, ``dZ`` and ``dA`` are from the
article's (:mod:`tinygrad_nn.reference`).

Examples
--------
>>> import tinygrad_nn
>>> X, Y = tinygrad_nn.data.load("article", m=100, seed=0)
>>> report = tinygrad_nn.crosscheck(X, Y, [2, 4, 3, 1])
>>> report.ok, report.max_error < 1e-10
(True, True)
>>> [row.quantity for row in report.rows][:4]
['dW1', 'db1', 'dZ1', 'dA0']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_nn import _checks, ops, reference
from tinygrad_nn.nn import MLP, binary_cross_entropy
from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["CrosscheckReport", "CrosscheckRow", "crosscheck"]


@dataclass(frozen=True)
class CrosscheckRow:
    """One compared quantity, e.g. ``dW2``.

    Attributes
    ----------
    quantity : str
        ``"dW{l}"``, ``"db{l}"``, ``"dZ{l}"`` or ``"dA{l-1}"``.
    shape : tuple of int
    max_abs_diff : float
        ``max |engine − article|`` in units of the true gradient (the article's ``dZ``/``dA``
        divided by m first).
    max_rel_diff : float
        ``max_abs_diff`` divided by the size of the terms that make the quantity (see
        :func:`crosscheck`); 0 when both are 0.
    ok : bool
        ``max_rel_diff <= rtol``.
    scaled_by_m : bool
        Whether the article's value was divided by m before comparing (``dZ`` and ``dA``).

    Examples
    --------
    >>> import tinygrad_nn
    >>> X, Y = tinygrad_nn.data.load("article", m=20, seed=0)
    >>> row = tinygrad_nn.crosscheck(X, Y, [2, 3, 1])["dW2"]
    >>> row.quantity, row.shape, row.ok, row.scaled_by_m
    ('dW2', (1, 3), True, False)
    """

    quantity: str
    shape: tuple[int, ...]
    max_abs_diff: float
    max_rel_diff: float
    ok: bool
    scaled_by_m: bool


@dataclass(frozen=True)
class CrosscheckReport:
    """What :func:`crosscheck` found: one row per quantity, layer 1 first.

    Attributes
    ----------
    rows : list of CrosscheckRow
        ``dW1, db1, dZ1, dA0, dW2, db2, dZ2, dA1, ...``.
    layer_dims : list of int
    m : int
        Number of examples; the article's ``dZ`` and ``dA`` were divided by it.
    cost : str
        ``"article"`` (the article's formula written with Tensor ops) or ``"fused"``
        (``ops.bce_with_logits``).
    rtol : float
        The tolerance a row's relative difference must meet.

    Examples
    --------
    >>> import tinygrad_nn
    >>> X, Y = tinygrad_nn.data.load("article", m=20, seed=0)
    >>> report = tinygrad_nn.crosscheck(X, Y, [2, 3, 1])
    >>> report.ok, report.layer_dims, report.m, len(report.rows)
    (True, [2, 3, 1], 20, 8)
    >>> report["dZ1"].scaled_by_m   # a row by its quantity
    True
    """

    rows: list[CrosscheckRow]
    layer_dims: list[int]
    m: int
    cost: str
    rtol: float

    @property
    def ok(self) -> bool:
        """True when every row is within ``rtol``.

        Examples
        --------
        >>> import tinygrad_nn
        >>> X, Y = tinygrad_nn.data.load("article", m=20, seed=0)
        >>> tinygrad_nn.crosscheck(X, Y, [2, 3, 1]).ok
        True
        """
        return all(row.ok for row in self.rows)

    @property
    def max_error(self) -> float:
        """The largest relative difference over all rows.

        Examples
        --------
        >>> import tinygrad_nn
        >>> X, Y = tinygrad_nn.data.load("article", m=20, seed=0)
        >>> tinygrad_nn.crosscheck(X, Y, [2, 3, 1]).max_error < 1e-12   # rounding only
        True
        """
        return max(row.max_rel_diff for row in self.rows)

    def __getitem__(self, quantity: str) -> CrosscheckRow:
        for row in self.rows:
            if row.quantity == quantity:
                return row
        raise KeyError(f"no row {quantity!r}; rows are {[r.quantity for r in self.rows]}")

    def __str__(self) -> str:
        cost = {
            "article": "the article's −(1/m)·Σ[y·ln a + (1−y)·ln(1−a)] composed of Tensor ops",
            "fused": "fused ops.bce_with_logits(Z_L, Y), whose dZ_L is (A_L − Y)/m",
        }[self.cost]
        header = ("quantity", "shape", "max |abs diff|", "max rel diff", "ok")
        table = [
            (
                row.quantity + ("*" if row.scaled_by_m else ""),
                "×".join(map(str, row.shape)),
                f"{row.max_abs_diff:.2e}",
                f"{row.max_rel_diff:.2e}",
                "yes" if row.ok else "NO",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]

        def fmt(line: tuple[str, ...]) -> str:
            first, *rest = (cell.rjust(w) if i else cell.ljust(w)
                            for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
            return "  ".join([first, *rest]).rstrip()

        verdict = "ok" if self.ok else "MISMATCH"
        lines = [
            f"crosscheck: engine (loss.backward()) vs the article's backprop, layer_dims "
            f"{self.layer_dims}, m = {self.m}",
            f"cost: {cost}",
            fmt(header),
            fmt(tuple("-" * w for w in widths)),
            *(fmt(line) for line in table),
            "* the article's dZ and dA are m times the true gradients (its dAL has no 1/m);",
            f"  they were divided by m = {self.m} before comparing.",
            "rel diff = max |engine − article| / max of the same formula on absolute values",
            "  (e.g. |dZ|·|A_prev|ᵀ/m for dW): a sum of m terms that cancel near a minimum",
            "  keeps its rounding relative to the terms, not to the small result.",
            f"max_error = {self.max_error:.2e} (rtol {self.rtol:.0e}): {verdict}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"CrosscheckReport(ok={self.ok}, max_error={self.max_error:.2e}, "
            f"rows={len(self.rows)}, layer_dims={self.layer_dims}, m={self.m})"
        )


def crosscheck(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims_or_params: Sequence[int] | Mapping[str, np.ndarray],
    *,
    cost: str = "article",
    rtol: float = 1e-8,
) -> CrosscheckReport:
    """Compare the engine's gradients with the article's, layer by layer, for one pass.

    The article's side is :func:`reference.forward_prop` then :func:`reference.backprop` (which
    calls :func:`reference.one_layer_backward` per layer); its ``dZ`` is obtained from
    ``one_layer_backward`` too (see the comment in the code). The engine's side is the same
    network written out with ops, ``Z = W @ A_prev + b`` then ``A = Z.sigmoid()``,
    keeping the gradients of every ``Z`` and ``A`` with ``retain_grad()``, and one
    ``loss.backward()``. Everything runs in float64.

    Parameters
    ----------
    X : array_like, (n_features, m)
    Y : array_like, (1, m)
        Labels in [0, 1].
    layer_dims_or_params : list of int, or dict
        Layer sizes (the article's initial weights are used: seed 3), or a params dict
        ``{'W1', 'b1', ...}`` in the article's layout.
    cost : {"article", "fused"}, keyword-only
        How the engine computes the cost: the article's formula composed of Tensor ops, as
        :func:`~tinygrad_nn.nn.binary_cross_entropy` records it (its ``dA_L`` is then the
        article's ``dAL``/m), or the stable fused ``ops.bce_with_logits``
        (``dZ_L = (A_L − Y)/m``).
    rtol : float, keyword-only
        A row is ok when its relative difference is at most this.

    Notes
    -----
    The relative difference of a quantity is ``max |engine − article|`` divided by the largest
    value of the same formula applied to absolute values: ``|dZ|·|A_prev|ᵀ/m`` for ``dW``,
    ``Σ|dZ|/m`` for ``db``, ``|W|ᵀ·|dZ|`` for ``dA_prev``, ``|dZ|`` for ``dZ``. Rounding in a
    sum is relative to the size of its terms; near a minimum the m terms of ``dW`` and ``db``
    cancel, and a difference relative to the small result would flag correct formulas (1e-9
    and worse) while a wrong formula still shows up at 1e-3 or more.

    Returns
    -------
    CrosscheckReport
        ``.ok``, ``.max_error``, ``.rows``; ``print(report)`` shows the table.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2, 50))
    >>> Y = (X[:1] > 0).astype(float)
    >>> report = crosscheck(X, Y, [2, 3, 1])
    >>> report.ok
    True
    >>> [row.quantity for row in report.rows]
    ['dW1', 'db1', 'dZ1', 'dA0', 'dW2', 'db2', 'dZ2', 'dA1']
    >>> report["dZ1"].shape, report["dZ1"].scaled_by_m
    ((3, 50), True)
    >>> print(str(report).splitlines()[2])
    quantity  shape  max |abs diff|  max rel diff   ok
    """
    _checks.choice(cost, "cost", ("article", "fused"), "crosscheck")
    rtol = _checks.positive_float(rtol, "rtol", "crosscheck")
    X, Y = as_array(X, "crosscheck: X"), as_array(Y, "crosscheck: Y")
    _checks.article_data(X, Y, "crosscheck")
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    params = _params_for_crosscheck(layer_dims_or_params, X)
    L = len(params) // 2
    m = X.shape[1]
    dims = [X.shape[0]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]  # noqa: E741

    article, sizes = _article_gradients(X, Y, params)
    engine = _engine_gradients(X, Y, params, cost)

    rows = []
    for l in range(1, L + 1):  # noqa: E741
        for quantity, scaled in ((f"dW{l}", False), (f"db{l}", False),
                                 (f"dZ{l}", True), (f"dA{l - 1}", True)):
            expected = article[quantity] / m if scaled else article[quantity]
            rows.append(
                _compare(quantity, engine[quantity], expected, sizes[quantity], scaled, rtol)
            )
    return CrosscheckReport(rows=rows, layer_dims=dims, m=m, cost=cost, rtol=float(rtol))


def _params_for_crosscheck(
    layer_dims_or_params: Sequence[int] | Mapping[str, np.ndarray], X: np.ndarray
) -> dict[str, np.ndarray]:
    if isinstance(layer_dims_or_params, Mapping):
        return _check_params(layer_dims_or_params, X)
    dims = _checks.article_layer_dims(layer_dims_or_params, X.shape[0], "crosscheck")
    return MLP(dims).state_dict()  # the article's init_params, without reseeding numpy


def _check_params(params: Mapping[str, Any], X: np.ndarray) -> dict[str, np.ndarray]:
    L = len(params) // 2
    expected = {f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"}  # noqa: E741
    if L == 0 or set(params) != expected:
        raise ValueError(
            f"crosscheck: params must hold W1, b1, ..., WL, bL like the article's init_params; "
            f"got keys {sorted(params)}"
        )
    checked = {}
    n_prev = X.shape[0]
    for l in range(1, L + 1):  # noqa: E741
        W = as_array(params[f"W{l}"], f"crosscheck: params['W{l}']").astype(np.float64)
        b = as_array(params[f"b{l}"], f"crosscheck: params['b{l}']").astype(np.float64)
        if W.ndim != 2 or W.shape[1] != n_prev:
            raise ValueError(
                f"crosscheck: params['W{l}'] must have shape (n_{l}, {n_prev}); got {W.shape}"
            )
        if b.shape != (W.shape[0], 1):
            raise ValueError(
                f"crosscheck: params['b{l}'] must have shape ({W.shape[0]}, 1); got {b.shape}"
            )
        _checks.finite_array(W, f"params['W{l}']", "crosscheck")
        _checks.finite_array(b, f"params['b{l}']", "crosscheck")
        checked[f"W{l}"], checked[f"b{l}"] = W, b
        n_prev = W.shape[0]
    if n_prev != 1:
        raise ValueError(
            f"crosscheck: the last layer must have 1 unit (Y is (1, m)); params['W{L}'] has "
            f"{n_prev} rows"
        )
    return checked


def _article_gradients(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The article's dW{l}, db{l}, dA{l-1} (from backprop) and dZ{l} (from one_layer_backward),
    and for each the size of its terms in true-gradient units (see crosscheck's Notes)."""
    AL, caches = reference.forward_prop(X, params)
    grads = reference.backprop(AL, Y, caches)
    # The article's first line of backprop: the gradient that enters the last layer.
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    L, m = len(caches), X.shape[1]
    sizes = {}
    for l in range(1, L + 1):  # noqa: E741
        dA = dAL if l == L else grads[f"dA{l}"]
        (A_prev, W, b), Z = caches[l - 1]
        # one_layer_backward keeps dZ to itself, but returns dA_prev = Wᵀ·dZ: with W replaced
        # by the identity that is dZ itself, exactly (1·x plus zeros rounds to x), computed by
        # the article's own code rather than by a copy of its formula.
        identity = np.eye(W.shape[0])
        dZ, _, _ = reference.one_layer_backward(dA, ((A_prev, identity, b), Z))
        grads[f"dZ{l}"] = dZ
        with np.errstate(invalid="ignore", over="ignore"):
            abs_dZ = np.abs(dZ) / m  # true-gradient units
            sizes[f"dZ{l}"] = _largest(abs_dZ)
            sizes[f"dW{l}"] = _largest(abs_dZ @ np.abs(A_prev).T)
            sizes[f"db{l}"] = _largest(abs_dZ.sum(axis=1))
            sizes[f"dA{l - 1}"] = _largest(np.abs(W).T @ abs_dZ)
    return grads, sizes


def _largest(array: np.ndarray) -> float:
    return float(array.max()) if array.size else 0.0


def _engine_gradients(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray], cost: str
) -> dict[str, np.ndarray | None]:
    """The same network written out with ops; one loss.backward(). A gradient the engine did
    not compute is None (and makes its row fail)."""
    L = len(params) // 2
    A0 = Tensor(X, requires_grad=True, name="A0")  # a leaf: its grad is dJ/dA0
    weights, Zs, As = {}, {}, {0: A0}
    A_prev = A0
    for l in range(1, L + 1):  # noqa: E741
        W = Tensor(params[f"W{l}"], requires_grad=True, name=f"W{l}")
        b = Tensor(params[f"b{l}"], requires_grad=True, name=f"b{l}")
        if l > 1:
            A_prev.retain_grad()
        Z = (W @ A_prev + b).retain_grad()
        A = Z.sigmoid()
        weights[l], Zs[l], As[l] = (W, b), Z, A
        A_prev = A
    labels = Tensor(Y, name="Y")
    if cost == "article":
        J = binary_cross_entropy(As[L], labels)  # the article's formula, composed of Tensor ops
    else:
        J = ops.bce_with_logits(Zs[L], labels)
    J.backward()

    grads: dict[str, np.ndarray | None] = {}
    for l in range(1, L + 1):  # noqa: E741
        W, b = weights[l]
        grads[f"dW{l}"], grads[f"db{l}"] = W.grad, b.grad
        grads[f"dZ{l}"], grads[f"dA{l - 1}"] = Zs[l].grad, As[l - 1].grad
    return grads


def _compare(
    quantity: str,
    engine: np.ndarray | None,
    article: np.ndarray,
    size: float,
    scaled: bool,
    rtol: float,
) -> CrosscheckRow:
    shape = tuple(article.shape)
    if engine is None:  # the engine computed nothing for it: as wrong as it gets
        return CrosscheckRow(quantity, shape, math.inf, math.inf, False, scaled)
    if engine.shape != article.shape:
        raise ValueError(
            f"crosscheck: {quantity} has shape {engine.shape} in the engine but "
            f"{article.shape} in the article"
        )
    if engine.size == 0:
        abs_diff = rel_diff = 0.0
    elif not (np.isfinite(engine).all() and np.isfinite(article).all() and math.isfinite(size)):
        # A NaN or Inf on either side (the article's dAL once the sigmoid saturates) is never
        # agreement, even where both sides went NaN together.
        abs_diff = rel_diff = math.inf
    else:
        abs_diff = float(np.abs(engine - article).max())
        # The terms' size, or the values' own if larger (a wrong engine value can be).
        scale = max(size, float(np.abs(engine).max()), float(np.abs(article).max()))
        rel_diff = abs_diff / scale if scale else 0.0
    return CrosscheckRow(quantity, shape, abs_diff, rel_diff, rel_diff <= rtol, scaled)

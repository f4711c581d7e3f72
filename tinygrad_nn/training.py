"""The article's ``train``, with the engine computing the gradients, and a layer-by-layer
cross-check of the engine's backprop against the article's formulas.

Both functions are exported from the package: ``tinygrad_nn.train`` and
``tinygrad_nn.crosscheck``.

* :func:`train` has the article's signature ``train(X, Y, layer_dims, epochs, lr)`` and returns
  ``(params, cost_history)`` like the article, but every gradient comes from ``loss.backward()``
  (an :class:`~tinygrad_nn.nn.MLP`, :func:`~tinygrad_nn.nn.binary_cross_entropy` and
  :class:`~tinygrad_nn.optim.SGD`). In float64 its ``cost_history`` equals
  :func:`tinygrad_nn.reference.train`'s to about 1e-13, epoch by epoch.
* :func:`crosscheck` runs one forward and backward pass both ways and reports, for every layer,
  how far the engine's ``dW``, ``db``, ``dZ`` and ``dA`` are from the article's.

Examples
--------
>>> import numpy as np
>>> import tinygrad_nn
>>> from tinygrad_nn import data, reference
>>> X, Y = data.load("article", m=100, seed=0)
>>> params, cost_history = tinygrad_nn.train(X, Y, [2, 3, 1], epochs=50, lr=1.0)
>>> _, article_history = reference.train(X, Y, [2, 3, 1], epochs=50, lr=1.0)
>>> bool(np.allclose(cost_history, article_history, rtol=1e-10, atol=0))
True
>>> report = tinygrad_nn.crosscheck(X, Y, [2, 4, 3, 1])
>>> report.ok, report.max_error < 1e-10
(True, True)
>>> [row.quantity for row in report.rows][:4]
['dW1', 'db1', 'dZ1', 'dA0']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_nn import _checks, ops, reference
from tinygrad_nn.nn import MLP, binary_cross_entropy
from tinygrad_nn.optim import SGD, Adam, Optimizer
from tinygrad_nn.tensor import Tensor, as_array

__all__ = ["CrosscheckReport", "CrosscheckRow", "crosscheck", "train"]


# ---------------------------------------------------------------------------------------------
# input checks shared by train and crosscheck
# ---------------------------------------------------------------------------------------------


def _first_non_finite(array: np.ndarray, name: str, owner: str) -> None:
    """Raise a ValueError naming the first NaN/Inf in ``array`` (row-major order), if any."""
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
        f"{owner}: {name} contains non-finite values ({len(bad)} of {array.size}); the first is "
        f"{value} at {where}. Clean or drop those examples before training"
    )


def _check_data(X: Any, Y: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """X as (n_features, m) and Y as (1, m), numeric, finite, labels in [0, 1]."""
    X = as_array(X, f"{owner}: X")
    Y = as_array(Y, f"{owner}: Y")
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(
            f"{owner}: X must be a 2-D array (n_features, m) with examples as columns and m >= 1; "
            f"got shape {X.shape}"
        )
    m = X.shape[1]
    if Y.ndim != 2 or Y.shape[0] != 1:
        hint = f" (use Y.reshape(1, {Y.shape[0]}))" if Y.ndim == 1 else ""
        raise ValueError(f"{owner}: Y must have shape (1, m) = (1, {m}); got {Y.shape}{hint}")
    if Y.shape[1] != m:
        raise ValueError(
            f"{owner}: X and Y must hold the same number of examples (columns): X has shape "
            f"{X.shape} (m={m}), Y has shape {Y.shape} (m={Y.shape[1]})"
        )
    _first_non_finite(X, "X", owner)
    _first_non_finite(Y, "Y", owner)
    outside = (Y < 0) | (Y > 1)
    if outside.any():
        j = int(np.argmax(outside[0]))
        raise ValueError(
            f"{owner}: Y holds binary labels (or probabilities) in [0, 1]; Y[0, {j}] = "
            f"{Y[0, j]} is outside"
        )
    return X, Y


def _check_layer_dims(layer_dims: Any, X: np.ndarray, owner: str) -> list[int]:
    """MLP's checks of ``layer_dims``, then the ones that depend on the data: the first size
    is X's number of features and the last layer has one (sigmoid) unit, as Y is (1, m)."""
    dims = _checks.layer_dims(layer_dims, owner)
    if dims[0] != X.shape[0]:
        raise ValueError(
            f"{owner}: layer_dims[0] = {dims[0]} must equal the number of features, X.shape[0] "
            f"= {X.shape[0]}"
        )
    if dims[-1] != 1:
        raise ValueError(
            f"{owner}: the last layer must have 1 unit (one sigmoid output per example, Y is "
            f"(1, m)); got layer_dims[-1] = {dims[-1]}"
        )
    return dims


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------

OptimizerChoice = str | Callable[[list[Tensor]], Optimizer]


def train(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: Sequence[int],
    epochs: int,
    lr: float,
    *,
    optimizer: OptimizerChoice = "sgd",
    activation: str = "sigmoid",
    callback: Callable[[int, float, MLP], Any] | None = None,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train the article's network with the engine computing the gradients.

    Same signature and results as :func:`tinygrad_nn.reference.train`: start from the article's
    initial weights (``MLP(layer_dims)``, seed 3), then every epoch run the forward pass,
    record the cost, ``backward()``, and take one full-batch step.

    Parameters
    ----------
    X : array_like, (n_features, m)
        Examples as columns.
    Y : array_like, (1, m)
        Labels in [0, 1].
    layer_dims : sequence of int
        ``[n_features, n_1, ..., 1]``.
    epochs : int
        Number of full-batch steps, >= 0.
    lr : float
        Learning rate, > 0.
    optimizer : "sgd", "adam" or callable, keyword-only
        ``"sgd"`` (the article's gradient descent) or ``"adam"``, both with ``lr``; or a
        function ``params -> Optimizer`` (then ``lr`` is not used by it), e.g.
        ``lambda params: SGD(params, lr=0.5, momentum=0.9)``.
    activation : str, keyword-only
        The hidden layers' activation, passed to :class:`~tinygrad_nn.nn.MLP`; the default
        ``"sigmoid"`` is the article's network.
    callback : callable, keyword-only
        Called after every epoch as ``callback(epoch, cost, model)``; return ``True`` to stop.

    Returns
    -------
    (params, cost_history)
        ``params``: ``{'W1': ndarray, 'b1': ..., ...}`` (copies); ``cost_history``: one float
        per epoch, the cost *before* that epoch's update.

    Raises
    ------
    ValueError
        For ``epochs`` < 0, ``lr`` <= 0, ``X``/``Y`` of different ``m``, ``Y`` not ``(1, m)``,
        labels outside [0, 1], or NaN/Inf in ``X`` or ``Y`` (naming the first one).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[-2.0, -1.0, 1.0, 2.0]])
    >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> params, cost_history = train(X, Y, [1, 1], epochs=100, lr=1.0)
    >>> cost_history[-1] < cost_history[0]
    True
    >>> sorted(params)
    ['W1', 'b1']
    """
    epochs = _checks.whole_number(epochs, "epochs", "train", minimum=0)
    lr = _checks.positive_float(lr, "lr", "train")
    if callback is not None and not callable(callback):
        raise TypeError(f"train: callback must be callable; got {type(callback).__name__}")
    X, Y = _check_data(X, Y, "train")
    dims = _check_layer_dims(layer_dims, X, "train")

    model = MLP(dims, activation=activation)
    step = _make_optimizer(optimizer, model.parameters(), lr)
    # Converted once to the model's dtype, so no epoch copies or converts them again.
    inputs = Tensor(X.astype(model.dtype, copy=False), name="X")
    labels = Tensor(Y.astype(model.dtype, copy=False), name="Y")
    cost_history: list[float] = []
    for epoch in range(epochs):
        step.zero_grad()
        loss = binary_cross_entropy(model(inputs), labels)
        cost = loss.item()
        cost_history.append(cost)
        loss.backward()
        step.step()
        if callback is not None and callback(epoch, cost, model) is True:
            break
    return model.state_dict(), cost_history


def _make_optimizer(choice: OptimizerChoice, params: list[Tensor], lr: float) -> Optimizer:
    if isinstance(choice, str):
        name = choice.strip().lower()
        if name == "sgd":
            return SGD(params, lr=lr)
        if name == "adam":
            return Adam(params, lr=lr)
        raise ValueError(f"train: optimizer must be 'sgd', 'adam' or a callable; got {choice!r}")
    if not callable(choice):
        raise TypeError(
            f"train: optimizer must be 'sgd', 'adam' or a callable params -> Optimizer; got "
            f"{type(choice).__name__}"
        )
    built = choice(params)
    if not isinstance(built, Optimizer):
        raise TypeError(
            f"train: the optimizer callable must return an Optimizer; it returned "
            f"{type(built).__name__}"
        )
    return built


# ---------------------------------------------------------------------------------------------
# crosscheck
# ---------------------------------------------------------------------------------------------


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
    X, Y = _check_data(X, Y, "crosscheck")
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
    dims = _check_layer_dims(layer_dims_or_params, X, "crosscheck")
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
        _first_non_finite(W, f"params['W{l}']", "crosscheck")
        _first_non_finite(b, f"params['b{l}']", "crosscheck")
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
) -> dict[str, np.ndarray]:
    """The same network written out with ops; one loss.backward()."""
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

    grads = {}
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

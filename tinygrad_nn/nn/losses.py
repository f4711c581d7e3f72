"""Losses: binary cross-entropy (the article's cost), its logits form, MSE and cross-entropy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_nn import ops
from tinygrad_nn.tensor import Tensor, as_array

__all__ = [
    "LOG_FLOOR",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "mse",
    "nll_loss",
]


def _prediction(value: Any, loss: str, what: str) -> Tensor:
    tensor = value if isinstance(value, Tensor) else Tensor(as_array(value, f"{loss}: {what}"))
    if tensor.size == 0:
        raise ValueError(f"{loss}: {what} is empty (shape {tensor.shape}): nothing to average")
    return tensor


def _labels(value: Any, like: Tensor, loss: str, what: str) -> Tensor:
    """Labels as a Tensor: Tensors pass through (gradients may flow into them); arrays become
    constants of the prediction's dtype, so that a float32 model gets a float32 loss."""
    if isinstance(value, Tensor):
        return value
    array = as_array(value, f"{loss}: {what}")
    return Tensor(array.astype(like.dtype, copy=False), name=what.split()[0])


def _check_same_shape(
    loss: str, prediction: Tensor, labels: Tensor, p_name: str, y_name: str
) -> None:
    p_shape, y_shape = prediction.shape, labels.shape
    if p_shape == y_shape:
        return
    advice = []
    try:
        broadcast = np.broadcast_shapes(p_shape, y_shape)
    except ValueError:
        broadcast = None
    if broadcast is not None and broadcast != p_shape:
        # The classic trap: a (1, m) row against an (m, 1) column (or (m,) against (m, 1))
        # broadcasts to (m, m) and gives a plausible-looking, wrong loss.
        advice.append(f"numpy would silently broadcast them to {broadcast}: a wrong loss")
    if prediction.size == labels.size:
        advice.append(f"reshape {y_name.split()[0]} to {p_shape}, e.g. with .reshape{p_shape}")
    if len(p_shape) == 2 and p_shape[0] == 1:
        advice.insert(0, "the article's layout is (1, m) for both")
    raise ValueError(
        f"{loss}: {p_name} has shape {p_shape} but {y_name} has shape {y_shape}; they must be "
        f"equal" + "".join(f"; {a}" for a in advice)
    )


def _check_in_unit_interval(loss: str, array: np.ndarray, what: str, advice: str = "") -> None:
    n_nan = int(np.isnan(array).sum())
    if n_nan:
        raise ValueError(f"{loss}: {what} contains {n_nan} NaN value(s)")
    outside = (array < 0) | (array > 1)
    if outside.any():
        raise ValueError(
            f"{loss}: {what} must lie in [0, 1]; {int(outside.sum())} value(s) do not, ranging "
            f"from {array.min().item()!r} to {array.max().item()!r}{advice}"
        )


#: The smallest value whose log :func:`binary_cross_entropy` takes in float64: ``e^−100``, so
#: that each log is at least −100, PyTorch's ``BCELoss`` clamp. (In float32, where e^−100 is
#: subnormal and the log's rule ``g / a`` would overflow, the floor is the smallest normal
#: float32, ``1.18e−38``: each log is at least −87.3.)
LOG_FLOOR = math.exp(-100.0)


def _log_floor(dtype: np.dtype) -> float:
    if dtype.kind != "f":
        return LOG_FLOOR
    return max(LOG_FLOOR, float(np.finfo(dtype).tiny))


def binary_cross_entropy(A: Tensor, Y: Any) -> Tensor:
    """The article's cost: ``J = -(1/m) Σ [y ln a + (1-y) ln(1-a)]``, a scalar Tensor.

    Recorded as written, with Tensor ops, whatever made ``A``: ``1 - A``, two ``clip`` (see
    below) and two ``log``, two ``mul``, an ``add``, ``mean`` and a ``neg``, so the graph and
    ``loss.backward()`` are the article's formula and its gradient
    ``dA = -(Y/A - (1-Y)/(1-A))/m``. The mean is over all elements of ``A`` (for the article's
    ``(1, m)`` output, over the m examples).

    **Saturation, visibly handled** (the article's defect 6, which ``tinygrad_nn.reference``
    keeps as the article wrote it; the other five are fixed there): a saturated sigmoid gives
    ``a = 0``
    or ``a = 1`` exactly (logits beyond about ±37 in float64), and ``ln 0 = −inf`` would make the
    cost infinite and its gradient NaN. So each log's argument first goes through a ``clip`` op,
    ``ln(clip(a, e^−100))`` and ``ln(clip(1 − a, e^−100))``, which is ``max(ln a, −100)``:
    PyTorch's ``BCELoss`` clamps each log at −100 in the same way (in float32 the floor is
    the smallest normal float32 and a log at least −87.3; see :data:`LOG_FLOOR`). The cost is
    then at most 100 per example (never inf or NaN); a clipped log passes no gradient (the
    clip's rule), an unclipped one the formula's own, even for a tiny ``a`` where PyTorch's
    backward, which divides by ``max(a(1 − a), 1e−12)``, loses it. Where ``a`` is in
    ``[e^−100, 1 − e^−100]`` nothing is changed. For a cost that is exact *and* stable at any
    logit, give the logits to :func:`binary_cross_entropy_with_logits` instead (the fused op
    ``bce_with_logits``); such rewrites of the recorded graph are the compiler's job
    (``tinygrad_nn.compile``), not the loss's.

    Parameters
    ----------
    A : Tensor
        Predicted probabilities in [0, 1], e.g. ``(1, m)``.
    Y : array_like or Tensor
        Labels in [0, 1] (0/1, or soft labels), the same shape as ``A``.

    Raises
    ------
    ValueError
        ``A`` and ``Y`` of different shapes (naming both; ``(m,)`` against ``(1, m)`` would
        silently broadcast to ``(m, m)``); labels outside [0, 1] or NaN; probabilities outside
        [0, 1] (with the advice to use the logits loss, if they are logits).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Z = Tensor([[0.0, 2.0, -1.0]], requires_grad=True)
    >>> J = binary_cross_entropy(Z.sigmoid(), np.array([[1.0, 1.0, 0.0]]))
    >>> round(J.item(), 6), J.op
    (0.377779, 'neg')
    >>> J.backward()
    >>> Z.grad.round(4)          # (A - Y) / m
    array([[-0.1667, -0.0397,  0.0896]])
    >>> saturated = Tensor([[1000.0]]).sigmoid()          # exactly 1.0
    >>> binary_cross_entropy(saturated, np.array([[0.0]])).item()   # ln(1 - 1) clamped
    100.0
    """
    loss = "binary_cross_entropy"
    A = _prediction(A, loss, "A (predictions)")
    Y = _labels(Y, A, loss, "Y (labels)")
    _check_same_shape(loss, A, Y, "A (predictions)", "Y (labels)")
    _check_in_unit_interval(loss, Y.data, "Y (labels)")
    _check_in_unit_interval(
        loss,
        A.data,
        "A (predictions)",
        "; if these are logits, use binary_cross_entropy_with_logits",
    )
    floor = _log_floor(A.dtype)
    log_A = ops.clip(A, low=floor).log()
    log_1_minus_A = ops.clip(1 - A, low=floor).log()
    return -(Y * log_A + (1 - Y) * log_1_minus_A).mean()


def binary_cross_entropy_with_logits(Z: Tensor, Y: Any) -> Tensor:
    """Binary cross-entropy of ``sigmoid(Z)``, computed from the logits ``Z``: stable for any Z.

    ``J = mean(max(z, 0) - z·y + ln(1 + e^-|z|))``, which equals the article's cost of
    ``A = sigmoid(Z)`` without ever forming ``ln 0`` or overflowing (finite, with finite
    gradient, for logits of ±1000). Its gradient is ``(sigmoid(Z) - Y) / n``: the article's
    ``dZ_L = A_L - Y`` over the number of elements n (m for a ``(1, m)`` output).

    Parameters
    ----------
    Z : Tensor
        Logits, e.g. ``MLP.logits(X)``, shape ``(1, m)``.
    Y : array_like or Tensor
        Labels in [0, 1], the same shape as ``Z``.

    Raises
    ------
    ValueError
        Shapes differ (naming both); labels outside [0, 1] or NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Z = Tensor([[1000.0, -1000.0]], requires_grad=True)
    >>> J = binary_cross_entropy_with_logits(Z, np.array([[0.0, 1.0]]))
    >>> J.item()
    1000.0
    >>> J.backward()
    >>> Z.grad
    array([[ 0.5, -0.5]])
    """
    loss = "binary_cross_entropy_with_logits"
    Z = _prediction(Z, loss, "Z (logits)")
    Y = _labels(Y, Z, loss, "Y (labels)")
    _check_same_shape(loss, Z, Y, "Z (logits)", "Y (labels)")
    _check_in_unit_interval(loss, Y.data, "Y (labels)")
    return ops.bce_with_logits(Z, Y)


def mse(A: Tensor, Y: Any) -> Tensor:
    """Mean squared error ``mean((A - Y)²)`` over all elements, a scalar Tensor.

    Raises
    ------
    ValueError
        Shapes differ (naming both); NaN in the targets.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> mse(Tensor([[1.0, 2.0, 4.0]]), [[1.0, 0.0, 1.0]]).item()
    4.333333333333333
    """
    loss = "mse"
    A = _prediction(A, loss, "A (predictions)")
    Y = _labels(Y, A, loss, "Y (targets)")
    _check_same_shape(loss, A, Y, "A (predictions)", "Y (targets)")
    n_nan = int(np.isnan(Y.data).sum())
    if n_nan:
        raise ValueError(f"{loss}: Y (targets) contains {n_nan} NaN value(s)")
    difference = A - Y
    return (difference * difference).mean()


def _class_targets(
    labels: Any, k: int, m: int, dtype: np.dtype, loss: str = "cross_entropy"
) -> Tensor:
    """One-hot (k, m) targets from class indices ((m,) or (1, m)), or the given (k, m) ones."""
    if isinstance(labels, Tensor):
        array = labels.data
    else:
        try:
            array = np.asarray(labels)
        except (ValueError, TypeError) as error:
            raise TypeError(f"{loss}: labels must be a numeric array; got {error}") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{loss}: labels must be numeric; got dtype {array.dtype}")
    if array.shape == (k, m):
        # Class probabilities per column (one-hot, or soft labels).
        _check_in_unit_interval(loss, array, f"labels of shape ({k}, m) (one-hot columns)")
        sums = array.sum(axis=0)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
            column = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"{loss}: one-hot labels of shape ({k}, {m}) need every column to sum to 1; "
                f"column {column} sums to {sums[column].item()!r}"
            )
        if isinstance(labels, Tensor):
            return labels
        return Tensor(array.astype(dtype, copy=False))
    if array.shape not in ((m,), (1, m)):
        raise ValueError(
            f"{loss}: logits have shape ({k}, {m}) (k classes, m examples) but labels have shape "
            f"{array.shape}; expected class indices of shape ({m},) or (1, {m}), or one-hot "
            f"labels of shape ({k}, {m})"
        )
    indices = array.reshape(m)
    if indices.dtype.kind == "f":
        n_nan = int(np.isnan(indices).sum())
        if n_nan:
            raise ValueError(f"{loss}: labels contain {n_nan} NaN value(s)")
        not_whole = indices != np.round(indices)
        if not_whole.any():
            raise ValueError(
                f"{loss}: labels must be integer class indices in [0, {k}); got "
                f"{indices[not_whole][0].item()!r} (at column {int(np.argmax(not_whole))})"
            )
    outside = (indices < 0) | (indices >= k)
    if outside.any():
        raise ValueError(
            f"{loss}: labels must be integer class indices in [0, {k}) for {k} classes; got "
            f"{indices[outside][0].item()!r} (at column {int(np.argmax(outside))})"
        )
    # One-hot with ops (a comparison, then a product with 1), not numpy indexing: the graph
    # holds it, so a compiled step makes it from each call's labels (numpy work on the labels
    # would be frozen at tracing, every later batch trained on the first batch's labels).
    labels = labels if isinstance(labels, Tensor) else Tensor(array)
    classes = Tensor(np.arange(k).reshape(k, 1))
    return (labels.reshape(1, m) == classes) * Tensor(np.ones((), dtype))


_REDUCTIONS = ("mean", "sum", "none")


def _label_array(labels: Any, loss: str) -> np.ndarray:
    if isinstance(labels, Tensor):
        return labels.data
    try:
        return np.asarray(labels)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{loss}: labels must be a numeric array; got {error}") from None


def _class_weights(weight: Any, k: int, dtype: np.dtype, loss: str) -> np.ndarray | None:
    if weight is None:
        return None
    array = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if array.dtype.kind not in "biuf" or array.shape != (k,):
        raise ValueError(
            f"{loss}: weight must hold one number per class, shape ({k},); got shape "
            f"{array.shape} (dtype {array.dtype})"
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"{loss}: weight must be finite and >= 0; got {array.tolist()}")
    return array.astype(dtype)


def _class_loss(
    log_probs: Tensor,
    labels: Any,
    loss: str,
    weight: Any,
    ignore_index: int | None,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """The shared core of cross_entropy and nll_loss: ``-Σ_c w_c·q_c·log p_c`` per example,
    reduced as PyTorch does (the weighted mean divides by the kept examples' class weights)."""
    k, m = log_probs.shape
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        valid = ", ".join(repr(r) for r in _REDUCTIONS)
        raise ValueError(f"{loss}: unknown reduction {reduction!r}; valid choices are {valid}")
    if (
        isinstance(label_smoothing, bool)
        or not isinstance(label_smoothing, (int, float))
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(f"{loss}: label_smoothing must be in [0, 1]; got {label_smoothing!r}")
    w = _class_weights(weight, k, log_probs.dtype, loss)
    array = _label_array(labels, loss)
    as_indices = array.shape != (k, m)
    kept: Tensor | None = None  # the examples not ignored, (m,) booleans
    if ignore_index is not None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"{loss}: ignore_index must be an int or None; got {ignore_index!r}")
        if not as_indices:
            raise ValueError(
                f"{loss}: ignore_index applies to class indices, not to ({k}, {m}) class "
                f"probabilities (give the ignored columns zero weight instead)"
            )
        if array.shape in ((m,), (1, m)):  # with ops: a compiled step replays it per batch
            indices = (labels if isinstance(labels, Tensor) else Tensor(array)).reshape(m)
            kept = indices != ignore_index
            labels = ops.where(kept, indices, 0)
    one_hot = _class_targets(labels, k, m, log_probs.dtype, loss)
    targets = one_hot
    if label_smoothing:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / k
    w_column = None if w is None else Tensor(w.reshape(k, 1))
    if w_column is not None:
        targets = targets * w_column
    if kept is not None:
        targets = targets * kept.reshape(1, m)
    if reduction == "none":
        return -(log_probs * targets).sum(axis=0)
    if reduction == "sum":
        return -(log_probs * targets).sum()
    if not (as_indices and (w_column is not None or kept is not None)):
        return -(log_probs * targets).sum() / m
    # the weighted mean divides by the kept examples' class weights (PyTorch's rule)
    per_example = (one_hot * w_column).sum(axis=0) if w_column is not None else None
    if kept is not None:
        per_example = (kept * Tensor(np.ones((), log_probs.dtype)) if per_example is None
                       else per_example * kept)
    assert per_example is not None
    denominator = per_example.sum()
    if float(denominator.data) == 0.0:
        raise ValueError(
            f"{loss}: reduction='mean' over no weight: every label is ignore_index "
            f"{ignore_index!r} or has class weight 0 (use reduction='sum')"
        )
    return -(log_probs * targets).sum() / denominator


def _check_logits(value: Any, loss: str, what: str) -> Tensor:
    tensor = _prediction(value, loss, what)
    if tensor.ndim != 2:
        raise ValueError(
            f"{loss}: {what} must have shape (k, m): k class scores per example, one example per "
            f"column; got shape {tensor.shape}"
        )
    return tensor


def cross_entropy(
    logits: Tensor,
    labels: Any,
    *,
    weight: Any = None,
    ignore_index: int | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy for k classes, in the article's layout; a scalar Tensor.

    ``J = -(1/m) Σ_examples ln softmax(z)_label``, with the softmax over axis 0 (the classes)
    computed as a stable ``log_softmax`` (finite for logits of ±1000). Its gradient with
    respect to the logits is ``(softmax(Z) - onehot(labels)) / m``.

    The options are PyTorch's (``torch.nn.functional.cross_entropy``): with class weights
    ``w`` and smoothed targets ``q = (1−ε)·onehot + ε/k``, each example's loss is
    ``l_i = −Σ_c w_c·q_ci·ln softmax(z_i)_c``; ``reduction="mean"`` divides their sum by
    ``Σ_i w_{label_i}`` over the examples not ignored (by m for probability labels).

    Parameters
    ----------
    logits : Tensor
        ``(k, m)``: k class scores per example, one example per column (e.g. an
        ``MLP(..., output_activation="none")`` output).
    labels : array_like or Tensor
        Class indices in [0, k): shape ``(m,)`` or ``(1, m)``, integers (or whole floats).
        Or one-hot (or soft) labels of shape ``(k, m)``, each column summing to 1.
    weight : array_like, optional
        ``(k,)`` non-negative weight per class.
    ignore_index : int, optional
        A label value whose examples count for nothing (loss 0, left out of the mean); it may
        lie outside [0, k) (PyTorch uses −100). Only with class indices.
    reduction : {"mean", "sum", "none"}
        ``"none"`` returns the ``(m,)`` losses, one per example.
    label_smoothing : float
        ε in [0, 1].

    Raises
    ------
    ValueError
        Logits not 2-d or empty; labels of another shape (naming both); indices that are not
        whole numbers, NaN, or outside [0, k); one-hot columns outside [0, 1] or not summing
        to 1; a bad option (naming it); a mean over no weight.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> logits = Tensor([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]], requires_grad=True)
    >>> J = cross_entropy(logits, np.array([0, 2]))
    >>> round(J.item(), 6)
    0.167234
    >>> J.backward()
    >>> logits.grad.round(3)
    array([[-0.107,  0.023],
           [ 0.053,  0.023],
           [ 0.053, -0.045]])
    >>> cross_entropy(logits, np.array([0, 2]), reduction="none").data.round(4)
    array([0.2395, 0.0949])
    >>> round(cross_entropy(logits, np.array([0, -100]), ignore_index=-100).item(), 4)
    0.2395
    >>> round(cross_entropy(logits, np.array([0, 2]), label_smoothing=0.1).item(), 4)
    0.3339
    """
    loss = "cross_entropy"
    logits = _check_logits(logits, loss, "logits")
    return _class_loss(
        logits.log_softmax(axis=0), labels, loss, weight, ignore_index, reduction, label_smoothing
    )


def nll_loss(
    log_probs: Tensor,
    labels: Any,
    *,
    weight: Any = None,
    ignore_index: int | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities: ``J = −(1/m) Σ_i w_{y_i}·log p_{y_i, i}``.

    ``cross_entropy(Z, y)`` is ``nll_loss(Z.log_softmax(axis=0), y)``; use this one when the
    model already ends in ``log_softmax``. The options and their reductions are those of
    :func:`cross_entropy` (PyTorch's ``nll_loss``).

    Parameters
    ----------
    log_probs : Tensor
        ``(k, m)`` log-probabilities, one example per column.
    labels : array_like or Tensor
        Class indices of shape ``(m,)`` or ``(1, m)`` (or ``(k, m)`` probabilities).
    weight, ignore_index, reduction
        As in :func:`cross_entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> log_p = Tensor(np.log([[0.5, 0.1], [0.5, 0.9]]), requires_grad=True)
    >>> J = nll_loss(log_p, np.array([0, 1]))
    >>> round(J.item(), 6)         # −(ln 0.5 + ln 0.9)/2
    0.399254
    >>> J.backward()
    >>> log_p.grad + 0.0           # −onehot/m (+ 0.0 turns −0 into 0)
    array([[-0.5,  0. ],
           [ 0. , -0.5]])
    """
    loss = "nll_loss"
    log_probs = _check_logits(log_probs, loss, "log_probs")
    return _class_loss(log_probs, labels, loss, weight, ignore_index, reduction, 0.0)

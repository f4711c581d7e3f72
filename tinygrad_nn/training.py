"""Training: one shared full-batch loop (:func:`fit`, :func:`training_step`) and, on top of it,
the article's ``train`` with the engine computing the gradients.

* :func:`fit` runs any training step for a number of epochs, recording each epoch's cost and
  time and calling a callback (a progress bar, a stop rule). The command line's loop, the
  example's and :func:`train` are this one loop; the step can be a ``tinygrad_nn.compile``d
  function. (``tinygrad_nn.reference.train`` keeps the article's own loop on purpose.)
* :func:`training_step` makes the usual step: ``zero_grad()``, the loss, ``backward()``,
  ``step()``.
* :func:`train` has the article's signature ``train(X, Y, layer_dims, epochs, lr)`` and returns
  ``(params, cost_history)`` like the article, but every gradient comes from ``loss.backward()``
  (an :class:`~tinygrad_nn.nn.MLP`, :func:`~tinygrad_nn.nn.binary_cross_entropy` and
  :class:`~tinygrad_nn.optim.SGD`). In float64 its ``cost_history`` equals
  :func:`tinygrad_nn.reference.train`'s to about 1e-13, epoch by epoch.
* :func:`crosscheck` (from :mod:`tinygrad_nn.backprop_check`, re-exported here) compares the
  engine's gradients with the article's, layer by layer.

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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn import _checks
from tinygrad_nn.backprop_check import CrosscheckReport, CrosscheckRow, crosscheck
from tinygrad_nn.nn import MLP, Module, binary_cross_entropy
from tinygrad_nn.optim import SGD, Adam, Optimizer
from tinygrad_nn.tensor import Tensor, as_array

__all__ = [
    "CrosscheckReport",
    "CrosscheckRow",
    "FitHistory",
    "crosscheck",
    "fit",
    "train",
    "training_step",
]

# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------

#: A training step: ``step(X, Y)`` runs one update and returns the loss (a scalar Tensor, or a
#: float) computed before that update.
Step = Callable[[Any, Any], Any]


@dataclass
class FitHistory:
    """What :func:`fit` recorded: one cost and one duration per epoch run.

    Attributes
    ----------
    cost_history : list of float
        The loss each step returned, epoch by epoch (the cost *before* that epoch's update).
    epoch_seconds : list of float
        Wall-clock time of each epoch's step (``time.perf_counter``), including tracing for a
        compiled step's first calls.

    Examples
    --------
    >>> FitHistory([0.7, 0.6], [0.01, 0.002]).epochs
    2
    """

    cost_history: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """How many epochs ran (fewer than asked if the callback stopped the loop).

        Examples
        --------
        >>> FitHistory().epochs
        0
        """
        return len(self.cost_history)


def training_step(
    model: Module, optimizer: Optimizer, loss: Callable[[Module, Any, Any], Tensor]
) -> Callable[[Any, Any], Tensor]:
    """The usual full-batch step as a function ``step(X, Y) -> loss``: ``zero_grad()``, the
    loss ``loss(model, X, Y)``, ``backward()``, ``optimizer.step()``.

    The result is a plain function of ``(X, Y)``, so it can be handed to
    ``tinygrad_nn.compile`` before :func:`fit` runs it.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import nn, optim
    >>> model = nn.MLP([1, 1])
    >>> step = training_step(model, optim.SGD(model.parameters(), lr=1.0),
    ...                      lambda model, X, Y: nn.binary_cross_entropy(model(X), Y))
    >>> X, Y = np.array([[-1.0, 1.0]]), np.array([[0.0, 1.0]])
    >>> step(X, Y).item() > step(X, Y).item()    # the second step starts lower
    True
    """

    def step(X: Any, Y: Any) -> Tensor:
        optimizer.zero_grad()
        value = loss(model, X, Y)
        value.backward()
        optimizer.step()
        return value

    return step


def fit(
    step: Step,
    X: Any,
    Y: Any,
    epochs: int,
    *,
    callback: Callable[[int, float], Any] | None = None,
) -> FitHistory:
    """Run ``step(X, Y)`` ``epochs`` times (full batch), recording each epoch's cost and time.

    Parameters
    ----------
    step : callable
        ``step(X, Y)`` runs one update and returns the loss before it (a scalar Tensor or a
        float): :func:`training_step`'s result, a ``tinygrad_nn.compile``d version of it, or any
        hand-written step.
    X, Y
        Passed to ``step`` unchanged every epoch (convert them to Tensors once, beforehand).
    epochs : int
        Number of steps, >= 0.
    callback : callable, keyword-only
        Called after every epoch as ``callback(epoch, cost)`` (epoch counts from 0); return
        ``True`` to stop. It may raise to abort (e.g. on a non-finite cost): the exception
        reaches the caller.

    Returns
    -------
    FitHistory
        ``cost_history`` and ``epoch_seconds``, one entry per epoch run.

    Examples
    --------
    >>> costs = iter([0.9, 0.5, 0.2, 0.1])
    >>> history = fit(lambda X, Y: next(costs), None, None, 4,
    ...               callback=lambda epoch, cost: cost < 0.3)   # stop once below 0.3
    >>> history.cost_history, history.epochs
    ([0.9, 0.5, 0.2], 3)
    """
    epochs = _checks.whole_number(epochs, "epochs", "fit", minimum=0)
    if not callable(step):
        raise TypeError(f"fit: step must be callable as step(X, Y); got {type(step).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback must be callable; got {type(callback).__name__}")
    history = FitHistory()
    for epoch in range(epochs):
        start = time.perf_counter()
        loss = step(X, Y)
        cost = float(loss.item() if isinstance(loss, Tensor) else loss)
        history.epoch_seconds.append(time.perf_counter() - start)
        history.cost_history.append(cost)
        del loss  # the graph goes now, not after the callback
        if callback is not None and callback(epoch, cost) is True:
            break
    return history


# ---------------------------------------------------------------------------------------------
# train: the article's signature
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
    X, Y = as_array(X, "train: X"), as_array(Y, "train: Y")
    _checks.article_data(X, Y, "train")
    dims = _checks.article_layer_dims(layer_dims, X.shape[0], "train")

    model = MLP(dims, activation=activation)
    chosen = _make_optimizer(optimizer, model.parameters(), lr)
    # Converted once to the model's dtype, so no epoch copies or converts them again.
    inputs = Tensor(X.astype(model.dtype, copy=False), name="X")
    labels = Tensor(Y.astype(model.dtype, copy=False), name="Y")
    step = training_step(model, chosen, lambda model, X, Y: binary_cross_entropy(model(X), Y))
    report = None if callback is None else (lambda epoch, cost: callback(epoch, cost, model))
    history = fit(step, inputs, labels, epochs, callback=report)
    return model.state_dict(), history.cost_history


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



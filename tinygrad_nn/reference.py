"""The seed article's neural network, corrected: plain numpy, hand-derived backprop.

This module is the article "How to build a neural network from scratch" (the project's seed
article; its text is not part of this repository) transcribed with its own function names,
signatures, variable names and structure, so that a reader can put it beside the original and
the engine's ``loss.backward()`` side by side. Nothing here uses the autograd engine.

Layout, as in the article: examples are columns. ``X`` is ``(n_features, m)``, ``Y`` is
``(1, m)``, ``W{l}`` is ``(n_l, n_{l-1})``, ``b{l}`` is ``(n_l, 1)``, and every layer computes
``A = sigmoid(W @ A_prev + b)``. ``forward_prop`` keeps one cache ``((A_prev, W, b), Z)`` per
layer, which ``one_layer_backward`` consumes.

The article's code has six defects: five are fixed here, the sixth is kept and documented. Each
is marked with a comment starting ``Article defect``. The five fixed ones (the code does not run
as printed):

1. ``sigmoid`` mixed a tab and spaces in its indentation, so the file did not parse.
2. ``cost_function`` called a bare ``log`` (NameError) and returned a ``(1, 1)`` array.
3. ``one_layer_backward`` multiplied by ``sigmoid(Z)``, which is the tuple ``(A, cache)``.
4. ``backprop`` stored the last layer's gradients under ``dW{L-1}``/``db{L-1}``, where the loop
   then overwrote them: the last layer never learned.
5. ``update_parameters`` read ``grads['W…']``/``grads['b…']``, keys that do not exist.

And the one kept:

6. ``backprop`` starts from ``dAL = -(Y/AL - (1-Y)/(1-AL))``, which is infinite once the
   output sigmoid saturates (and ``cost_function`` takes ``log 0`` there). It is kept on
   purpose because it is the article's formula; the stable form of the last layer's gradient
   is ``dZ_L = A_L - Y``. The engine's side: ``nn.binary_cross_entropy`` clamps each log
   visibly (a ``clip`` op), ``nn.binary_cross_entropy_with_logits`` is stable at any logit.

A scaling subtlety: ``dAL`` has no ``1/m``; the ``1/m`` enters only in ``dW`` and ``db``. So
``grads['dW{l}']`` and ``grads['db{l}']`` are the true gradients of the cost J, while the
article's ``dA{l}`` (and the ``dZ`` inside ``one_layer_backward``) are **m times** the true
gradients dJ/dA_l and dJ/dZ_l. An autograd engine computes the true ones, so any comparison of
intermediate gradients must scale by m.

Examples
--------
>>> import numpy as np
>>> from tinygrad_nn import reference
>>> X = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 0.0]])
>>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
>>> params, cost_history = reference.train(X, Y, [2, 3, 1], epochs=5, lr=0.1)
>>> sorted(params)
['W1', 'W2', 'b1', 'b2']
>>> len(cost_history), type(cost_history[0]).__name__
(5, 'float')
>>> reference.predict(X, params).shape
(1, 4)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "backprop",
    "cost_function",
    "forward_prop",
    "init_params",
    "one_layer_backward",
    "predict",
    "sigmoid",
    "train",
    "update_parameters",
]

Cache = tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def init_params(layer_dims: list[int] | tuple[int, ...]) -> dict[str, np.ndarray]:
    """Initialise ``W{l}`` with small Gaussian weights and ``b{l}`` with zeros.

    Seeds numpy's *global* generator with 3, as the article does, then draws
    ``randn(n_l, n_{l-1}) * 0.01`` layer after layer, so the weights are the same every call.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``: input size, then the width of every layer.

    Returns
    -------
    dict
        ``{'W1': (n_1, n_0), 'b1': (n_1, 1), ..., 'WL': ..., 'bL': ...}``.

    Examples
    --------
    >>> params = init_params([2, 3, 1])
    >>> params['W1'].shape, params['b1'].shape, params['W2'].shape
    ((3, 2), (3, 1), (1, 3))
    >>> bool(np.all(params['b2'] == 0))
    True
    """
    np.random.seed(3)
    params = {}
    L = len(layer_dims)

    for l in range(1, L):  # noqa: E741 -- the article's name for the layer index
        params['W' + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        params['b' + str(l)] = np.zeros((layer_dims[l], 1))

    return params


def sigmoid(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Element-wise ``1 / (1 + exp(-Z))``; returns ``(A, cache)`` with ``cache = Z``.

    Examples
    --------
    >>> A, cache = sigmoid(np.array([[0.0, 2.0]]))
    >>> A.round(4)
    array([[0.5   , 0.8808]])
    >>> cache
    array([[0., 2.]])
    """
    # Article defect 1: this body was indented with a tab on one line and spaces on the
    # next, which Python rejects. The article writes -Z as np.dot(-1, Z); same values.
    A = 1 / (1 + np.exp(-Z))
    cache = Z

    return A, cache


def forward_prop(X: np.ndarray, params: dict[str, np.ndarray]) -> tuple[np.ndarray, list[Cache]]:
    """Run every layer forward: ``Z = W @ A_prev + b``, ``A = sigmoid(Z)``.

    Returns
    -------
    AL : ndarray
        The last layer's activation, ``(n_L, m)``: the prediction.
    caches : list
        One ``((A_prev, W, b), Z)`` per layer, first layer first.

    Examples
    --------
    >>> params = init_params([2, 3, 1])
    >>> AL, caches = forward_prop(np.ones((2, 4)), params)
    >>> AL.shape, len(caches)
    ((1, 4), 2)
    """
    A = X  # input to the first layer, i.e. the training data
    caches = []
    L = len(params) // 2
    for l in range(1, L + 1):  # noqa: E741 -- the article's name for the layer index
        A_prev = A

        Z = np.dot(params['W' + str(l)], A_prev) + params['b' + str(l)]

        # what one_layer_backward needs to get dW, db and dA_prev
        linear_cache = (A_prev, params['W' + str(l)], params['b' + str(l)])

        A, activation_cache = sigmoid(Z)

        cache = (linear_cache, activation_cache)
        caches.append(cache)

    return A, caches


def cost_function(A: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy ``-(1/m) * sum(Y*log(A) + (1-Y)*log(1-A))`` as a Python float.

    Examples
    --------
    >>> round(cost_function(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])), 6)
    0.693147
    """
    m = Y.shape[1]

    # Article defect 2: it wrote a bare log(1-A) (NameError: only np.log exists) and returned
    # the (1, 1) array that the dot products make; the cost is a number.
    cost = (-1 / m) * (np.dot(np.log(A), Y.T) + np.dot(np.log(1 - A), 1 - Y.T))

    return float(cost.item())


def one_layer_backward(
    dA: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward step through one sigmoid layer.

    ``dZ = dA * s * (1 - s)`` with ``s = sigmoid(Z)``; ``dW = (1/m) dZ A_prevᵀ``;
    ``db = (1/m) Σ_columns dZ``; ``dA_prev = Wᵀ dZ``. Given the article's unscaled ``dA``,
    ``dW`` and ``db`` are true gradients while ``dA_prev`` is m times the true one.

    Returns
    -------
    (dA_prev, dW, db)

    Examples
    --------
    >>> params = init_params([2, 3, 1])
    >>> AL, caches = forward_prop(np.ones((2, 4)), params)
    >>> dA_prev, dW, db = one_layer_backward(np.ones_like(AL), caches[-1])
    >>> dA_prev.shape, dW.shape, db.shape
    ((3, 4), (1, 3), (1, 1))
    """
    linear_cache, activation_cache = cache

    Z = activation_cache
    # Article defect 3: it wrote dA*sigmoid(Z)*(1-sigmoid(Z)), but sigmoid returns the tuple
    # (A, cache), not A; and it evaluated the sigmoid twice where once does.
    s, _ = sigmoid(Z)
    dZ = dA * s * (1 - s)  # the derivative of the sigmoid is s * (1 - s)

    A_prev, W, _b = linear_cache  # the bias plays no part in the gradients
    m = A_prev.shape[1]

    dW = (1 / m) * np.dot(dZ, A_prev.T)
    db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)

    return dA_prev, dW, db


def backprop(AL: np.ndarray, Y: np.ndarray, caches: list[Cache]) -> dict[str, np.ndarray]:
    """Backpropagate from the cost to every layer, last layer first.

    Returns
    -------
    dict
        ``dW{l}``, ``db{l}`` for l = 1..L (true gradients of the cost) and ``dA{l}`` for
        l = 0..L-1, the article's gradient with respect to ``A_l``, the input of layer l+1
        (m times the true gradient, see the module docstring).

    Examples
    --------
    >>> X, Y = np.ones((2, 4)), np.array([[0.0, 1.0, 0.0, 1.0]])
    >>> AL, caches = forward_prop(X, init_params([2, 3, 1]))
    >>> sorted(backprop(AL, Y, caches))
    ['dA0', 'dA1', 'dW1', 'dW2', 'db1', 'db2']
    """
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)

    # Article defect 6, kept on purpose: it divides by AL and 1-AL, which is infinite once the
    # sigmoid saturates. The stable form fuses this with the last sigmoid: dZ_L = AL - Y.
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))

    current_cache = caches[L - 1]
    # Article defect 4: it stored these under dW{L-1}/db{L-1}; the loop below then wrote
    # layer L-1's gradients over them, so the last layer never received its gradient.
    grads['dA' + str(L - 1)], grads['dW' + str(L)], grads['db' + str(L)] = one_layer_backward(
        dAL, current_cache
    )

    for l in reversed(range(L - 1)):  # noqa: E741 -- the article's name for the layer index
        current_cache = caches[l]
        dA_prev_temp, dW_temp, db_temp = one_layer_backward(grads['dA' + str(l + 1)], current_cache)
        grads['dA' + str(l)] = dA_prev_temp
        grads['dW' + str(l + 1)] = dW_temp
        grads['db' + str(l + 1)] = db_temp

    return grads


def update_parameters(
    params: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """One gradient-descent step: ``W{l} -= learning_rate * dW{l}``, same for ``b{l}``.

    As in the article, ``params`` is updated and returned; its arrays are replaced by new
    ones, never written into, so arrays held elsewhere keep their values.

    Examples
    --------
    >>> params = {'W1': np.ones((1, 2)), 'b1': np.zeros((1, 1))}
    >>> grads = {'dW1': np.ones((1, 2)), 'db1': np.ones((1, 1))}
    >>> new = update_parameters(params, grads, 0.5)
    >>> new['W1'], new['b1']
    (array([[0.5, 0.5]]), array([[-0.5]]))
    """
    L = len(params) // 2

    for l in range(L):  # noqa: E741 -- the article's name for the layer index
        # Article defect 5: it read grads['W…'] and grads['b…']; backprop names them dW…, db….
        params['W' + str(l + 1)] = (
            params['W' + str(l + 1)] - learning_rate * grads['dW' + str(l + 1)]
        )
        params['b' + str(l + 1)] = (
            params['b' + str(l + 1)] - learning_rate * grads['db' + str(l + 1)]
        )

    return params


def train(
    X: np.ndarray, Y: np.ndarray, layer_dims: list[int] | tuple[int, ...], epochs: int, lr: float
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Full-batch gradient descent from ``init_params(layer_dims)`` for ``epochs`` steps.

    Each epoch: forward, cost (appended to ``cost_history`` *before* the update), backprop,
    update. ``X`` and ``Y`` are only read.

    Returns
    -------
    (params, cost_history)
        The trained parameters and one float cost per epoch.

    Examples
    --------
    >>> X = np.array([[-2.0, -1.0, 1.0, 2.0]])
    >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> params, cost_history = train(X, Y, [1, 1], epochs=100, lr=1.0)
    >>> cost_history[-1] < cost_history[0]
    True
    """
    params = init_params(layer_dims)
    cost_history = []

    for i in range(epochs):  # noqa: B007 -- the article's loop, the index is unused
        Y_hat, caches = forward_prop(X, params)
        cost = cost_function(Y_hat, Y)
        cost_history.append(cost)
        grads = backprop(Y_hat, Y, caches)

        params = update_parameters(params, grads, lr)

    return params, cost_history


def predict(X: np.ndarray, params: dict[str, np.ndarray], threshold: float = 0.5) -> np.ndarray:
    """0/1 predictions, ``AL > threshold``, as a float64 array shaped like ``AL`` (``(1, m)``).

    Not in the article; a convenience for measuring accuracy, e.g.
    ``np.mean(predict(X, params) == Y)``.

    Examples
    --------
    >>> params = {'W1': np.array([[1.0]]), 'b1': np.array([[0.0]])}
    >>> predict(np.array([[-3.0, 0.0, 3.0]]), params)
    array([[0., 0., 1.]])
    """
    AL, _ = forward_prop(X, params)
    return (AL > threshold).astype(np.float64)

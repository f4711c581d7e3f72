"""Layers in the article's column layout: Linear and the MLP (the article's network by default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_nn import _checks, ops
from tinygrad_nn.nn.containers import Activation
from tinygrad_nn.nn.module import Module
from tinygrad_nn.tensor import Tensor, as_array, scope

__all__ = ["INITS", "MLP", "Linear"]  # and ACTIVATIONS, DEFAULT_INIT: see __getattr__

#: Weight initialisations :class:`Linear` and :class:`MLP` accept.
INITS = ("article", "he", "xavier")


def __getattr__(name: str) -> Any:
    # ACTIVATIONS and DEFAULT_INIT are read from the op registry each time (the one place that
    # knows which ops are activations and their default init), so that an op registered later
    # is accepted too; nothing here keeps a copy.
    if name == "ACTIVATIONS":
        return ops.activations()
    if name == "DEFAULT_INIT":
        return {activation: _default_init(activation) for activation in ops.activations()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_init(activation: str) -> str:
    init = ops.REGISTRY[activation].activation_init
    assert init is not None  # ops.activations() lists only ops with one
    return init


# --------------------------------------------------------------------------------------------
# initialisation and inputs
# --------------------------------------------------------------------------------------------


def _init_scale(init: str, n_in: int, n_out: int) -> float:
    if init == "article":
        return 0.01
    if init == "he":
        return float(np.sqrt(2.0 / n_in))
    return float(np.sqrt(2.0 / (n_in + n_out)))  # xavier (Glorot normal)


def _as_input(X: Any, dtype: np.dtype, what: str) -> Tensor:
    """A Tensor for an input: Tensors pass through; arrays are converted to the model's dtype."""
    if isinstance(X, Tensor):
        return X
    array = as_array(X, what)
    if array.dtype != dtype:
        array = array.astype(dtype)
    return Tensor(array)


# --------------------------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------------------------


class Linear(Module):
    """One layer's linear hypothesis ``Z = W @ A + b``, in the article's layout.

    Parameters
    ----------
    n_in, n_out : int
        Input size (rows of ``A``) and number of units.
    init : {"article", "he", "xavier"}
        Weights ``randn(n_out, n_in) * scale``: the article's ``0.01``; He ``sqrt(2/n_in)``
        (suits ReLU); Xavier/Glorot ``sqrt(2/(n_in + n_out))`` (suits tanh). Biases are zero.
    seed : int, numpy RandomState or None
        Where the weights are drawn from. A RandomState is drawn from and advanced (so that
        :class:`MLP` draws layer after layer from one stream); ``None`` is unseeded.
    dtype : float32 or float64

    Attributes
    ----------
    W : Tensor
        ``(n_out, n_in)``, named ``"W"``.
    b : Tensor
        ``(n_out, 1)``, named ``"b"``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Linear(3, 2, seed=0)
    >>> layer.W.shape, layer.b.shape
    ((2, 3), (2, 1))
    >>> layer(np.ones((3, 5))).shape
    (2, 5)
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        *,
        init: str = "article",
        seed: int | np.random.RandomState | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.n_in = _checks.positive_int(n_in, "n_in", "Linear")
        self.n_out = _checks.positive_int(n_out, "n_out", "Linear")
        self.init = _checks.choice(init, "init", INITS, "Linear")
        self.dtype = _checks.float_dtype(dtype, "Linear")
        self.seed = None if isinstance(seed, np.random.RandomState) else seed
        rng = _checks.random_state(seed, "Linear")
        # Drawn in float64 and then cast, so that a float64 layer reproduces the article's
        # np.random stream exactly and a float32 one is its rounding.
        weights = rng.randn(self.n_out, self.n_in) * _init_scale(self.init, self.n_in, self.n_out)
        self.W = Tensor(weights.astype(self.dtype, copy=False), requires_grad=True, name="W")
        self.b = Tensor(np.zeros((self.n_out, 1), dtype=self.dtype), requires_grad=True, name="b")

    def forward(self, A: Any) -> Tensor:
        """``Z = W @ A + b`` for ``A`` of shape ``(n_in, m)`` (one example per column).

        Recorded as written: a ``matmul`` and an ``add`` (the ``(n_out, 1)`` bias broadcast over
        the m columns), so the graph shows the article's formula. The fused op ``linear`` is
        still there to call by name (``ops.linear(W, A, b)``); speed comes from
        ``tinygrad_nn.compile``, not from fusing inside the graph.

        Examples
        --------
        >>> Z = Linear(3, 2)(np.zeros((3, 4)))
        >>> Z.op, [parent.op for parent in Z.parents]
        ('add', ['matmul', None])
        """
        A = _as_input(A, self.dtype, "Linear input A")
        if A.ndim != 2 or A.shape[0] != self.n_in:
            raise ValueError(
                f"Linear(n_in={self.n_in}, n_out={self.n_out}): input A must have shape "
                f"({self.n_in}, m), one example per column; got shape {A.shape}"
            )
        return self.W @ A + self.b

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (see :meth:`Module.config`).

        Examples
        --------
        >>> Linear(3, 2, init="he", seed=1).config()
        {'n_in': 3, 'n_out': 2, 'init': 'he', 'seed': 1, 'dtype': 'float64'}
        """
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


# --------------------------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------------------------


class MLP(Module):
    """A fully connected network; with its defaults, exactly the article's.

    Every layer computes ``Z_l = W_l @ A_{l-1} + b_l``; hidden layers apply ``activation``,
    the last layer ``output_activation``.

    With the defaults (sigmoid, seed 3, article init) this *is* the article's network: sigmoid
    on every layer, and initial weights equal to the article's ``init_params`` — the same
    ``randn(n_l, n_{l-1}) * 0.01`` drawn layer after layer from seed 3, biases zero. The
    stream comes from ``np.random.RandomState(seed)``, which equals ``np.random.seed(3)``'s
    without touching numpy's global generator.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0, n_1, ..., n_L]``: input size, then every layer's width (at least 2 sizes).
    activation : str
        Hidden layers' activation: any op of ``tinygrad_nn.ops.activations()`` (``"sigmoid"``,
        ``"tanh"``, ``"relu"``, ...).
    seed : int or None
        Seed of the weights' random stream.
    init : {"article", "he", "xavier"}, optional
        Default: the activation's own, its registry entry's ``activation_init`` (``"article"``
        for sigmoid, ``"he"`` for relu, ``"xavier"`` for tanh), for every layer, the output layer
        too.
    dtype : float32 or float64
    output_activation : str
        The last layer's activation, any activation op: sigmoid (a probability, for two classes)
        by default; ``"none"`` makes ``model(X)`` return the logits (for :func:`cross_entropy`).

    Attributes
    ----------
    layers : list of Linear
        Scoped ``"layer1"``, ``"layer2"``, ...; layer l's tensors are ``W{l}``, ``b{l}``.
    layer_dims, activation, output_activation, init, seed, dtype
        The constructor's arguments, resolved (checkpoints store them).

    Examples
    --------
    >>> import numpy as np
    >>> model = MLP([2, 4, 1])
    >>> np.random.seed(3)
    >>> bool((model.W1.data == np.random.randn(4, 2) * 0.01).all())
    True
    >>> X = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])
    >>> A = model(X)
    >>> A.shape, A.op, A.scope
    ((1, 3), 'sigmoid', 'layer2')
    >>> model.logits(X).op
    'add'
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        activation: str = "sigmoid",
        seed: int | None = 3,
        init: str | None = None,
        dtype: Any = np.float64,
        output_activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        self.layer_dims = _checks.layer_dims(layer_dims, "MLP")
        activations = ops.activations()
        self.activation = _checks.choice(activation, "activation", activations, "MLP")
        self.output_activation = _checks.choice(
            "none" if output_activation is None else output_activation,
            "output_activation",
            (*activations, "none"),
            "MLP",
        )
        self.init = _checks.choice(
            _default_init(self.activation) if init is None else init, "init", INITS, "MLP"
        )
        self.seed = _checks.seed(seed, "MLP")  # an int or None: checkpoints store it
        rng = np.random.RandomState(self.seed)
        self.dtype = _checks.float_dtype(dtype, "MLP")
        layers = []
        for l in range(1, len(self.layer_dims)):  # noqa: E741 -- the article's layer index
            n_in, n_out = self.layer_dims[l - 1], self.layer_dims[l]
            layer = Linear(n_in, n_out, init=self.init, seed=rng, dtype=self.dtype)
            layer.W.name, layer.b.name = f"W{l}", f"b{l}"
            setattr(self, f"layer{l}", layer)  # registers it, scope "layer{l}"
            layers.append(layer)
        self.layers = layers

    # The article's names, W1 b1 W2 b2 ..., instead of the generic "layer1.W".
    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """``[("W1", W1), ("b1", b1), ("W2", W2), ...]`` — the article's names and order.

        Examples
        --------
        >>> [(name, p.shape) for name, p in MLP([2, 3, 1]).named_parameters()]
        [('W1', (3, 2)), ('b1', (3, 1)), ('W2', (1, 3)), ('b2', (1, 1))]
        """
        result = []
        for l, layer in enumerate(self.layers, start=1):  # noqa: E741
            result.append((f"W{l}", layer.W))
            result.append((f"b{l}", layer.b))
        # A subclass may register more parameters; they follow, under their generic names.
        seen = {id(parameter) for _, parameter in result}
        result += [(n, p) for n, p in super().named_parameters() if id(p) not in seen]
        return result

    def __getattr__(self, key: str) -> Tensor:
        # model.W1, model.b2: the article's names for the parameters.
        layers = self.__dict__.get("layers")
        if layers is not None and len(key) > 1 and key[0] in "Wb" and key[1:].isdigit():
            l = int(key[1:])  # noqa: E741
            if 1 <= l <= len(layers):
                return layers[l - 1].W if key[0] == "W" else layers[l - 1].b
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    @property
    def n_layers(self) -> int:
        """L, the number of layers with parameters (``len(layer_dims) - 1``).

        Examples
        --------
        >>> MLP([4, 3, 2, 1]).n_layers
        3
        """
        return len(self.layers)

    def _input(self, X: Any) -> Tensor:
        X = _as_input(X, self.dtype, "MLP input X")
        n_0 = self.layer_dims[0]
        if X.ndim != 2 or X.shape[0] != n_0:
            hint = ""
            if X.ndim == 2 and X.shape[1] == n_0:
                hint = " (it looks transposed: pass X.T)"
            raise ValueError(
                f"MLP: X must have shape ({n_0}, m) — layer_dims[0] = {n_0} features, one "
                f"example per column; got shape {X.shape}{hint}"
            )
        return X

    def _hidden_and_last_linear(self, X: Any) -> Tensor:
        A = self._input(X)
        for layer in self.layers[:-1]:
            Z = layer(A)
            with scope(layer.scope_name):
                A = _activate(Z, self.activation)
        return self.layers[-1](A)

    def forward(self, X: Any) -> Tensor:
        """``A_L``, the network's output for ``X`` of shape ``(n_0, m)`` (call the model).

        Examples
        --------
        >>> A = MLP([2, 3, 1])(np.zeros((2, 4)))
        >>> A.shape, A.op
        ((1, 4), 'sigmoid')
        """
        Z = self._hidden_and_last_linear(X)
        if self.output_activation == "none":
            return Z
        with scope(self.layers[-1].scope_name):
            return _activate(Z, self.output_activation)

    def logits(self, X: Any) -> Tensor:
        """``Z_L``, the last layer's pre-activation, for the stable losses
        (:func:`binary_cross_entropy_with_logits`, :func:`cross_entropy`).

        Examples
        --------
        >>> import numpy as np
        >>> model = MLP([2, 3, 1])
        >>> X = np.ones((2, 4))
        >>> bool(np.allclose(model.logits(X).sigmoid().data, model(X).data))
        True
        """
        with self._scope():
            return self._hidden_and_last_linear(X)

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this network (see :meth:`Module.config`).

        Examples
        --------
        >>> config = MLP([2, 3, 1], activation="relu", seed=0).config()
        >>> config["layer_dims"], config["activation"], config["init"]
        ([2, 3, 1], 'relu', 'he')
        >>> MLP(**config).config() == config
        True
        """
        return {
            "layer_dims": list(self.layer_dims),
            "activation": self.activation,
            "seed": self.seed,
            "init": self.init,
            "dtype": self.dtype.name,
            "output_activation": self.output_activation,
        }


# One Activation module per activation name, made on first use: MLP applies whichever op the
# registry marks as an activation, through the same module nn.Sequential uses.
_ACTIVATION_MODULES: dict[str, Activation] = {}


def _activate(Z: Tensor, activation: str) -> Tensor:
    module = _ACTIVATION_MODULES.get(activation)
    if module is None:
        module = _ACTIVATION_MODULES[activation] = Activation(activation)
    result: Tensor = module(Z)
    return result

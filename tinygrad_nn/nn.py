"""Modules and losses, built only from Tensors and ops.

Layout, as in the article: examples are columns. ``X`` is ``(n_features, m)``, ``Y`` is
``(1, m)``, ``W_l`` is ``(n_l, n_{l-1})``, ``b_l`` is ``(n_l, 1)``, and a layer computes
``W @ A_prev + b``.

* :class:`Module` — parameters in registration order, ``state_dict`` / ``load_state_dict``.
  Calling a module runs its ``forward`` inside ``tinygrad_nn.tensor.scope(<its name>)``, so every
  tensor made there carries ``t.scope`` (``"layer2"``) and graph pictures cluster by layer.
* :class:`Linear` — one layer's ``Z = W @ A + b`` (the fused op ``linear``).
* :class:`MLP` — with its defaults, the article's network: sigmoid everywhere, the same initial
  weights as the article's ``init_params``, parameters named ``W1, b1, W2, b2, ...``.
* Losses: :func:`binary_cross_entropy` (the article's cost),
  :func:`binary_cross_entropy_with_logits`, :func:`mse`, :func:`cross_entropy`.
* Checkpoints: :meth:`Module.save` and :func:`load`, on top of :func:`save_arrays` /
  :func:`load_arrays` (``.npz`` + JSON metadata, written atomically, read without pickle).

Examples
--------
>>> import numpy as np
>>> from tinygrad_nn.nn import MLP
>>> model = MLP([2, 3, 1])
>>> [name for name, _ in model.named_parameters()]
['W1', 'b1', 'W2', 'b2']
>>> model(np.ones((2, 5))).shape
(1, 5)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import Any, BinaryIO

import numpy as np

from tinygrad_nn import ops
from tinygrad_nn._version import __version__
from tinygrad_nn.tensor import Tensor, as_array, scope

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "MLP",
    "Linear",
    "Module",
    "atomic_write",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "load",
    "load_arrays",
    "mse",
    "save_arrays",
]

#: Hidden-layer activations :class:`MLP` accepts.
ACTIVATIONS = ("sigmoid", "relu", "tanh")
#: Weight initialisations :class:`Linear` and :class:`MLP` accept.
INITS = ("article", "he", "xavier")
#: The init each activation gets when ``init`` is not given.
DEFAULT_INIT = {"sigmoid": "article", "relu": "he", "tanh": "xavier"}
_OUTPUT_ACTIVATIONS = (*ACTIVATIONS, "none")
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------------------------
# Module
# --------------------------------------------------------------------------------------------


class Module:
    """Base class of layers and networks: holds parameters and sub-modules, in order.

    Assigning a leaf Tensor with ``requires_grad=True`` to an attribute registers it as a
    parameter under the attribute's name; assigning a Module registers it as a sub-module (and
    names its scope after the attribute unless it already has a name). Subclasses call
    ``super().__init__()`` first and define ``forward``.

    Attributes
    ----------
    scope_name : str or None
        The scope tensors made by ``forward`` are tagged with (``t.scope``); ``None`` (the
        default for a top-level module) adds no scope.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.k = Tensor([[2.0]], requires_grad=True)
    ...     def forward(self, x):
    ...         return self.k * x
    >>> net = Scale()
    >>> [name for name, _ in net.named_parameters()]
    ['k']
    >>> net(Tensor([[1.0, 3.0]])).data
    array([[2., 6.]])
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "scope_name", None)

    # ---- registration ---------------------------------------------------------------------

    def __setattr__(self, key: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before it sets "
                f"attributes (setting {key!r})"
            )
        parameters: dict[str, Tensor] = self._parameters
        modules: dict[str, Module] = self._modules
        if isinstance(value, Tensor) and value.is_leaf and value.requires_grad:
            modules.pop(key, None)
            parameters[key] = value  # reassigning keeps the parameter's place in the order
        elif isinstance(value, Module):
            parameters.pop(key, None)
            modules[key] = value
            if value.scope_name is None:
                value.scope_name = key
        else:
            parameters.pop(key, None)
            modules.pop(key, None)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: str) -> None:
        self._parameters.pop(key, None)
        self._modules.pop(key, None)
        object.__delattr__(self, key)

    # ---- parameters -------------------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """``(name, tensor)`` for every parameter: this module's own first, then each
        sub-module's as ``"<submodule>.<name>"``, in registration order; each tensor once.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> [name for name, _ in Linear(3, 2).named_parameters()]
        ['W', 'b']
        """
        result: list[tuple[str, Tensor]] = []
        seen: set[int] = set()
        for name, parameter in self._parameters.items():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                result.append((name, parameter))
        for module_name, module in self._modules.items():
            for name, parameter in module.named_parameters():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    result.append((f"{module_name}.{name}", parameter))
        return result

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of :meth:`named_parameters` (hand it to an optimizer).

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> [p.name for p in MLP([2, 3, 1]).parameters()]
        ['W1', 'b1', 'W2', 'b2']
        """
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to ``None``).

        ``backward()`` adds into existing gradients, so call this before each new one.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> layer = Linear(2, 1)
        >>> layer(np.ones((2, 3))).sum().backward()
        >>> layer.zero_grad()
        >>> layer.W.grad is None
        True
        """
        for parameter in self.parameters():
            parameter.grad = None

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, ``name -> ndarray``, in parameter order.

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> {name: value.shape for name, value in MLP([2, 3, 1]).state_dict().items()}
        {'W1': (3, 2), 'b1': (3, 1), 'W2': (1, 3), 'b2': (1, 1)}
        """
        return {name: parameter.data.copy() for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from ``state`` (as :meth:`state_dict` returns it) into the parameters.

        Every name must be present and no other; every value must have the parameter's exact
        shape and dtype. Otherwise a ``ValueError`` lists every problem and **nothing** is
        loaded. Values are copied in place (the parameter tensors stay the same objects, so an
        optimizer holding them keeps working).

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> a, b = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> bool((a.W1.data == b.W1.data).all())
        True
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: state must be a mapping name -> array (as state_dict() "
                f"returns); got {type(state).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state]
        unexpected = [str(name) for name in state if name not in own]
        mismatched: list[str] = []
        values: dict[str, np.ndarray] = {}
        for name, parameter in own.items():
            if name not in state:
                continue
            value = state[name]
            if isinstance(value, Tensor):
                value = value.data
            try:
                array = np.asarray(value)
            except (ValueError, TypeError):
                mismatched.append(f"{name}: {type(value).__name__} is not an array")
                continue
            if array.shape != parameter.shape:
                mismatched.append(f"{name}: shape {array.shape}, expected {parameter.shape}")
            elif array.dtype != parameter.dtype:
                mismatched.append(f"{name}: dtype {array.dtype}, expected {parameter.dtype}")
            else:
                values[name] = array
        if missing or unexpected or mismatched:
            problems = []
            if missing:
                problems.append(f"missing: {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected: {', '.join(unexpected)}")
            if mismatched:
                problems.append(f"mismatched: {'; '.join(mismatched)}")
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: {' | '.join(problems)}. "
                f"Nothing was loaded."
            )
        for name, array in values.items():
            np.copyto(own[name].data, array)
            own[name].mark_modified()

    # ---- running ----------------------------------------------------------------------------

    def _scope(self) -> contextlib.AbstractContextManager[None]:
        if self.scope_name is None:
            return contextlib.nullcontext()
        return scope(self.scope_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._scope():
            return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it. Call the module, not this method, so that
        the tensors made get the module's scope.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> layer = Linear(2, 1)
        >>> layer.scope_name = "head"
        >>> layer(np.ones((2, 3))).scope
        'head'
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def config(self) -> dict[str, Any] | None:
        """The constructor arguments that rebuild this module (stored in checkpoints), or
        ``None`` when the module cannot be rebuilt from them.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> Linear(3, 2, seed=0).config()
        {'n_in': 3, 'n_out': 2, 'init': 'article', 'seed': 0, 'dtype': 'float64'}
        """
        return None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters and the model's description to ``path`` (an ``.npz`` file).

        The file holds one array per parameter (its own dtype, so the round trip is
        bit-identical) and JSON metadata: class name, :meth:`config` (for an MLP: layer_dims,
        activation, output_activation, init, seed, dtype), the parameter dtype and the format
        version. It is written atomically (see :func:`atomic_write`): if anything fails, the
        error reaches the caller and a previous file at ``path`` is untouched. The path is used
        as given (no ``.npz`` is appended). :func:`load` reads it back.

        Examples
        --------
        >>> import os, tempfile
        >>> from tinygrad_nn.nn import MLP, load
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> MLP([2, 3, 1]).save(path)
        >>> load(path)
        MLP(layer_dims=[2, 3, 1], activation='sigmoid', seed=3, init='article', dtype='float64', \
output_activation='sigmoid')
        """
        named = self.named_parameters()
        dtypes = sorted({parameter.dtype.name for _, parameter in named})
        metadata = {
            "kind": "model",
            "class": type(self).__name__,
            "config": self.config(),
            "dtype": dtypes[0] if len(dtypes) == 1 else dtypes,
            "parameters": [name for name, _ in named],
            "tinygrad_nn_version": __version__,
        }
        save_arrays(path, {name: parameter.data for name, parameter in named}, metadata)

    def __repr__(self) -> str:
        config = self.config()
        if config is None:
            return f"{type(self).__name__}()"
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        return f"{type(self).__name__}({arguments})"


# --------------------------------------------------------------------------------------------
# argument checks and initialisation
# --------------------------------------------------------------------------------------------


def _positive_int(value: Any, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{owner}: {name} must be a positive int; got {type(value).__name__} {value!r}"
        )
    if value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int; got {value}")
    return int(value)


def _choice(value: Any, name: str, choices: Sequence[str], owner: str) -> str:
    if not isinstance(value, str) or value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: unknown {name} {value!r}; valid choices are {valid}")
    return value


def _float_dtype(dtype: Any, owner: str) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner}: dtype must be float32 or float64; got {dtype!r}") from None
    if resolved not in _DTYPES:
        raise ValueError(f"{owner}: dtype must be float32 or float64; got {resolved}")
    return resolved


def _random_state(seed: Any, owner: str) -> np.random.RandomState:
    if isinstance(seed, np.random.RandomState):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)):
        raise TypeError(f"{owner}: seed must be an int, a RandomState or None; got {seed!r}")
    if seed is not None and not 0 <= seed < 2**32:
        raise ValueError(f"{owner}: seed must be in [0, 2**32); got {seed}")
    return np.random.RandomState(seed)


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
        self.n_in = _positive_int(n_in, "n_in", "Linear")
        self.n_out = _positive_int(n_out, "n_out", "Linear")
        self.init = _choice(init, "init", INITS, "Linear")
        self.dtype = _float_dtype(dtype, "Linear")
        self.seed = None if isinstance(seed, np.random.RandomState) else seed
        rng = _random_state(seed, "Linear")
        # Drawn in float64 and then cast, so that a float64 layer reproduces the article's
        # np.random stream exactly and a float32 one is its rounding.
        weights = rng.randn(self.n_out, self.n_in) * _init_scale(self.init, self.n_in, self.n_out)
        self.W = Tensor(weights.astype(self.dtype, copy=False), requires_grad=True, name="W")
        self.b = Tensor(np.zeros((self.n_out, 1), dtype=self.dtype), requires_grad=True, name="b")

    def forward(self, A: Any) -> Tensor:
        """``Z = W @ A + b`` for ``A`` of shape ``(n_in, m)`` (one example per column).

        Examples
        --------
        >>> Linear(3, 2)(np.zeros((3, 4))).op
        'linear'
        """
        A = _as_input(A, self.dtype, "Linear input A")
        if A.ndim != 2 or A.shape[0] != self.n_in:
            raise ValueError(
                f"Linear(n_in={self.n_in}, n_out={self.n_out}): input A must have shape "
                f"({self.n_in}, m), one example per column; got shape {A.shape}"
            )
        return ops.linear(self.W, A, self.b)

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


def _check_layer_dims(layer_dims: Any, owner: str = "MLP") -> list[int]:
    """``layer_dims`` as a list of at least 2 positive ints, or an error naming ``owner``.

    Shared with ``training.train`` and ``training.crosscheck``, which pass their own name.
    """
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, (Sequence, np.ndarray)):
        raise TypeError(
            f"{owner}: layer_dims must be a sequence of ints [n_0, n_1, ..., n_L]; got "
            f"{type(layer_dims).__name__} {layer_dims!r}"
        )
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ValueError(
            f"{owner}: layer_dims needs at least 2 sizes (the input size and one layer's width); "
            f"got {dims}"
        )
    for index, size in enumerate(dims):
        if isinstance(size, bool) or not isinstance(size, Integral):
            raise TypeError(
                f"{owner}: layer_dims[{index}] must be a positive int; got {type(size).__name__} "
                f"{size!r} in {dims}"
            )
        if size < 1:
            raise ValueError(
                f"{owner}: layer_dims[{index}] must be a positive int; got {size} in {dims}"
            )
    return [int(size) for size in dims]


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
    activation : {"sigmoid", "relu", "tanh"}
        Hidden layers' activation.
    seed : int or None
        Seed of the weights' random stream.
    init : {"article", "he", "xavier"}, optional
        Default: ``"article"`` for sigmoid, ``"he"`` for relu, ``"xavier"`` for tanh (every
        layer, the output layer too).
    dtype : float32 or float64
    output_activation : {"sigmoid", "relu", "tanh", "none"}
        The last layer's activation: sigmoid (a probability, for two classes) by default;
        ``"none"`` makes ``model(X)`` return the logits (for :func:`cross_entropy`).

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
    'linear'
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
        self.layer_dims = _check_layer_dims(layer_dims)
        self.activation = _choice(activation, "activation", ACTIVATIONS, "MLP")
        self.output_activation = _choice(
            "none" if output_activation is None else output_activation,
            "output_activation",
            _OUTPUT_ACTIVATIONS,
            "MLP",
        )
        self.init = _choice(
            DEFAULT_INIT[self.activation] if init is None else init, "init", INITS, "MLP"
        )
        if isinstance(seed, np.random.RandomState):
            raise TypeError("MLP: seed must be an int or None (checkpoints store it)")
        rng = _random_state(seed, "MLP")
        self.seed = seed
        self.dtype = _float_dtype(dtype, "MLP")
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


def _activate(Z: Tensor, activation: str) -> Tensor:
    if activation == "sigmoid":
        return Z.sigmoid()
    if activation == "relu":
        return Z.relu()
    if activation == "tanh":
        return Z.tanh()
    return Z


# --------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------


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
    return Tensor(array.astype(like.dtype, copy=False))


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


def binary_cross_entropy(A: Tensor, Y: Any, *, fused: bool = True) -> Tensor:
    """The article's cost: ``J = -(1/m) Σ [y ln a + (1-y) ln(1-a)]``, a scalar Tensor.

    The mean is over all elements of ``A`` (for the article's ``(1, m)`` output, over the m
    examples).

    Stable when it can be (the article's defect 6, fixed): when ``A`` was made by a ``sigmoid``
    op (``A.op == "sigmoid"``, ``A.parents[0]`` is the logits ``Z``, as ``MLP`` outputs are),
    the cost is computed from ``Z`` with the fused op ``bce_with_logits``. Its value is the
    article's formula, mathematically; the gradient into ``Z`` is exactly ``(A - Y)/m``, the
    article's ``dZ_L = A_L - Y`` scaled by ``1/m``; it never gives inf or NaN for a saturated
    sigmoid (where ``ln(1 - a)`` is ``ln 0``), and it is faster. The price: ``A`` is then
    skipped by backward, so ``A.retain_grad()`` sees no gradient; pass ``fused=False`` to
    backpropagate through the article's own formula (and ``dA_L``) instead.

    Parameters
    ----------
    A : Tensor
        Predicted probabilities in [0, 1], e.g. ``(1, m)``.
    Y : array_like or Tensor
        Labels in [0, 1] (0/1, or soft labels), the same shape as ``A``.
    fused : bool
        Use the stable path when ``A`` comes from a sigmoid (default). ``False`` always
        composes ``-(Y·ln A + (1-Y)·ln(1-A)).mean()``.

    Raises
    ------
    ValueError
        ``A`` and ``Y`` of different shapes (naming both; ``(m,)`` against ``(1, m)`` would
        silently broadcast to ``(m, m)``); labels outside [0, 1] or NaN; probabilities outside
        [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> Z = Tensor([[0.0, 2.0, -1.0]], requires_grad=True)
    >>> J = binary_cross_entropy(Z.sigmoid(), np.array([[1.0, 1.0, 0.0]]))
    >>> round(J.item(), 6)
    0.377779
    >>> J.backward()
    >>> Z.grad.round(4)          # (A - Y) / m
    array([[-0.1667, -0.0397,  0.0896]])
    """
    loss = "binary_cross_entropy"
    A = _prediction(A, loss, "A (predictions)")
    Y = _labels(Y, A, loss, "Y (labels)")
    _check_same_shape(loss, A, Y, "A (predictions)", "Y (labels)")
    _check_in_unit_interval(loss, Y.data, "Y (labels)")
    if fused and A.op == "sigmoid" and len(A.parents) == 1:
        Z = A.parents[0]
        # Only when Z would give the same graph: a sigmoid taken under no_grad of a Z that
        # requires grad must not turn into a differentiable loss.
        if Z.requires_grad == A.requires_grad:
            return ops.bce_with_logits(Z, Y)
    _check_in_unit_interval(
        loss,
        A.data,
        "A (predictions)",
        "; if these are logits, use binary_cross_entropy_with_logits",
    )
    return -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()


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


def _class_targets(labels: Any, k: int, m: int, dtype: np.dtype) -> Tensor:
    """One-hot (k, m) targets from class indices ((m,) or (1, m)), or the given (k, m) ones."""
    loss = "cross_entropy"
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
    one_hot = np.zeros((k, m), dtype=dtype)
    one_hot[indices.astype(np.intp), np.arange(m)] = 1.0
    return Tensor(one_hot)


def cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Softmax cross-entropy for k classes, in the article's layout; a scalar Tensor.

    ``J = -(1/m) Σ_examples ln softmax(z)_label``, with the softmax over axis 0 (the classes)
    computed as a stable ``log_softmax`` (finite for logits of ±1000). Its gradient with
    respect to the logits is ``(softmax(Z) - onehot(labels)) / m``.

    Parameters
    ----------
    logits : Tensor
        ``(k, m)``: k class scores per example, one example per column (e.g. an
        ``MLP(..., output_activation="none")`` output).
    labels : array_like or Tensor
        Class indices in [0, k): shape ``(m,)`` or ``(1, m)``, integers (or whole floats).
        Or one-hot (or soft) labels of shape ``(k, m)``, each column summing to 1.

    Raises
    ------
    ValueError
        Logits not 2-d or empty; labels of another shape (naming both); indices that are not
        whole numbers, NaN, or outside [0, k); one-hot columns outside [0, 1] or not summing
        to 1.

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
    """
    loss = "cross_entropy"
    logits = _prediction(logits, loss, "logits")
    if logits.ndim != 2:
        raise ValueError(
            f"{loss}: logits must have shape (k, m): k class scores per example, one example per "
            f"column; got shape {logits.shape}"
        )
    k, m = logits.shape
    targets = _class_targets(labels, k, m, logits.dtype)
    return -(logits.log_softmax(axis=0) * targets).sum() / m


# --------------------------------------------------------------------------------------------
# checkpoints: atomic .npz files with JSON metadata, read without pickle
# --------------------------------------------------------------------------------------------

#: Name of the format, stored in every file's metadata.
FORMAT_NAME = "tinygrad_nn"
#: The format version this code writes, and the newest it reads.
FORMAT_VERSION = 1
#: The archive member holding the metadata (UTF-8 JSON as a uint8 array: no pickle needed).
METADATA_KEY = "__metadata__"


def _new_file_mode(path: str) -> int:
    """The permissions the file would get from open(): the old file's, else 0o666 minus umask
    (mkstemp's temporary file is 0o600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(
    path: str | os.PathLike[str], content: bytes | str | Callable[[BinaryIO], None]
) -> None:
    """Write a file so that it is either entirely the new content or untouched.

    The content goes to a temporary file in the same directory, is flushed and fsync'ed, and
    then ``os.replace`` puts it at ``path`` in one step. If anything fails — writing, a full
    disk, a read-only directory — the temporary file is removed, a previous file at ``path``
    is left as it was, and the error reaches the caller.

    Parameters
    ----------
    path : str or path-like
        The file to write (used as given).
    content : bytes, str or callable
        The bytes (str is written as UTF-8), or a function that writes to the binary file
        object it receives.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, "epoch 1: cost 0.69\\n")
    >>> open(path).read()
    'epoch 1: cost 0.69\\n'
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not (callable(content) or isinstance(content, (bytes, bytearray, memoryview))):
        raise TypeError(
            f"atomic_write: content must be bytes, str or a function of a binary file; got "
            f"{type(content).__name__}"
        )
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            if callable(content):
                content(file)
            else:
                file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # Make the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


def save_arrays(
    path: str | os.PathLike[str], arrays: Mapping[str, Any], metadata: Mapping[str, Any]
) -> None:
    """Write named arrays and JSON metadata to an ``.npz`` file, atomically.

    The metadata is stored as UTF-8 JSON in a uint8 array, so that ``np.load(path,
    allow_pickle=False)`` reads everything; ``"format"`` and ``"format_version"`` are added.
    :meth:`Module.save` and the command line's ``--out`` files use this writer; read the
    files back with :func:`load_arrays`.

    Parameters
    ----------
    path : str or path-like
        The file to write (used as given; no ``.npz`` is appended).
    arrays : mapping of str to array_like
        Numeric (or string) arrays; object arrays would need pickle and are refused.
    metadata : mapping
        JSON-serialisable; may not use the keys ``"format"`` and ``"format_version"``.

    Raises
    ------
    TypeError
        An object array, or metadata that is not JSON-serialisable.
    ValueError
        A reserved name or key.
    OSError
        From the file system; a previous file at ``path`` is then untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "history.npz")
    >>> save_arrays(path, {"cost": np.array([0.7, 0.5])}, {"epochs": 2})
    >>> arrays, metadata = load_arrays(path)
    >>> arrays["cost"], metadata["epochs"], metadata["format_version"]
    (array([0.7, 0.5]), 2, 1)
    """
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save_arrays: metadata must be a mapping; got {type(metadata).__name__}")
    reserved = {"format", "format_version"} & set(metadata)
    if reserved:
        raise ValueError(f"save_arrays: metadata keys {sorted(reserved)} are reserved")
    if not isinstance(arrays, Mapping):
        raise TypeError(f"save_arrays: arrays must be a mapping; got {type(arrays).__name__}")
    payload: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == METADATA_KEY:
            raise ValueError(
                f"save_arrays: array names must be non-empty strings other than "
                f"{METADATA_KEY!r}; got {name!r}"
            )
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject:
            raise TypeError(
                f"save_arrays: array {name!r} has dtype {array.dtype}, which needs pickle; only "
                f"numeric and string arrays can be saved"
            )
        payload[name] = array
    try:
        text = json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata})
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_arrays: metadata must be JSON-serialisable ({error})") from None
    payload[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda file: np.savez(file, **payload))


class _ForeignFile(Exception):
    """A readable file that is not an archive of named arrays."""


def _read_archive(path: str) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every array in the file, and the metadata array if there is one. Raises ValueError for
    anything that is not a readable .npz archive of plain arrays."""
    with open(path, "rb") as file:  # a missing or unreadable file is an OSError, as usual
        try:
            loaded = np.load(file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise _ForeignFile(f"it holds a single {type(loaded).__name__}")
            with loaded:
                arrays = {}
                for name in loaded.files:
                    value = loaded[name]
                    if not isinstance(value, np.ndarray):
                        raise _ForeignFile(f"its member {name!r} is not a numpy array")
                    arrays[name] = value
        except _ForeignFile as error:
            raise ValueError(
                f"{path!r} is not a tinygrad_nn file: {error}, not an .npz archive of named "
                f"arrays"
            ) from None
        # A damaged archive can make zipfile and numpy raise almost anything (ValueError,
        # BadZipFile, EOFError, zlib.error, MemoryError for a garbled header...): all of them
        # mean "cannot read". numpy's refusal to unpickle is a ValueError too.
        except Exception as error:
            raise ValueError(
                f"{path!r} is not a readable tinygrad_nn file (truncated, corrupted, or not an "
                f".npz archive of plain arrays; nothing is ever unpickled): "
                f"{type(error).__name__}: {error}"
            ) from error
    return arrays, arrays.pop(METADATA_KEY, None)


def load_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_arrays`: ``(arrays, metadata)``.

    Loaded with ``allow_pickle=False``: reading a file never runs code, and an archive holding
    an object array is refused.

    Raises
    ------
    ValueError
        A truncated or corrupted file, a file that is not an ``.npz`` archive, an archive
        without tinygrad_nn metadata (foreign), or one written by a newer format version.
    OSError
        The file cannot be opened (e.g. ``FileNotFoundError``).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> save_arrays(path, {"x": np.arange(3)}, {"note": "three"})
    >>> load_arrays(path)[1]["note"]
    'three'
    """
    path = os.fspath(path)
    arrays, raw = _read_archive(path)
    if raw is None:
        raise ValueError(
            f"{path!r} is an .npz archive without tinygrad_nn metadata (a foreign file; its "
            f"arrays: {', '.join(sorted(arrays)) or 'none'})"
        )
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"metadata array has dtype {raw.dtype} and shape {raw.shape}")
        metadata = json.loads(raw.tobytes().decode("utf-8"))
        if not isinstance(metadata, dict):
            raise ValueError(f"metadata is a JSON {type(metadata).__name__}, not an object")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r}: the tinygrad_nn metadata is corrupted ({error})") from None
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{path!r} is not a tinygrad_nn file: its metadata names the format "
            f"{metadata.get('format')!r}"
        )
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path!r}: invalid format_version {version!r} in its metadata")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in format version {version} by a newer tinygrad_nn; this "
            f"version ({__version__}) reads up to version {FORMAT_VERSION}: upgrade tinygrad_nn"
        )
    return arrays, metadata


#: Module classes that :func:`load` can rebuild from a checkpoint's metadata.
CHECKPOINT_CLASSES: dict[str, type[Module]] = {"MLP": MLP, "Linear": Linear}


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved by :meth:`Module.save`, with its exact parameters.

    The model is built from the stored class and configuration, then every parameter is
    checked (names, shapes, dtypes) before any is copied in, so the result is either the
    saved model bit for bit or an error — never a half-loaded model.

    Raises
    ------
    ValueError
        Everything :func:`load_arrays` refuses (truncated, corrupted, foreign, future-version
        files), a file that is not a model checkpoint, an unknown class, or parameters that do
        not fit the stored configuration.
    OSError
        The file cannot be opened.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> model = MLP([2, 4, 1], activation="relu", seed=0)
    >>> model.save(path)
    >>> restored = load(path)
    >>> restored.activation, bool((restored.W1.data == model.W1.data).all())
    ('relu', True)
    """
    path = os.fspath(path)
    arrays, metadata = load_arrays(path)
    if metadata.get("kind") != "model":
        raise ValueError(f"{path!r} is a tinygrad_nn file but not a model checkpoint")
    class_name = metadata.get("class")
    config = metadata.get("config")
    cls = CHECKPOINT_CLASSES.get(class_name) if isinstance(class_name, str) else None
    if cls is None:
        raise ValueError(
            f"{path!r} holds a {class_name!r}, which load() cannot rebuild (it rebuilds "
            f"{', '.join(CHECKPOINT_CLASSES)}); build the model yourself and call "
            f"model.load_state_dict(tinygrad_nn.nn.load_arrays(path)[0])"
        )
    if not isinstance(config, dict):
        raise ValueError(f"{path!r}: the checkpoint's config is missing or not an object")
    try:
        model = cls(**config)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path!r}: the stored configuration does not build a {class_name} ({error})"
        ) from None
    try:
        model.load_state_dict(arrays)
    except ValueError as error:
        raise ValueError(f"{path!r}: the stored parameters do not fit the model: {error}") from None
    return model

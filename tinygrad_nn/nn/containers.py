"""Containers and parameter-free layers: Sequential, Dropout, Embedding and one activation
module per activation op in the registry (ReLU, Sigmoid, Tanh, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_nn import _checks, ops
from tinygrad_nn.nn.module import Module
from tinygrad_nn.tensor import Tensor

__all__ = ["Activation", "Dropout", "Embedding", "Sequential", "activation_modules"]


def _scope_label(module: Module) -> str:
    return type(module).__name__.lower()


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    The sub-modules are registered under ``"0"``, ``"1"``, ... (so parameters are named
    ``"0.W"``, ``"2.b"``, as in PyTorch) and each one's tensors are scoped
    ``"<class><index>"`` (``"conv2d0"``, ``"relu1"``), which the graph pictures group by.

    Parameters
    ----------
    *modules : Module
        At least one.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn.nn import Linear, ReLU, Sequential
    >>> net = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1))
    >>> [name for name, _ in net.named_parameters()]
    ['0.W', '0.b', '2.W', '2.b']
    >>> out = net(np.ones((3, 5)))
    >>> out.shape, len(net), type(net[1]).__name__
    ((2, 5), 3, 'ReLU')
    """

    _sequence: tuple[Module, ...]

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if not modules:
            raise ValueError("Sequential needs at least one module; got none")
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {index} must be a Module (e.g. nn.Linear, nn.ReLU); "
                    f"got {type(module).__name__} {module!r}"
                )
            if module.scope_name is None:
                module.scope_name = f"{_scope_label(module)}{index}"
            setattr(self, str(index), module)
        object.__setattr__(self, "_sequence", tuple(modules))

    def __len__(self) -> int:
        return len(self._sequence)

    def __getitem__(self, index: int) -> Module:
        return self._sequence[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._sequence)

    def forward(self, x: Any) -> Any:
        """Each module's output is the next one's input; the last one's is returned.

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> from tinygrad_nn.nn import Sequential, Tanh
        >>> Sequential(Tanh(), Tanh())(Tensor([0.0])).op
        'tanh'
        """
        for module in self._sequence:
            x = module(x)
        return x

    def __repr__(self) -> str:
        inner = ", ".join(repr(module) for module in self._sequence)
        return f"Sequential({inner})"


class Dropout(Module):
    """Inverted dropout in training mode (the op ``dropout``), the identity after ``eval()``.

    Parameters
    ----------
    p : float
        Probability of zeroing each element, in [0, 1).
    seed : int or None
        Seed of the layer's own ``numpy.random.Generator``: the same seed gives the same masks
        (numpy's global generator is never used).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> layer = Dropout(0.5, seed=0)
    >>> layer(Tensor(np.ones(6))).data    # kept elements scaled by 1/(1−p) = 2
    array([2., 0., 0., 0., 2., 2.])
    >>> layer.eval()(Tensor(np.ones(6))).data
    array([1., 1., 1., 1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, *, seed: int | None = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1); got {p!r}")
        self.p = float(p)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def forward(self, x: Any) -> Tensor:
        """``dropout(x, p)`` while ``self.training``, else ``x`` unchanged (recorded as the op).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Dropout(0.25).eval()(Tensor([1.0, 2.0])).data
        array([1., 2.])
        """
        return ops.dropout(x, self.p, training=self.training, rng=self.rng)

    def config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> Dropout(0.1, seed=3).config()
        {'p': 0.1, 'seed': 3}
        """
        return {"p": self.p, "seed": self.seed}


class Embedding(Module):
    """A table of learned vectors looked up by integer index, in the article's column layout.

    ``Embedding(n, d)(indices)`` is ``W[:, indices]``, which equals ``W @ onehot(indices)``:
    for indices of shape ``(m,)`` the result is ``(d, m)``, one vector per column, ready for
    :class:`Linear`. Indices of shape S give ``(d, *S)``. A repeated index adds up its
    gradients (the op ``getitem`` scatters with ``np.add.at``).

    Parameters
    ----------
    num_embeddings : int
        Size of the vocabulary (valid indices are 0..num_embeddings−1).
    embedding_dim : int
        Length d of each vector.
    seed : int, numpy RandomState or None
        Weights are ``randn(d, num_embeddings)``, standard normal as in PyTorch.
    dtype : float32 or float64

    Attributes
    ----------
    W : Tensor
        ``(embedding_dim, num_embeddings)``: column i is index i's vector (PyTorch's
        ``weight`` is its transpose).

    Examples
    --------
    >>> import numpy as np
    >>> table = Embedding(5, 3, seed=0)
    >>> vectors = table(np.array([4, 0, 4]))
    >>> vectors.shape
    (3, 3)
    >>> vectors.sum().backward()
    >>> table.W.grad[0]                # index 4 was used twice
    array([1., 0., 0., 0., 2.])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        seed: int | np.random.RandomState | None = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.num_embeddings = _checks.positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _checks.positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.dtype = _checks.float_dtype(dtype, "Embedding")
        self.seed = None if isinstance(seed, np.random.RandomState) else seed
        rng = _checks.random_state(seed, "Embedding")
        weights = rng.randn(self.embedding_dim, self.num_embeddings)
        self.W = Tensor(weights.astype(self.dtype, copy=False), requires_grad=True, name="W")

    def forward(self, indices: Any) -> Tensor:
        """The vectors of ``indices`` (ints in [0, num_embeddings)), shape ``(d, *indices.shape)``.

        Examples
        --------
        >>> Embedding(4, 2, seed=0)(np.array([[0, 1], [2, 3]])).shape
        (2, 2, 2)
        """
        array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
        if array.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding: indices must be integers (class or token ids); got dtype "
                f"{array.dtype}"
            )
        n = self.num_embeddings
        outside = (array < 0) | (array >= n)
        if outside.any():
            raise ValueError(
                f"Embedding(num_embeddings={n}): indices must lie in [0, {n}); got "
                f"{array[outside].flat[0].item()!r} among indices of shape {array.shape}"
            )
        return self.W[:, array]

    def config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> Embedding(10, 4, seed=1).config()
        {'num_embeddings': 10, 'embedding_dim': 4, 'seed': 1, 'dtype': 'float64'}
        """
        return {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class Activation(Module):
    """An activation op as a module: ``Activation("relu")(x)`` is ``x.relu()``.

    Any op whose registry entry marks it an activation (``ops.activations()``) can be named;
    keyword options are passed to the op (e.g. a slope, if the op takes one). The named
    classes :class:`ReLU`, :class:`Sigmoid`, :class:`Tanh`, ... are made from the same list.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> Activation("relu")(Tensor([-1.0, 2.0])).data
    array([0., 2.])
    """

    op_name: str | None = None

    def __init__(self, name: str | None = None, **options: Any) -> None:
        super().__init__()
        name = type(self).op_name if name is None else name
        valid = ops.activations()
        if name not in valid:
            raise ValueError(
                f"Activation: unknown activation {name!r}; valid choices are "
                f"{', '.join(repr(v) for v in valid)} (ops.activations())"
            )
        self.name = name
        self.options = dict(options)
        self._apply = _op_function(name)

    def forward(self, x: Any) -> Tensor:
        """The op applied to ``x`` (any shape: activations are elementwise).

        Examples
        --------
        >>> from tinygrad_nn import Tensor
        >>> Activation("tanh")(Tensor([0.0])).op
        'tanh'
        """
        return self._apply(x, **self.options)

    def config(self) -> dict[str, Any]:
        """The constructor arguments (see :meth:`Module.config`).

        Examples
        --------
        >>> Activation("sigmoid").config()
        {'name': 'sigmoid'}
        """
        return {"name": self.name, **self.options}


def _op_function(name: str) -> Any:
    """The op's function: ``ops.<name>`` (``ops.abs_`` style for names shadowing builtins), or
    else its Tensor method."""
    for attribute in (name, f"{name}_"):
        function = getattr(ops, attribute, None)
        if callable(function):
            return function
    method = ops.REGISTRY[name].method
    if method is None:
        raise TypeError(f"Activation: op {name!r} has neither a function in ops nor a method")
    return getattr(Tensor, method)


#: Where PyTorch's class name does not follow the rule below (gelu -> GELU, not GeLU).
_IRREGULAR_SPELLING = {"gelu": "GELU"}


def _class_name(op_name: str) -> str:
    """PyTorch's spelling: relu -> ReLU, leaky_relu -> LeakyReLU, silu -> SiLU, tanh -> Tanh."""
    if op_name in _IRREGULAR_SPELLING:
        return _IRREGULAR_SPELLING[op_name]
    words = []
    for word in op_name.split("_"):
        word = word.capitalize()
        if word.endswith("lu"):
            word = word[:-2] + "LU"
        words.append(word)
    return "".join(words)


def _make_activation_class(op_name: str) -> type[Activation]:
    name = _class_name(op_name)
    doc = (
        f"The activation op ``{op_name}`` as a module (made from the registry's activations).\n\n"
        f"    {ops.REGISTRY[op_name].formula}\n\n"
        f"    Keyword options go to the op.\n\n"
        f"    Examples\n"
        f"    --------\n"
        f"    >>> from tinygrad_nn import Tensor\n"
        f"    >>> from tinygrad_nn.nn import {name}\n"
        f"    >>> {name}()(Tensor([-1.0, 0.5])).op\n"
        f"    '{op_name}'\n"
    )
    return type(
        name,
        (Activation,),
        {"op_name": op_name, "__doc__": doc, "__module__": __name__, "__qualname__": name},
    )


def activation_modules() -> dict[str, type[Activation]]:
    """The activation module classes, ``op name -> class``, one per ``ops.activations()``.

    Examples
    --------
    >>> {name: cls.__name__ for name, cls in activation_modules().items()}["relu"]
    'ReLU'
    """
    return dict(_ACTIVATION_CLASSES)


_ACTIVATION_CLASSES = {name: _make_activation_class(name) for name in ops.activations()}
globals().update({cls.__name__: cls for cls in _ACTIVATION_CLASSES.values()})
__all__ += [cls.__name__ for cls in _ACTIVATION_CLASSES.values()]

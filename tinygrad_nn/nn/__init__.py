"""Modules and losses, built only from Tensors and ops.

Layout, as in the article: examples are columns. ``X`` is ``(n_features, m)``, ``Y`` is
``(1, m)``, ``W_l`` is ``(n_l, n_{l-1})``, ``b_l`` is ``(n_l, 1)``, and a layer computes
``W @ A_prev + b``.

* :class:`Module` — parameters in registration order, ``state_dict`` / ``load_state_dict``.
  Calling a module runs its ``forward`` inside ``tinygrad_nn.tensor.scope(<its name>)``, so every
  tensor made there carries ``t.scope`` (``"layer2"``) and graph pictures cluster by layer.
* :class:`Linear` — one layer's ``Z = W @ A + b`` (recorded as ``matmul`` and ``add``).
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

from tinygrad_nn.io import (
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_KEY,
    ArrayArchive,
    atomic_write,
    load_arrays,
    open_arrays,
    save_arrays,
)
from tinygrad_nn.nn import layers as _layers
from tinygrad_nn.nn.checkpoint import CHECKPOINT_CLASSES, load
from tinygrad_nn.nn.containers import (
    Activation,
    Dropout,
    Embedding,
    Sequential,
    activation_modules,
)
from tinygrad_nn.nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from tinygrad_nn.nn.layers import INITS, MLP, Linear
from tinygrad_nn.nn.losses import (
    LOG_FLOOR,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
    nll_loss,
)
from tinygrad_nn.nn.module import Module
from tinygrad_nn.nn.norm import BatchNorm1d, BatchNorm2d, LayerNorm


def __getattr__(name: str) -> object:
    # ACTIVATIONS (the activation ops' names) and DEFAULT_INIT (their default inits) are read
    # from the op registry when asked for, as nn.layers does: no copy is kept here.
    if name in ("ACTIVATIONS", "DEFAULT_INIT"):
        return getattr(_layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS",
    "CHECKPOINT_CLASSES",
    "DEFAULT_INIT",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INITS",
    "LOG_FLOOR",
    "METADATA_KEY",
    "MLP",
    "ArrayArchive",
    "Linear",
    "Module",
    "atomic_write",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "load",
    "load_arrays",
    "mse",
    "open_arrays",
    "save_arrays",
]
__all__ += [  # layers for CNNs and sequences (issue 15)
    "Activation", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Embedding",
    "Flatten", "LayerNorm", "MaxPool2d", "Sequential", "activation_modules", "nll_loss",
]
# One module class per activation op of the registry (ReLU, Sigmoid, Tanh, ...), made from
# ops.activations(): nobody keeps a second list of activations.
globals().update({cls.__name__: cls for cls in activation_modules().values()})
__all__ += [cls.__name__ for cls in activation_modules().values()]

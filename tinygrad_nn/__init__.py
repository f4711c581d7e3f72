"""tinygrad_nn: a small, readable, fast autograd engine on numpy.

>>> from tinygrad_nn import Tensor
>>> w = Tensor([[0.5, -0.25]], requires_grad=True, name="W")
>>> x = Tensor([[1.0], [2.0]], name="X")
>>> loss = (w @ x).sigmoid().sum()
>>> loss.backward()
>>> w.grad.shape
(1, 2)

The article's network, trained with the engine, and checked against the article's own backprop:

>>> import tinygrad_nn
>>> X, Y = tinygrad_nn.data.load("article", m=40, seed=0)
>>> params, cost_history = tinygrad_nn.train(X, Y, [2, 3, 1], epochs=10, lr=1.0)
>>> tinygrad_nn.crosscheck(X, Y, [2, 3, 1]).ok
True
"""

# Imported first: its settings apply to every array made after it (see its docstring).
from tinygrad_nn import _allocator  # noqa: F401  (isort: skip)
from tinygrad_nn import data, nn, ops, optim, reference
from tinygrad_nn._version import __version__
from tinygrad_nn.compiler import CompileError, compile
from tinygrad_nn.gradcheck import GradcheckError, gradcheck
from tinygrad_nn.ops import concatenate, stack
from tinygrad_nn.tensor import (
    Tensor,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
)
from tinygrad_nn.training import crosscheck, train

__all__ = [
    "CompileError",
    "GradcheckError",
    "Tensor",
    "__version__",
    "compile",
    "concatenate",
    "crosscheck",
    "data",
    "detect_anomaly",
    "enable_grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "nn",
    "no_grad",
    "ops",
    "optim",
    "reference",
    "set_detect_anomaly",
    "stack",
    "train",
]

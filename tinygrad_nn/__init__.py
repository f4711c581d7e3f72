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

Importing the package needs numpy only and changes nothing in the process: the pictures
(``tinygrad_nn.viz``, which uses graphviz and matplotlib when drawing) load on first use, and
the allocator setting the command uses is opt-in (:func:`keep_freed_memory`).

>>> tinygrad_nn.viz.to_dot(tinygrad_nn.Tensor([1.0]).exp()).splitlines()[0]
'digraph tinygrad_nn {'
"""

from __future__ import annotations

import importlib
import types

from tinygrad_nn import data, nn, ops, optim, reference
from tinygrad_nn._allocator import is_keeping_freed_memory, keep_freed_memory
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
    "is_keeping_freed_memory",
    "keep_freed_memory",
    "nn",
    "no_grad",
    "ops",
    "optim",
    "reference",
    "set_detect_anomaly",
    "stack",
    "train",
    "viz",
]

# Subpackages loaded on first use (PEP 562), so that `import tinygrad_nn` stays numpy-only and
# fast while `tinygrad_nn.viz.draw_graph(loss)` works after it.
_LAZY_SUBMODULES = ("viz",)


def __getattr__(name: str) -> types.ModuleType:
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"tinygrad_nn.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'tinygrad_nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

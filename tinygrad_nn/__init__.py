"""tinygrad_nn: a small, readable, fast autograd engine on numpy.

>>> from tinygrad_nn import Tensor
>>> w = Tensor([[0.5, -0.25]], requires_grad=True, name="W")
>>> x = Tensor([[1.0], [2.0]], name="X")
>>> loss = (w @ x).sigmoid().sum()
>>> loss.backward()
>>> w.grad.shape
(1, 2)
"""

from tinygrad_nn import ops
from tinygrad_nn._version import __version__
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

__all__ = [
    "GradcheckError",
    "Tensor",
    "__version__",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "ops",
    "set_detect_anomaly",
    "stack",
]

"""User code that must type-check with mypy against tinygrad_nn's own annotations (py.typed).

``tests/test_tensor.py::test_user_code_type_checks_with_mypy`` runs mypy on this file: every
Tensor method and operator is written out with its types, so none of these lines needs a
``# type: ignore`` and a wrong call would be reported.
"""

from __future__ import annotations

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import Tensor, nn, no_grad


def loss_of(model: nn.MLP, X: Tensor, Y: Tensor) -> Tensor:
    P = model(X)
    return -(Y * P.log() + (1 - Y) * (1 - P).log()).mean()


x = Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
h: Tensor = (x * 2).sigmoid()
h = (2.0 - h) ** 2 / 3 + x.T.T @ np.ones((3, 1))
y: Tensor = h.relu().tanh().exp().log().sum(axis=0, keepdims=True).mean()
y.backward()
gradient: np.ndarray | None = x.grad
value: float = y.item()
mask: Tensor = x > 0
parts: list[Tensor] = x.split(1, axis=0)
with no_grad():
    x -= 0.1 * x.grad if x.grad is not None else 0.0
model = nn.MLP([3, 4, 1], activation="tanh")
cost: Tensor = loss_of(model, Tensor(np.ones((3, 5))), Tensor(np.ones((1, 5))))
stacked: Tensor = tg.stack([x, x]).reshape(4, 3).softmax(axis=-1)

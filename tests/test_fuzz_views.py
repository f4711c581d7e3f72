"""Random programs of ops, views, detach() and in-place updates, run by the engine and by PyTorch
(float64): the engine never gives a wrong number (issue 12, fuzzing).

Each program starts from two parameters (W, V) and two constants (X, C), all 3×3, and applies
random steps: ops (add, sub, mul, matmul, tanh, sigmoid, exp), views (.T, a reshape round trip,
basic slicing), detach(), in-place += and *= on tensors that need no grad, and an optimizer-style
update of W under no_grad(). Then it backpropagates a weighted sum of everything that requires
grad. The property, against PyTorch:

* PyTorch succeeds: the engine succeeds, with the same loss and the same gradients;
* PyTorch raises (a saved tensor was changed): the engine raises too, or gives the gradient of
  the graph as it was computed, which PyTorch gives when every saved tensor is cloned as it is
  saved (``saved_tensors_hooks``). The engine only checks what its rules read, and that can be
  less than what PyTorch saves, never a silently changed input.

The ops are those whose rules read what PyTorch saves (div, relu and sqrt read other arrays,
so their refusals could differ from PyTorch's without any number being wrong).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_nn as tg
from tinygrad_nn import Tensor

OPS = ["add", "sub", "mul", "matmul", "tanh", "sigmoid", "exp"]
VIEWS = ["T", "reshape", "slice", "detach"]
CHANGES = ["iadd", "imul", "update_W"]

step = st.tuples(
    st.sampled_from(OPS + VIEWS + CHANGES),
    st.integers(0, 63),
    st.integers(0, 63),
    st.sampled_from([0.5, -1.0, 2.0]),
)


class Engine:
    """The engine's spelling of each step."""

    RuntimeErrors = (RuntimeError,)

    def tensor(self, data, requires_grad):
        return Tensor(data.copy(), requires_grad=requires_grad)

    def no_grad(self):
        return tg.no_grad()

    def iadd(self, t, c):
        t += c

    def imul(self, t, c):
        t *= c

    def grad(self, t):
        return np.zeros((3, 3)) if t.grad is None else np.asarray(t.grad)

    def value(self, t):
        return float(t.item())


class Torch(Engine):
    def __init__(self, torch):
        self.torch = torch

    def tensor(self, data, requires_grad):
        return self.torch.tensor(data, dtype=self.torch.float64, requires_grad=requires_grad)

    def no_grad(self):
        return self.torch.no_grad()

    def iadd(self, t, c):
        t.add_(c)

    def imul(self, t, c):
        t.mul_(c)

    def grad(self, t):
        return np.zeros((3, 3)) if t.grad is None else t.grad.detach().numpy().copy()


def run(lib, steps, start, weights):
    """Run a program; return (loss, dW, dV). Exceptions propagate."""
    W, V = lib.tensor(start[0], True), lib.tensor(start[1], True)
    pool = [W, V, lib.tensor(start[2], False), lib.tensor(start[3], False)]
    for kind, i, j, c in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "add":
            pool.append(a + b)
        elif kind == "sub":
            pool.append(a - b)
        elif kind == "mul":
            pool.append(a * b)
        elif kind == "matmul":
            pool.append((a @ b) * 0.3)
        elif kind == "tanh":
            pool.append(a.tanh())
        elif kind == "sigmoid":
            pool.append(a.sigmoid())
        elif kind == "exp":
            pool.append(a.tanh().exp())
        elif kind == "T":
            pool.append(a.T)
        elif kind == "reshape":
            pool.append(a.reshape(9).reshape(3, 3))
        elif kind == "slice":
            pool.append(a[0:3])
        elif kind == "detach":
            pool.append(a.detach())
        elif kind in ("iadd", "imul") and not a.requires_grad:
            getattr(lib, kind)(a, c)
        elif kind == "update_W":
            with lib.no_grad():
                lib.iadd(W, 0.1 * c)
    loss = None
    for k, t in enumerate(pool):
        if t.requires_grad:
            term = (t * lib.tensor(weights[k % len(weights)], False)).sum()
            loss = term if loss is None else loss + term
    loss.backward()
    return lib.value(loss), lib.grad(W), lib.grad(V)


def pytorch_with_saved_tensors_cloned(torch, steps, start, weights):
    """The gradient of the graph as computed: every tensor PyTorch saves is copied when saved."""
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
        return run(Torch(torch), steps, start, weights)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=10), seed=st.integers(0, 2**16))
def test_random_programs_with_views_and_in_place_changes_never_give_a_wrong_gradient(
    torch, steps, seed
):
    rng = np.random.default_rng(seed)
    start = [rng.uniform(-1, 1, (3, 3)) for _ in range(4)]
    weights = [rng.standard_normal((3, 3)) for _ in range(3)]
    try:
        expected = run(Torch(torch), steps, start, weights)
    except RuntimeError:
        expected = None
    if expected is not None:
        got = run(Engine(), steps, start, weights)
    else:
        expected = pytorch_with_saved_tensors_cloned(torch, steps, start, weights)
        try:
            got = run(Engine(), steps, start, weights)
        except RuntimeError as error:
            assert "modified in place" in str(error)
            return
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-10, atol=1e-12)

"""Every fast path equals the plain path it replaces, to 1e-12 in float64.

The speed-ups (fused linear, fused sigmoid + cross-entropy, the in-place sigmoid, in-place SGD,
glibc keeping freed memory) must never change a result; timing lives in benchmarks/.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tinygrad_nn import Tensor, nn, no_grad, ops, optim

RNG = np.random.default_rng(7)


def _grads(fn, *arrays):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(np.ones_like(out.data))
    return out.data, [t.grad for t in tensors]


def test_fused_linear_equals_matmul_then_add_in_value_and_gradients() -> None:
    W, A, b = RNG.normal(size=(5, 4)), RNG.normal(size=(4, 9)), RNG.normal(size=(5, 1))
    fast, fast_grads = _grads(lambda w, a, c: ops.linear(w, a, c), W, A, b)
    plain, plain_grads = _grads(lambda w, a, c: w @ a + c, W, A, b)
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=0)
    for f, p in zip(fast_grads, plain_grads, strict=True):
        np.testing.assert_allclose(f, p, rtol=1e-12, atol=1e-15)


def test_in_place_sigmoid_equals_the_textbook_formula() -> None:
    x = RNG.normal(scale=5.0, size=(6, 7))
    np.testing.assert_allclose(Tensor(x).sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-12)


def test_fused_cross_entropy_from_logits_equals_the_articles_cost_and_gradient() -> None:
    z = RNG.normal(size=(1, 12))
    y = (RNG.uniform(size=(1, 12)) > 0.5).astype(float)

    def article(t):
        a = t.sigmoid()
        return -(Tensor(y) * a.log() + (1 - Tensor(y)) * (1 - a).log()).mean()

    fast, (fast_grad,) = _grads(lambda t: ops.bce_with_logits(t, Tensor(y)), z)
    plain, (plain_grad,) = _grads(article, z)
    np.testing.assert_allclose(fast, plain, rtol=1e-12)
    np.testing.assert_allclose(fast_grad, plain_grad, rtol=1e-12, atol=1e-15)


def test_mlp_kit_training_equals_ops_written_by_hand_step_by_step() -> None:
    X = RNG.normal(size=(3, 40))
    Y = (X[:1] * X[1:2] > 0).astype(float)
    model = nn.MLP([3, 5, 4, 1])
    sgd = optim.SGD(model.parameters(), lr=0.5)
    by_hand = [Tensor(p.data, requires_grad=True) for p in model.parameters()]
    for _ in range(5):
        sgd.zero_grad()
        kit_cost = nn.binary_cross_entropy(model(X), Y)
        kit_cost.backward()
        sgd.step()

        A = Tensor(X)
        for W, b in zip(by_hand[::2], by_hand[1::2], strict=True):
            A = (W @ A + b).sigmoid()
        cost = -(Tensor(Y) * A.log() + (1 - Tensor(Y)) * (1 - A).log()).mean()
        cost.backward()
        with no_grad():
            for p in by_hand:
                p -= 0.5 * p.grad
                p.grad = None
        np.testing.assert_allclose(kit_cost.item(), cost.item(), rtol=1e-12)
    for fast, plain in zip(model.parameters(), by_hand, strict=True):
        np.testing.assert_allclose(fast.data, plain.data, rtol=1e-12, atol=1e-15)


def test_keeping_freed_memory_changes_no_result() -> None:
    script = (
        "import numpy as np, tinygrad_nn as tg\n"
        "tg._allocator.keep_freed_memory_unless_disabled()  # as the command does\n"
        "X, Y = tg.data.load('moons', m=64, seed=1)\n"
        "_, costs = tg.train(X, Y, [2, 6, 1], 50, 0.5)\n"
        "print(repr(costs[-1]), tg._allocator.is_keeping_freed_memory())\n"
    )
    outputs = {}
    for setting in ("1", "0"):
        env = {"TINYGRAD_NN_KEEP_FREED_MEMORY": setting, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        outputs[setting] = done.stdout.split()
    assert outputs["1"][0] == outputs["0"][0]  # bit-identical cost
    assert outputs["0"][1] == "False"
    assert outputs["1"][1] == ("True" if sys.platform.startswith("linux") else "False")

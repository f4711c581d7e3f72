"""Graphs the viz tests draw: the article's network, a long chain, a deep net."""

import numpy as np

from tinygrad_nn import Tensor, ops
from tinygrad_nn.tensor import scope


def article_network(m=4, cost="logits", by_hand=False, seed=0):
    """The article's [2, 3, 1] sigmoid network on m examples, one forward pass.

    cost: "logits" (fused bce_with_logits on Z2) or "bce" (the article's formula on A2).
    by_hand: layers written as W @ A + b without scopes, instead of ops.linear in layer scopes.
    """
    rng = np.random.default_rng(seed)
    net = {
        "X": Tensor(rng.normal(size=(2, m)), name="X"),
        "Y": Tensor((np.arange(m) % 2).reshape(1, m), name="Y"),
        "W1": Tensor(rng.normal(size=(3, 2)) * 0.01, requires_grad=True, name="W1"),
        "b1": Tensor(np.zeros((3, 1)), requires_grad=True, name="b1"),
        "W2": Tensor(rng.normal(size=(1, 3)) * 0.01, requires_grad=True, name="W2"),
        "b2": Tensor(np.zeros((1, 1)), requires_grad=True, name="b2"),
    }
    A = net["X"]
    for layer in (1, 2):
        W, b = net[f"W{layer}"], net[f"b{layer}"]
        last = layer == 2 and cost == "logits"
        if by_hand:
            Z = W @ A + b
            A = Z if last else Z.sigmoid()
        else:
            with scope(f"layer{layer}"):
                Z = ops.linear(W, A, b)
                A = Z if last else Z.sigmoid()
    Y = net["Y"]
    if cost == "logits":
        net["J"] = ops.bce_with_logits(A, Y)
    else:
        net["J"] = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
    return net

def chain(n_ops):
    x = Tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(n_ops):
        y = y * 1.0001
    return y

def deep_net(n_layers, width=3, m=5):
    rng = np.random.default_rng(1)
    A = Tensor(rng.normal(size=(2, m)), name="X")
    for layer in range(1, n_layers + 1):
        W = Tensor(rng.normal(size=(width, A.shape[0])), requires_grad=True, name=f"W{layer}")
        b = Tensor(np.zeros((width, 1)), requires_grad=True, name=f"b{layer}")
        with scope(f"layer{layer}"):
            A = ops.linear(W, A, b).sigmoid()
    return A.mean()

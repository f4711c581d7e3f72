"""Specification of tinygrad_nn.viz.explain: the backward pass written out, op by op."""

import re

import numpy as np
import pytest
from viz_networks import article_network

from tinygrad_nn import Tensor, ops, viz
from tinygrad_nn.tensor import topological_order

# --- explain: the backward pass written out -------------------------------------------------------


def test_explain_writes_the_article_backprop_for_linear_and_sigmoid_layers_in_backward_order():
    text = str(viz.explain(article_network(cost="bce")["J"]))
    expected_in_order = [
        r"layer2\s+sigmoid\s+dZ2 = dA2·A2·\(1−A2\)",
        r"layer2\s+linear\s+dW2 = dZ2 @ A1ᵀ",
        r"dA1 = W2ᵀ @ dZ2",
        r"db2 = dZ2",
        r"layer1\s+sigmoid\s+dZ1 = dA1·A1·\(1−A1\)",
        r"layer1\s+linear\s+dW1 = dZ1 @ Xᵀ",
        r"X: no gradient",
        r"db1 = dZ1",
    ]
    positions = [re.search(pattern, text) for pattern in expected_in_order]
    assert all(positions), [p for p, found in zip(expected_in_order, positions, strict=True)
                           if not found]
    starts = [found.start() for found in positions]
    assert starts == sorted(starts)


def test_explain_shows_the_fused_cost_gradient_and_the_shapes_flowing_in_and_out():
    text = str(viz.explain(article_network(m=5)["J"]))
    assert re.search(r"bce_with_logits\s+dZ2 = dJ·\(σ\(Z2\) − Y\)/n\s+scalar → \(1, 5\)", text)
    assert re.search(r"dW2 = dZ2 @ A1ᵀ\s+\(1, 5\) → \(1, 3\)", text)
    assert re.search(r"dA1 = W2ᵀ @ dZ2\s+\(1, 5\) → \(3, 5\)", text)


def test_explain_names_gradients_from_parameter_names_when_layers_are_written_by_hand():
    text = str(viz.explain(article_network(cost="bce", by_hand=True)["J"]))
    assert re.search(r"sigmoid\s+dZ2 = dA2·A2·\(1−A2\)", text)
    assert re.search(r"matmul\s+dW1 = d\(W1@X\) @ Xᵀ", text)
    assert "db1 = dZ1  [the engine sums the broadcast axes: (3, 4) → (3, 1)]" in text


def test_explain_of_the_mlp_and_its_cost_names_unnamed_inputs_and_labels_X_and_Y():
    from tinygrad_nn import nn

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(2, 4)), (np.arange(4) % 2).reshape(1, 4)
    model = nn.MLP([2, 3, 1])
    text = str(viz.explain(nn.binary_cross_entropy(model(X), Y)))
    # nn.Linear records matmul and add, the cost its formula: the article's names throughout
    assert re.search(r"layer2\s+sigmoid\s+dZ2 = dA2·A2·\(1−A2\)", text)
    assert re.search(r"layer1\s+sigmoid\s+dZ1 = dA1·A1·\(1−A1\)", text)
    assert re.search(r"layer1\s+add\s+d\(W1@X\) = dZ1", text)
    assert re.search(r"layer1\s+matmul\s+dW1 = d\(W1@X\) @ Xᵀ", text)


def test_explain_visits_tensors_in_the_engines_order_and_ends_with_the_parameters_grads():
    net = article_network()
    explanation = viz.explain(net["J"])
    steps = explanation.steps
    assert steps[0].kind == "seed" and steps[0].gradient == "dJ"
    order = topological_order(net["J"])
    assert [(s.kind, s.op, s.shape) for s in steps[1:]] == [
        ("leaf" if t.is_leaf else "op", t.op, t.shape) for t in order
    ]
    leaves = {s.name: s for s in steps if s.kind == "leaf"}
    assert set(leaves) == {"W1", "b1", "W2", "b2"}
    assert "W1.grad += dW1" in str(explanation)


def test_explain_says_when_a_gradient_is_the_sum_of_several_consumers():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    y = w.sigmoid()
    text = str(viz.explain((y * y + y).sum()))
    assert "is the sum of 3 consumers' gradients" in text


def test_explain_works_before_backward_and_leaves_gradients_alone():
    net = article_network()
    viz.explain(net["J"])
    assert net["W1"].grad is None
    net["J"].backward()  # the graph was not released by explain
    assert net["W1"].grad is not None


def test_explain_uses_the_rules_of_an_op_registered_again_under_the_same_name():
    def register(rule):
        def doubled(a):
            return 2 * a, lambda g: 2 * g

        doubled.__doc__ = f"y = 2a   {rule}"
        return ops.op(1)(doubled)

    u = Tensor([1.0], requires_grad=True, name="u")
    try:
        viz.explain(register("dx = 2·g·x")(u).sum())
        edited = register("da = 2·g·a")  # a notebook cell edited and run again
        rule = viz.explain(edited(u).sum()).steps[2].inputs[0].rule
    finally:
        del ops.REGISTRY["doubled"]
    assert rule == "du = 2·ddoubled1·u"


def test_a_new_broadcasting_op_and_a_new_activation_reach_the_pictures_from_the_registry():
    def hypot(a, b):
        """y = √(a²+b²)   da = g·a/y   db = g·b/y"""
        y = np.sqrt(a * a + b * b)
        return y, (lambda g: g * a / y, lambda g: g * b / y)

    def cube(x):
        """y = x³   dx = g·3x²"""
        return x**3, lambda g: g * 3 * x * x

    hypot_op = ops.op(2, broadcasting=True)(hypot)
    cube_op = ops.op(1, activation_init="xavier")(cube)
    try:
        W1 = Tensor(np.ones((2, 2)), requires_grad=True, name="W1")
        b1 = Tensor(np.ones((2, 1)), requires_grad=True, name="b1")
        X = Tensor(np.ones((2, 3)), name="X")
        A1 = cube_op(hypot_op(W1 @ X, b1))  # b1 (2, 1) broadcast against (2, 3)
        text = str(viz.explain(A1.sum()))
        dot = viz.to_dot(A1.sum())
    finally:
        del ops.REGISTRY["hypot"], ops.REGISTRY["cube"]
    assert "the engine sums the broadcast axes: (2, 3) → (2, 1)" in text
    assert "dA1" in text  # the activation's output is layer 1's A1
    assert len([line for line in dot.splitlines() if "<B>A1</B>" in line]) == 1


def test_explain_of_a_tensor_that_needs_no_gradient_is_a_value_error():
    with pytest.raises(ValueError, match=r"explain: .*(require grad|requires_grad)"):
        viz.explain(Tensor([1.0, 2.0]).sum())


def test_explanation_renders_as_a_markdown_table_in_notebooks():
    x = Tensor([-1.0, 2.0], requires_grad=True, name="x")
    markdown = viz.explain(abs(x).sum())._repr_markdown_()
    assert "| step | scope | op | forward | gradient rule | shapes (in → out) |" in markdown
    assert "`x.grad += dx`" in markdown
    assert "\\|x\\|" in markdown  # the abs bars do not break the table

def test_an_explanation_prints_as_its_table_in_a_repl():
    x = Tensor([-1.0, 2.0], requires_grad=True, name="x")
    explanation = viz.explain(abs(x).sum())
    lines = repr(explanation).splitlines()
    assert lines[0].startswith("Backward pass of J")
    assert lines[1].split() == ["step", "scope", "op", "gradient", "rule", "shapes", "(in", "→",
                                "out)"]
    # one row per step: seed, sum, abs, the leaf; each with its rule
    assert [line.split()[0] for line in lines[2:]] == ["0", "1", "2", "3"]
    assert "dJ = 1" in lines[2] and "x.grad += dx" in lines[5]

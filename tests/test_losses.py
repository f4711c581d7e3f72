"""Specification of the losses in tinygrad_nn.nn.

binary_cross_entropy is the article's cost, recorded as written whatever made its input, with
each log's argument clipped at e^-100 (PyTorch's BCELoss clamps each log at -100) so that a
saturated sigmoid gives a finite cost (the article's defect 6). Every loss's gradient passes
gradcheck; bad shapes and labels are ValueErrors that name them.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Tensor, gradcheck, no_grad
from tinygrad_nn.nn import (
    LOG_FLOOR,
    MLP,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
)

try:
    from tinygrad_nn import reference
except ImportError:  # written in parallel by another helper
    reference = None

rng = np.random.default_rng(0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def article_cost(A, Y):
    m = Y.shape[1]
    return float(-(1 / m) * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def binary_labels(shape, seed=0):
    return (np.random.default_rng(seed).random(shape) > 0.5).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# the article's network: autograd equals the hand-derived backprop
# ---------------------------------------------------------------------------------------------


def article_gradients(X, Y, params, L):
    """The article's backprop, written out: dW, db per layer (dZ_L = A_L - Y at the top)."""
    m = X.shape[1]
    A = {0: X}
    for l in range(1, L + 1):  # noqa: E741
        A[l] = sigmoid(params[f"W{l}"] @ A[l - 1] + params[f"b{l}"])
    grads = {}
    dZ = A[L] - Y
    for l in range(L, 0, -1):  # noqa: E741
        grads[f"W{l}"] = (1 / m) * dZ @ A[l - 1].T
        grads[f"b{l}"] = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
        dA_prev = params[f"W{l}"].T @ dZ
        dZ = dA_prev * A[l - 1] * (1 - A[l - 1])
    return A[L], grads


def graph_ops(tensor):
    """The op names of every node in the graph that made ``tensor``."""
    seen, stack, names = set(), [tensor], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is not None:
            names.append(node.op)
        stack.extend(node.parents)
    return names


def test_autograd_through_mlp_and_bce_gives_the_articles_dW_and_db():
    layer_dims = [4, 6, 5, 3, 1]
    X = rng.standard_normal((4, 30))
    Y = binary_labels((1, 30))
    model = MLP(layer_dims)
    # Larger weights than the article's 0.01, so that every layer's gradient is far from zero.
    with no_grad():
        for p in model.parameters():
            p += np.random.default_rng(1).standard_normal(p.shape)
    params = model.state_dict()

    cost = binary_cross_entropy(model(X), Y)
    cost.backward()

    AL, expected = article_gradients(X, Y, params, L=4)
    assert cost.item() == pytest.approx(article_cost(AL, Y), rel=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, expected[name], rtol=1e-12, atol=1e-15, err_msg=name)


@pytest.mark.skipif(reference is None, reason="tinygrad_nn.reference not written yet")
def test_autograd_through_mlp_and_bce_equals_reference_backprop():
    layer_dims = [3, 5, 4, 1]
    X = rng.standard_normal((3, 12))
    Y = binary_labels((1, 12), seed=1)
    AL, caches = reference.forward_prop(X, reference.init_params(layer_dims))
    grads = reference.backprop(AL, Y, caches)
    model = MLP(layer_dims)
    binary_cross_entropy(model(X), Y).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads["d" + name], rtol=1e-10, atol=1e-18, err_msg=name)


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy: the formula as written, the clamp, saturation
# ---------------------------------------------------------------------------------------------


def test_bce_is_the_articles_cost():
    A = rng.uniform(0.05, 0.95, (1, 7))
    Y = binary_labels((1, 7))
    J = binary_cross_entropy(Tensor(A), Y)
    assert J.shape == ()
    assert J.item() == pytest.approx(article_cost(A, Y), rel=1e-14)


def test_bce_of_a_sigmoid_records_the_articles_formula_not_a_fused_op():
    Z = Tensor(rng.standard_normal((1, 5)), requires_grad=True)
    J = binary_cross_entropy(Z.sigmoid(), binary_labels((1, 5)))
    names = graph_ops(J)
    assert "bce_with_logits" not in names
    assert names.count("log") == 2 and {"sigmoid", "mul", "add", "mean"} <= set(names)


def test_bce_shows_its_clamp_as_a_clip_op_at_e_to_the_minus_100():
    J = binary_cross_entropy(Tensor([[0.5]]), [[1.0]])
    assert graph_ops(J).count("clip") == 2
    assert math.log(LOG_FLOOR) == pytest.approx(-100.0, rel=1e-15)


def test_bce_leaves_a_retained_A_its_gradient_dA():
    Z = Tensor(rng.standard_normal((1, 6)), requires_grad=True)
    Y = binary_labels((1, 6))
    A = Z.sigmoid().retain_grad()
    binary_cross_entropy(A, Y).backward()
    expected = -(Y / A.data - (1 - Y) / (1 - A.data)) / 6  # the article's dAL, over m
    np.testing.assert_allclose(A.grad, expected, rtol=1e-13, atol=0)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**31))
def test_bce_equals_bce_with_logits_in_value_and_gradient_away_from_saturation(m, seed):
    generator = np.random.default_rng(seed)
    z = generator.uniform(-5, 5, (1, m))
    Y = (generator.random((1, m)) > 0.5).astype(np.float64)
    results = []
    for loss in (lambda Z: binary_cross_entropy(Z.sigmoid(), Y),
                 lambda Z: binary_cross_entropy_with_logits(Z, Y)):
        Z = Tensor(z, requires_grad=True)
        J = loss(Z)
        J.backward()
        results.append((J.item(), Z.grad))
    (composed_value, composed_grad), (fused_value, fused_grad) = results
    assert composed_value == pytest.approx(fused_value, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(composed_grad, fused_grad, rtol=1e-11, atol=1e-15)


def test_bce_gradient_into_the_logits_is_A_minus_Y_over_m():
    Z = Tensor(rng.standard_normal((1, 9)), requires_grad=True)
    Y = binary_labels((1, 9))
    A = Z.sigmoid()
    binary_cross_entropy(A, Y).backward()
    np.testing.assert_allclose(Z.grad, (A.data - Y) / 9, rtol=1e-12, atol=1e-17)


def test_bce_at_probabilities_exactly_0_and_1_equals_torch_bce_loss(torch):
    # Every combination of a saturated prediction and a hard or soft label.
    A = np.array([[0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.3]])
    Y = np.array([[0.0, 1.0, 0.0, 1.0, 0.25, 0.75, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning either
        J = binary_cross_entropy(Tensor(A, requires_grad=True), Y)
    expected = torch.nn.functional.binary_cross_entropy(
        torch.tensor(A, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    )
    assert J.item() == pytest.approx(expected.item(), rel=1e-14)


def test_bce_at_probabilities_exactly_0_and_1_has_a_finite_gradient():
    A = Tensor([[0.0, 0.0, 1.0, 1.0, 0.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        binary_cross_entropy(A, [[0.0, 1.0, 0.0, 1.0, 0.5]]).backward()
    assert np.isfinite(A.grad).all()
    # A clipped log passes nothing; the other log its own gradient, (1 - y)/(1 - a)/m, -y/a/m.
    np.testing.assert_allclose(A.grad, [[1 / 5, 0.0, 0.0, -1 / 5, 0.5 / 5]], rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_of_logits_of_plus_minus_1000_equals_torch_in_value_and_gradient(torch, dtype):
    z = np.array([[1000.0, -1000.0, 1000.0, -1000.0, 40.0, -40.0, 2.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]], dtype=dtype)
    Z = Tensor(z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = binary_cross_entropy(Z.sigmoid(), Y)
        J.backward()
    z_torch = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(z_torch), torch.tensor(Y))
    expected.backward()
    assert np.isfinite(J.item()) and np.isfinite(Z.grad).all()
    if dtype == "float64":
        assert J.item() == pytest.approx(expected.item(), rel=1e-14)
    else:  # float32 clamps each log at ln(smallest normal float32) = -87.3, torch at -100
        A = torch.sigmoid(z_torch).detach().double()
        floor = math.log(np.finfo(np.float32).tiny)
        y = torch.tensor(Y, dtype=torch.float64)
        terms = y * A.log().clamp(min=floor) + (1 - y) * (1 - A).log().clamp(min=floor)
        assert J.item() == pytest.approx(-terms.mean().item(), rel=1e-6)
    np.testing.assert_allclose(Z.grad, z_torch.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_bce_keeps_the_gradient_of_a_tiny_unclamped_probability_that_torch_loses(torch):
    # sigmoid(-40) = 4e-18 is far above e^-100: the log is not clamped, and the gradient into
    # the logit is the exact (a - y)/m. PyTorch's BCELoss backward divides by max(a(1-a), 1e-12)
    # and returns about 4e-6 of it.
    z = np.array([[-40.0, 2.0]])
    Y = np.array([[1.0, 1.0]])
    Z = Tensor(z, requires_grad=True)
    binary_cross_entropy(Z.sigmoid(), Y).backward()
    np.testing.assert_allclose(Z.grad, (1 / (1 + np.exp(-z)) - Y) / 2, rtol=1e-12)
    z_torch = torch.tensor(z, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(torch.sigmoid(z_torch), torch.tensor(Y)).backward()
    assert abs(z_torch.grad[0, 0].item()) < 1e-5 * abs(Z.grad[0, 0])


def test_bce_gradient_equals_torch_where_nothing_is_clamped(torch):
    A = rng.uniform(1e-6, 1 - 1e-6, (2, 5))
    Y = rng.random((2, 5))
    a = Tensor(A, requires_grad=True)
    binary_cross_entropy(a, Y).backward()
    a_torch = torch.tensor(A, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(a_torch, torch.tensor(Y)).backward()
    np.testing.assert_allclose(a.grad, a_torch.grad.numpy(), rtol=1e-12, atol=0)


def test_bce_passes_gradcheck_in_float64():
    A = Tensor(rng.uniform(0.1, 0.9, (2, 3)), requires_grad=True)
    Y = rng.random((2, 3))
    assert gradcheck(lambda a: binary_cross_entropy(a, Y), [A])


def test_a_sigmoid_taken_under_no_grad_gives_a_loss_without_grad():
    Z = Tensor(rng.standard_normal((1, 3)), requires_grad=True)
    with no_grad():
        A = Z.sigmoid()
    assert not binary_cross_entropy(A, binary_labels((1, 3))).requires_grad


def test_bce_keeps_float32():
    Z = Tensor(rng.standard_normal((1, 4)).astype(np.float32), requires_grad=True)
    assert binary_cross_entropy(Z.sigmoid(), binary_labels((1, 4))).dtype == np.float32


def test_bce_accepts_labels_as_a_tensor_or_a_list():
    A = Tensor([[0.25, 0.75]])
    expected = article_cost(A.data, np.array([[0.0, 1.0]]))
    assert binary_cross_entropy(A, Tensor([[0.0, 1.0]])).item() == pytest.approx(expected)
    assert binary_cross_entropy(A, [[0, 1]]).item() == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits
# ---------------------------------------------------------------------------------------------


def test_bce_with_logits_equals_the_articles_cost_of_the_sigmoid():
    z = rng.standard_normal((1, 8))
    Y = binary_labels((1, 8))
    J = binary_cross_entropy_with_logits(Tensor(z), Y)
    assert J.item() == pytest.approx(article_cost(sigmoid(z), Y), rel=1e-13)


def test_bce_with_logits_is_finite_at_logits_of_plus_minus_1000():
    Z = Tensor([[1000.0, -1000.0, 1000.0, -1000.0]], requires_grad=True)
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    J = binary_cross_entropy_with_logits(Z, Y)
    J.backward()
    assert J.item() == pytest.approx(2000.0 / 4, rel=1e-15)
    np.testing.assert_array_equal(Z.grad, np.array([[0.0, 0.0, 0.25, -0.25]]))


def test_bce_with_logits_gradient_is_sigmoid_minus_Y_over_n():
    Z = Tensor(rng.standard_normal((2, 5)), requires_grad=True)
    Y = rng.random((2, 5))
    binary_cross_entropy_with_logits(Z, Y).backward()
    np.testing.assert_allclose(Z.grad, (sigmoid(Z.data) - Y) / 10, rtol=1e-14, atol=1e-17)


# ---------------------------------------------------------------------------------------------
# gradcheck: every loss, with a random upstream gradient
# ---------------------------------------------------------------------------------------------


def test_bce_composed_passes_gradcheck():
    A = Tensor(rng.uniform(0.1, 0.9, (1, 6)), requires_grad=True)
    Y = rng.random((1, 6))
    assert gradcheck(lambda a: binary_cross_entropy(a, Y), [A])


def test_bce_fused_passes_gradcheck():
    Z = Tensor(rng.standard_normal((1, 6)), requires_grad=True)
    Y = binary_labels((1, 6))
    assert gradcheck(lambda z: binary_cross_entropy(z.sigmoid(), Y), [Z])


def test_bce_with_logits_passes_gradcheck_in_logits_and_labels():
    Z = Tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True)
    Y = Tensor(rng.random((3, 4)), requires_grad=True)
    assert gradcheck(binary_cross_entropy_with_logits, [Z, Y])


def test_mse_passes_gradcheck():
    A = Tensor(rng.standard_normal((2, 5)), requires_grad=True)
    Y = Tensor(rng.standard_normal((2, 5)), requires_grad=True)
    assert gradcheck(mse, [A, Y])


def test_cross_entropy_passes_gradcheck_with_index_and_one_hot_labels():
    logits = Tensor(rng.standard_normal((4, 7)) * 2, requires_grad=True)
    labels = rng.integers(0, 4, 7)
    assert gradcheck(lambda z: cross_entropy(z, labels), [logits])
    soft = rng.dirichlet(np.ones(4), 7).T
    assert gradcheck(lambda z: cross_entropy(z, soft), [logits])


# ---------------------------------------------------------------------------------------------
# mse and cross_entropy values
# ---------------------------------------------------------------------------------------------


def test_mse_is_the_mean_of_squared_differences():
    A, Y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert mse(Tensor(A), Y).item() == pytest.approx(np.mean((A - Y) ** 2), rel=1e-14)


def test_cross_entropy_equals_a_hand_numpy_computation():
    logits = rng.standard_normal((3, 10)) * 4
    labels = rng.integers(0, 3, 10)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    expected = -np.mean(np.log(probabilities[labels, np.arange(10)]))
    Z = Tensor(logits, requires_grad=True)
    J = cross_entropy(Z, labels)
    J.backward()
    assert J.item() == pytest.approx(expected, rel=1e-13)
    one_hot = np.eye(3)[:, labels]
    np.testing.assert_allclose(Z.grad, (probabilities - one_hot) / 10, rtol=1e-12, atol=1e-16)


def test_cross_entropy_label_forms_agree():
    logits = Tensor(rng.standard_normal((3, 6)))
    labels = np.array([0, 2, 1, 1, 0, 2])
    expected = cross_entropy(logits, labels).item()
    for form in (labels.reshape(1, 6), labels.astype(np.float64), Tensor(labels),
                 np.eye(3)[:, labels], list(labels)):
        assert cross_entropy(logits, form).item() == pytest.approx(expected, rel=1e-15)


def test_cross_entropy_is_finite_for_logits_of_plus_minus_1000():
    Z = Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    J = cross_entropy(Z, np.array([1, 1]))
    J.backward()
    assert J.item() == pytest.approx(1000.0, rel=1e-15)
    assert np.isfinite(Z.grad).all()


def test_cross_entropy_keeps_float32():
    assert cross_entropy(Tensor(np.zeros((3, 2), np.float32)), [0, 1]).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------

BINARY_LOSSES = [binary_cross_entropy, binary_cross_entropy_with_logits, mse]


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
def test_labels_of_shape_m_against_predictions_1_m_are_rejected(loss):
    A = Tensor(np.full((1, 5), 0.5))
    with pytest.raises(ValueError, match=r"\(1, 5\) but Y .* \(5,\).*reshape Y to \(1, 5\)"):
        loss(A, np.zeros(5))


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("a_shape", "y_shape"), [((1, 5), (5, 1)), ((5,), (5, 1))])
def test_shapes_that_would_broadcast_to_m_by_m_are_rejected(loss, a_shape, y_shape):
    with pytest.raises(ValueError, match=r"silently broadcast them to \(5, 5\)"):
        loss(Tensor(np.full(a_shape, 0.5)), np.zeros(y_shape))


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
def test_transposed_labels_are_rejected(loss):
    with pytest.raises(ValueError, match=r"\(1, 4\).*\(4, 1\)"):
        loss(Tensor(np.full((1, 4), 0.5)), np.zeros((4, 1)))


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
def test_incompatible_shapes_name_both(loss):
    with pytest.raises(ValueError, match=rf"{loss.__name__}.*\(1, 4\).*Y.*\(1, 3\)"):
        loss(Tensor(np.full((1, 4), 0.5)), np.zeros((1, 3)))


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
def test_nan_in_labels_is_rejected(loss):
    with pytest.raises(ValueError, match=r"Y \(.*\) contains 1 NaN"):
        loss(Tensor(np.full((1, 3), 0.5)), np.array([[0.0, np.nan, 1.0]]))


@pytest.mark.parametrize("loss", BINARY_LOSSES, ids=lambda f: f.__name__)
def test_empty_predictions_are_rejected(loss):
    with pytest.raises(ValueError, match="empty"):
        loss(Tensor(np.zeros((1, 0))), np.zeros((1, 0)))


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize("bad", [2.0, -1.0, np.inf])
def test_bce_labels_outside_0_1_are_rejected(loss, bad):
    with pytest.raises(ValueError, match=r"Y \(labels\) must lie in \[0, 1\]"):
        loss(Tensor(np.full((1, 3), 0.5)), np.array([[0.0, bad, 1.0]]))


def test_bce_of_values_outside_0_1_suggests_the_logits_loss():
    with pytest.raises(ValueError, match=r"A \(predictions\).*\[0, 1\].*with_logits"):
        binary_cross_entropy(Tensor([[1.5, -0.5]]), [[1.0, 0.0]])


def test_non_numeric_labels_are_a_type_error():
    with pytest.raises(TypeError, match="binary_cross_entropy: Y"):
        binary_cross_entropy(Tensor([[0.5]]), [["yes"]])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 3, 1]), r"class indices in \[0, 3\).*got 3 \(at column 1\)"),
        (np.array([0, -1, 1]), r"class indices in \[0, 3\).*got -1"),
        (np.array([0.0, 1.5, 1.0]), r"integer class indices.*1.5"),
        (np.array([0.0, np.nan, 1.0]), r"NaN"),
        (np.zeros(4, int), r"\(3, 3\).*labels have shape \(4,\)"),
        (np.zeros((3, 1), int), r"labels have shape \(3, 1\)"),
        (np.array([[1.0, 0, 0], [0, 1, 0], [0, 1, 0]]), r"column 1 sums to 2.0"),
        (np.array([[2.0, 0, 0], [-1, 1, 0], [0, 0, 1]]), r"must lie in \[0, 1\]"),
    ],
    ids=["too-large", "negative", "fractional", "nan", "length", "column", "sum", "range"],
)
def test_cross_entropy_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(Tensor(np.zeros((3, 3))), labels)


def test_cross_entropy_wants_2d_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(k, m\).*\(3,\)"):
        cross_entropy(Tensor(np.zeros(3)), [0])

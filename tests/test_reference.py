"""Specification of tinygrad_nn.reference: the seed article's network, corrected.

The module is checked three ways: against a literal, loop-by-loop transcription of the corrected
article written here independently; against central finite differences of the cost; and
defect by defect (see shared/seed/README.md, defects 1-6).
"""

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import reference

# ---------------------------------------------------------------------------------------------
# A literal transcription of the corrected article, one scalar at a time.
# ---------------------------------------------------------------------------------------------


def _scalar_sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def transcribed_init_params(layer_dims):
    np.random.seed(3)
    params = {}
    for l in range(1, len(layer_dims)):  # noqa: E741
        params[f"W{l}"] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


def transcribed_forward(X, params):
    """Returns the list of activations A_0..A_L and pre-activations Z_1..Z_L (Zs[0] is None)."""
    L = len(params) // 2
    m = X.shape[1]
    As, Zs = [X], [None]
    for l in range(1, L + 1):  # noqa: E741
        W, b, A_prev = params[f"W{l}"], params[f"b{l}"], As[-1]
        n_l, n_prev = W.shape
        Z = np.zeros((n_l, m))
        A = np.zeros((n_l, m))
        for i in range(n_l):
            for j in range(m):
                z = b[i, 0]
                for k in range(n_prev):
                    z += W[i, k] * A_prev[k, j]
                Z[i, j] = z
                A[i, j] = _scalar_sigmoid(z)
        As.append(A)
        Zs.append(Z)
    return As, Zs


def transcribed_cost(AL, Y):
    m = Y.shape[1]
    total = 0.0
    for j in range(m):
        a, y = AL[0, j], Y[0, j]
        total += y * math.log(a) + (1 - y) * math.log(1 - a)
    return -total / m


def transcribed_backprop(As, Y, params):
    L = len(params) // 2
    m = Y.shape[1]
    grads = {}
    AL = As[L]
    dA = np.zeros_like(AL)
    for i in range(AL.shape[0]):
        for j in range(m):
            a, y = AL[i, j], Y[i, j]
            dA[i, j] = -(y / a - (1 - y) / (1 - a))
    for l in range(L, 0, -1):  # noqa: E741
        W, A, A_prev = params[f"W{l}"], As[l], As[l - 1]
        n_l, n_prev = W.shape
        dZ = np.zeros((n_l, m))
        for i in range(n_l):
            for j in range(m):
                dZ[i, j] = dA[i, j] * A[i, j] * (1 - A[i, j])
        dW = np.zeros((n_l, n_prev))
        db = np.zeros((n_l, 1))
        for i in range(n_l):
            for k in range(n_prev):
                dW[i, k] = sum(dZ[i, j] * A_prev[k, j] for j in range(m)) / m
            db[i, 0] = sum(dZ[i, j] for j in range(m)) / m
        dA_prev = np.zeros((n_prev, m))
        for k in range(n_prev):
            for j in range(m):
                dA_prev[k, j] = sum(W[i, k] * dZ[i, j] for i in range(n_l))
        grads[f"dW{l}"], grads[f"db{l}"], grads[f"dA{l - 1}"] = dW, db, dA_prev
        dA = dA_prev
    return grads


def transcribed_update(params, grads, learning_rate):
    return {
        name: value - learning_rate * grads["d" + name] for name, value in params.items()
    }


def transcribed_train(X, Y, layer_dims, epochs, lr):
    params = transcribed_init_params(layer_dims)
    cost_history = []
    for _ in range(epochs):
        As, _Zs = transcribed_forward(X, params)
        cost_history.append(transcribed_cost(As[-1], Y))
        params = transcribed_update(params, transcribed_backprop(As, Y, params), lr)
    return params, cost_history


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def random_problem(layer_dims, m, seed, scale=1.0):
    """Parameters of order one (so every gradient is far from zero), inputs and 0/1 targets."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_dims)):  # noqa: E741
        params[f"W{l}"] = scale * rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
        params[f"b{l}"] = scale * rng.standard_normal((layer_dims[l], 1))
    X = rng.standard_normal((layer_dims[0], m))
    Y = rng.integers(0, 2, size=(1, m)).astype(np.float64)
    return X, Y, params


def cost_from_layer(A_l, l, params, Y):  # noqa: E741
    """The cost J as a function of A_l, the activation that enters layer l+1."""
    L = len(params) // 2
    A = A_l
    for k in range(l + 1, L + 1):
        A, _ = reference.sigmoid(params[f"W{k}"] @ A + params[f"b{k}"])
    return reference.cost_function(A, Y)


def central_difference(f, x, h=1e-6):
    """dJ/dx for every entry of x, where f() reads x; x is restored afterwards."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = f()
        x[index] = original - h
        f_minus = f()
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


FD_DIMS = [3, 4, 2, 1]
FD_M = 5


@pytest.fixture
def fd_problem():
    return random_problem(FD_DIMS, FD_M, seed=11)


# ---------------------------------------------------------------------------------------------
# The corrected article equals its literal transcription
# ---------------------------------------------------------------------------------------------

layer_dims_strategy = st.lists(st.integers(1, 4), min_size=2, max_size=5).map(
    lambda dims: [*dims[:-1], 1]
)


@settings(max_examples=40, deadline=None)
@given(layer_dims=layer_dims_strategy, m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_forward_prop_equals_the_transcription(layer_dims, m, seed):
    X, _Y, params = random_problem(layer_dims, m, seed)
    AL, caches = reference.forward_prop(X, params)
    As, Zs = transcribed_forward(X, params)

    np.testing.assert_allclose(AL, As[-1], rtol=1e-12, atol=0)
    assert len(caches) == len(layer_dims) - 1
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):  # noqa: E741
        np.testing.assert_allclose(A_prev, As[l - 1], rtol=1e-12, atol=0)
        assert W is params[f"W{l}"] and b is params[f"b{l}"]
        np.testing.assert_allclose(Z, Zs[l], rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(layer_dims=layer_dims_strategy, m=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_cost_and_backprop_equal_the_transcription(layer_dims, m, seed):
    X, Y, params = random_problem(layer_dims, m, seed)
    AL, caches = reference.forward_prop(X, params)
    As, _Zs = transcribed_forward(X, params)

    assert reference.cost_function(AL, Y) == pytest.approx(transcribed_cost(As[-1], Y), rel=1e-12)
    grads = reference.backprop(AL, Y, caches)
    expected = transcribed_backprop(As, Y, params)
    assert grads.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-14)


def test_train_equals_the_transcription_epoch_by_epoch():
    X, Y, _params = random_problem([2, 3, 2, 1], 6, seed=5)
    params, cost_history = reference.train(X, Y, [2, 3, 2, 1], epochs=8, lr=0.7)
    expected_params, expected_history = transcribed_train(X, Y, [2, 3, 2, 1], epochs=8, lr=0.7)

    np.testing.assert_allclose(cost_history, expected_history, rtol=1e-12)
    assert params.keys() == expected_params.keys()
    for name in expected_params:
        np.testing.assert_allclose(params[name], expected_params[name], rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# Gradients against finite differences (net [3, 4, 2, 1], m = 5, float64)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2", "W3", "b3"])
def test_dW_and_db_of_every_layer_are_the_true_gradients_of_the_cost(fd_problem, name):
    X, Y, params = fd_problem
    AL, caches = reference.forward_prop(X, params)
    grads = reference.backprop(AL, Y, caches)

    numeric = central_difference(
        lambda: reference.cost_function(reference.forward_prop(X, params)[0], Y), params[name]
    )
    assert np.abs(numeric).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(grads["d" + name], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("l", [0, 1, 2])
def test_dA_is_m_times_the_true_gradient_of_the_cost(fd_problem, l):  # noqa: E741
    X, Y, params = fd_problem
    AL, caches = reference.forward_prop(X, params)
    grads = reference.backprop(AL, Y, caches)
    A_l = X.copy() if l == 0 else caches[l][0][0].copy()

    numeric = central_difference(lambda: cost_from_layer(A_l, l, params, Y), A_l)
    assert np.abs(numeric).max() > 1e-3
    np.testing.assert_allclose(grads[f"dA{l}"], FD_M * numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Defect by defect
# ---------------------------------------------------------------------------------------------


def test_defect_1_the_module_source_has_no_tab_indentation():
    assert "\t" not in inspect.getsource(reference)


def test_defect_1_sigmoid_returns_the_activation_and_Z_as_its_cache():
    Z = np.array([[-2.0, 0.0, 3.0]])
    A, cache = reference.sigmoid(Z)
    np.testing.assert_allclose(A, [[1 / (1 + math.exp(2.0)), 0.5, 1 / (1 + math.exp(-3.0))]])
    assert cache is Z


def test_defect_2_cost_function_returns_a_python_float():
    cost = reference.cost_function(np.array([[0.9, 0.2, 0.6]]), np.array([[1.0, 0.0, 1.0]]))
    assert type(cost) is float


def test_defect_2_cost_function_is_the_binary_cross_entropy():
    A, Y = np.array([[0.9, 0.2, 0.6]]), np.array([[1.0, 0.0, 1.0]])
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3
    assert reference.cost_function(A, Y) == pytest.approx(expected, rel=1e-14)


def test_defect_3_one_layer_backward_uses_the_sigmoid_derivative_of_the_cached_Z():
    X, _Y, params = random_problem([3, 2], 4, seed=2)
    _AL, caches = reference.forward_prop(X, params)
    dA = np.arange(8.0).reshape(2, 4) - 3.0
    dA_prev, dW, db = reference.one_layer_backward(dA, caches[0])

    s = 1 / (1 + np.exp(-caches[0][1]))
    dZ = dA * s * (1 - s)
    np.testing.assert_allclose(dW, dZ @ X.T / 4, rtol=1e-13)
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 4, rtol=1e-13)
    np.testing.assert_allclose(dA_prev, params["W1"].T @ dZ, rtol=1e-13)


def test_defect_3_one_layer_backward_evaluates_the_sigmoid_once(monkeypatch):
    X, _Y, params = random_problem([3, 2], 4, seed=2)
    _AL, caches = reference.forward_prop(X, params)
    calls = []
    original = reference.sigmoid

    def counting_sigmoid(Z):
        calls.append(Z)
        return original(Z)

    monkeypatch.setattr(reference, "sigmoid", counting_sigmoid)
    reference.one_layer_backward(np.ones((2, 4)), caches[0])
    assert len(calls) == 1


def test_defect_4_backprop_returns_dW_and_db_for_every_layer_and_dA_for_every_input():
    X, Y, params = random_problem(FD_DIMS, FD_M, seed=0)
    AL, caches = reference.forward_prop(X, params)
    grads = reference.backprop(AL, Y, caches)
    assert set(grads) == {"dW1", "dW2", "dW3", "db1", "db2", "db3", "dA0", "dA1", "dA2"}
    for l in (1, 2, 3):  # noqa: E741
        assert grads[f"dW{l}"].shape == params[f"W{l}"].shape
        assert grads[f"db{l}"].shape == params[f"b{l}"].shape
    assert grads["dA0"].shape == X.shape


def test_defect_4_the_last_layer_learns():
    X, Y, _params = random_problem([2, 3, 1], 8, seed=4)
    params, _history = reference.train(X, Y, [2, 3, 1], epochs=1, lr=1.0)
    initial = reference.init_params([2, 3, 1])
    assert not np.array_equal(params["W2"], initial["W2"])
    assert not np.array_equal(params["b2"], initial["b2"])


def test_defect_5_update_parameters_subtracts_learning_rate_times_dW_and_db():
    X, Y, params = random_problem(FD_DIMS, FD_M, seed=1)
    AL, caches = reference.forward_prop(X, params)
    grads = reference.backprop(AL, Y, caches)
    before = {name: value.copy() for name, value in params.items()}

    updated = reference.update_parameters(dict(params), grads, 0.3)

    assert updated.keys() == before.keys()
    for name in before:
        np.testing.assert_array_equal(updated[name], before[name] - 0.3 * grads["d" + name])


def test_update_parameters_does_not_write_into_the_callers_arrays():
    params = {"W1": np.ones((2, 3)), "b1": np.ones((2, 1))}
    W1, b1 = params["W1"], params["b1"]
    reference.update_parameters(params, {"dW1": np.ones((2, 3)), "db1": np.ones((2, 1))}, 0.5)
    np.testing.assert_array_equal(W1, np.ones((2, 3)))
    np.testing.assert_array_equal(b1, np.ones((2, 1)))


def test_defect_6_is_kept_a_saturated_output_makes_the_articles_dAL_non_finite():
    caches = [((np.ones((1, 2)), np.ones((1, 1)), np.zeros((1, 1))), np.array([[40.0, -40.0]]))]
    AL = np.array([[1.0, 0.0]])  # what the sigmoid rounds to at Z = +-40 in float64
    with np.errstate(divide="ignore", invalid="ignore"):
        grads = reference.backprop(AL, np.array([[1.0, 0.0]]), caches)
    assert not np.all(np.isfinite(grads["dW1"]))


# ---------------------------------------------------------------------------------------------
# init_params, train, predict
# ---------------------------------------------------------------------------------------------


def test_init_params_draws_the_seed_3_stream_layer_after_layer():
    layer_dims = [4, 3, 5, 1]
    np.random.seed(3)
    expected_W = [np.random.randn(3, 4) * 0.01, np.random.randn(5, 3) * 0.01,
                  np.random.randn(1, 5) * 0.01]

    params = reference.init_params(layer_dims)

    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for l, W in enumerate(expected_W, start=1):  # noqa: E741
        np.testing.assert_array_equal(params[f"W{l}"], W)
        np.testing.assert_array_equal(params[f"b{l}"], np.zeros((layer_dims[l], 1)))


def test_init_params_is_reproducible_whatever_the_global_rng_did_before():
    first = reference.init_params([3, 4, 1])
    np.random.seed(12345)
    np.random.randn(100)
    second = reference.init_params([3, 4, 1])
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def separable_problem(m=40):
    rng = np.random.default_rng(0)
    X = np.concatenate(
        [rng.normal(-2.0, 0.5, (2, m // 2)), rng.normal(2.0, 0.5, (2, m // 2))], axis=1
    )
    Y = np.concatenate([np.zeros((1, m // 2)), np.ones((1, m // 2))], axis=1)
    return X, Y


def test_train_returns_one_float_cost_per_epoch_the_first_at_the_initial_parameters():
    X, Y = separable_problem()
    _params, cost_history = reference.train(X, Y, [2, 3, 1], epochs=7, lr=0.5)
    assert len(cost_history) == 7
    assert all(type(cost) is float for cost in cost_history)
    initial_AL, _ = reference.forward_prop(X, reference.init_params([2, 3, 1]))
    assert cost_history[0] == reference.cost_function(initial_AL, Y)


def test_train_cost_decreases_every_epoch_on_a_separable_problem():
    X, Y = separable_problem()
    params, cost_history = reference.train(X, Y, [2, 3, 1], epochs=300, lr=1.0)
    assert np.all(np.diff(cost_history) < 0)
    assert cost_history[-1] < 0.05 < cost_history[0]
    assert np.mean(reference.predict(X, params) == Y) == 1.0


def test_train_does_not_modify_X_or_Y():
    X, Y = separable_problem()
    X_before, Y_before = X.copy(), Y.copy()
    reference.train(X, Y, [2, 3, 1], epochs=3, lr=1.0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_predict_thresholds_the_output_into_zeros_and_ones_shaped_1_by_m():
    params = {"W1": np.array([[2.0, 0.0]]), "b1": np.array([[0.0]])}
    X = np.array([[-1.0, -0.1, 0.1, 1.0], [5.0, 5.0, 5.0, 5.0]])
    np.testing.assert_array_equal(reference.predict(X, params), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(
        reference.predict(X, params, threshold=0.6), [[0.0, 0.0, 0.0, 1.0]]
    )


# ---------------------------------------------------------------------------------------------
# the module's own text: defects counted the same everywhere, no path outside the repository
# ---------------------------------------------------------------------------------------------

REPOSITORY = Path(__file__).resolve().parents[1]


def test_reference_marks_six_defects_and_says_five_are_fixed_and_one_kept():
    source = (REPOSITORY / "tinygrad_nn" / "reference.py").read_text()
    marked = {int(n) for n in re.findall(r"# Article defect (\d)", source)}
    assert marked == {1, 2, 3, 4, 5, 6}
    assert re.search(r"six defects: five are fixed here, the sixth is kept", reference.__doc__)


def test_the_tutorials_defect_table_has_the_same_six_rows():
    tutorial = (REPOSITORY / "docs" / "tutorial.md").read_text()
    section = tutorial.split("## 10. The article's defects")[1].split("\n## ")[0]
    assert re.findall(r"^\| (\d) \|", section, flags=re.M) == ["1", "2", "3", "4", "5", "6"]


def test_reference_names_no_file_outside_the_repository():
    source = (REPOSITORY / "tinygrad_nn" / "reference.py").read_text()
    paths = re.findall(r"[\w./-]+/[\w.-]+\.(?:md|py|txt|ipynb)", source)
    missing = [path for path in paths if not (REPOSITORY / path).exists()]
    assert missing == []

"""Specification of tinygrad_nn.train and tinygrad_nn.crosscheck: the article's training and
backprop, reproduced by the engine and compared with the article's own functions."""

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn
from tinygrad_nn import Tensor, data, nn, optim, reference, training
from tinygrad_nn.training import CrosscheckReport

ROOT = Path(__file__).resolve().parents[1]
DIMS = [2, 4, 3, 1]


@pytest.fixture(scope="module")
def moons():
    return data.moons(m=200, seed=1)


def _relative(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.abs(b)))


# ---------------------------------------------------------------------------------------------
# train equals the article's train
# ---------------------------------------------------------------------------------------------


def test_train_cost_history_equals_the_articles_epoch_by_epoch_over_500_epochs(moons):
    X, Y = moons
    _, cost_history = tinygrad_nn.train(X, Y, DIMS, 500, 0.5)
    _, article_history = reference.train(X, Y, DIMS, 500, 0.5)
    assert len(cost_history) == 500
    assert _relative(cost_history, article_history) < 1e-10


def test_train_final_params_equal_the_articles(moons):
    X, Y = moons
    params, _ = tinygrad_nn.train(X, Y, DIMS, 500, 0.5)
    article_params, _ = reference.train(X, Y, DIMS, 500, 0.5)
    assert sorted(params) == sorted(article_params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for name, expected in article_params.items():
        np.testing.assert_allclose(params[name], expected, rtol=1e-9, atol=1e-13)


def test_train_on_the_articles_dataset_with_a_large_learning_rate_still_matches():
    X, Y = data.load("article", m=150, seed=4)
    _, cost_history = tinygrad_nn.train(X, Y, [2, 5, 1], 300, 2.0)
    _, article_history = reference.train(X, Y, [2, 5, 1], 300, 2.0)
    assert _relative(cost_history, article_history) < 1e-10


def test_the_mlp_bce_sgd_loop_written_out_equals_the_articles_train(moons):
    X, Y = moons
    model = nn.MLP(DIMS)
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    cost_history = []
    for _ in range(500):
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy(model(X), Y)
        cost_history.append(loss.item())
        loss.backward()
        optimizer.step()
    _, article_history = reference.train(X, Y, DIMS, 500, 0.5)
    assert _relative(cost_history, article_history) < 1e-10


def test_train_returns_float_costs_and_array_params_of_the_article_shapes(moons):
    X, Y = moons
    params, cost_history = tinygrad_nn.train(X, Y, DIMS, 3, 0.1)
    assert all(type(c) is float for c in cost_history)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (4, 2), "b1": (4, 1), "W2": (3, 4), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1),
    }


def test_train_with_zero_epochs_returns_the_articles_initial_params_and_no_costs(moons):
    X, Y = moons
    params, cost_history = tinygrad_nn.train(X, Y, DIMS, 0, 0.1)
    assert cost_history == []
    for name, expected in reference.init_params(DIMS).items():
        np.testing.assert_array_equal(params[name], expected)


def test_train_leaves_x_y_and_numpys_global_random_state_untouched(moons):
    X, Y = moons
    X_before, Y_before = X.copy(), Y.copy()
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    tinygrad_nn.train(X, Y, DIMS, 5, 0.1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_train_accepts_layer_dims_as_a_numpy_array(moons):
    X, Y = moons
    _, from_array = tinygrad_nn.train(X, Y, np.array(DIMS), 5, 0.5)
    _, from_list = tinygrad_nn.train(X, Y, DIMS, 5, 0.5)
    assert from_array == from_list


def test_train_accepts_integer_labels_and_lists():
    X = [[-2, -1, 1, 2]]
    Y = [[0, 0, 1, 1]]
    _, cost_history = tinygrad_nn.train(X, Y, [1, 1], 50, 1.0)
    _, article_history = reference.train(np.array(X, float), np.array(Y, float), [1, 1], 50, 1.0)
    assert _relative(cost_history, article_history) < 1e-10


# ---------------------------------------------------------------------------------------------
# train's keyword-only extras
# ---------------------------------------------------------------------------------------------


def test_train_with_adam_lowers_the_cost_faster_than_the_articles_gradient_descent(moons):
    X, Y = moons
    _, sgd_history = tinygrad_nn.train(X, Y, DIMS, 200, 0.05)
    _, adam_history = tinygrad_nn.train(X, Y, DIMS, 200, 0.05, optimizer="adam")
    assert adam_history[-1] < sgd_history[-1]


def test_train_accepts_an_optimizer_factory(moons):
    X, Y = moons
    built = []

    def factory(params):
        built.append(optim.SGD(params, lr=0.5, momentum=0.9))
        return built[-1]

    _, cost_history = tinygrad_nn.train(X, Y, DIMS, 20, 0.5, optimizer=factory)
    assert len(built) == 1 and len(built[0].params) == 6
    assert len(cost_history) == 20


def test_train_calls_the_callback_every_epoch_and_stops_when_it_returns_true(moons):
    X, Y = moons
    calls = []

    def callback(epoch, cost, model):
        calls.append((epoch, cost, type(model).__name__))
        return epoch == 4

    _, cost_history = tinygrad_nn.train(X, Y, DIMS, 100, 0.5, callback=callback)
    assert [c[0] for c in calls] == [0, 1, 2, 3, 4]
    assert [c[1] for c in calls] == cost_history
    assert calls[0][2] == "MLP"


def test_train_with_relu_hidden_layers_learns_moons(moons):
    X, Y = moons
    _, cost_history = tinygrad_nn.train(X, Y, [2, 16, 1], 300, 0.05, activation="relu",
                                        optimizer="adam")
    assert cost_history[-1] < 0.5 * cost_history[0]


# ---------------------------------------------------------------------------------------------
# train: bad input
# ---------------------------------------------------------------------------------------------

X4 = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 0.0]])
Y4 = np.array([[0.0, 0.0, 1.0, 1.0]])


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"epochs": -1}, ValueError, r"epochs.*0.*-1"),
        ({"epochs": 2.5}, TypeError, r"epochs.*int.*2\.5"),
        ({"epochs": True}, TypeError, r"epochs.*int.*True"),
        ({"lr": 0.0}, ValueError, r"lr.*> 0.*0\.0"),
        ({"lr": -0.5}, ValueError, r"lr.*> 0.*-0\.5"),
        ({"lr": math.nan}, ValueError, r"lr.*finite.*nan"),
        ({"lr": "0.1"}, TypeError, r"lr.*real number.*'0\.1'"),
        ({"Y": Y4[:, :3]}, ValueError, r"same number of examples.*m=4.*m=3"),
        ({"Y": Y4[0]}, ValueError, r"Y must have shape \(1, m\) = \(1, 4\); got \(4,\) "
                                   r"\(use Y\.reshape\(1, 4\)\)"),
        ({"Y": np.vstack([Y4, Y4])}, ValueError, r"Y must have shape \(1, m\)"),
        ({"X": X4[0]}, ValueError, r"X must be a 2-D array \(n_features, m\)"),
        ({"Y": Y4 * 2}, ValueError, r"Y\[0, 2\] = 2\.0 is outside"),
        ({"layer_dims": [3, 1]}, ValueError, r"layer_dims\[0\] = 3 must equal.*X\.shape\[0\] = 2"),
        ({"layer_dims": [2, 3, 2]}, ValueError, r"last layer must have 1 unit"),
        ({"layer_dims": [2]}, ValueError, r"layer_dims needs at least 2 sizes"),
        ({"layer_dims": [2, 0, 1]}, ValueError, r"layer_dims\[1\] must be a positive int; got 0"),
        ({"layer_dims": "2,1"}, TypeError, r"layer_dims must be a sequence of ints"),
        ({"optimizer": "rmsprop"}, ValueError, r"optimizer must be 'sgd', 'adam' or a callable"),
        ({"optimizer": lambda params: None}, TypeError, r"must return an Optimizer"),
        ({"callback": 3}, TypeError, r"callback must be callable"),
    ],
)
def test_train_rejects_bad_input_naming_the_argument(overrides, error, message):
    arguments = {"X": X4, "Y": Y4, "layer_dims": [2, 3, 1], "epochs": 5, "lr": 0.1}
    arguments.update(overrides)
    with pytest.raises(error, match=r"^train: .*" + message):
        tinygrad_nn.train(**arguments)


def test_nan_in_x_is_reported_before_training_naming_the_first_bad_index():
    X = X4.copy()
    X[1, 2] = np.nan
    X[1, 3] = np.nan
    with pytest.raises(ValueError, match=r"train: X .*non-finite.*2 of 8.*nan.*X\[1, 2\].*"
                                         r"example 2"):
        tinygrad_nn.train(X, Y4, [2, 3, 1], 5, 0.1)


def test_inf_in_y_is_reported_naming_the_example():
    Y = Y4.copy()
    Y[0, 1] = -np.inf
    with pytest.raises(ValueError, match=r"train: Y .*non-finite.*1 of 4.*-inf.*Y\[0, 1\].*"
                                         r"example 1"):
        tinygrad_nn.train(X4, Y, [2, 3, 1], 5, 0.1)


def test_first_bad_index_is_the_first_in_row_major_order():
    X = X4.copy()
    X[1, 0] = np.nan
    X[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"at X\[0, 2\] \(row 0, example 2\)"):
        tinygrad_nn.train(X, Y4, [2, 3, 1], 5, 0.1)


def test_non_numeric_x_is_a_type_error():
    with pytest.raises(TypeError, match=r"train: X must be numeric"):
        tinygrad_nn.train(np.array([["a", "b"]]), Y4[:, :2], [1, 1], 5, 0.1)


# ---------------------------------------------------------------------------------------------
# crosscheck
# ---------------------------------------------------------------------------------------------


def test_crosscheck_of_a_four_layer_net_agrees_to_rounding(moons):
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, [2, 5, 4, 3, 1])
    assert isinstance(report, CrosscheckReport)
    assert report.ok
    assert report.max_error < 1e-10
    assert all(row.ok for row in report.rows)


def test_crosscheck_rows_are_labelled_layer_by_layer_from_the_first(moons):
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS)
    assert [row.quantity for row in report.rows] == [
        "dW1", "db1", "dZ1", "dA0", "dW2", "db2", "dZ2", "dA1", "dW3", "db3", "dZ3", "dA2",
    ]
    assert report["dA0"].shape == (2, 200)
    assert report["dW2"].shape == (3, 4)


def test_crosscheck_scales_only_the_articles_dz_and_da_by_m(moons):
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS)
    scaled = {row.quantity for row in report.rows if row.scaled_by_m}
    assert scaled == {"dZ1", "dZ2", "dZ3", "dA0", "dA1", "dA2"}
    assert report.m == 200


def test_crosscheck_table_shows_every_row_the_columns_and_the_scaling(moons):
    X, Y = moons
    text = str(tinygrad_nn.crosscheck(X, Y, DIMS))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("quantity"))
    for column in ("shape", "max |abs diff|", "max rel diff", "ok"):
        assert column in header
    for label in ("dW1", "db1", "dZ1*", "dA0*", "dW3", "db3", "dZ3*", "dA2*"):
        assert any(line.startswith(label + " ") for line in lines), label
    assert "divided by m = 200" in text
    assert "m times the true gradients" in text
    assert "max_error" in lines[-1] and lines[-1].endswith("ok")


def test_crosscheck_accepts_a_params_dict_such_as_trained_weights(moons):
    X, Y = moons
    params, _ = tinygrad_nn.train(X, Y, DIMS, 300, 0.5)
    report = tinygrad_nn.crosscheck(X, Y, params)
    assert report.ok and report.max_error < 1e-10
    assert report.layer_dims == DIMS


def test_crosscheck_from_layer_dims_uses_the_articles_initial_weights(moons):
    X, Y = moons
    from_dims = tinygrad_nn.crosscheck(X, Y, DIMS)
    from_params = tinygrad_nn.crosscheck(X, Y, reference.init_params(DIMS))
    assert from_dims.rows == from_params.rows


def test_crosscheck_with_the_fused_cost_agrees_too_and_says_so(moons):
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS, cost="fused")
    assert report.ok and report.max_error < 1e-10
    assert "bce_with_logits" in str(report)


def test_crosscheck_measures_rounding_against_the_terms_so_cancelling_sums_stay_ok():
    # XOR is symmetric: at the article's tiny initial weights db and dW are sums of m terms
    # that nearly cancel; relative to the small results, correct formulas would look 1e-9 off.
    X, Y = data.xor(m=200, seed=1)
    params, _ = tinygrad_nn.train(X, Y, DIMS, 500, 0.5)
    report = tinygrad_nn.crosscheck(X, Y, params)
    assert report.ok and report.max_error < 1e-10


def test_crosscheck_flags_a_wrong_sigmoid_derivative_in_the_article(moons, monkeypatch):
    def wrong_one_layer_backward(dA, cache):
        (A_prev, W, _b), Z = cache
        s, _ = reference.sigmoid(Z)
        dZ = dA * s  # the factor (1 - s) forgotten
        m = A_prev.shape[1]
        return W.T @ dZ, dZ @ A_prev.T / m, dZ.sum(axis=1, keepdims=True) / m

    monkeypatch.setattr(reference, "one_layer_backward", wrong_one_layer_backward)
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS)
    assert not report.ok
    assert report.max_error > 1e-3
    assert not report["dZ3"].ok  # where it goes wrong: the last layer's dZ first
    assert "MISMATCH" in str(report) and " NO" in str(report)


def test_crosscheck_points_at_the_one_wrong_quantity(moons, monkeypatch):
    right = reference.one_layer_backward

    def db_without_the_1_over_m(dA, cache):
        dA_prev, dW, db = right(dA, cache)
        return dA_prev, dW, db * cache[0][0].shape[1]

    monkeypatch.setattr(reference, "one_layer_backward", db_without_the_1_over_m)
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS)
    wrong = {row.quantity for row in report.rows if not row.ok}
    assert wrong == {"db1", "db2", "db3"}


def test_crosscheck_of_a_saturated_network_is_not_ok_because_the_articles_dal_is_infinite():
    # Seed README defect 6: dAL = -(Y/AL - (1-Y)/(1-AL)) divides by 1 - AL = 0.
    X, Y = X4, Y4
    params = {"W1": np.full((1, 2), 400.0), "b1": np.zeros((1, 1))}
    with np.errstate(all="ignore"):
        report = tinygrad_nn.crosscheck(X, Y, params, cost="fused")
    assert not report.ok
    assert report["dZ1"].max_rel_diff == math.inf


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"layer_dims_or_params": {"W1": np.ones((1, 2))}}, ValueError, r"W1, b1, \.\.\., WL, bL"),
        (
            {"layer_dims_or_params": {"W1": np.ones((1, 3)), "b1": np.zeros((1, 1))}},
            ValueError,
            r"params\['W1'\] must have shape \(n_1, 2\); got \(1, 3\)",
        ),
        (
            {"layer_dims_or_params": {"W1": np.ones((1, 2)), "b1": np.zeros((1,))}},
            ValueError,
            r"params\['b1'\] must have shape \(1, 1\); got \(1,\)",
        ),
        (
            {"layer_dims_or_params": {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}},
            ValueError,
            r"last layer must have 1 unit",
        ),
        (
            {"layer_dims_or_params": {"W1": np.array([[1.0, np.nan]]), "b1": np.zeros((1, 1))}},
            ValueError,
            r"params\['W1'\] contains non-finite values.*params\['W1'\]\[0, 1\]",
        ),
        ({"cost": "composed"}, ValueError, r"cost 'composed'.*'article', 'fused'"),
        ({"rtol": 0.0}, ValueError, r"rtol.*> 0.*0\.0"),
        ({"Y": Y4[0]}, ValueError, r"Y must have shape \(1, m\)"),
    ],
)
def test_crosscheck_rejects_bad_input_naming_it(arguments, error, message):
    full = {"X": X4, "Y": Y4, "layer_dims_or_params": [2, 3, 1]}
    full.update(arguments)
    with pytest.raises(error, match=r"^crosscheck: .*" + message):
        tinygrad_nn.crosscheck(**full)


# ---------------------------------------------------------------------------------------------
# fit: the one training loop (train, the command line and the example share it)
# ---------------------------------------------------------------------------------------------


def _article_step(model, lr):
    return training.training_step(
        model, optim.SGD(model.parameters(), lr=lr),
        lambda model, X, Y: nn.binary_cross_entropy(model(X), Y),
    )


def test_fit_with_training_step_equals_the_articles_train(moons):
    X, Y = moons
    model = nn.MLP(DIMS)
    history = training.fit(_article_step(model, 0.5), Tensor(X), Tensor(Y), 200)
    _, article_history = reference.train(X, Y, DIMS, 200, 0.5)
    assert _relative(history.cost_history, article_history) < 1e-12


def test_fit_records_one_cost_and_one_duration_per_epoch(moons):
    X, Y = moons
    history = training.fit(_article_step(nn.MLP(DIMS), 0.5), Tensor(X), Tensor(Y), 7)
    assert history.epochs == len(history.cost_history) == len(history.epoch_seconds) == 7
    assert all(isinstance(c, float) for c in history.cost_history)
    assert all(t > 0 for t in history.epoch_seconds)


def test_fit_calls_the_callback_after_every_epoch_and_stops_when_it_returns_true():
    seen = []
    costs = iter([3.0, 2.0, 1.0, 0.5, 0.25])
    history = training.fit(lambda X, Y: next(costs), None, None, 5,
                           callback=lambda epoch, cost: seen.append((epoch, cost)) or cost < 1.5)
    assert seen == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert history.cost_history == [3.0, 2.0, 1.0]


def test_fit_lets_an_exception_from_the_callback_reach_the_caller():
    def refuse(epoch, cost):
        raise RuntimeError(f"diverged at epoch {epoch}")

    with pytest.raises(RuntimeError, match="epoch 0"):
        training.fit(lambda X, Y: float("nan"), None, None, 3, callback=refuse)


def test_fit_runs_a_compiled_step_with_the_eager_costs(moons):
    X, Y = moons
    eager = training.fit(_article_step(nn.MLP(DIMS), 0.5), Tensor(X), Tensor(Y), 30)
    compiled_step = tinygrad_nn.compile(_article_step(nn.MLP(DIMS), 0.5))
    compiled = training.fit(compiled_step, Tensor(X), Tensor(Y), 30)
    np.testing.assert_allclose(compiled.cost_history, eager.cost_history, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"epochs": -1}, ValueError, r"fit.*epochs.*-1"),
        ({"epochs": 2.0}, TypeError, r"fit.*epochs.*int"),
        ({"step": None}, TypeError, r"fit.*step.*callable"),
        ({"callback": 1}, TypeError, r"fit.*callback.*callable"),
    ],
)
def test_fit_rejects_bad_arguments_naming_them(arguments, error, message):
    full = {"step": lambda X, Y: 0.0, "X": None, "Y": None, "epochs": 1, **arguments}
    with pytest.raises(error, match=message):
        training.fit(**full)


def test_crosscheck_checks_the_articles_cost_composed_of_tensor_ops(moons):
    X, Y = moons
    report = tinygrad_nn.crosscheck(X, Y, DIMS)
    assert report.cost == "article" and "composed of Tensor ops" in str(report)
    assert report.ok


# ---------------------------------------------------------------------------------------------
# beyond the article: ReLU + Adam + softmax cross-entropy on spirals
# ---------------------------------------------------------------------------------------------


def test_relu_mlp_with_adam_and_cross_entropy_fits_three_spirals_above_95_percent():
    X, labels = data.spirals(m=300, k=3, seed=0)
    model = nn.MLP([2, 32, 32, 3], activation="relu", output_activation="none", seed=0)
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(X), labels)
        loss.backward()
        optimizer.step()
    with tinygrad_nn.no_grad():
        predicted = np.argmax(model(X).data, axis=0)
    assert np.mean(predicted == labels) > 0.95


# ---------------------------------------------------------------------------------------------
# the package and the example
# ---------------------------------------------------------------------------------------------


def test_package_exports_train_crosscheck_and_the_submodules():
    for name in ("train", "crosscheck", "nn", "optim", "data", "reference"):
        assert name in tinygrad_nn.__all__
        assert hasattr(tinygrad_nn, name)
    assert tinygrad_nn.__all__ == sorted(tinygrad_nn.__all__)


def test_importing_the_package_loads_no_plotting_or_graph_library():
    code = (
        "import sys, tinygrad_nn; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'graphviz', 'tqdm', 'torch')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_article_retold_example_runs_and_prints_the_crosscheck_table():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "article_retold.py")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "quantity" in out and "max rel diff" in out
    assert "dW1" in out and "dA0*" in out
    assert "max_error" in out and "MISMATCH" not in out
    assert "accuracy" in out

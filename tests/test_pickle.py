"""A pickled tensor or model trains in another process exactly as the original would (issue 12,
item 4): an unpickled tensor is a new leaf of the loading process, with a fresh creation number
(the backward order compares them), its data, requires_grad, name and grad."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor, nn

STEPS = 5


def make_problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 32))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def train(model, X, Y, steps=STEPS):
    """Plain SGD on binary cross-entropy; returns the cost of every step."""
    X, Y = Tensor(X), Tensor(Y)
    costs = []
    for _ in range(steps):
        for p in model.parameters():
            p.grad = None
        cost = nn.binary_cross_entropy(model(X), Y)
        cost.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        costs.append(cost.item())
    return costs


def trained_elsewhere(payload: bytes) -> tuple[list[float], list[np.ndarray]]:
    """Unpickle a model and train it (in a worker process); costs and final parameters."""
    model = pickle.loads(payload)
    X, Y = make_problem()
    costs = train(model, X, Y)
    return costs, [p.data for p in model.parameters()]


def an_old_model():
    """A model made after many other tensors, so its creation numbers are large."""
    for _ in range(2000):
        Tensor([0.0]).exp()
    return nn.MLP([2, 4, 1])


def test_an_unpickled_tensor_keeps_data_requires_grad_name_and_grad():
    w = Tensor([[1.0, -2.0]], requires_grad=True, name="w")
    w.grad = np.array([[0.5, 0.25]])
    copy_of_w = pickle.loads(pickle.dumps(w))
    np.testing.assert_array_equal(copy_of_w.data, w.data)
    np.testing.assert_array_equal(copy_of_w.grad, w.grad)
    assert (copy_of_w.requires_grad, copy_of_w.name, copy_of_w.is_leaf) == (True, "w", True)


def test_an_unpickled_tensor_is_newer_than_every_tensor_made_before_it():
    w = Tensor([1.0], requires_grad=True)
    payload = pickle.dumps(w)
    later = Tensor([2.0])
    assert pickle.loads(payload)._seq > later._seq


def test_a_pickled_op_result_comes_back_as_a_leaf_as_in_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x * 3))
    assert (y.is_leaf, y.requires_grad, y.op) == (True, True, None)
    np.testing.assert_array_equal(y.data, [3.0, 6.0])


def test_an_unpickled_model_trains_like_the_original_in_this_process():
    model = an_old_model()
    payload = pickle.dumps(model)
    X, Y = make_problem()
    expected = train(model, X, Y)
    assert train(pickle.loads(payload), X, Y) == expected


def test_a_deep_copied_model_trains_like_the_original():
    model = an_old_model()
    twin = copy.deepcopy(model)
    X, Y = make_problem()
    assert train(twin, X, Y) == train(model, X, Y)
    assert all(p.grad is not None for p in twin.parameters())


def test_a_model_pickled_here_trains_identically_in_a_fresh_python_process(tmp_path):
    model = an_old_model()
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    X, Y = make_problem()
    expected_costs = train(model, X, Y)
    script = textwrap.dedent(
        f"""
        import pickle, sys
        sys.path.insert(0, {str(tmp_path)!r})
        sys.path.insert(0, {str(__import__("pathlib").Path(__file__).parent)!r})
        from test_pickle import make_problem, train
        model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        X, Y = make_problem()
        costs = train(model, X, Y)
        missing = sum(p.grad is None for p in model.parameters())
        print(repr(costs), missing)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    costs_text, missing = done.stdout.strip().rsplit(" ", 1)
    assert missing == "0"
    assert eval(costs_text) == expected_costs  # our own repr of a list of floats


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_model_sent_to_a_multiprocessing_worker_trains_identically():
    model = an_old_model()
    X, Y = make_problem()
    payload = pickle.dumps(model)
    expected_costs = train(model, X, Y)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        costs, params = pool.apply(trained_elsewhere, (payload,))
    assert costs == expected_costs
    for got, want in zip(params, model.parameters(), strict=True):
        np.testing.assert_array_equal(got, want.data)

"""What PyTorch users rely on (issue 12, item 8): what is a leaf, who may set requires_grad, and
what bool() of a tensor means."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor


def test_results_made_under_no_grad_are_leaves():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = (w * 2).exp()
    assert y.is_leaf and not y.requires_grad


def test_a_result_of_ops_on_constants_is_a_leaf():
    assert (Tensor([1.0, 2.0]) * 0.01).is_leaf


def test_a_result_made_from_a_tensor_that_requires_grad_is_not_a_leaf():
    w = Tensor([1.0], requires_grad=True)
    assert not (w * 2).is_leaf


def test_requires_grad_can_be_set_on_a_scaled_constant_which_then_trains_as_a_parameter():
    a = np.array([[1.0, -2.0]])
    W = Tensor(a) * 0.01
    W.requires_grad = True
    assert W.is_leaf and W.op is None and W.parents == ()
    (W * Tensor([[3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(W.grad, [[3.0, 4.0]])


def test_requires_grad_can_be_set_on_a_result_made_under_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        v = w * 2
    v.requires_grad = True
    (v * v).sum().backward()
    np.testing.assert_array_equal(v.grad, [4.0, 8.0])
    assert w.grad is None


def test_requires_grad_cannot_be_changed_on_a_result_that_requires_grad():
    w = Tensor([1.0], requires_grad=True)
    y = w * 2
    with pytest.raises(RuntimeError, match=r"'mul'.*detach\(\)"):
        y.requires_grad = False


def test_requires_grad_is_refused_for_an_integer_tensor():
    labels = Tensor(np.array([0, 1, 1]))
    with pytest.raises(TypeError, match=r"floating.*int64"):
        labels.requires_grad = True


def test_requires_grad_false_on_a_leaf_stops_its_gradient():
    w = Tensor([1.0], requires_grad=True)
    w.requires_grad = False
    assert not (w * 2).requires_grad


def test_bool_of_a_one_element_tensor_is_its_value():
    assert bool(Tensor([0.0])) is False
    assert bool(Tensor([[3.0]])) is True
    assert bool(Tensor(-1.0)) is True


def test_bool_of_a_larger_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"exactly one element.*shape \(2,\).*any\(\)"):
        bool(Tensor([1.0, 0.0]))


def test_bool_of_an_empty_tensor_is_a_clear_error():
    with pytest.raises(ValueError, match=r"shape \(0,\)"):
        bool(Tensor(np.zeros(0)))


def test_bool_matches_pytorch(torch):
    for values in ([0.0], [2.0], [[-0.0]], [np.nan]):
        assert bool(Tensor(values)) == bool(torch.tensor(values, dtype=torch.float64))

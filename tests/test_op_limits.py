"""Gradients where the textbook formula is 0·∞ or NaN: ``x ** p`` at x = 0 and max/min over NaN
inputs take PyTorch's values (issue 12, item 2), checked against PyTorch in float64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nn import Tensor, gradcheck

# Every test here computes 0**-1, log(0) or NaN on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

BASES = [-2.0, -0.5, 0.0, 0.5, 2.0]
EXPONENTS = [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]


def _pow_grads(x_values, p_values):
    x = Tensor(np.array(x_values), requires_grad=True)
    p = Tensor(np.array(p_values), requires_grad=True)
    (x**p).backward(np.ones(x.shape))
    return x.grad, p.grad


# ---- x ** p at x = 0 -------------------------------------------------------------------------


def test_x_to_the_zero_has_gradient_zero_at_x_zero():
    x = Tensor([0.0, 0.0, 3.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_polynomial_features_with_a_zero_in_the_data_have_a_finite_gradient():
    x = Tensor([0.0, 1.0, -2.0], requires_grad=True)
    sum(x**k for k in range(3)).sum().backward()  # 1 + x + x²: d/dx = 1 + 2x
    np.testing.assert_array_equal(x.grad, [1.0, 3.0, -3.0])


def test_exponent_gradient_of_zero_to_a_non_negative_power_is_zero():
    _, dp = _pow_grads([0.0, 0.0, 0.0], [0.0, 0.5, 2.0])
    np.testing.assert_array_equal(dp, [0.0, 0.0, 0.0])


def test_exponent_gradient_of_zero_to_a_negative_power_is_minus_infinity():
    _, dp = _pow_grads([0.0], [-1.0])  # y = +inf, ln 0 = −inf: PyTorch keeps −inf
    np.testing.assert_array_equal(dp, [-np.inf])


def test_exponent_gradient_of_a_negative_base_is_nan():
    _, dp = _pow_grads([-2.0], [2.0])
    assert np.isnan(dp).all()


def test_rpow_of_zero_base_has_zero_exponent_gradient_for_non_negative_powers():
    p = Tensor([0.0, 1.0, 2.0], requires_grad=True)
    (0.0**p).sum().backward()
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, 0.0])


def test_pow_gradients_match_pytorch_on_a_grid_of_edge_values(torch):
    xs, ps = zip(*itertools.product(BASES, EXPONENTS), strict=True)
    dx, dp = _pow_grads(xs, ps)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tp = torch.tensor(ps, dtype=torch.float64, requires_grad=True)
    (tx**tp).sum().backward()
    # NaN where PyTorch has NaN, ±inf where it has ±inf, the same number elsewhere
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(dp, tp.grad.numpy(), rtol=1e-14, atol=0)


def test_pow_with_a_number_exponent_matches_pytorch_at_zero(torch):
    for k in [0, 1, 2, 0.5, -1]:
        x = Tensor([0.0, 1.5], requires_grad=True)
        (x**k).sum().backward()
        tx = torch.tensor([0.0, 1.5], dtype=torch.float64, requires_grad=True)
        (tx**k).sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14, err_msg=f"x**{k}")


def test_pow_with_zero_exponent_gradchecks_over_broadcasting_shapes():
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.5, 2.0, (3, 4)), requires_grad=True)
    p = Tensor(np.array([0.0, 1.0, 2.0, 0.0]), requires_grad=True)
    assert gradcheck(lambda a, b: a**b, [x, p])


@settings(max_examples=40, deadline=None)
@given(
    data=hnp.arrays(np.float64, st.integers(1, 6), elements=st.sampled_from([0.0, 1.0, -1.5])),
    k=st.integers(0, 4),
)
def test_integer_powers_have_finite_gradients_equal_to_k_x_to_the_k_minus_one(data, k):
    x = Tensor(data, requires_grad=True)
    (x**k).sum().backward()
    expected = np.zeros_like(data) if k == 0 else k * data ** (k - 1)
    np.testing.assert_array_equal(x.grad, expected)


# ---- max/min over NaN ------------------------------------------------------------------------


def test_max_over_an_input_with_a_nan_gives_the_whole_gradient_to_the_nan():
    x = Tensor([1.0, np.nan, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


def test_min_over_two_nans_splits_the_gradient_between_them():
    x = Tensor([np.nan, 1.0, np.nan], requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad, [0.5, 0.0, 0.5])


def test_max_along_an_axis_sends_the_nan_rows_gradient_to_its_nan_only():
    x = Tensor([[1.0, np.nan], [3.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [4.0, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_and_min_with_nans_match_pytorch(torch, name):
    data = np.array([[2.0, np.nan, -1.0], [np.nan, 5.0, 2.0]])
    x = Tensor(data, requires_grad=True)
    getattr(x, name)().backward()
    tx = torch.tensor(data, requires_grad=True)
    getattr(tx, name)().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_along_an_axis_with_one_nan_per_row_match_pytorch(torch, name):
    data = np.array([[2.0, np.nan, -1.0], [7.0, 5.0, 2.0], [np.nan, 0.0, 1.0]])
    x = Tensor(data, requires_grad=True)
    upstream = np.array([1.0, -2.0, 3.0])
    getattr(x, name)(axis=1).backward(upstream)
    tx = torch.tensor(data, requires_grad=True)
    getattr(tx, name)(dim=1).values.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())

"""Specification of tinygrad_nn._checks, the package's one set of argument checks: each returns
the checked value or raises an error naming the owner, the argument and the value."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_nn import _checks


@pytest.mark.parametrize("value", [3, np.int8(3), np.int64(3), np.uint16(3)])
def test_whole_numbers_include_numpy_integers(value):
    assert _checks.whole_number(value, "m", "moons") == 3
    assert type(_checks.whole_number(value, "m", "moons")) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, "3", None, [3]])
def test_bools_floats_and_strings_are_not_whole_numbers(value):
    with pytest.raises(TypeError, match=r"moons: m .*int.*got"):
        _checks.whole_number(value, "m", "moons")


def test_a_whole_number_below_the_minimum_names_the_minimum_the_reason_and_the_value():
    with pytest.raises(ValueError, match=r"m .*at least 2 \(one per class\).*1"):
        _checks.whole_number(1, "m", None, minimum=2, why="one per class")


def test_no_owner_leaves_the_prefix_out():
    with pytest.raises(ValueError, match=r"^m must"):
        _checks.whole_number(0, "m", None, minimum=1)


@pytest.mark.parametrize("value", [0, -1, True, 2.5])
def test_positive_int_refuses_zero_negatives_bools_and_floats(value):
    with pytest.raises((TypeError, ValueError), match=r"Linear: n_out"):
        _checks.positive_int(value, "n_out", "Linear")


@pytest.mark.parametrize("value", [0.0, -1e-9, math.nan, math.inf, -math.inf, 10**400])
def test_positive_float_refuses_zero_negatives_and_non_finite_values(value):
    with pytest.raises(ValueError, match=r"train: lr"):
        _checks.positive_float(value, "lr", "train")


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_positive_float_accepts_every_finite_positive_float(value):
    assert _checks.positive_float(value, "lr", "train") == value


def test_real_number_may_allow_infinity_but_never_nan():
    assert _checks.real_number(math.inf, "x", "f", finite=False) == math.inf
    with pytest.raises(ValueError, match="NaN"):
        _checks.real_number(math.nan, "x", "f", finite=False)


def test_choice_lists_the_valid_choices():
    with pytest.raises(ValueError, match=r"MLP: unknown activation 'swish'.*'sigmoid', 'relu'"):
        _checks.choice("swish", "activation", ("sigmoid", "relu"), "MLP")


@pytest.mark.parametrize("dtype", ["float16", np.int64, ",", "not a dtype", object])
def test_float_dtype_refuses_anything_but_float32_and_float64(dtype):
    with pytest.raises((TypeError, ValueError), match=r"MLP: dtype must be float32 or float64"):
        _checks.float_dtype(dtype, "MLP")


@pytest.mark.parametrize("value", [-1, 2**32, 1.0, True, "3"])
def test_a_seed_is_an_int_in_0_to_2_to_the_32(value):
    with pytest.raises((TypeError, ValueError), match=r"MLP: seed"):
        _checks.seed(value, "MLP")


def test_random_state_passes_a_random_state_through_and_seeds_a_new_one():
    rng = np.random.RandomState(0)
    assert _checks.random_state(rng, "Linear") is rng
    assert _checks.random_state(5, "Linear").randn() == np.random.RandomState(5).randn()


@pytest.mark.parametrize(
    ("value", "message"),
    [([3], "at least 2"), ([3, 0], r"layer_dims\[1\].*0"), ("32", "sequence of ints"),
     ([3, True], r"layer_dims\[1\].*bool")],
)
def test_layer_dims_names_the_bad_entry(value, message):
    with pytest.raises((TypeError, ValueError), match=rf"train: .*{message}"):
        _checks.layer_dims(value, "train")


def test_article_data_names_the_first_non_finite_entry():
    X = np.zeros((2, 3))
    X[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"train: X .*inf.*X\[1, 2\].*example 2"):
        _checks.article_data(X, np.ones((1, 3)), "train")


def test_article_layer_dims_ties_the_sizes_to_the_data():
    with pytest.raises(ValueError, match=r"layer_dims\[0\] = 3.*X.shape\[0\] = 2"):
        _checks.article_layer_dims([3, 1], 2, "crosscheck")
    with pytest.raises(ValueError, match=r"last layer must have 1 unit.*2"):
        _checks.article_layer_dims([2, 2], 2, "crosscheck")

"""Specification of tinygrad_nn.data: seeded synthetic datasets in the article's layout."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygrad_nn import data

TWO_CLASS = [data.blobs, data.xor, data.moons, data.circles]
ALL_GENERATORS = [*TWO_CLASS, data.spirals]


def generator_id(generator):
    return generator.__name__


# --- layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("generator", TWO_CLASS, ids=generator_id)
@settings(max_examples=25, deadline=None)
@given(m=st.integers(4, 300), seed=st.integers(0, 2**32 - 1))
def test_two_class_generators_return_X_2_by_m_and_Y_1_by_m_of_balanced_zeros_and_ones(
    generator, m, seed
):
    X, Y = generator(m=m, seed=seed)
    assert X.shape == (2, m) and X.dtype == np.float64
    assert Y.shape == (1, m) and Y.dtype == np.float64
    assert set(np.unique(Y).tolist()) == {0.0, 1.0}
    assert abs(int(Y.sum()) - (m - int(Y.sum()))) <= 1
    assert np.all(np.isfinite(X))


@settings(max_examples=25, deadline=None)
@given(k=st.integers(2, 6), per_class=st.integers(1, 60), extra=st.integers(0, 5),
       seed=st.integers(0, 2**32 - 1))
def test_spirals_returns_X_2_by_m_and_balanced_int64_labels_0_to_k_minus_1(
    k, per_class, extra, seed
):
    m = k * per_class + extra
    X, labels = data.spirals(m=m, k=k, seed=seed)
    assert X.shape == (2, m) and X.dtype == np.float64
    assert labels.shape == (m,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=k)
    assert len(counts) == k
    assert counts.max() - counts.min() <= 1 and counts.min() >= 1


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_examples_come_in_random_order_not_sorted_by_class(generator):
    _X, Y = generator(m=200, seed=0)
    labels = np.ravel(Y)
    assert not np.all(np.diff(labels) >= 0)


# --- seeding -----------------------------------------------------------------------------------


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_the_same_seed_gives_the_same_arrays(generator):
    X1, Y1 = generator(m=50, seed=7)
    X2, Y2 = generator(m=50, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_different_seeds_give_different_data(generator):
    X1, _ = generator(m=50, seed=1)
    X2, _ = generator(m=50, seed=2)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_generators_leave_numpys_global_random_stream_alone(generator):
    np.random.seed(3)
    expected = np.random.randn(3)
    np.random.seed(3)
    generator(m=20, seed=0)
    np.testing.assert_array_equal(np.random.randn(3), expected)


# --- geometry ----------------------------------------------------------------------------------


def test_blobs_class_means_are_near_minus_and_plus_one_and_a_half():
    X, Y = data.blobs(m=4000, noise=1.0, seed=0)
    for label, centre in ((0.0, -1.5), (1.0, 1.5)):
        mean = X[:, Y[0] == label].mean(axis=1)
        np.testing.assert_allclose(mean, [centre, centre], atol=0.1)


def test_blobs_are_linearly_separable_ish():
    X, Y = data.blobs(m=4000, seed=0)
    wrong_side = np.mean((X[0] + X[1] > 0) != (Y[0] == 1))
    assert 0.0 < wrong_side < 0.05


def test_blobs_without_noise_sit_exactly_on_their_centres():
    X, Y = data.blobs(m=10, noise=0.0, seed=0)
    np.testing.assert_array_equal(X, np.where(Y == 1, 1.5, -1.5) * np.ones((2, 1)))


def test_xor_without_noise_is_the_truth_table_on_the_corners():
    X, Y = data.xor(m=40, noise=0.0, seed=0)
    assert set(np.abs(X).ravel().tolist()) == {1.0}
    np.testing.assert_array_equal(Y[0], (X[0] != X[1]).astype(np.float64))
    corners = {tuple(column) for column in X.T.tolist()}
    assert corners == {(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)}


def test_moons_without_noise_lie_on_two_unit_half_circles():
    X, Y = data.moons(m=200, noise=0.0, seed=0)
    upper = X[:, Y[0] == 0] + [[0.5], [0.25]]
    lower = X[:, Y[0] == 1] + [[0.5], [0.25]]
    np.testing.assert_allclose(np.hypot(upper[0], upper[1]), 1.0)
    assert np.all(upper[1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0)
    assert np.all(lower[1] <= 0.5)


def test_moons_are_centred_on_the_origin():
    X, _Y = data.moons(m=4000, noise=0.1, seed=0)
    np.testing.assert_allclose(X.mean(axis=1), [0.0, 0.0], atol=0.05)


def test_circles_without_noise_lie_on_radius_1_and_radius_factor():
    X, Y = data.circles(m=100, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(X[0], X[1])
    np.testing.assert_allclose(radius[Y[0] == 0], 1.0)
    np.testing.assert_allclose(radius[Y[0] == 1], 0.3)


def test_spirals_without_noise_lie_on_their_arms():
    k = 4
    X, labels = data.spirals(m=200, k=k, noise=0.0, seed=0)
    radius = np.hypot(X[0], X[1])
    assert np.all(radius <= 1.0)
    angle = np.arctan2(X[1], X[0])
    on_arm = angle - 2 * np.pi * labels / k - 4.0 * radius
    np.testing.assert_allclose(np.cos(on_arm), 1.0, atol=1e-9)


def test_noise_spreads_the_points_further_from_the_noiseless_shape():
    X_clean, _ = data.circles(m=500, noise=0.0, seed=0)
    X_noisy, _ = data.circles(m=500, noise=0.2, seed=0)
    spread_clean = np.std(np.hypot(X_clean[0], X_clean[1]))
    spread_noisy = np.std(np.hypot(X_noisy[0], X_noisy[1]))
    assert spread_noisy > spread_clean


# --- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
@pytest.mark.parametrize("m", [0, 1, -5])
def test_too_few_examples_raise_a_value_error_naming_m(generator, m):
    with pytest.raises(ValueError, match=r"^m must be at least"):
        generator(m=m)


def test_xor_needs_one_example_per_corner():
    with pytest.raises(ValueError, match=r"^m must be at least 4"):
        data.xor(m=3)


def test_spirals_need_one_example_per_class():
    with pytest.raises(ValueError, match=r"^m must be at least 5"):
        data.spirals(m=4, k=5)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
@pytest.mark.parametrize("m", [10.0, "10", True, None])
def test_a_non_integer_m_raises_a_type_error_naming_m(generator, m):
    with pytest.raises(TypeError, match=r"^m must be an int"):
        generator(m=m)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
@pytest.mark.parametrize("noise", [-0.1, math.inf, math.nan])
def test_a_negative_or_non_finite_noise_raises_a_value_error_naming_noise(generator, noise):
    with pytest.raises(ValueError, match=r"^noise must be"):
        generator(m=10, noise=noise)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_a_non_numeric_noise_raises_a_type_error_naming_noise(generator):
    with pytest.raises(TypeError, match=r"^noise must be a real number"):
        generator(m=10, noise="0.1")


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_a_negative_seed_raises_a_value_error_naming_seed(generator):
    with pytest.raises(ValueError, match=r"^seed must be at least 0"):
        generator(m=10, seed=-1)


@pytest.mark.parametrize("generator", ALL_GENERATORS, ids=generator_id)
def test_a_non_integer_seed_raises_a_type_error_naming_seed(generator):
    with pytest.raises(TypeError, match=r"^seed must be an int"):
        generator(m=10, seed=1.5)


@pytest.mark.parametrize("factor", [0.0, 1.0, 1.5, -0.5])
def test_circles_factor_outside_0_1_raises_a_value_error_naming_factor(factor):
    with pytest.raises(ValueError, match=r"^factor must be strictly between 0 and 1"):
        data.circles(m=10, factor=factor)


@pytest.mark.parametrize("k", [1, 0])
def test_spirals_with_fewer_than_two_classes_raise_a_value_error_naming_k(k):
    with pytest.raises(ValueError, match=r"^k must be at least 2"):
        data.spirals(m=10, k=k)


def test_numpy_integers_are_accepted_for_m_seed_and_k():
    X, labels = data.spirals(m=np.int64(30), k=np.int32(3), seed=np.int64(1))
    assert X.shape == (2, 30) and set(labels.tolist()) == {0, 1, 2}


# --- train_test_split --------------------------------------------------------------------------


def numbered_examples(m):
    """X whose column j is (j, -j) and Y whose entry j is j: every example is recognisable."""
    index = np.arange(m, dtype=np.float64)
    return np.stack([index, -index]), index.reshape(1, m)


@pytest.mark.parametrize(
    ("m", "test_fraction", "n_test"), [(100, 0.25, 25), (10, 0.3, 3), (10, 0.25, 3), (7, 0.5, 4)]
)
def test_split_puts_the_rounded_test_fraction_of_examples_in_the_test_set(
    m, test_fraction, n_test
):
    X, Y = numbered_examples(m)
    X_train, Y_train, X_test, Y_test = data.train_test_split(X, Y, test_fraction=test_fraction)
    assert X_test.shape == (2, n_test) and Y_test.shape == (1, n_test)
    assert X_train.shape == (2, m - n_test) and Y_train.shape == (1, m - n_test)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(2, 200), test_fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**32 - 1))
def test_split_is_a_partition_of_the_examples_with_X_and_Y_kept_together(m, test_fraction, seed):
    n_test = math.floor(test_fraction * m + 0.5)
    assume(1 <= n_test <= m - 1)
    X, Y = numbered_examples(m)
    X_train, Y_train, X_test, Y_test = data.train_test_split(X, Y, test_fraction, seed=seed)
    train_ids, test_ids = Y_train[0], Y_test[0]
    assert set(train_ids.tolist()).isdisjoint(test_ids.tolist())
    assert sorted([*train_ids.tolist(), *test_ids.tolist()]) == list(range(m))
    np.testing.assert_array_equal(X_train[0], train_ids)
    np.testing.assert_array_equal(X_test[0], test_ids)


def test_split_keeps_the_original_order_within_each_set():
    X, Y = numbered_examples(40)
    _X_train, Y_train, _X_test, Y_test = data.train_test_split(X, Y, seed=3)
    assert np.all(np.diff(Y_train[0]) > 0) and np.all(np.diff(Y_test[0]) > 0)


def test_split_accepts_integer_labels_of_shape_m():
    X, labels = data.spirals(m=60, seed=0)
    X_train, labels_train, X_test, labels_test = data.train_test_split(X, labels, seed=0)
    assert labels_train.shape == (45,) and labels_test.shape == (15,)
    assert labels_train.dtype == np.int64
    for X_part, labels_part in ((X_train, labels_train), (X_test, labels_test)):
        for column, label in zip(X_part.T, labels_part, strict=True):
            original = np.flatnonzero(np.all(X == column[:, None], axis=0))
            assert labels[original[0]] == label


def test_split_is_deterministic_per_seed_and_differs_between_seeds():
    X, Y = numbered_examples(50)
    first = data.train_test_split(X, Y, seed=1)
    again = data.train_test_split(X, Y, seed=1)
    other = data.train_test_split(X, Y, seed=2)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], other[3])


def test_split_returns_new_arrays_and_leaves_its_inputs_alone():
    X, Y = numbered_examples(20)
    X_before, Y_before = X.copy(), Y.copy()
    for part in data.train_test_split(X, Y):
        part[...] = -99.0
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_split_with_mismatched_numbers_of_examples_raises_a_value_error_naming_X_and_Y():
    X, _ = numbered_examples(10)
    with pytest.raises(ValueError, match=r"X and Y must hold the same number of examples"):
        data.train_test_split(X, np.zeros((1, 9)))
    with pytest.raises(ValueError, match=r"X and Y"):
        data.train_test_split(X, np.zeros(11))


@pytest.mark.parametrize("test_fraction", [0.0, 1.0, -0.2, 1.5, math.nan])
def test_split_with_test_fraction_outside_0_1_raises_a_value_error_naming_it(test_fraction):
    X, Y = numbered_examples(10)
    with pytest.raises(ValueError, match=r"^test_fraction"):
        data.train_test_split(X, Y, test_fraction=test_fraction)


@pytest.mark.parametrize(("m", "test_fraction"), [(1, 0.5), (10, 0.01), (10, 0.99)])
def test_split_that_would_leave_a_set_empty_raises_a_value_error(m, test_fraction):
    X, Y = numbered_examples(m)
    with pytest.raises(ValueError, match=r"need at least one"):
        data.train_test_split(X, Y, test_fraction=test_fraction)


def test_split_rejects_X_that_is_not_a_2d_array():
    with pytest.raises(ValueError, match=r"^X must be a 2-D array"):
        data.train_test_split(np.zeros(10), np.zeros(10))


def test_split_rejects_Y_with_more_than_two_dimensions():
    with pytest.raises(ValueError, match=r"^Y must be a 1-D"):
        data.train_test_split(np.zeros((2, 10)), np.zeros((1, 1, 10)))


def test_split_with_a_negative_seed_raises_a_value_error_naming_seed():
    X, Y = numbered_examples(10)
    with pytest.raises(ValueError, match=r"^seed"):
        data.train_test_split(X, Y, seed=-3)


# --- load --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "generator"),
    [("blobs", data.blobs), ("article", data.blobs), ("xor", data.xor), ("moons", data.moons),
     ("circles", data.circles), ("spirals", data.spirals)],
)
def test_load_by_name_equals_calling_the_generator(name, generator):
    X, Y = data.load(name, m=30, noise=0.05, seed=4)
    X_expected, Y_expected = generator(m=30, noise=0.05, seed=4)
    np.testing.assert_array_equal(X, X_expected)
    np.testing.assert_array_equal(Y, Y_expected)


def test_load_knows_exactly_the_dataset_names():
    assert set(data.DATASET_NAMES) == {"blobs", "article", "xor", "moons", "circles", "spirals"}
    for name in data.DATASET_NAMES:
        data.load(name, m=20)


def test_load_without_m_or_noise_uses_the_generators_defaults():
    X, Y = data.load("moons")
    X_default, Y_default = data.moons()
    np.testing.assert_array_equal(X, X_default)
    np.testing.assert_array_equal(Y, Y_default)


def test_load_ignores_case_and_surrounding_spaces():
    np.testing.assert_array_equal(data.load(" Moons ", m=10)[0], data.load("moons", m=10)[0])


def test_load_passes_generator_options_through():
    _X, labels = data.load("spirals", m=50, k=5)
    assert set(labels.tolist()) == {0, 1, 2, 3, 4}
    X, _Y = data.load("circles", m=20, noise=0.0, factor=0.2)
    assert np.isclose(np.hypot(X[0], X[1]).min(), 0.2)


def test_load_with_an_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown dataset name 'mnist'") as error:
        data.load("mnist")
    for name in data.DATASET_NAMES:
        assert name in str(error.value)


def test_load_with_a_non_string_name_raises_a_type_error():
    with pytest.raises(TypeError, match=r"^name must be a str"):
        data.load(3)

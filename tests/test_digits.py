"""data.load("digits"): scikit-learn's 8x8 digits in the article's layout, and the message
naming the optional extra when scikit-learn is missing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tinygrad_nn import data


def test_digits_are_columns_of_64_pixels_in_the_unit_interval():
    X, labels = data.load("digits")
    assert X.shape == (64, 1797) and X.dtype == np.float64
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(labels.tolist())) == list(range(10))


def test_digits_are_scikit_learns_images_scaled_by_one_sixteenth():
    from sklearn.datasets import load_digits

    images, targets = load_digits(return_X_y=True)
    X, labels = data.load("digits", seed=0)
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(X, images[order].T / 16.0)
    np.testing.assert_array_equal(labels, targets[order])


def test_digits_with_the_same_seed_come_in_the_same_order_and_m_keeps_the_first_m():
    X1, y1 = data.load("digits", seed=3)
    X2, y2 = data.load("digits", m=100, seed=3)
    np.testing.assert_array_equal(X1[:, :100], X2)
    np.testing.assert_array_equal(y1[:100], y2)
    assert not np.array_equal(y1, data.load("digits", seed=4)[1])


def test_digits_reshape_to_images_for_the_image_layers():
    X, _labels = data.load("digits", m=5)
    images = X.T.reshape(-1, 1, 8, 8)
    np.testing.assert_array_equal(images[2, 0, 1], X[8:16, 2])


def test_digits_rejects_more_images_than_there_are():
    with pytest.raises(ValueError, match=r"m must be at most 1797.*got 1798"):
        data.load("digits", m=1798)


def test_digits_take_no_noise():
    with pytest.raises(ValueError, match=r"load\('digits'\) takes no noise"):
        data.load("digits", noise=0.1)


def test_digits_without_scikit_learn_names_the_optional_extra(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def no_sklearn(name, *args):
        return None if name == "sklearn" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", no_sklearn)
    with pytest.raises(ImportError, match=r"needs scikit-learn.*pip install 'tinygrad_nn\[data\]'"):
        data.load("digits")


def test_unknown_dataset_message_lists_digits_too():
    with pytest.raises(ValueError, match=r"valid names are: .*digits"):
        data.load("mnist")

"""Seeded synthetic datasets in the article's layout; nothing is downloaded.

Every generator returns ``(X, Y)`` with examples as columns, as in the article:

- ``X`` is ``(2, m)`` float64: two features per example, so the data can be plotted.
- two-class datasets (``blobs``, ``xor``, ``moons``, ``circles``): ``Y`` is ``(1, m)`` float64
  holding 0.0 / 1.0, ready for the article's sigmoid output and cross-entropy cost.
- ``spirals`` has k classes: its second value is ``labels``, an int64 array of shape ``(m,)``
  holding 0..k-1, the form a softmax cross-entropy over k classes takes.

The classes are balanced (their sizes differ by at most one) and the columns come in random
order. Each call draws from its own ``np.random.default_rng(seed)``, never from numpy's global
generator, so the same arguments always give the same arrays and the article's
``np.random.seed(3)`` stream is left alone.

Examples
--------
>>> from tinygrad_nn import data
>>> X, Y = data.moons(m=200, noise=0.1, seed=0)
>>> X.shape, Y.shape, X.dtype, Y.dtype
((2, 200), (1, 200), dtype('float64'), dtype('float64'))
>>> X_train, Y_train, X_test, Y_test = data.train_test_split(X, Y, test_fraction=0.25, seed=0)
>>> X_train.shape, X_test.shape
((2, 150), (2, 50))
>>> X, labels = data.load("spirals", m=300, seed=1)
>>> labels.shape, sorted(set(labels.tolist()))
((300,), [0, 1, 2])
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinygrad_nn import _checks

__all__ = [
    "DATASET_NAMES",
    "REAL_DATASET_NAMES",
    "blobs",
    "circles",
    "digits",
    "load",
    "moons",
    "spirals",
    "train_test_split",
    "xor",
]

#: Names accepted by :func:`load`; ``"article"`` is another name for ``"blobs"``.
DATASET_NAMES = ("blobs", "article", "xor", "moons", "circles", "spirals")
#: Real datasets :func:`load` also accepts; they need the optional extra ``[data]``.
REAL_DATASET_NAMES = ("digits",)


# --- argument checks ---------------------------------------------------------------------------


# The messages name the argument alone (``m must be at least 2 ...``): these functions' arguments
# are few and their names are the documented ones.


def _check_int(value: object, name: str, minimum: int, why: str = "") -> int:
    return _checks.whole_number(value, name, None, minimum=minimum, why=why)


def _check_real(value: object, name: str) -> float:
    return _checks.real_number(value, name, None)


def _check_noise(noise: object) -> float:
    return _checks.real_number(noise, "noise", None, nonnegative=True)


def _rng(seed: object) -> np.random.Generator:
    """The call's own generator, seeded by a checked ``seed`` (numpy's global one is left alone)."""
    return np.random.default_rng(_check_int(seed, "seed", 0))


def _balanced_labels(m: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` labels in 0..k-1, class sizes differing by at most one, in random order."""
    return rng.permutation(np.arange(m, dtype=np.int64) % k)


def _as_article_Y(labels: np.ndarray) -> np.ndarray:
    return labels.astype(np.float64).reshape(1, -1)


# --- generators --------------------------------------------------------------------------------


def blobs(m: int = 400, noise: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The article's kind of problem: two Gaussian clusters in 2-D, almost linearly separable.

    Class 0 is centred at (-1.5, -1.5), class 1 at (1.5, 1.5); each feature of each point gets
    Gaussian noise of standard deviation ``noise``. With the default ``noise=1.0`` a few
    points (about 2%) fall on the other class's side of the best line. ``load("article")`` is
    the same dataset.

    Parameters
    ----------
    m : int
        Number of examples, at least 2.
    noise : float
        Standard deviation of each cluster, >= 0.
    seed : int
        Seed of the generator, >= 0.

    Returns
    -------
    X : ndarray, (2, m) float64
    Y : ndarray, (1, m) float64 of 0.0 / 1.0

    Examples
    --------
    >>> X, Y = blobs(m=6, seed=0)
    >>> X.shape, Y.shape, float(Y.sum())
    ((2, 6), (1, 6), 3.0)
    """
    m = _check_int(m, "m", 2, "one example per class")
    noise = _check_noise(noise)
    rng = _rng(seed)

    labels = _balanced_labels(m, 2, rng)
    centres = np.where(labels == 1, 1.5, -1.5)  # the same centre on both axes
    X = centres + noise * rng.standard_normal((2, m))
    return X, _as_article_Y(labels)


def xor(m: int = 400, noise: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table as a cloud: four clusters at the corners (±1, ±1).

    Bit 0 is the coordinate -1 and bit 1 the coordinate +1; a point's label is the XOR of its
    two bits, i.e. 1 where the coordinates of its corner have different signs. No single line
    separates the classes, so the network needs a hidden layer.

    Parameters
    ----------
    m : int
        Number of examples, at least 4 (every corner is present).
    noise : float
        Standard deviation of the Gaussian jitter around each corner, >= 0.
    seed : int
        Seed of the generator, >= 0.

    Returns
    -------
    X : ndarray, (2, m) float64
    Y : ndarray, (1, m) float64 of 0.0 / 1.0

    Examples
    --------
    >>> X, Y = xor(m=8, noise=0.0, seed=0)
    >>> bool(((X[0] * X[1] < 0) == (Y[0] == 1)).all())
    True
    """
    m = _check_int(m, "m", 4, "one example per corner")
    noise = _check_noise(noise)
    rng = _rng(seed)

    corner = _balanced_labels(m, 4, rng)
    bit_a, bit_b = corner // 2, corner % 2
    X = np.stack([2.0 * bit_a - 1.0, 2.0 * bit_b - 1.0]) + noise * rng.standard_normal((2, m))
    return X, _as_article_Y(bit_a ^ bit_b)


def moons(m: int = 400, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles of radius 1.

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower arc
    ``(1 - cos t, 0.5 - sin t)``, with ``t`` uniform in [0, π]; the whole picture is shifted so
    that it is centred on the origin. Each feature gets Gaussian noise of standard deviation
    ``noise``.

    Parameters
    ----------
    m : int
        Number of examples, at least 2.
    noise : float
        Standard deviation of the Gaussian noise, >= 0.
    seed : int
        Seed of the generator, >= 0.

    Returns
    -------
    X : ndarray, (2, m) float64
    Y : ndarray, (1, m) float64 of 0.0 / 1.0

    Examples
    --------
    >>> X, Y = moons(m=100, noise=0.0, seed=0)
    >>> upper = X[:, Y[0] == 0] + [[0.5], [0.25]]  # undo the centring
    >>> bool(np.allclose(np.hypot(upper[0], upper[1]), 1.0))
    True
    """
    m = _check_int(m, "m", 2, "one example per class")
    noise = _check_noise(noise)
    rng = _rng(seed)

    labels = _balanced_labels(m, 2, rng)
    t = rng.uniform(0.0, np.pi, size=m)
    upper = np.stack([np.cos(t), np.sin(t)])
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where(labels == 1, lower, upper) - np.array([[0.5], [0.25]])
    X = X + noise * rng.standard_normal((2, m))
    return X, _as_article_Y(labels)


def circles(
    m: int = 400, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the outer one (radius 1), class 1 on the inner one.

    Angles are uniform; each feature gets Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    m : int
        Number of examples, at least 2.
    noise : float
        Standard deviation of the Gaussian noise, >= 0.
    factor : float
        Radius of the inner circle relative to the outer one, strictly between 0 and 1.
    seed : int
        Seed of the generator, >= 0.

    Returns
    -------
    X : ndarray, (2, m) float64
    Y : ndarray, (1, m) float64 of 0.0 / 1.0

    Examples
    --------
    >>> X, Y = circles(m=50, noise=0.0, factor=0.3, seed=0)
    >>> radius = np.hypot(X[0], X[1])
    >>> bool(np.allclose(radius[Y[0] == 1], 0.3) and np.allclose(radius[Y[0] == 0], 1.0))
    True
    """
    m = _check_int(m, "m", 2, "one example per class")
    noise = _check_noise(noise)
    factor = _check_real(factor, "factor")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be strictly between 0 and 1, got {factor}")
    rng = _rng(seed)

    labels = _balanced_labels(m, 2, rng)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=m)
    radius = np.where(labels == 1, factor, 1.0)
    X = radius * np.stack([np.cos(angle), np.sin(angle)])
    X = X + noise * rng.standard_normal((2, m))
    return X, _as_article_Y(labels)


# Angle, in radians, that an arm of the spirals turns through from the centre to radius 1.
_SPIRAL_SWEEP = 4.0


def spirals(
    m: int = 300, k: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` interleaved spiral arms, one class per arm.

    Arm ``j`` starts at the origin heading at angle ``2πj/k`` and turns through 4 radians as its
    radius grows to 1. Radii are uniform in [0, 1]; ``noise`` is the standard deviation, in
    radians, of a Gaussian jitter of each point's angle: the arms blur sideways while every
    point keeps its radius.

    Parameters
    ----------
    m : int
        Number of examples, at least ``k``.
    k : int
        Number of classes (arms), at least 2.
    noise : float
        Standard deviation of the angular jitter in radians, >= 0.
    seed : int
        Seed of the generator, >= 0.

    Returns
    -------
    X : ndarray, (2, m) float64
    labels : ndarray, (m,) int64 in 0..k-1
        Class labels as integers, not the article's (1, m) float row: with k classes they are
        meant for a softmax cross-entropy.

    Examples
    --------
    >>> X, labels = spirals(m=90, k=3, seed=0)
    >>> X.shape, labels.shape, labels.dtype
    ((2, 90), (90,), dtype('int64'))
    >>> np.bincount(labels).tolist()
    [30, 30, 30]
    """
    k = _check_int(k, "k", 2, "a classification needs two classes")
    m = _check_int(m, "m", k, "one example per class")
    noise = _check_noise(noise)
    rng = _rng(seed)

    labels = _balanced_labels(m, k, rng)
    radius = rng.uniform(0.0, 1.0, size=m)
    angle = 2.0 * np.pi * labels / k + _SPIRAL_SWEEP * radius
    angle = angle + noise * rng.standard_normal(m)
    X = radius * np.stack([np.cos(angle), np.sin(angle)])
    return X, labels


# --- splitting and loading by name -------------------------------------------------------------


def train_test_split(
    X: np.ndarray, Y: np.ndarray, test_fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the examples (columns) at random into a training and a test set.

    ``round(test_fraction * m)`` examples go to the test set (halves round up), the rest to
    the training set; both must be non-empty. Within each set the examples keep their original
    order. The results are new arrays.

    Parameters
    ----------
    X : ndarray, (n_features, m)
    Y : ndarray, (m,) or (n, m)
        Labels of the same m examples: the article's ``(1, m)`` row, one-hot columns, or
        integer labels of shape ``(m,)``.
    test_fraction : float
        Share of the examples in the test set, strictly between 0 and 1.
    seed : int
        Seed of the generator that draws the split, >= 0.

    Returns
    -------
    (X_train, Y_train, X_test, Y_test)

    Examples
    --------
    >>> X = np.arange(20.0).reshape(2, 10)
    >>> Y = np.arange(10)
    >>> X_train, Y_train, X_test, Y_test = train_test_split(X, Y, test_fraction=0.3, seed=0)
    >>> X_train.shape, Y_train.shape, X_test.shape, Y_test.shape
    ((2, 7), (7,), (2, 3), (3,))
    >>> sorted(Y_train.tolist() + Y_test.tolist()) == list(range(10))
    True
    """
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_features, m), got {_describe(X)}")
    if not isinstance(Y, np.ndarray) or Y.ndim not in (1, 2):
        raise ValueError(f"Y must be a 1-D (m,) or 2-D (n, m) array, got {_describe(Y)}")
    m = X.shape[1]
    if Y.shape[-1] != m:
        raise ValueError(
            f"X and Y must hold the same number of examples (columns): X has shape {X.shape} "
            f"(m={m}), Y has shape {Y.shape} (m={Y.shape[-1]})"
        )
    test_fraction = _check_real(test_fraction, "test_fraction")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    n_test = math.floor(test_fraction * m + 0.5)
    if not 1 <= n_test <= m - 1:
        raise ValueError(
            f"test_fraction={test_fraction} of m={m} examples gives {n_test} test examples; "
            "both the training and the test set need at least one"
        )
    rng = _rng(seed)

    order = rng.permutation(m)
    test_index, train_index = np.sort(order[:n_test]), np.sort(order[n_test:])
    return X[:, train_index], Y[..., train_index], X[:, test_index], Y[..., test_index]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__}"


def _digits_table() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 rows of 64 pixels and their labels, from the file scikit-learn ships."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except ValueError:  # a half-imported or stubbed sklearn module
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "data.load('digits') needs scikit-learn, which ships the digits images: install the "
            "optional extra with pip install 'tinygrad_nn[data]' (or pip install '.[data]' in a "
            "clone of the repository)"
        )
    # Read the CSV scikit-learn's load_digits reads, without importing sklearn.datasets: that
    # import pulls in scipy and takes seconds (measured 1-10 s on a busy 2-core machine).
    package = Path(next(iter(spec.submodule_search_locations)))
    table_path = package / "datasets" / "data" / "digits.csv.gz"
    if table_path.is_file():
        table = np.loadtxt(table_path, delimiter=",")
        return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # another layout of the package: ask it

    images, labels = load_digits(return_X_y=True)
    return images, labels


def digits(m: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 handwritten digits (1,797 images, shipped inside scikit-learn).

    Needs the optional extra ``pip install 'tinygrad_nn[data]'`` (``pip install '.[data]'`` in
    a clone), which installs scikit-learn; nothing is downloaded.

    Returns
    -------
    X : ndarray, (64, m) float64
        One image per column, pixels in row-major order scaled from 0..16 to [0, 1]. For the
        image layers' (N, C, H, W) layout: ``X.T.reshape(-1, 1, 8, 8)``.
    labels : ndarray, (m,) int64
        The digit, 0..9.

    The columns come in a random order drawn from ``seed``; ``m`` (default: all 1,797) keeps
    the first m of them.

    Examples
    --------
    >>> X, labels = digits()
    >>> X.shape, labels.shape, float(X.max()), sorted(set(labels.tolist())) == list(range(10))
    ((64, 1797), (1797,), 1.0, True)
    """
    images, labels = _digits_table()
    total = labels.shape[0]
    m = total if m is None else _check_int(m, "m", 1)
    if m > total:
        raise ValueError(f"m must be at most {total} (the number of digits images), got {m}")
    order = _rng(seed).permutation(total)[:m]
    X = np.ascontiguousarray(images[order].T / 16.0, dtype=np.float64)
    return X, labels[order].astype(np.int64)


_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "blobs": blobs,
    "article": blobs,
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
    "digits": digits,
}


def load(
    name: str, m: int | None = None, noise: float | None = None, seed: int = 0, **options: object
) -> tuple[np.ndarray, np.ndarray]:
    """Make the dataset called ``name``; one of :data:`DATASET_NAMES` or
    :data:`REAL_DATASET_NAMES`, case-insensitive.

    ``m`` and ``noise`` left as ``None`` take the generator's defaults. Further keyword
    options go to the generator (``factor`` for ``circles``, ``k`` for ``spirals``).
    ``"digits"`` is :func:`digits`: real 8×8 images (64, m) and int labels (m,), through the
    optional extra ``[data]`` (scikit-learn).

    Returns
    -------
    (X, Y)
        As the generator returns them; for ``"spirals"`` the second value is the (m,) int64
        ``labels``.

    Examples
    --------
    >>> X, Y = load("article", m=10, seed=3)
    >>> X.shape, Y.shape
    ((2, 10), (1, 10))
    >>> X, labels = load("spirals", m=40, k=4)
    >>> int(labels.max())
    3
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str, one of {', '.join(DATASET_NAMES + REAL_DATASET_NAMES)}; "
            f"got {name!r}"
        )
    generator = _GENERATORS.get(name.strip().lower())
    if generator is None:
        raise ValueError(
            f"unknown dataset name {name!r}; valid names are: "
            f"{', '.join(DATASET_NAMES + REAL_DATASET_NAMES)}"
        )
    arguments: dict[str, object] = dict(options, seed=seed)
    if m is not None:
        arguments["m"] = m
    if noise is not None and generator is digits:
        raise ValueError("the digits are real images: load('digits') takes no noise")
    if noise is not None:
        arguments["noise"] = noise
    return generator(**arguments)

"""The training problems the step benchmark runs, and the FLOPs a step must do.

Every workload uses the article's layout (examples are columns), a sigmoid on every layer, the
binary cross-entropy cost, lr = 0.1, and the article's ``init_params``: ``np.random.seed(3)``, then
``W_l = randn(n_l, n_{l-1}) * 0.01`` drawn layer after layer, ``b_l = 0``. The float32 workload
draws the same float64 numbers and rounds them, so both precisions start from the same network.

Examples
--------
>>> problem = make_problem(WORKLOADS["tiny"])
>>> problem.X.shape, problem.Y.shape, problem.params["W2"].shape
((2, 256), (1, 256), (8, 8))
>>> step_flops(WORKLOADS["tiny"])
126976
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEARNING_RATE = 0.1
ARTICLE_SEED = 3
# The data has its own generator so that drawing it never moves the article's global seed.
DATA_SEED = 20240
# Verification runs this many steps before comparing engines.
CHECK_STEPS = 5


@dataclass(frozen=True)
class Workload:
    """One benchmark size: the layer widths (input first), the batch size and the dtype."""

    name: str
    layer_dims: tuple[int, ...]
    m: int
    dtype: str = "float64"

    @property
    def label(self) -> str:
        dims = ",".join(str(n) for n in self.layer_dims)
        suffix = "" if self.dtype == "float64" else f" {self.dtype}"
        return f"{self.name} [{dims}] m={self.m}{suffix}"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("tiny", (2, 8, 8, 1), 256),
        Workload("medium", (64, 256, 256, 1), 1024),
        Workload("large", (784, 1024, 1024, 1), 2048),
        Workload("large_f32", (784, 1024, 1024, 1), 2048, "float32"),
    )
}


@dataclass
class Problem:
    """Data and initial parameters of one workload, as numpy arrays in the workload's dtype.

    ``params`` maps ``W1, b1, ..., WL, bL`` to fresh arrays; an engine copies what it keeps.
    """

    workload: Workload
    X: np.ndarray
    Y: np.ndarray
    params: dict[str, np.ndarray]
    lr: float = LEARNING_RATE

    @property
    def n_layers(self) -> int:
        return len(self.workload.layer_dims) - 1

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.workload.dtype)


def article_init_params(layer_dims: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The article's ``init_params``: seed 3, small Gaussian weights, zero biases (float64).

    Examples
    --------
    >>> p = article_init_params((2, 3, 1))
    >>> sorted(p), p["b1"].shape
    (['W1', 'W2', 'b1', 'b2'], (3, 1))
    """
    np.random.seed(ARTICLE_SEED)
    params = {}
    for layer in range(1, len(layer_dims)):
        params[f"W{layer}"] = np.random.randn(layer_dims[layer], layer_dims[layer - 1]) * 0.01
        params[f"b{layer}"] = np.zeros((layer_dims[layer], 1))
    return params


def make_problem(workload: Workload) -> Problem:
    """Build the workload's data and the article's initial parameters.

    The labels are 1 where the first two features have the same sign (an XOR of quadrants), so
    both classes are present at every size and no layer can solve the task on its own.

    Examples
    --------
    >>> p = make_problem(WORKLOADS["large_f32"])
    >>> p.X.dtype, p.params["W1"].dtype, sorted(set(p.Y.ravel().tolist()))
    (dtype('float32'), dtype('float32'), [0.0, 1.0])
    """
    dtype = np.dtype(workload.dtype)
    rng = np.random.default_rng(DATA_SEED)
    X = rng.standard_normal((workload.layer_dims[0], workload.m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    params = {k: v.astype(dtype) for k, v in article_init_params(workload.layer_dims).items()}
    return Problem(workload, X.astype(dtype), Y.astype(dtype), params)


def bce_cost(problem: Problem, params: dict[str, np.ndarray]) -> float:
    """The cost J of ``params`` on the problem's data, by a plain forward pass.

    Used to check every engine on the parameters it produced, independently of the engine's
    own forward pass.
    """
    A = problem.X
    for layer in range(1, problem.n_layers + 1):
        A = 1.0 / (1.0 + np.exp(-(params[f"W{layer}"] @ A + params[f"b{layer}"])))
    Y = problem.Y
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def step_flops(workload: Workload) -> int:
    """Floating-point operations one training step must do: its matrix products only.

    For a layer l with ``W_l`` of shape ``(n_l, n_{l-1})`` and a batch of m examples:

    - forward ``Z_l = W_l @ A_{l-1}``: ``2 * n_l * n_{l-1} * m``
    - backward ``dW_l = dZ_l @ A_{l-1}.T``: ``2 * n_l * n_{l-1} * m``
    - backward ``dA_{l-1} = W_l.T @ dZ_l``: ``2 * n_l * n_{l-1} * m``, for every layer but the
      first (the gradient with respect to the input data is never needed).

    Elementwise work (bias, sigmoid, cost, update) is not counted: it is memory-bound, and a
    step that skips none of it still has to do all of the above.
    """
    dims, m = workload.layer_dims, workload.m
    total = 0
    for layer in range(1, len(dims)):
        gemms = 2 if layer == 1 else 3
        total += gemms * 2 * dims[layer] * dims[layer - 1] * m
    return total


def sample_entries(params: dict[str, np.ndarray], n_samples: int = 256) -> dict[str, list[float]]:
    """A fixed random sample of each parameter's entries, as float64 numbers.

    Five small steps barely move the cost, so a wrong gradient for the first layer can hide
    below the cost's tolerance; the change of every parameter cannot. Comparing the change of
    these entries between engines checks every update without shipping whole arrays between
    processes (and without allocating anything the size of a parameter).

    Examples
    --------
    >>> s = sample_entries({"W1": np.arange(6.0).reshape(2, 3)})
    >>> sorted(s["W1"])
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    rng = np.random.default_rng(0)
    samples = {}
    for name in sorted(params):
        flat = np.asarray(params[name]).reshape(-1)
        count = min(n_samples, flat.size)
        where = np.sort(rng.choice(flat.size, size=count, replace=False))
        samples[name] = flat[where].astype(np.float64).tolist()
    return samples

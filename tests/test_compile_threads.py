"""tinygrad_nn.compile(step, threads=2): big kernels in row halves on two threads, BLAS on one
while a replay runs; the numbers equal the eager step's."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor, nn, optim
from tinygrad_nn.compiler import _parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info()
            if i["internal_api"] == "openblas"]


def _steps(threads: int | None, activation: str = "sigmoid", calls: int = 5):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((64, 600)), (rng.random((1, 600)) > 0.5).astype(float)
    model = nn.MLP([64, 128, 96, 1], activation=activation, seed=1)
    opt = optim.SGD(model.parameters(), lr=0.5)

    def step(X, Y):
        loss = nn.binary_cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    run = step if threads is None else tg.compile(step, threads=threads)
    losses = [run(Tensor(X), Tensor(Y)).item() for _ in range(calls)]
    return losses, model, run


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_a_two_core_replay_equals_the_eager_step(activation):
    if not _parallel.available():
        pytest.skip("no OpenBLAS for threadpoolctl to reach")
    eager, eager_model, _ = _steps(None, activation)
    losses, model, step = _steps(2, activation)
    assert step.plan.threads == 2 and step.replays == 3
    np.testing.assert_allclose(losses, eager, rtol=1e-12)
    for (name, a), b in zip(model.state_dict().items(), eager_model.state_dict().values(),
                            strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=name)


def test_a_two_core_replay_gives_openblas_its_threads_back():
    if not _parallel.available():
        pytest.skip("no OpenBLAS for threadpoolctl to reach")
    before = _blas_threads()
    _steps(2)
    assert _blas_threads() == before


def test_a_step_too_small_to_split_runs_on_one_core():
    w = Tensor(np.ones((4, 4)), requires_grad=True)
    step = tg.compile(lambda x: (w @ x).sigmoid().sum(), threads=2)
    for _ in range(3):
        step(np.ones((4, 3)))
    assert step.plan.threads == 1


def test_compile_refuses_a_thread_count_other_than_one_or_two():
    with pytest.raises(ValueError, match=r"compile: threads must be 1 or 2; got 4"):
        tg.compile(lambda: None, threads=4)


def test_halves_splits_rows_between_two_threads_inside_two_cores():
    seen: list[int] = []
    x = np.zeros((8, _parallel.MIN_ELEMENTS // 8))
    with _parallel.TwoCores():
        _parallel.halves(lambda rows: seen.append(rows.shape[0]), x)
    _parallel.halves(lambda rows: seen.append(rows.shape[0]), x)  # outside: whole
    assert sorted(seen[:2]) == [4, 4] and seen[2:] == [8]


def test_halves_runs_small_arrays_whole():
    seen: list[tuple[int, ...]] = []
    with _parallel.TwoCores():
        _parallel.halves(lambda rows: seen.append(rows.shape), np.zeros((8, 8)))
    assert seen == [(8, 8)]

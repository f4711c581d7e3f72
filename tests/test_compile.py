"""tinygrad_nn.compile: every replayed step equals the eager step (float64, 1e-12).

Each test runs the same step twice from the same initial parameters — once eagerly, once through
``tinygrad_nn.compile`` — and compares the returned losses, the parameters and their ``.grad``
after every call (call 1 is eager, call 2 traced, the rest replayed).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import CompileError, Tensor, nn, no_grad, optim

TOL = 1e-12
STEPS = 12


def _data(m: int = 40, n_in: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_in, m))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return X, Y


def _close(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= TOL


def _run(make: Callable[[], tuple[Callable[..., Any], list[Tensor]]], compiled: bool,
         batches: list[tuple[Any, ...]]) -> list[tuple[float, list, list]]:
    step, params = make()
    if compiled:
        step = tg.compile(step)
    history = []
    for args in batches:
        loss = step(*args)
        history.append((
            loss.item(),
            [p.data.copy() for p in params],
            [None if p.grad is None else p.grad.copy() for p in params],
        ))
    return history


def _assert_same(make: Callable[[], Any], batches: list[tuple[Any, ...]]) -> None:
    eager = _run(make, False, batches)
    replayed = _run(make, True, batches)
    for call, (e, r) in enumerate(zip(eager, replayed, strict=True), start=1):
        assert abs(e[0] - r[0]) <= TOL, f"call {call}: loss {e[0]} vs {r[0]}"
        for k, (a, b) in enumerate(zip(e[1], r[1], strict=True)):
            assert _close(a, b), f"call {call}: params[{k}] differ"
        for k, (a, b) in enumerate(zip(e[2], r[2], strict=True)):
            assert _close(a, b), f"call {call}: params[{k}].grad differ"


def _mlp_step(make_opt: Callable[[list[Tensor]], optim.Optimizer], activation: str = "sigmoid"
              ) -> Callable[[], tuple[Callable[..., Any], list[Tensor]]]:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 5, 4, 1], activation=activation, seed=3)
        opt = make_opt(model.parameters())

        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(model(X), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model.parameters()

    return make


def _article_params(seed: int = 1, dims: tuple[int, ...] = (2, 4, 3, 1)) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(dims):
        params.append(Tensor(rng.standard_normal((n_out, n_in)) * 0.7, requires_grad=True))
        params.append(Tensor(rng.standard_normal((n_out, 1)) * 0.1, requires_grad=True))
    return params


def _hand_step(activation: str = "tanh", lr: float = 0.3) -> Callable[[], Any]:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        params = _article_params()

        def step(X: Any, Y: Any) -> Tensor:
            A = X
            for layer in range(0, len(params) - 2, 2):
                A = getattr(params[layer] @ A + params[layer + 1], activation)()
            A = (params[-2] @ A + params[-1]).sigmoid()
            loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
            loss.backward()
            with no_grad():
                for p in params:
                    p -= lr * p.grad
                    p.grad = None
            return loss

        return step, params

    return make


BATCHES = [_data() for _ in range(STEPS)]


def test_mlp_with_sgd_replays_the_eager_step() -> None:
    _assert_same(_mlp_step(lambda ps: optim.SGD(ps, lr=0.5)), BATCHES)


def test_mlp_with_sgd_momentum_replays_the_eager_step() -> None:
    _assert_same(_mlp_step(lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9)), BATCHES)


def test_mlp_with_adam_replays_the_eager_step() -> None:
    _assert_same(_mlp_step(lambda ps: optim.Adam(ps, lr=0.01)), BATCHES)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_of_each_activation_replays_the_eager_step(activation: str) -> None:
    _assert_same(_mlp_step(lambda ps: optim.SGD(ps, lr=0.2), activation), BATCHES)


def test_raw_ops_with_a_hand_written_update_replay_the_eager_step() -> None:
    _assert_same(_hand_step("tanh"), BATCHES)


def test_hand_written_update_with_numpy_arguments_sees_new_labels_every_call() -> None:
    batches = [_data(seed=k) for k in range(STEPS)]  # (1 - Y) is numpy work on the argument
    _assert_same(_hand_step("sigmoid"), batches)


def test_tensor_arguments_with_new_values_every_call_replay_the_eager_step() -> None:
    batches = [tuple(Tensor(a) for a in _data(seed=k)) for k in range(STEPS)]
    _assert_same(_mlp_step(lambda ps: optim.SGD(ps, lr=0.5)), batches)


def test_new_input_shape_traces_again_and_stays_exact() -> None:
    batches = [_data(m=40)] * 4 + [_data(m=17)] * 4 + [_data(m=40)] * 3
    _assert_same(_mlp_step(lambda ps: optim.SGD(ps, lr=0.5)), batches)
    step, _ = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
    compiled = tg.compile(step)
    for args in batches:
        compiled(*args)
    assert compiled.traces == 2  # one plan per shape; the first shape's plan is kept


def test_multiclass_cross_entropy_compiles_through_the_generic_fallback() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 6, 3], activation="tanh", output_activation="none", seed=0)
        opt = optim.SGD(model.parameters(), lr=0.3)
        labels = np.array([0, 1, 2, 1] * 10)

        def step(X: Any) -> Tensor:
            logp = model(X).log_softmax(axis=0)
            onehot = np.eye(3)[:, labels]
            loss = -(logp * onehot).sum() / labels.size
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, [(_data()[0],)] * STEPS)


def test_replaced_parameter_data_traces_again() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    step = tg.compile(lambda x: (w * x).sum())
    x = np.array([1.0, 1.0])
    for _ in range(3):
        step(x)
    w.data = np.array([10.0, 20.0])
    assert step(x).item() == 30.0
    for _ in range(3):
        assert step(x).item() == 30.0
    assert step.traces == 2


def test_rebound_global_traces_again() -> None:
    global _SCALE
    _SCALE = 2.0
    w = Tensor([1.0], requires_grad=True)

    def f() -> Tensor:
        return (w * _SCALE).sum()

    step = tg.compile(f)
    assert [step().item() for _ in range(3)] == [2.0, 2.0, 2.0]
    _SCALE = 5.0
    assert [step().item() for _ in range(3)] == [5.0, 5.0, 5.0]


_SCALE = 1.0


def test_new_parameter_list_of_an_optimizer_traces_again() -> None:
    w, v = Tensor([1.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def f() -> Tensor:
        loss = (w * v).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step = tg.compile(f)
    for _ in range(3):
        step()
    opt.params = [w, v]
    opt._kinds.append((v.shape, v.dtype))
    opt._scratch.append(None)
    before = v.data.copy()
    for _ in range(3):
        step()
    assert not np.array_equal(v.data, before)  # v is updated now


def test_anomaly_mode_runs_the_step_eagerly_and_names_the_op() -> None:
    x = Tensor([1.0, 0.0], requires_grad=True)
    step = tg.compile(lambda: x.log().sum())
    with np.errstate(divide="ignore"):  # log(0) = -inf on purpose: anomaly mode names it
        for _ in range(3):
            step()
        with tg.detect_anomaly(), pytest.raises(FloatingPointError, match="'log'"):
            step()


def test_returned_losses_are_independent_values() -> None:
    step, _ = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
    compiled = tg.compile(step)
    X, Y = _data()
    losses = [compiled(X, Y) for _ in range(6)]
    values = [loss.item() for loss in losses]
    assert len(set(values)) == 6  # each replay returned its own loss, not one shared buffer


def test_returning_a_python_number_is_refused() -> None:
    w = Tensor([1.0], requires_grad=True)
    step = tg.compile(lambda: (w * 2).sum().item())
    step()
    with pytest.raises(CompileError, match=r"return.*Tensor"):
        step()


def test_reading_a_gradient_into_python_while_tracing_is_refused() -> None:
    w = Tensor([1.0], requires_grad=True)

    def f() -> Tensor:
        loss = (w * 2).sum()
        loss.backward()
        with no_grad():
            for p in [w]:
                p -= 0.1 / float(p.grad.sum()) * p.grad
        w.grad = None
        return loss

    step = tg.compile(f)
    step()
    with pytest.raises(CompileError, match="float"):
        step()


def test_gradients_accumulate_across_replays_without_zero_grad() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        w = Tensor([1.0, -2.0], requires_grad=True)

        def step(x: Any) -> Tensor:
            loss = (w * w * x).sum()
            loss.backward()
            return loss

        return step, [w]

    _assert_same(make, [(np.array([1.0, 3.0]),)] * 6)


def test_unoptimized_plan_replays_the_eager_step_too() -> None:
    step, params = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
    eager = _run(_mlp_step(lambda ps: optim.SGD(ps, lr=0.5)), False, BATCHES)
    compiled = tg.compile(step, optimize=False)
    for call, args in enumerate(BATCHES):
        assert abs(compiled(*args).item() - eager[call][0]) <= TOL
    assert all(_close(p.data, q) for p, q in zip(params, eager[-1][1], strict=True))


def test_mlp_without_zero_grad_accumulates_gradients_like_eager() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 5, 1], seed=3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(model(X), Y)
            loss.backward()  # no zero_grad: the gradients add up over the calls
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, BATCHES[:6])


def test_the_articles_step_runs_as_fused_kernels() -> None:
    step, _ = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
    compiled = tg.compile(step)
    for args in BATCHES[:3]:
        compiled(*args)
    assert [s.name for s in compiled.plan.steps] == [
        "gemm_bias(out=Z1)", "sigmoid(in place, Z1)",
        "gemm_bias(out=Z2)", "sigmoid(in place, Z2)",
        "gemm_bias(out=Z3)", "bce_logits",
        "SGD.zero_grad",
        "backward: bce_logits", "backward: gemm_bias(out=Z3)",
        "backward: sigmoid(in place, Z2)", "backward: gemm_bias(out=Z2)",
        "backward: sigmoid(in place, Z1)", "backward: gemm_bias(out=Z1)",
        "backward: .grad of b3, W3, b2, W2, b1, W1",
        "SGD.step",
    ]


def test_logits_pass_keeps_the_saturated_cost_finite_with_the_log_floor() -> None:
    model = nn.MLP([2, 1], seed=0)
    model.load_state_dict({"W1": np.array([[500.0, 0.0]]), "b1": np.array([[0.0]])})
    opt = optim.SGD(model.parameters(), lr=0.0)

    @tg.compile
    def step(X: Any, Y: Any) -> Tensor:
        loss = nn.binary_cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    X = np.array([[2.0, -2.0, 0.01, 0.1], [0.0, 0.0, 0.0, 0.0]])  # logits 1000, -1000, 5, 50
    Y = np.array([[0.0, 1.0, 1.0, 1.0]])
    for _ in range(3):
        loss = step(X, Y)
    z = np.array([1000.0, -1000.0, 5.0, 50.0])
    softplus = np.logaddexp(0.0, z)
    expected = np.mean(np.minimum(np.where(Y[0] == 1, softplus - z, softplus), 100.0))
    assert step.replays == 1
    assert abs(loss.item() - expected) <= 1e-12
    W = model.parameters()[0]
    assert np.all(np.isfinite(W.grad))


def test_float32_mlp_compiles_and_stays_float32() -> None:
    model = nn.MLP([2, 5, 1], seed=3, dtype=np.float32)
    opt = optim.SGD(model.parameters(), lr=0.5)
    eager_model = nn.MLP([2, 5, 1], seed=3, dtype=np.float32)
    eager_opt = optim.SGD(eager_model.parameters(), lr=0.5)

    def make_step(m: nn.MLP, o: optim.SGD) -> Callable[..., Tensor]:
        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(m(X), Y)
            o.zero_grad()
            loss.backward()
            o.step()
            return loss

        return step

    compiled, eager = tg.compile(make_step(model, opt)), make_step(eager_model, eager_opt)
    X, Y = (a.astype(np.float32) for a in _data())
    for _ in range(6):
        a, b = compiled(X, Y), eager(X, Y)
        assert a.dtype == np.float32
        assert abs(a.item() - b.item()) <= 1e-6
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        assert p.data.dtype == np.float32
        assert np.allclose(p.data, q.data, rtol=1e-5, atol=1e-6)


def test_a_warm_replay_allocates_no_arrays() -> None:
    import tracemalloc

    model = nn.MLP([8, 64, 64, 1], seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tg.compile
    def step(X: Any, Y: Any) -> Tensor:
        loss = nn.binary_cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((8, 2048)), (rng.random((1, 2048)) > 0.5).astype(float)
    for _ in range(4):
        step(X, Y)
    one_activation = 64 * 2048 * 8  # 1 MiB
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(100):
            step(X, Y)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # no activation-sized array: only Python objects and numpy's 64 KiB broadcasting buffer
    assert peak - before < one_activation // 8
    assert after - before < 16 * 1024  # and 100 replays keep nothing: memory is flat


def test_a_new_learning_rate_between_replays_is_used_like_eager() -> None:
    results = []
    for compiled in (False, True):
        step, params = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
        opt_holder = step.__closure__  # the optimizer the step closes over
        opt = next(c.cell_contents for c in opt_holder if isinstance(c.cell_contents, optim.SGD))
        run = tg.compile(step) if compiled else step
        for call, args in enumerate(BATCHES[:8]):
            opt.lr = 0.5 if call < 4 else 0.05
            run(*args)
        results.append([p.data.copy() for p in params])
    assert all(_close(a, b) for a, b in zip(*results, strict=True))


def _backward_code(compiled: Any) -> str:
    return "\n".join(line for s in compiled.plan.steps if s.phase == "backward"
                     for line in s.code)


def test_mlp_backward_of_kernels_is_written_out_as_numpy_calls() -> None:
    step, _ = _mlp_step(lambda ps: optim.SGD(ps, lr=0.5))()
    compiled = tg.compile(step)
    for args in BATCHES[:3]:
        compiled(*args)
    code = _backward_code(compiled)
    assert "matmul(dZ3, A2_ones.T, out=dW3_b3)" in code  # [dW3 | db3] = dZ3·[A2; 1]ᵀ
    assert "grad_of" not in code and "accumulate" not in code  # no runtime helper


def test_a_generic_op_in_the_backward_applies_its_rules_as_the_engine_does() -> None:
    step, _ = _hand_step("tanh")()  # 1 - A and the logs of the hand-written cost: op nodes
    compiled = tg.compile(step, optimize=False)
    for args in BATCHES[:3]:
        compiled(*args)
    assert "grad_of(" in _backward_code(compiled)


def test_a_weight_used_twice_sums_its_gradients() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        rng = np.random.default_rng(4)
        W = Tensor(rng.standard_normal((2, 2)) * 0.5, requires_grad=True, name="W")
        b = Tensor(np.zeros((2, 1)), requires_grad=True, name="b")
        w_out = Tensor(rng.standard_normal((1, 2)) * 0.5, requires_grad=True)
        b_out = Tensor(np.zeros((1, 1)), requires_grad=True)
        opt = optim.SGD([W, b, w_out, b_out], lr=0.3)

        def step(X: Any, Y: Any) -> Tensor:
            A = (W @ (W @ X + b).sigmoid() + b).sigmoid()  # W and b read by two layers
            loss = nn.binary_cross_entropy((w_out @ A + b_out).sigmoid(), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, [W, b, w_out, b_out]

    _assert_same(make, BATCHES)
    step, _ = make()
    compiled = tg.compile(step)
    for args in BATCHES[:3]:
        compiled(*args)
    code = _backward_code(compiled)
    assert "add(dW, dW_2, out=dW)" in code and "add(db, db_2, out=db)" in code


def test_straight_backward_with_the_state_dict_read_between_replays_matches_eager() -> None:
    def run(compiled: bool) -> list[dict[str, np.ndarray]]:
        model = nn.MLP([2, 5, 4, 1], seed=3)
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(model(X), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        call = tg.compile(step) if compiled else step
        states = []
        for args in BATCHES:
            call(*args)
            states.append({k: np.array(v) for k, v in model.state_dict().items()})
        return states

    for e, r in zip(run(False), run(True), strict=True):
        assert all(_close(e[k], r[k]) for k in e)


def test_zero_grad_between_backward_and_step_leaves_the_parameters_as_eager_does() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 5, 1], seed=3)
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(model(X), Y)
            loss.backward()
            opt.zero_grad()  # the gradients are gone: step() updates nothing
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, BATCHES[:5])


def _mlp_and_step(model: nn.MLP, opt: optim.Optimizer) -> Callable[..., Tensor]:
    def step(X: Any, Y: Any) -> Tensor:
        loss = nn.binary_cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def test_a_weight_and_its_bias_become_two_views_of_one_array() -> None:
    model = nn.MLP([2, 5, 1], seed=3)
    step = tg.compile(_mlp_and_step(model, optim.SGD(model.parameters(), lr=0.5)))
    for args in BATCHES[:3]:
        step(*args)
    W, b = model.parameters()[:2]
    assert W.data.base is not None and W.data.base is b.data.base  # [W | b]
    assert W.data.base.shape == (5, 3)
    assert "[W1 | b1]" in step.plan.source  # one product computes W1·X + b1


def test_an_array_the_user_holds_is_not_moved_and_keeps_following_the_parameter() -> None:
    model = nn.MLP([2, 5, 1], seed=3)
    held = model.parameters()[0].data  # the user's own reference to W1's array
    step = tg.compile(_mlp_and_step(model, optim.SGD(model.parameters(), lr=0.5)))
    for args in BATCHES[:5]:
        step(*args)
    assert model.parameters()[0].data is held  # not packed: the bias is added on its own
    assert "add(Z1, b1, out=Z1)" in step.plan.source


def test_two_compiled_steps_sharing_a_model_pack_it_once() -> None:
    model = nn.MLP([2, 5, 1], seed=3)
    opt = optim.SGD(model.parameters(), lr=0.5)
    train = tg.compile(_mlp_and_step(model, opt))

    @tg.compile
    def evaluate(X: Any, Y: Any) -> Tensor:
        with no_grad():
            return nn.binary_cross_entropy(model(X), Y)

    for args in BATCHES[:8]:
        train(*args)
        evaluate(*args)
    assert (train.traces, evaluate.traces) in ((1, 1), (2, 1), (1, 2))  # at most one re-trace
    assert train.replays >= 5 and evaluate.replays >= 5


def test_a_packed_model_trained_compiled_evaluates_eagerly_like_an_unpacked_copy() -> None:
    model = nn.MLP([2, 5, 4, 1], seed=3)
    step = tg.compile(_mlp_and_step(model, optim.SGD(model.parameters(), lr=0.5)))
    for args in BATCHES[:6]:
        step(*args)
    copy = nn.MLP([2, 5, 4, 1], seed=3)
    copy.load_state_dict({k: np.array(v) for k, v in model.state_dict().items()})
    X, _ = BATCHES[0]
    with no_grad():
        assert np.array_equal(model(X).data, copy(X).data)


def test_a_numpy_scalar_in_a_hand_written_update_is_replayed_as_that_scalar() -> None:
    # np.float64, as a benchmark writes the learning rate (not a Python float)
    _assert_same(_hand_step("sigmoid", lr=np.float64(0.3)), BATCHES[:6])


def test_a_cnn_with_adam_replays_the_eager_step() -> None:
    rng = np.random.default_rng(5)
    images, labels = rng.standard_normal((8, 1, 8, 8)), rng.integers(0, 3, 8)

    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(4 * 4 * 4, 3, seed=1),
        )
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(X: Any, y: Any) -> Tensor:
            loss = nn.cross_entropy(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, [(images, labels)] * 6)


def test_the_generated_guard_refuses_every_change_of_the_signature() -> None:
    w = Tensor(np.ones((1, 3)), requires_grad=True, name="w")
    step = tg.compile(lambda X, Y, scale: ((w @ X) * scale - Y).sum())
    X, Y = Tensor(np.ones((3, 4))), np.zeros((1, 4))
    for _ in range(3):
        step(X, Y, 2.0)
    accepts = step.plan.accepts
    assert accepts((X, Y, 2.0))
    assert not accepts((Tensor(np.ones((3, 5))), Y, 2.0))  # another shape
    assert not accepts((Tensor(np.ones((3, 4), np.float32)), Y, 2.0))  # another dtype
    assert not accepts((Tensor(np.ones((3, 4)), requires_grad=True), Y, 2.0))
    assert not accepts((X, Y.astype(np.float32), 2.0))
    assert not accepts((X, Y, 3.0))  # a Python scalar's value is part of the signature
    assert not accepts((X.data, Y, 2.0))  # an array where a Tensor was
    with no_grad():
        assert not accepts((X, Y, 2.0))  # grad mode
    with tg.detect_anomaly():
        assert not accepts((X, Y, 2.0))  # anomaly mode runs eagerly
    w.data = np.zeros((1, 3))
    assert not accepts((X, Y, 2.0))  # a parameter's data replaced
    assert "def accepts(args):" in accepts.source


def test_gradients_cleared_by_hand_at_the_top_of_the_step_are_cleared_at_every_replay() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        params = _article_params()

        def step(X: Any, Y: Any) -> Tensor:
            for p in params:  # zero_grad written by hand: an assignment the replay repeats
                p.grad = None
            A = X
            for layer in range(0, len(params), 2):
                A = (params[layer] @ A + params[layer + 1]).sigmoid()
            loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
            loss.backward()
            with no_grad():
                for p in params:
                    p -= 0.3 * p.grad
            return loss

        return step, params

    _assert_same(make, BATCHES[:6])


def test_an_in_place_operator_on_a_parameter_is_replayed() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        params = _article_params()

        def step(X: Any, Y: Any) -> Tensor:
            A = X
            for layer in range(0, len(params), 2):
                A = (params[layer] @ A + params[layer + 1]).tanh()
            loss = ((A - Y) * (A - Y)).mean()
            loss.backward()
            with no_grad():
                for p in params:
                    p *= 0.99  # weight decay: no gradient or traced array in it
                    p -= 0.3 * p.grad
                    p.grad = None
            return loss

        return step, params

    _assert_same(make, BATCHES[:6])


def test_numpy_work_on_a_parameters_data_the_tracer_cannot_see_is_refused() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")

    def step(x: Any) -> Tensor:
        loss = (w * x).sum()
        w.data *= 0.5  # plain numpy on .data: a replay could not repeat it
        w.mark_modified()
        return loss

    compiled = tg.compile(step)
    compiled(np.ones(2))
    with pytest.raises(CompileError, match=r"w \(shape \(2,\)\).*in-place operators"):
        compiled(np.ones(2))


def test_a_compiled_step_called_inside_a_compiled_step_is_part_of_its_trace() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 5, 1], seed=3)
        step = tg.compile(_mlp_and_step(model, optim.SGD(model.parameters(), lr=0.5)))
        for args in BATCHES[:3]:  # the inner step has a plan before the outer one traces
            step(*args)

        def epoch(X1: Any, Y1: Any, X2: Any, Y2: Any) -> Tensor:
            step(X1, Y1)  # while the outer epoch is traced, these run eagerly: recorded
            return step(X2, Y2)

        return epoch, model.parameters()

    _assert_same(make, [(*BATCHES[k], *BATCHES[k + 1]) for k in range(0, 10, 2)])


def test_backward_on_what_a_replay_returned_says_the_replay_has_no_graph() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    forward = tg.compile(lambda x: (w * x).sum())
    for _ in range(3):
        loss = forward(np.ones(2))
    with pytest.raises(CompileError, match=r"backward\(\).*replay.*inside the compiled step"):
        loss.backward()


def test_no_tracer_is_left_active_after_a_trace_that_failed() -> None:
    from tinygrad_nn import modes

    w = Tensor([1.0], requires_grad=True)
    step = tg.compile(lambda: (w * 2).sum().item())  # returning a number: refused
    step()
    with pytest.raises(CompileError):
        step()
    assert modes.tracing == [0] and modes.state.tracer is None


@pytest.mark.parametrize("options", [{}, {"weight": np.array([1.0, 2.0, 0.5])},
                                     {"ignore_index": -1}, {"label_smoothing": 0.1}])
def test_cross_entropy_with_new_labels_every_call_trains_on_each_calls_labels(options) -> None:
    rng = np.random.default_rng(6)
    batches = []
    for _ in range(STEPS):  # minibatches: new images and new labels at every call
        labels = rng.integers(0, 3, 40)
        if "ignore_index" in options:
            labels[rng.random(40) < 0.2] = -1
        batches.append((rng.standard_normal((2, 40)), labels))

    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 6, 3], activation="tanh", output_activation="none", seed=0)
        opt = optim.SGD(model.parameters(), lr=0.3)

        def step(X: Any, labels: Any) -> Tensor:
            loss = nn.cross_entropy(model(X), labels, **options)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, batches)


def test_inputs_computed_inside_the_step_follow_each_calls_arguments() -> None:
    rng = np.random.default_rng(8)
    batches = [(rng.standard_normal((2, 16)), (rng.random((1, 16)) > 0.5) * 1.0)
               for _ in range(STEPS)]

    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        model = nn.MLP([2, 4, 1], seed=0)
        opt = optim.SGD(model.parameters(), lr=0.5)

        def step(X: Any, Y: Any) -> Tensor:
            loss = nn.binary_cross_entropy(model(X / 2.0), Y)  # the model copies X / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step, model.parameters()

    _assert_same(make, batches)


def test_a_numpy_operand_computed_inside_the_step_follows_each_calls_arguments() -> None:
    def make() -> tuple[Callable[..., Any], list[Tensor]]:
        params = [Tensor(np.array([[0.5, -0.25]]), requires_grad=True)]

        def step(X: Any) -> Tensor:
            doubled = Tensor(X) * 2.0  # an op's result...
            loss = (params[0] @ doubled.data).sum()  # ...whose array the op copies
            loss.backward()
            with no_grad():
                for p in params:
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss

        return step, params

    rng = np.random.default_rng(9)
    _assert_same(make, [(rng.standard_normal((2, 3)),) for _ in range(STEPS)])

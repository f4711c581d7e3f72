"""Grad mode, anomaly mode and the module scope belong to one thread (issue 12, item 3), and the
mode objects can be reused, nested and used as decorators, as in PyTorch."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor, nn
from tinygrad_nn.modes import scope, state

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def run_in_thread(fn):
    """Run fn() in a new thread; return its result or raise its exception here."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# ---- one thread's mode does not leak into another -------------------------------------------


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with tg.no_grad():
            inside.set()
            outside.wait(5)

    thread = threading.Thread(target=evaluator)
    thread.start()
    inside.wait(5)
    w = Tensor([1.0], requires_grad=True)
    seen["grad"] = tg.is_grad_enabled()
    seen["records"] = (w * 2).requires_grad
    outside.set()
    thread.join()
    assert seen == {"grad": True, "records": True}


def test_a_new_thread_starts_with_grad_on_even_if_its_parent_is_inside_no_grad():
    with tg.no_grad():
        assert run_in_thread(tg.is_grad_enabled) is True


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on_in_both():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with tg.no_grad():
            first_in.set()
            second_in.wait(5)
        first_out.set()
        return tg.is_grad_enabled()

    def second():
        first_in.wait(5)
        with tg.no_grad():
            second_in.set()
            first_out.wait(5)  # the first block exits while this one is still open
        return tg.is_grad_enabled()

    results = {}
    threads = [
        threading.Thread(target=lambda: results.__setitem__("first", first())),
        threading.Thread(target=lambda: results.__setitem__("second", second())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"first": True, "second": True}
    assert tg.is_grad_enabled()


def test_detect_anomaly_in_one_thread_does_not_check_another():
    with tg.detect_anomaly():
        assert run_in_thread(tg.is_anomaly_enabled) is False
        assert tg.is_anomaly_enabled()


def test_set_detect_anomaly_switches_only_the_calling_thread():
    def switch_on():
        tg.set_detect_anomaly(True)
        return tg.is_anomaly_enabled()

    assert run_in_thread(switch_on) is True
    assert tg.is_anomaly_enabled() is False


def test_module_scope_of_one_thread_does_not_name_tensors_of_another():
    entered, made = threading.Event(), threading.Event()

    def inside_a_scope():
        with scope("other_thread_layer"):
            entered.set()
            made.wait(5)

    thread = threading.Thread(target=inside_a_scope)
    thread.start()
    entered.wait(5)
    y = Tensor([1.0], requires_grad=True).exp()
    made.set()
    thread.join()
    assert y.scope is None


def test_the_compiler_tracer_slot_is_none_in_every_thread():
    assert state.tracer is None
    assert run_in_thread(lambda: state.tracer) is None


def test_two_trainers_in_two_threads_one_evaluating_under_no_grad_never_interfere():
    """The issue's two-trainer run: every step of both trainers gets every gradient."""
    steps = 150
    failures: list[str] = []

    def trainer(seed, evaluate):
        rng = np.random.default_rng(seed)
        model = nn.MLP([2, 4, 1])
        X = Tensor(rng.standard_normal((2, 16)))
        Y = Tensor((rng.random((1, 16)) > 0.5).astype(float))
        for step in range(steps):
            for p in model.parameters():
                p.grad = None
            loss = nn.binary_cross_entropy(model(X), Y)
            loss.backward()
            if any(p.grad is None for p in model.parameters()):
                failures.append(f"trainer {seed}: a parameter got no gradient at step {step}")
            with tg.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
                if evaluate:
                    model(X)  # evaluation inside no_grad, while the other thread records

    threads = [threading.Thread(target=trainer, args=(s, s == 1)) for s in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_threaded_training_gives_the_same_parameters_as_training_alone():
    def train(seed):
        rng = np.random.default_rng(seed)
        W = Tensor(rng.standard_normal((1, 3)), requires_grad=True)
        X = Tensor(rng.standard_normal((3, 8)))
        for _ in range(100):
            W.grad = None
            (W @ X).sigmoid().sum().backward()
            with tg.no_grad():
                W -= 0.05 * W.grad
        return W.data.copy()

    alone = [train(0), train(1)]
    results = {}
    threads = [
        threading.Thread(target=lambda s=s: results.__setitem__(s, train(s))) for s in (0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_array_equal(results[0], alone[0])
    np.testing.assert_array_equal(results[1], alone[1])


# ---- reusable objects and decorators --------------------------------------------------------


def test_one_no_grad_object_can_be_entered_twice():
    off = tg.no_grad()
    w = Tensor([1.0], requires_grad=True)
    with off:
        first = w * 2
    with off:
        second = w * 2
    assert (first.requires_grad, second.requires_grad) == (False, False)
    assert tg.is_grad_enabled()


def test_one_no_grad_object_can_be_nested_in_itself():
    off = tg.no_grad()
    with off:
        with off:
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_no_grad_works_as_a_decorator_and_restores_grad_mode_after_the_call():
    @tg.no_grad()
    def evaluate(t):
        return t * 2

    w = Tensor([1.0], requires_grad=True)
    assert evaluate(w).requires_grad is False
    assert tg.is_grad_enabled()
    assert evaluate.__name__ == "evaluate"


def test_no_grad_decorator_restores_grad_mode_when_the_function_raises():
    @tg.no_grad()
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert tg.is_grad_enabled()


def test_enable_grad_works_as_a_decorator_inside_no_grad():
    @tg.enable_grad()
    def records(t):
        return t * 2

    w = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert records(w).requires_grad is True
        assert not tg.is_grad_enabled()


def test_detect_anomaly_works_as_a_decorator():
    @tg.detect_anomaly()
    def log_of(t):
        return t.log()

    with pytest.raises(FloatingPointError, match="forward of 'log'"):
        log_of(Tensor([0.0], requires_grad=True))
    assert not tg.is_anomaly_enabled()


def test_a_decorated_function_used_by_two_threads_at_once_keeps_each_threads_mode():
    release = threading.Barrier(2, timeout=5)

    @tg.no_grad()
    def wait_inside():
        release.wait()
        return tg.is_grad_enabled()

    results = []
    threads = [threading.Thread(target=lambda: results.append(wait_inside())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False, False]
    assert tg.is_grad_enabled()

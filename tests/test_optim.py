"""Specification of tinygrad_nn.optim: PyTorch's SGD and Adam update rules, applied in place."""

import math

import numpy as np
import pytest
from conftest import import_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nn import Tensor, reference
from tinygrad_nn.optim import SGD, Adam, Optimizer

# A fixed sequence of gradients for one (2, 3) parameter, so that every step differs.
RNG = np.random.default_rng(7)
START = RNG.standard_normal((2, 3))
GRADS = [RNG.standard_normal((2, 3)) for _ in range(5)]


def _param(values=START, name="W"):
    return Tensor(values, requires_grad=True, name=name)


def _run(optimizer, param, grads):
    """Feed the gradients one step at a time; return the parameter after each step."""
    history = []
    for g in grads:
        param.grad = g.copy()
        optimizer.step()
        history.append(param.data.copy())
    return history


# ---------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------


def test_sgd_without_momentum_subtracts_lr_times_grad_every_step():
    w = _param()
    history = _run(SGD([w], lr=0.1), w, GRADS)
    expected = START.copy()
    for g, got in zip(GRADS, history, strict=True):
        expected = expected - 0.1 * g
        np.testing.assert_array_equal(got, expected)


def test_sgd_step_is_bit_for_bit_the_articles_update_parameters():
    params = reference.init_params([4, 3, 2, 1])
    rng = np.random.default_rng(1)
    grads = {f"d{k}": rng.standard_normal(v.shape) for k, v in params.items()}
    tensors = {k: Tensor(v, requires_grad=True, name=k) for k, v in params.items()}
    for k, t in tensors.items():
        t.grad = grads[f"d{k}"].copy()

    SGD(list(tensors.values()), lr=0.37).step()
    expected = reference.update_parameters(dict(params), grads, 0.37)

    for k, t in tensors.items():
        np.testing.assert_array_equal(t.data, expected[k])


@settings(max_examples=50, deadline=None)
@given(
    p=hnp.arrays(np.float64, (3, 2), elements=st.floats(-1e6, 1e6)),
    g=hnp.arrays(np.float64, (3, 2), elements=st.floats(-1e6, 1e6)),
    lr=st.floats(1e-6, 10.0),
)
def test_sgd_step_equals_p_minus_lr_g_for_any_values(p, g, lr):
    w = _param(p)
    w.grad = g.copy()
    SGD([w], lr=lr).step()
    np.testing.assert_array_equal(w.data, p - lr * g)


def test_sgd_momentum_first_step_uses_the_gradient_itself_as_velocity():
    w = _param()
    (after_one,) = _run(SGD([w], lr=0.1, momentum=0.9), w, GRADS[:1])
    np.testing.assert_allclose(after_one, START - 0.1 * GRADS[0], rtol=0, atol=1e-15)


def test_sgd_momentum_accumulates_velocity_over_steps():
    w = _param()
    history = _run(SGD([w], lr=0.1, momentum=0.9), w, GRADS)
    expected, velocity = START.copy(), None
    for g, got in zip(GRADS, history, strict=True):
        velocity = g if velocity is None else 0.9 * velocity + g
        expected = expected - 0.1 * velocity
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


def test_sgd_leaves_the_gradient_untouched():
    w = _param()
    w.grad = GRADS[0].copy()
    SGD([w], lr=0.1, momentum=0.5).step()
    np.testing.assert_array_equal(w.grad, GRADS[0])


def test_sgd_keeps_float32_parameters_float32():
    w = _param(START.astype(np.float32))
    w.grad = GRADS[0].astype(np.float32)
    SGD([w], lr=0.1, momentum=0.9).step()
    assert w.data.dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Adam
# ---------------------------------------------------------------------------------------------


def _adam_by_hand(start, grads, lr, beta1, beta2, eps):
    """The textbook formulas with m̂ and v̂ written out."""
    p, m, v, history = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


def test_adam_first_step_moves_each_weight_by_about_lr_whatever_the_gradient_size():
    # With bias correction m̂ = g and √v̂ = |g| on step 1, so the step is lr·g/(|g| + eps).
    w = _param(np.zeros((1, 3)))
    w.grad = np.array([[1e-3, -5.0, 300.0]])
    Adam([w], lr=0.01).step()
    g = np.array([[1e-3, -5.0, 300.0]])
    np.testing.assert_allclose(w.data, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize(
    ("lr", "betas", "eps"), [(1e-3, (0.9, 0.999), 1e-8), (0.05, (0.5, 0.75), 1e-3)]
)
def test_adam_matches_the_bias_corrected_formulas_over_several_steps(lr, betas, eps):
    w = _param()
    history = _run(Adam([w], lr=lr, betas=betas, eps=eps), w, GRADS)
    expected = _adam_by_hand(START, GRADS, lr, *betas, eps)
    for got, want in zip(history, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_adam_counts_steps_per_parameter_so_a_late_starter_gets_a_first_step_correction():
    early, late = _param(name="early"), _param(name="late")
    optimizer = Adam([early, late], lr=0.1)
    early.grad = GRADS[0].copy()
    optimizer.step()  # late has no grad yet: skipped, its step count stays 0
    early.grad, late.grad = GRADS[1].copy(), GRADS[1].copy()
    optimizer.step()
    (expected_late,) = _adam_by_hand(START, GRADS[1:2], 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(late.data, expected_late, rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# Both optimizers: zero_grad, None grads, version counter, a real backward
# ---------------------------------------------------------------------------------------------

OPTIMIZERS = [
    pytest.param(lambda ps: SGD(ps, lr=0.1), id="sgd"),
    pytest.param(lambda ps: SGD(ps, lr=0.1, momentum=0.9), id="sgd-momentum"),
    pytest.param(lambda ps: Adam(ps, lr=0.1), id="adam"),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_zero_grad_sets_every_grad_to_none(make):
    a, b = _param(name="a"), _param(name="b")
    a.grad, b.grad = GRADS[0].copy(), GRADS[1].copy()
    make([a, b]).zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_without_set_to_none_fills_the_same_arrays_with_zeros():
    w = _param()
    w.grad = GRADS[0].copy()
    grad_array = w.grad
    SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad is grad_array
    np.testing.assert_array_equal(w.grad, np.zeros((2, 3)))


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_step_skips_parameters_whose_grad_is_none(make):
    used, unused = _param(name="used"), _param(name="unused")
    optimizer = make([used, unused])
    used.grad = GRADS[0].copy()
    optimizer.step()
    np.testing.assert_array_equal(unused.data, START)
    assert not np.array_equal(used.data, START)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_step_marks_parameters_modified_so_a_stale_graph_refuses_backward(make):
    w = _param()
    stale_loss = (w * w).sum()
    w.grad = GRADS[0].copy()
    make([w]).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        stale_loss.backward()


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_step_after_backward_lowers_a_quadratic_loss(make):
    w = _param()
    optimizer = make([w])
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_a_grad_of_the_wrong_shape_is_a_value_error_naming_the_parameter():
    w = _param(name="W1")
    w.grad = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"W1.*\(2, 3\).*grad has shape \(3, 2\)"):
        SGD([w], lr=0.1).step()


def test_optimizer_is_the_common_base_class():
    w = _param()
    assert isinstance(SGD([w], lr=0.1), Optimizer)
    assert isinstance(Adam([w]), Optimizer)


# ---------------------------------------------------------------------------------------------
# Bad hyper-parameters and parameters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr": -0.1}, ValueError, r"lr must be >= 0; got -0\.1"),
        ({"lr": math.nan}, ValueError, r"lr must be a finite number; got nan"),
        ({"lr": math.inf}, ValueError, r"lr must be a finite number; got inf"),
        ({"lr": "0.1"}, TypeError, r"lr must be a real number; got '0\.1'"),
        ({"lr": True}, TypeError, r"lr must be a real number; got True"),
        ({"lr": 0.1, "momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\); got 1\.0"),
        ({"lr": 0.1, "momentum": -0.5}, ValueError, r"momentum must be in \[0, 1\); got -0\.5"),
        ({"lr": 0.1, "momentum": math.nan}, ValueError, r"momentum must be a finite number"),
    ],
)
def test_sgd_rejects_bad_hyper_parameters_naming_them(kwargs, error, message):
    with pytest.raises(error, match=r"^SGD: " + message):
        SGD([_param()], **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr": -1.0}, ValueError, r"lr must be >= 0; got -1\.0"),
        ({"lr": math.nan}, ValueError, r"lr must be a finite number; got nan"),
        ({"betas": (1.0, 0.999)}, ValueError, r"betas\[0\] must be in \[0, 1\); got 1\.0"),
        ({"betas": (0.9, -0.1)}, ValueError, r"betas\[1\] must be in \[0, 1\); got -0\.1"),
        ({"betas": (0.9, math.nan)}, ValueError, r"betas\[1\] must be a finite number; got nan"),
        ({"betas": (0.9,)}, ValueError, r"betas must be a pair of floats"),
        ({"betas": 0.9}, TypeError, r"betas must be a pair of floats"),
        ({"eps": 0.0}, ValueError, r"eps must be > 0; got 0\.0"),
        ({"eps": -1e-8}, ValueError, r"eps must be > 0"),
    ],
)
def test_adam_rejects_bad_hyper_parameters_naming_them(kwargs, error, message):
    with pytest.raises(error, match=r"^Adam: " + message):
        Adam([_param()], **kwargs)


def test_setting_a_bad_learning_rate_later_is_rejected_too():
    optimizer = SGD([_param()], lr=0.1)
    optimizer.lr = 0.01
    assert optimizer.lr == 0.01
    with pytest.raises(ValueError, match=r"lr must be >= 0; got -1\.0"):
        optimizer.lr = -1.0


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_empty_params_is_a_value_error(make):
    with pytest.raises(ValueError, match="params is empty"):
        make([])


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (lambda: _param(), TypeError, r"got a single Tensor: wrap it in a list"),
        (lambda: 3, TypeError, r"params must be an iterable of Tensors.*got int"),
        (lambda: [np.ones(2)], TypeError, r"params\[0\] must be a Tensor; got ndarray"),
        (lambda: [Tensor([1.0], name="x")], ValueError, r"params\[0\] \('x'.*does not require"),
        (lambda: [_param() * 2], ValueError, r"params\[0\].*was made by 'mul'"),
    ],
)
def test_params_that_cannot_be_optimized_are_rejected(params, error, message):
    with pytest.raises(error, match=message):
        SGD(params(), lr=0.1)


def test_the_same_tensor_twice_is_rejected_because_it_would_be_updated_twice():
    w = _param(name="W1")
    with pytest.raises(ValueError, match=r"params\[1\] \('W1'.*more than once"):
        SGD([w, w], lr=0.1)


def test_params_may_be_any_iterable_such_as_a_generator():
    a, b = _param(name="a"), _param(name="b")
    optimizer = SGD((p for p in [a, b]), lr=0.1)
    assert optimizer.params == [a, b]


# ---------------------------------------------------------------------------------------------
# Against PyTorch, when it is installed
# ---------------------------------------------------------------------------------------------


def _torch_history(torch_optimizer_class, grads_per_step, **kwargs):
    """Run PyTorch's optimizer on the same start and gradients (None = no grad that step)."""
    torch = import_torch()
    params = [torch.tensor(START.copy(), requires_grad=True) for _ in grads_per_step[0]]
    optimizer = torch_optimizer_class(params, **kwargs)
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads, strict=True):
            p.grad = None if g is None else torch.tensor(g)
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def _our_history(make, grads_per_step):
    params = [_param(name=f"p{i}") for i in range(len(grads_per_step[0]))]
    optimizer = make(params)
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads, strict=True):
            p.grad = None if g is None else g.copy()
        optimizer.step()
        history.append([p.data.copy() for p in params])
    return history


# Two parameters; the second misses its gradient on some steps (both libraries skip it).
STEPS = [
    [GRADS[0], None],
    [GRADS[1], GRADS[2]],
    [GRADS[2], None],
    [GRADS[3], GRADS[4]],
    [GRADS[4], GRADS[0]],
]


@pytest.mark.parametrize(
    ("ours", "torch_name", "kwargs"),
    [
        (lambda ps: SGD(ps, lr=0.1), "SGD", {"lr": 0.1}),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9), "SGD", {"lr": 0.1, "momentum": 0.9}),
        (lambda ps: Adam(ps), "Adam", {}),
        (
            lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-4),
            "Adam",
            {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-4},
        ),
    ],
    ids=["sgd", "sgd-momentum", "adam-defaults", "adam-custom"],
)
def test_updates_equal_pytorchs_optimizers(ours, torch_name, kwargs):
    torch = import_torch()
    expected = _torch_history(getattr(torch.optim, torch_name), STEPS, **kwargs)
    got = _our_history(ours, STEPS)
    for step_got, step_expected in zip(got, expected, strict=True):
        for a, b in zip(step_got, step_expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_lr_zero_is_accepted_and_leaves_the_parameters_unchanged(make):
    w = Tensor([1.0, -2.0], requires_grad=True)
    optimizer = make([w])
    optimizer.lr = 0.0
    w.grad = np.array([0.5, 0.25])
    optimizer.step()
    assert np.array_equal(w.data, [1.0, -2.0])


@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize(
    "new, words",
    [
        (np.zeros(3), r"\(2,\) float64.*now \(3,\) float64"),
        (np.zeros(2, dtype=np.float32), r"\(2,\) float64.*now \(2,\) float32"),
    ],
    ids=["shape", "dtype"],
)
def test_replaced_parameter_data_of_another_kind_is_refused_naming_it(make, new, words):
    w = Tensor([1.0, -2.0], requires_grad=True, name="w")
    optimizer = make([w])
    optimizer.step()  # no grad yet: nothing to check
    w.data = new
    w.grad = np.ones_like(new)
    with pytest.raises(ValueError, match=r"params\[0\] \('w'.*was replaced.*" + words):
        optimizer.step()


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_replaced_parameter_data_of_the_same_kind_keeps_training(make):
    w = Tensor([1.0, -2.0], requires_grad=True)
    optimizer = make([w])
    w.data = np.array([3.0, 4.0])
    w.grad = np.array([1.0, 1.0])
    optimizer.step()
    assert np.all(w.data < [3.0, 4.0])

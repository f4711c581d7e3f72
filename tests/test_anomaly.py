"""Anomaly mode: the first NaN/Inf, forward or backward, is traced to the op and the user's line.

Every NaN here is one a learner meets: log of a probability that reached 0, exp of float32
logits, a square root of a distance that is 0, a masked-out padding value whose gradient is
0 · inf. Each test says what ``detect_anomaly()`` must report, and the off-by-default tests show
the same code silently producing NaN without it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor, detect_anomaly, set_detect_anomaly

THIS_FILE = __file__

# Every test makes NaN or Inf on purpose; numpy's RuntimeWarnings about it are expected.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def _anomaly_mode_left_off():
    """A failing test must not leave the global switch on for the rest of the suite."""
    yield
    set_detect_anomaly(False)


# The ops below are made inside small helpers so that a test knows the exact line that made them.


def log_of(p):
    return p.log()


LOG_LINE = log_of.__code__.co_firstlineno + 1


def masked_sqrt_loss(x, mask):
    return (x.sqrt() * mask).sum()


MASKED_SQRT_LINE = masked_sqrt_loss.__code__.co_firstlineno + 1


def padded_input_and_mask():
    """Two real values and two padding zeros that the mask removes from the loss."""
    x = Tensor([4.0, 9.0, 0.0, 0.0], requires_grad=True, name="x")
    mask = np.array([1.0, 1.0, 0.0, 0.0])
    return x, mask


# --------------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------------


def test_forward_nan_or_inf_raises_floating_point_error_naming_the_op_and_forward():
    probabilities = Tensor([0.5, 0.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"forward of 'log'"):
        log_of(probabilities)


def test_forward_report_gives_the_output_and_input_shapes():
    probabilities = Tensor([[0.5, 0.0, 0.25]], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        log_of(probabilities)
    message = str(caught.value)
    assert "output of shape (1, 3)" in message
    assert "input shapes: (1, 3)" in message
    assert "0 NaN and 1 Inf among 3 values" in message


def test_forward_report_says_the_inputs_were_finite_when_the_op_made_the_bad_value():
    logits = Tensor(np.array([[1.0, 100.0]], dtype=np.float32), requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        logits.exp()  # e^100 overflows float32
    assert "forward of 'exp'" in str(caught.value)
    assert "all inputs were finite" in str(caught.value)


def test_forward_report_names_the_input_that_was_already_bad():
    weights = Tensor([[1.0, 2.0]], requires_grad=True)
    data = Tensor([[1.0], [np.nan]])
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        weights @ data
    assert "forward of 'matmul'" in str(caught.value)
    assert "input 1 was already non-finite" in str(caught.value)


def test_forward_report_points_at_the_users_line_not_the_engines():
    probabilities = Tensor([0.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        log_of(probabilities)
    message = str(caught.value)
    assert f'File "{THIS_FILE}", line {LOG_LINE}, in log_of' in message
    assert "return p.log()" in message
    assert "tinygrad_nn" not in message.split("created at:")[1]


def test_forward_is_checked_under_no_grad_too():
    """Evaluation code (no_grad) meets NaN as well; anomaly mode does not look away there."""
    probabilities = Tensor([0.0])
    with detect_anomaly(), tg.no_grad(), pytest.raises(FloatingPointError, match="'log'"):
        log_of(probabilities)


def test_creation_line_is_recorded_only_in_anomaly_mode():
    x = Tensor([1.0], requires_grad=True)
    assert log_of(x).creation_line is None
    with detect_anomaly():
        y = log_of(x)
    assert f"line {LOG_LINE}" in y.creation_line


# --------------------------------------------------------------------------------------------
# backward
# --------------------------------------------------------------------------------------------


def test_backward_of_sqrt_at_zero_raises_naming_the_op_backward_and_the_input():
    """A norm penalty on zero-initialised biases: √(Σb²) is 0, its gradient 1/(2·0) is inf."""
    bias = Tensor(np.zeros((3, 1)), requires_grad=True, name="b1")
    with detect_anomaly():
        penalty = (bias * bias).sum().sqrt()
        assert np.isfinite(penalty.data).all()
        with pytest.raises(FloatingPointError) as caught:
            penalty.backward()
    message = str(caught.value)
    assert "backward of 'sqrt'" in message
    assert "for its input 0 (shape ())" in message
    assert "0 NaN and 1 Inf" in message


def test_masked_padding_trap_finite_forward_nan_backward_is_caught_at_the_op():
    """0 · inf: the mask zeroes the padding's upstream gradient, sqrt's rule divides it by 2·√0."""
    x, mask = padded_input_and_mask()
    with detect_anomaly():
        loss = masked_sqrt_loss(x, mask)
        assert loss.item() == 5.0
        with pytest.raises(FloatingPointError) as caught:
            loss.backward()
    message = str(caught.value)
    assert "backward of 'sqrt'" in message
    assert "input 0 (shape (4,))" in message
    assert "2 NaN and 0 Inf among 4 values" in message


def test_backward_report_names_the_input_index_of_a_two_input_op():
    """A learnable exponent over signed data: x^p is finite, d/dp = x^p·ln x is NaN for x < 0."""
    x = Tensor([-2.0, 3.0], requires_grad=True)
    p = Tensor(2.0, requires_grad=True)
    with detect_anomaly():
        y = (x**p).sum()
        with pytest.raises(FloatingPointError) as caught:
            y.backward()
    assert "backward of 'pow'" in str(caught.value)
    assert "for its input 1 (shape ())" in str(caught.value)


def test_backward_report_points_at_the_line_that_created_the_op():
    x, mask = padded_input_and_mask()
    with detect_anomaly():
        loss = masked_sqrt_loss(x, mask)
        with pytest.raises(FloatingPointError) as caught:
            loss.backward()
    message = str(caught.value)
    assert f'File "{THIS_FILE}", line {MASKED_SQRT_LINE}, in masked_sqrt_loss' in message
    assert "return (x.sqrt() * mask).sum()" in message


def test_backward_catches_a_gradient_that_overflows_when_consumers_are_added_up():
    x = Tensor([1e-300], requires_grad=True)
    with detect_anomaly():
        total = (x * 1e308 + x * 1e308).sum()  # each path's gradient is 1e308, their sum inf
        assert np.isfinite(total.data).all()
        with pytest.raises(FloatingPointError):
            total.backward()


# --------------------------------------------------------------------------------------------
# the switch
# --------------------------------------------------------------------------------------------


def test_anomaly_mode_is_off_when_the_package_is_imported():
    result = subprocess.run(
        [sys.executable, "-c", "import tinygrad_nn; print(tinygrad_nn.is_anomaly_enabled())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_without_anomaly_mode_the_same_code_runs_and_silently_makes_nan():
    x, mask = padded_input_and_mask()
    loss = masked_sqrt_loss(x, mask)
    loss.backward()
    assert loss.item() == 5.0
    assert np.isnan(x.grad[2:]).all()
    assert np.allclose(x.grad[:2], [0.25, 1 / 6])


def test_set_detect_anomaly_turns_checking_on_and_off_globally():
    set_detect_anomaly(True)
    assert tg.is_anomaly_enabled()
    with pytest.raises(FloatingPointError):
        log_of(Tensor([0.0]))
    set_detect_anomaly(False)
    assert not tg.is_anomaly_enabled()
    assert log_of(Tensor([0.0])).data[0] == -np.inf


def test_nested_context_restores_the_outer_setting():
    with detect_anomaly():
        with detect_anomaly(False):
            assert not tg.is_anomaly_enabled()
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()


def test_context_restores_the_global_setting_it_found():
    set_detect_anomaly(True)
    with detect_anomaly(False):
        assert not tg.is_anomaly_enabled()
    assert tg.is_anomaly_enabled()


def test_context_restores_the_setting_when_the_anomaly_escapes_it():
    with pytest.raises(FloatingPointError), detect_anomaly():
        log_of(Tensor([0.0]))
    assert not tg.is_anomaly_enabled()


def test_anomaly_mode_changes_no_value_and_no_gradient():
    rng = np.random.default_rng(0)
    W_data, X_data = rng.standard_normal((3, 2)), rng.standard_normal((2, 5))

    def run():
        W = Tensor(W_data, requires_grad=True)
        loss = (W @ Tensor(X_data)).sigmoid().log().mean()
        loss.backward()
        return loss.data, W.grad

    plain_loss, plain_grad = run()
    with detect_anomaly():
        checked_loss, checked_grad = run()
    assert np.array_equal(plain_loss, checked_loss)
    assert np.array_equal(plain_grad, checked_grad)


def test_anomaly_in_a_model_points_at_the_users_call_not_at_nn():
    nn = pytest.importorskip("tinygrad_nn.nn")
    model = nn.MLP([2, 3, 1])
    model.W1.data[0, 0] = np.inf
    X = np.ones((2, 4))
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        model(X)
    where = str(caught.value).split("created at:")[1]
    assert THIS_FILE in where
    assert "model(X)" in where

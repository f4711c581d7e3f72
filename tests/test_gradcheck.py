"""gradcheck leaves its inputs as it found them, whatever the checked function does (issue 12,
item 8): values, ``.grad`` and the version counter."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import GradcheckError, Tensor, gradcheck


class Boom(Exception):
    pass


def raises_on_call(n):
    """A function that computes x² until its n-th call, then raises."""
    calls = {"count": 0}

    def fn(x):
        calls["count"] += 1
        if calls["count"] == n:
            raise Boom(f"call {n}")
        return x * x

    return fn


@pytest.mark.parametrize("failing_call", [2, 3, 4, 5])
def test_gradcheck_whose_function_raises_part_way_leaves_the_input_values_as_they_were(
    failing_call,
):
    data = np.array([[0.5, -1.0], [2.0, 3.0]])
    x = Tensor(data.copy(), requires_grad=True)
    with pytest.raises(Boom):
        gradcheck(raises_on_call(failing_call), [x])
    np.testing.assert_array_equal(x.data, data)


def test_gradcheck_whose_function_raises_part_way_leaves_grad_as_it_was():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([7.0, 8.0])
    with pytest.raises(Boom):
        gradcheck(raises_on_call(3), [x])
    np.testing.assert_array_equal(x.grad, [7.0, 8.0])


def test_gradcheck_whose_backward_raises_leaves_grad_as_it_was():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([7.0, 8.0])

    def modifies_its_input_between_forward_and_backward(t):
        y = t * t
        t.mark_modified()
        return y

    with pytest.raises(RuntimeError, match="modified in place"):
        gradcheck(modifies_its_input_between_forward_and_backward, [x])
    np.testing.assert_array_equal(x.grad, [7.0, 8.0])


def test_gradcheck_that_finds_a_wrong_gradient_leaves_the_input_values_as_they_were():
    data = np.array([1.0, 2.0, 3.0])
    x = Tensor(data.copy(), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 of shape \(3,\)"):
        gradcheck(lambda t: t.detach() * t, [x])
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None


def test_gradcheck_does_not_count_as_an_in_place_change_of_its_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()  # a graph made before gradcheck perturbs and restores x
    assert gradcheck(lambda t: t.exp(), [x])
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])

"""In-place changes after the forward pass: every array a rule saved is checked at backward(),
through any alias (views, ``detach()``), including constants and saved outputs (issue 12,
item 1). PyTorch is the reference: it raises exactly when a saved tensor changed."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor


def weights_and_data():
    W = Tensor([[0.5, -1.0, 2.0]], requires_grad=True, name="W")
    X = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="X")
    return W, X


# ---- a constant that an op saved ------------------------------------------------------------


def test_changing_a_saved_constant_with_plus_equals_before_backward_raises():
    W, X = weights_and_data()
    L = (W @ X).sum()
    X += 10
    with pytest.raises(RuntimeError, match="modified in place"):
        L.backward()


def test_the_error_names_the_op_the_input_and_its_shape():
    W, X = weights_and_data()
    L = (W @ X).sum()
    X += 10
    with pytest.raises(RuntimeError, match=r"'matmul'.*shape \(3, 2\).*input 1 \(X\)"):
        L.backward()


def test_the_error_says_what_to_do():
    W, X = weights_and_data()
    L = (W @ X).sum()
    X *= 2
    with pytest.raises(RuntimeError, match=r"after backward\(\).*X = X \+ 1 instead of X \+= 1"):
        L.backward()


def test_changing_a_constant_no_rule_reads_is_allowed():
    W, X = weights_and_data()
    L = (W + X.sum(axis=1).T).sum()  # add saves nothing; X's sum was made before the change
    X += 10
    L.backward()
    np.testing.assert_array_equal(W.grad, [[1.0, 1.0, 1.0]])


def test_changing_an_input_only_a_rule_that_does_not_run_reads_is_allowed():
    W, X = weights_and_data()
    L = (W @ X).sum()  # dX reads W, but X needs no gradient: that rule never runs
    with tg.no_grad():
        W -= 1.0
    L.backward()
    np.testing.assert_array_equal(W.grad, [[3.0, 7.0, 11.0]])


def test_changing_a_saved_constant_after_backward_is_allowed():
    W, X = weights_and_data()
    (W @ X).sum().backward()
    X += 10
    (W @ X).sum().backward()
    np.testing.assert_array_equal(W.grad, [[3.0 + 23.0, 7.0 + 27.0, 11.0 + 31.0]])


def test_a_second_backward_through_a_retained_graph_sees_a_change_between_them():
    W, X = weights_and_data()
    L = (W @ X).sum()
    L.backward(retain_graph=True)
    X -= 1
    with pytest.raises(RuntimeError, match="'matmul'"):
        L.backward()


# ---- changes through views and detach() -----------------------------------------------------


@pytest.mark.parametrize(
    "make_view",
    [
        pytest.param(lambda X: X.reshape(6), id="reshape"),
        pytest.param(lambda X: X.T, id="T"),
        pytest.param(lambda X: X.transpose(1, 0), id="transpose"),
        pytest.param(lambda X: X[1:], id="slice"),
        pytest.param(lambda X: X[0], id="int-index"),
        pytest.param(lambda X: X[..., ::2], id="strided-slice"),
        pytest.param(lambda X: X.detach(), id="detach"),
        pytest.param(lambda X: X.reshape(6)[2:].reshape(2, 2).T, id="view-of-a-view"),
    ],
)
def test_a_change_through_a_view_of_a_saved_constant_is_seen(make_view):
    W, X = weights_and_data()
    L = (W @ X).sum()
    view = make_view(X)
    view += 1
    with pytest.raises(RuntimeError, match=r"'matmul'.*modified in place"):
        L.backward()


def test_a_change_to_the_base_is_seen_by_an_op_that_saved_a_view():
    W, X = weights_and_data()
    L = (W @ X.T.T).sum()
    X += 1
    with pytest.raises(RuntimeError, match="'matmul'"):
        L.backward()


def test_a_change_through_detach_of_a_parameter_is_seen():
    w = Tensor([1.0, 2.0], requires_grad=True)
    L = (w * w).sum()
    alias = w.detach()
    alias += 1
    with pytest.raises(RuntimeError, match=r"'mul'.*input 0"):
        L.backward()


def test_views_and_detach_share_the_memory_they_alias():
    X = Tensor(np.arange(6.0).reshape(2, 3))
    row, alias, flat = X[1], X.detach(), X.reshape(6)
    row += 100
    alias *= 2
    flat -= 1
    np.testing.assert_array_equal(X.data, [[-1.0, 1.0, 3.0], [205.0, 207.0, 209.0]])


def test_reshape_of_a_transpose_copies_as_in_numpy_so_changing_it_leaves_the_base_alone():
    W, X = weights_and_data()
    L = (W @ X).sum()
    flat = X.T.reshape(6)  # not contiguous: numpy (and PyTorch) reshape copies
    flat += 1
    L.backward()
    np.testing.assert_array_equal(X.data, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def test_fancy_indexing_copies_so_changing_its_result_leaves_the_base_alone():
    W, X = weights_and_data()
    L = (W @ X).sum()
    picked = X[[0, 2]]
    picked += 1
    L.backward()
    np.testing.assert_array_equal(X.data, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(W.grad, [[3.0, 7.0, 11.0]])


# ---- saved outputs --------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt"])
def test_a_change_to_an_output_the_rule_saved_is_seen(op):
    x = Tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = getattr(x, op)()
    L = (y * Tensor([1.0, 2.0, 3.0])).sum()
    alias = y.detach()
    alias += 1
    with pytest.raises(RuntimeError, match=rf"output of '{op}'.*modified in place"):
        L.backward()


def test_a_change_to_the_root_itself_is_seen():
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    alias = y.detach()
    alias *= 0
    with pytest.raises(RuntimeError, match="output of 'exp'"):
        y.backward(np.ones(2))


def test_a_change_to_an_output_no_rule_reads_is_allowed():
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = x * 3  # mul's rules read its inputs, not y
    alias = y.detach()
    alias += 1
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


# ---- plain numpy arrays as operands ---------------------------------------------------------


def test_a_numpy_operand_is_copied_so_changing_it_later_does_not_change_the_gradient():
    W = Tensor([[1.0, 2.0]], requires_grad=True)
    X = np.array([[1.0], [1.0]])
    L = (W @ X).sum()
    X += 10  # numpy's own in-place add: the engine cannot see it, so it copied X
    L.backward()
    np.testing.assert_array_equal(W.grad, [[1.0, 1.0]])


def test_tensor_data_changed_behind_the_engines_back_needs_mark_modified():
    W, X = weights_and_data()
    L = (W @ X).sum()
    X.data[0, 0] = 100.0  # the documented escape hatch: say so with mark_modified()
    X.mark_modified()
    with pytest.raises(RuntimeError, match="'matmul'"):
        L.backward()


# ---- PyTorch agrees --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    ["constant", "constant_view", "constant_unread", "detached_output", "detached_param"],
)
def test_raises_exactly_when_pytorch_raises(torch, change):
    def program(lib, tensor, detach, inplace_add):
        W = tensor([[0.5, -1.0, 2.0]], True)
        X = tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], False)
        Z = W @ X
        y = Z.exp()
        L = (y + X.sum(1).sum()).sum()
        if change == "constant":
            inplace_add(X, 1.0)
        elif change == "constant_view":
            inplace_add(X.T[0], 1.0)
        elif change == "constant_unread":
            S = X.sum()  # the only op that saved a copy of this X: sum reads nothing
            L = (W.sum() + S).sum()
            inplace_add(X, 1.0)
        elif change == "detached_output":
            inplace_add(detach(y), 1.0)
        elif change == "detached_param":
            inplace_add(detach(W), 1.0)
        L.backward()
        return W.grad

    def ours():
        def add(t, v):
            t += v

        return program(tg, lambda d, r: Tensor(d, requires_grad=r), lambda t: t.detach(), add)

    def theirs():
        def add(t, v):
            t.add_(v)

        def make(d, r):
            return torch.tensor(d, dtype=torch.float64, requires_grad=r)

        return program(torch, make, lambda t: t.detach(), add)

    try:
        expected = theirs().numpy()
    except RuntimeError:
        with pytest.raises(RuntimeError, match="modified in place"):
            ours()
    else:
        np.testing.assert_allclose(ours(), expected, rtol=1e-14)

"""The Tensor's contract and the backward engine's semantics, one rule per test."""

from __future__ import annotations

import gc
import tempfile
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import GradcheckError, Tensor, gradcheck, no_grad
from tinygrad_nn.tensor import topological_order, unbroadcast

# ---- construction ---------------------------------------------------------------------------


def test_float32_data_keeps_its_dtype() -> None:
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("data", [[1, 2, 3], [True, False], 3])  # numpy int arrays stay int
def test_python_ints_and_bools_become_float64(data) -> None:
    assert Tensor(data).dtype == np.float64


@pytest.mark.parametrize(
    "data", ["abc", ["a", "b"], [[1.0, 2.0], [3.0]], [None], {"a": 1}, 1 + 2j, object()]
)
def test_non_numeric_or_ragged_data_is_a_type_error_naming_what_was_given(data) -> None:
    given = type(data).__name__
    with pytest.raises(TypeError, match=rf"Tensor data must be .*numeric.*got {given}"):
        Tensor(data)


def test_constructor_copies_the_data() -> None:
    array = np.zeros(3)
    t = Tensor(array)
    array[0] = 5.0
    assert t.data[0] == 0.0


def test_array_protocol_gives_the_values() -> None:
    t = Tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_attributes_mirror_the_array() -> None:
    t = Tensor(np.zeros((2, 3)), name="W1")
    assert (t.shape, t.ndim, t.size, t.dtype, t.name) == ((2, 3), 2, 6, np.float64, "W1")
    assert t.grad is None and t.is_leaf and t.op is None and t.parents == ()


def test_item_returns_a_python_float_and_rejects_many_elements() -> None:
    assert Tensor([[2.5]]).item() == 2.5
    with pytest.raises(ValueError, match=r"item\(\).*one-element.*shape \(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_repr_shows_shape_dtype_op_and_small_values() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    text = repr(x.sigmoid())
    assert "shape=(2,)" in text and "float64" in text and "op=sigmoid" in text and "0.7311" in text
    assert "name='x'" in repr(x)
    assert "op=" not in repr(Tensor(np.zeros((10, 10))))


def test_detach_shares_data_but_leaves_the_graph() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert y.is_leaf and not y.requires_grad and y.parents == ()


# ---- graph recording ------------------------------------------------------------------------


def test_result_requires_grad_iff_some_input_does() -> None:
    a = Tensor([1.0], requires_grad=True)
    b = Tensor([2.0])
    assert (a * b).requires_grad
    assert not (b * b).requires_grad


def test_no_grad_records_nothing() -> None:
    a = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = a * 2
    assert not y.requires_grad
    with pytest.raises(RuntimeError, match=r"does not require grad.*no_grad\(\)"):
        y.backward()


def test_enable_grad_inside_no_grad_records_again() -> None:
    a = Tensor([1.0], requires_grad=True)
    with no_grad(), tg.enable_grad():
        assert (a * 2).requires_grad


def test_results_know_their_op_and_inputs() -> None:
    W = Tensor(np.ones((2, 3)), requires_grad=True, name="W")
    X = Tensor(np.ones((3, 4)), name="X")
    Z = W @ X
    assert Z.op == "matmul" and Z.parents == (W, X) and not Z.is_leaf


def test_requires_grad_can_only_be_set_on_leaves() -> None:
    a = Tensor([1.0])
    a.requires_grad = True
    with pytest.raises(RuntimeError, match=r"leaf.*made by 'mul'.*\.detach\(\)"):
        (a * 2).requires_grad = False


# ---- backward -------------------------------------------------------------------------------


def test_leaves_that_do_not_require_grad_never_get_grad() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = Tensor([3.0, 4.0])
    (w * x).sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


def test_a_tensor_used_twice_gets_both_gradients() -> None:
    x = Tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0])


def test_diamond_graph_adds_gradients_of_both_paths() -> None:
    x = Tensor([[0.5, -1.0]], requires_grad=True)
    assert gradcheck(lambda t: (t.exp() * t.sigmoid()) + t.tanh() * t, [x])


def test_each_node_is_visited_once_after_all_its_consumers() -> None:
    x = Tensor([1.0], requires_grad=True, name="x")
    a = x * 2
    b = a.exp()
    c = a + b
    order = [id(t) for t in topological_order(c)]  # == on tensors compares values
    assert order.index(id(c)) < order.index(id(b)) < order.index(id(a)) < order.index(id(x))
    assert len(order) == len({id(t) for t in order})


def test_a_10000_op_chain_backpropagates_without_recursion() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**10_000], rtol=1e-9)


def test_leaf_gradients_accumulate_across_backward_calls_until_reset() -> None:
    w = Tensor([2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0])
    w.grad = None
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0])


def test_non_leaf_tensors_keep_grad_only_after_retain_grad() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    kept = (x * 2).retain_grad()
    (hidden.sum() + (kept * kept).sum()).backward()
    assert hidden.grad is None
    np.testing.assert_array_equal(kept.grad, [4.0, 8.0])


def test_leaf_grads_are_independent_arrays_even_when_a_rule_passes_g_through() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.flags.writeable
    a.grad += 1
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_backward_undoes_broadcasting_of_the_articles_bias() -> None:
    b = Tensor(np.zeros((3, 1)), requires_grad=True)
    Z = Tensor(np.ones((3, 5))) + b
    Z.backward(np.ones((3, 5)))
    np.testing.assert_array_equal(b.grad, np.full((3, 1), 5.0))


def test_unbroadcast_sums_added_and_stretched_axes() -> None:
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (3, 1)).shape == (3, 1)
    np.testing.assert_array_equal(unbroadcast(g, (4,)), np.full(4, 6.0))
    np.testing.assert_array_equal(unbroadcast(g, ()), 24.0)


def test_backward_releases_the_graph_and_a_second_backward_says_retain_graph() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.sigmoid() * 2).sum()
    loss.backward()
    assert loss.graph_released and loss.parents == ()
    with pytest.raises(RuntimeError, match=r"through 'sum'.*second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_keeps_it_for_a_second_backward() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_backward_frees_the_intermediate_tensors_at_once() -> None:
    x = Tensor(np.ones(4), requires_grad=True)
    hidden = x.exp()
    probe = weakref.ref(hidden)
    loss = hidden.sum()
    del hidden
    gc.collect()
    assert probe() is not None  # the graph holds it until backward
    loss.backward()
    gc.collect()
    assert probe() is None  # the root is still alive, its graph is not


def test_backward_without_grad_on_a_non_scalar_is_a_clear_error() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*shape \(2,\).*pass grad="):
        (x * 2).backward()


def test_backward_with_a_gradient_of_the_wrong_shape_is_a_value_error() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"backward\(grad=.*shape \(2,\); got \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        Tensor([1.0]).sum().backward()


def test_in_place_update_of_a_saved_input_blocks_backward() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with no_grad():
        w -= 0.1
    facts = r"'mul' \(shape \(2,\)\).*modified in place.*after backward"
    with pytest.raises(RuntimeError, match=facts):
        loss.backward()


def test_in_place_update_of_a_parameter_outside_no_grad_is_refused() -> None:
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place '-='.*requires grad.*no_grad\(\)"):
        w -= 0.1


def test_in_place_update_under_no_grad_keeps_the_same_leaf() -> None:
    w = Tensor([1.0], requires_grad=True)
    same = w
    (w * 2).sum().backward()
    with no_grad():
        w -= 0.5 * w.grad
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.data, [0.0])


# ---- errors name the op and the shapes ------------------------------------------------------


def test_matmul_with_mismatched_inner_dimensions_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\), \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_unbroadcastable_operands_name_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"add.*\(2, 3\), \(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))


def test_reshape_to_an_impossible_size_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"reshape.*size 6.*\(4, ?2\).*input shapes: \(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_axis_out_of_range_is_a_value_error_naming_the_op() -> None:
    with pytest.raises(ValueError, match=r"sum: axis 2 .*input shapes: \(2, 3\)"):
        Tensor(np.ones((2, 3))).sum(axis=2)


def test_index_out_of_range_is_an_index_error_and_a_value_error() -> None:
    with pytest.raises(IndexError, match=r"getitem: index 5 .*size 3.*input shapes: \(3,\)"):
        Tensor(np.ones(3))[5]
    with pytest.raises(ValueError, match="getitem"):
        Tensor(np.ones(3))[5]


# ---- dtypes ---------------------------------------------------------------------------------


def test_float32_in_gives_float32_results_and_gradients() -> None:
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros((3, 1), dtype=np.float32), requires_grad=True)
    X = Tensor(rng.normal(size=(2, 5)).astype(np.float32))
    A = (W @ X + b).sigmoid()
    loss = -(A.log() * 0.5 + (1 - A).log() / 2).mean() ** 2
    assert A.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert W.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_mixed_dtypes_follow_numpy_promotion_and_grads_keep_each_input_dtype() -> None:
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_numpy_arrays_and_python_scalars_work_on_either_side() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x + 1 - x / 2 + 2 ** x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0 - 0.5 + 2 * np.log(2), 4.0 - 0.5 + 4 * np.log(2)])


# ---- gradcheck itself -----------------------------------------------------------------------


def test_gradcheck_reports_input_element_and_both_values_for_a_wrong_rule() -> None:
    x = Tensor([[0.3, 0.7]], requires_grad=True, name="x")

    def wrong(t):  # d/dx of x² is 2x; this rule would need to be 3x to match x³
        return t * t * t.detach()

    with pytest.raises(GradcheckError, match=r"input 0 \(x\).*element \(0, 0\).*analytic.*numeric"):
        gradcheck(wrong, [x])


def test_gradcheck_error_is_an_assertion_error() -> None:
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_refuses_float32_inputs() -> None:
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, [Tensor(np.ones(2, np.float32), requires_grad=True)])


# ---- typing: user code type-checks against the Tensor's written-out methods -----------------


def test_user_code_type_checks_with_mypy(tmp_path) -> None:
    import mypy.api

    root = Path(__file__).resolve().parent.parent
    wrong = tmp_path / "wrong_user_code.py"
    wrong.write_text(
        "from tinygrad_nn import Tensor\n"
        "x = Tensor([1.0])\n"
        "x.sigmoid(3)\n"
        "y: str = x * 2\n",
        encoding="utf-8",
    )
    cache = Path(tempfile.gettempdir()) / "tinygrad_nn-mypy-cache"
    stdout, _, _ = mypy.api.run([
        str(root / "tests" / "typing_check.py"), str(wrong), "--follow-imports=silent",
        "--config-file", str(root / "pyproject.toml"), "--cache-dir", str(cache),
    ])
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if "typing_check.py" in e], stdout
    assert any("wrong_user_code.py:3" in e and '"sigmoid"' in e for e in errors), stdout
    assert any("wrong_user_code.py:4" in e and '"Tensor"' in e for e in errors), stdout


def test_a_tensor_keeps_its_fields_in_slots_without_an_instance_dict():
    from tinygrad_nn.tensor_base import TensorBase

    t = Tensor([1.0], requires_grad=True)
    assert isinstance(t, TensorBase) and not hasattr(t, "__dict__")
    with pytest.raises(AttributeError):
        t.typo_of_grad = None  # type: ignore[attr-defined]

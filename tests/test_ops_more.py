"""Issue 15's ops: each against central differences (MORE_CASES, float64, random upstream
gradient, broadcasting shapes where the op broadcasts) and against PyTorch in float64, forward
and backward (TORCH_CASES); then the conventions (ties, masks, dtypes) one test each.

Adding an op of these families: one row in MORE_CASES (``test_ops.py`` checks every registered op
has a row in its table or this one) and one in TORCH_CASES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import import_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops import BROADCAST_PAIRS, UNARY_SHAPES, Case

import tinygrad_nn as tg
from tinygrad_nn import Tensor, gradcheck, ops


def _pairs(name: str, fn: Callable[..., Tensor], low: float = -2.0, high: float = 2.0):
    return [Case(name, fn, list(pair), low, high) for pair in BROADCAST_PAIRS]


def _unary(name: str, fn: Callable[..., Tensor], low: float = -2.0, high: float = 2.0, away=False):
    return [Case(name, fn, [shape], low, high, away) for shape in UNARY_SHAPES]


MASK_34 = np.array([[True, False, True, False]] * 2 + [[False, False, True, True]])

MORE_CASES: list[Case] = [
    # comparisons: a boolean mask times a float; gradient flows through the float only
    *_pairs("lt", lambda a, b: a * (a < b) + b),
    *_pairs("le", lambda a, b: a * (a <= b) + b),
    *_pairs("gt", lambda a, b: a * (a > b) - b),
    *_pairs("ge", lambda a, b: a * (a >= b) - b),
    Case("eq", lambda a: a * (a == a.data.round(1)), [(3, 4)]),
    Case("ne", lambda a: a * (a != a.data.round(1)), [(3, 4)]),
    *_pairs("where", lambda a, b: ops.where(a > 0, a * 2.0, b)),
    Case("where", lambda a, b: ops.where(MASK_34, a, b), [(3, 4), (4,)]),
    *_pairs("maximum", lambda a, b: a.maximum(b)),
    *_pairs("minimum", lambda a, b: a.minimum(b)),
    *_unary("clip", lambda x: x.clip(-1.0, 1.0), away=True),
    Case("clip", lambda x: x.clip(high=0.5), [(3, 4)]),
    Case("argmax", lambda x: x * x.argmax(axis=1, keepdims=True), [(3, 4)]),
    Case("argmin", lambda x: x + x.argmin(axis=0), [(3, 4)]),
    Case("masked_fill", lambda x: x.masked_fill(MASK_34, 0.0), [(3, 4)]),
    Case("masked_fill", lambda x: x.masked_fill(MASK_34[0], -3.0), [(2, 3, 4)]),
    Case("tril", lambda x: x.tril(), [(3, 4)]),
    Case("tril", lambda x: x.tril(-1), [(2, 3, 3)]),
    Case("triu", lambda x: x.triu(1), [(4, 3)]),
    # convolution and pooling
    Case("conv2d", lambda x, w: x.conv2d(w), [(2, 2, 5, 5), (3, 2, 3, 3)]),
    Case("conv2d", lambda x, w: x.conv2d(w, stride=2, padding=1), [(2, 1, 6, 5), (2, 1, 3, 2)]),
    Case("conv2d", lambda x, w: x.conv2d(w, dilation=2, padding=(2, 1)),
         [(1, 2, 6, 6), (2, 2, 3, 3)]),
    Case("conv2d", lambda x, w: x.conv2d(w, groups=2), [(2, 4, 4, 4), (6, 2, 2, 2)]),
    Case("conv1d", lambda x, w: x.conv1d(w, stride=2, padding=1), [(2, 3, 7), (4, 3, 3)]),
    Case("conv1d", lambda x, w: x.conv1d(w, dilation=2, groups=3), [(1, 3, 8), (3, 1, 2)]),
    Case("max_pool2d", lambda x: x.max_pool2d(2), [(2, 3, 4, 4)]),
    Case("max_pool2d", lambda x: x.max_pool2d(3, stride=1, padding=1), [(1, 2, 5, 4)]),
    Case("max_pool2d", lambda x: x.max_pool2d((2, 3), stride=(1, 2)), [(2, 1, 5, 7)]),
    Case("avg_pool2d", lambda x: x.avg_pool2d(2), [(2, 3, 4, 4)]),
    Case("avg_pool2d", lambda x: x.avg_pool2d(3, stride=2, padding=1), [(1, 2, 5, 6)]),
    # reductions and maths
    Case("logsumexp", lambda x: x.logsumexp(), [(3, 4)]),
    Case("logsumexp", lambda x: x.logsumexp(axis=1, keepdims=True), [(2, 3, 4)]),
    Case("logsumexp", lambda x: x.logsumexp(axis=(0, 2)), [(2, 3, 4)]),
    Case("var", lambda x: x.var(), [(3, 4)]),
    Case("var", lambda x: x.var(axis=0, ddof=1), [(3, 4)]),
    Case("var", lambda x: x.var(axis=(1, 2), keepdims=True), [(2, 3, 4)]),
    Case("std", lambda x: x.std(axis=1), [(3, 4)]),
    Case("std", lambda x: x.std(ddof=1, keepdims=True), [(2, 3, 4)]),
    Case("prod", lambda x: x.prod(), [(2, 3)]),
    Case("prod", lambda x: x.prod(axis=1, keepdims=True), [(3, 4)]),
    Case("prod", lambda x: x.prod(axis=(0, 2)), [(2, 3, 4)]),
    Case("cumsum", lambda x: x.cumsum(), [(3, 4)]),
    Case("cumsum", lambda x: x.cumsum(axis=1), [(2, 3, 4)]),
    *_unary("log1p", lambda x: x.log1p(), low=-0.5, high=2.0),
    *_unary("expm1", lambda x: x.expm1()),
    *_unary("sin", lambda x: x.sin()),
    *_unary("cos", lambda x: x.cos()),
    *_unary("sign", lambda x: x.sign() * x, away=True),
    *_unary("rsqrt", lambda x: x.rsqrt(), low=0.3, high=3.0),
    # activations
    *_unary("leaky_relu", lambda x: x.leaky_relu(), away=True),
    Case("leaky_relu", lambda x: x.leaky_relu(0.2), [(3, 4)], away_from_zero=True),
    *_unary("elu", lambda x: x.elu(), away=True),
    Case("elu", lambda x: x.elu(0.5), [(3, 4)], away_from_zero=True),
    *_unary("gelu", lambda x: x.gelu(), low=-4.0, high=4.0),
    Case("gelu", lambda x: x.gelu(approximate="tanh"), [(3, 4)], -4.0, 4.0),
    *_unary("silu", lambda x: x.silu(), low=-6.0, high=6.0),
    *_unary("softplus", lambda x: x.softplus(), low=-6.0, high=6.0),
    Case("softplus", lambda x: x.softplus(beta=2.0), [(3, 4)]),
    # shapes
    Case("expand", lambda x: x.expand(2, 3, 4), [(3, 1)]),
    Case("expand", lambda x: x.expand(-1, 4), [(3, 1)]),
    Case("pad", lambda x: x.pad(((1, 0), (2, 3))), [(3, 4)]),
    Case("pad", lambda x: x.pad(1, value=5.0), [(2, 3, 4)]),
    Case("tile", lambda x: x.tile(2, 3), [(3, 4)]),
    Case("tile", lambda x: x.tile(2, 1, 2), [(3, 4)]),
    Case("repeat", lambda x: x.repeat(2, axis=1), [(3, 4)]),
    Case("repeat", lambda x: x.repeat(3), [(2, 3)]),
    Case("flip", lambda x: x.flip(), [(3, 4)]),
    Case("flip", lambda x: x.flip(axis=(0, 2)), [(2, 3, 4)]),
    Case("take_along_axis", lambda x: x.take_along_axis(np.array([[0, 0], [3, 1], [2, 2]]), 1),
         [(3, 4)]),
    Case("take_along_axis", lambda x: x.take_along_axis(np.array([[[1]], [[0]]]), 2), [(2, 3, 4)]),
    # training helpers (a fixed generator: the same mask at every evaluation)
    Case("dropout", lambda x: x.dropout(0.3, rng=np.random.default_rng(1)), [(3, 4)]),
    Case("dropout", lambda x: x.dropout(0.3, training=False), [(3, 4)]),
]


def _case_id(case: Case) -> str:
    return f"{case.op}-{'x'.join(str(s) for s in case.shapes)}"


def _graph_ops(out: Tensor) -> set[str]:
    seen, stack, names = set(), [out], set()
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            names.add(t.op)
            stack.extend(t.parents)
    return names


@pytest.mark.parametrize("case", MORE_CASES, ids=[_case_id(c) for c in MORE_CASES])
def test_op_gradient_matches_central_differences(case: Case) -> None:
    inputs = case.inputs(np.random.default_rng(0))
    assert case.op in _graph_ops(case.fn(*inputs))  # the row exercises the op it names
    assert gradcheck(case.fn, inputs)


# ---- PyTorch, float64, forward and backward with a random upstream gradient ------------------


@dataclass
class TorchCase:
    name: str
    ours: Callable[..., Tensor]
    theirs: Callable[..., object] | None  # (torch, *inputs) -> torch tensor; None: same as ours
    shapes: list[tuple[int, ...]]
    integers: bool = False  # integer-valued inputs: many ties, to compare the tie conventions


def _same(name: str, fn: Callable[..., Tensor], shapes, integers: bool = False) -> TorchCase:
    """An expression written the same way in both libraries (operators, methods)."""
    return TorchCase(name, fn, None, shapes, integers)


TORCH_CASES: list[TorchCase] = [
    _same("lt", lambda a, b: a * (a < b), [(3, 4), (4,)]),
    _same("le", lambda a, b: a * (a <= b), [(3, 4), (3, 1)], integers=True),
    _same("gt", lambda a, b: b * (a > b), [(3, 1), (1, 4)]),
    _same("ge", lambda a, b: b * (a >= b), [(3, 4), ()], integers=True),
    _same("eq", lambda a, b: a * (a == b), [(3, 4), (4,)], integers=True),
    _same("ne", lambda a, b: a * (a != b), [(3, 4), (4,)], integers=True),
    TorchCase("where", lambda a, b: ops.where(a > b, a, b * 3.0),
              lambda t, a, b: t.where(a > b, a, b * 3.0), [(2, 3, 4), (3, 1)]),
    _same("maximum", lambda a, b: a.maximum(b), [(3, 4), (4,)], integers=True),
    _same("minimum", lambda a, b: a.minimum(b), [(3, 4), (3, 1)], integers=True),
    TorchCase("clip", lambda x: x.clip(-1.0, 1.0), lambda t, x: x.clamp(-1.0, 1.0), [(4, 5)],
              integers=True),
    TorchCase("argmax", lambda x: x.argmax(axis=1) + x, lambda t, x: x.argmax(dim=1) + x,
              [(4, 4)], integers=True),
    TorchCase("argmin", lambda x: x.argmin(axis=0) + x, lambda t, x: x.argmin(dim=0) + x,
              [(4, 4)], integers=True),
    TorchCase("masked_fill", lambda x: x.masked_fill(MASK_34, -1.5),
              lambda t, x: x.masked_fill(t.tensor(MASK_34), -1.5), [(2, 3, 4)]),
    _same("tril", lambda x: x.tril(1), [(2, 4, 3)]),
    _same("triu", lambda x: x.triu(-1), [(4, 5)]),
    TorchCase("conv2d", lambda x, w: x.conv2d(w, padding=1),
              lambda t, x, w: t.nn.functional.conv2d(x, w, padding=1),
              [(64, 1, 8, 8), (16, 1, 3, 3)]),
    TorchCase("conv2d", lambda x, w: x.conv2d(w, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
              lambda t, x, w: t.nn.functional.conv2d(
                  x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
              [(3, 2, 7, 6), (4, 2, 3, 2)]),
    TorchCase("conv2d", lambda x, w: x.conv2d(w, stride=2, groups=3),
              lambda t, x, w: t.nn.functional.conv2d(x, w, stride=2, groups=3),
              [(2, 6, 7, 7), (9, 2, 3, 3)]),
    TorchCase("conv1d", lambda x, w: x.conv1d(w, stride=3, padding=2, dilation=2, groups=2),
              lambda t, x, w: t.nn.functional.conv1d(
                  x, w, stride=3, padding=2, dilation=2, groups=2),
              [(3, 4, 11), (6, 2, 3)]),
    TorchCase("max_pool2d", lambda x: x.max_pool2d(2),
              lambda t, x: t.nn.functional.max_pool2d(x, 2), [(2, 3, 6, 6)], integers=True),
    TorchCase("max_pool2d", lambda x: x.max_pool2d(3, stride=1, padding=1),
              lambda t, x: t.nn.functional.max_pool2d(x, 3, stride=1, padding=1),
              [(2, 2, 5, 6)], integers=True),
    TorchCase("max_pool2d", lambda x: x.max_pool2d((3, 2), stride=(2, 1)),
              lambda t, x: t.nn.functional.max_pool2d(x, (3, 2), stride=(2, 1)), [(1, 2, 7, 5)]),
    TorchCase("avg_pool2d", lambda x: x.avg_pool2d(2),
              lambda t, x: t.nn.functional.avg_pool2d(x, 2), [(2, 3, 6, 6)]),
    TorchCase("avg_pool2d", lambda x: x.avg_pool2d(3, stride=2, padding=1),
              lambda t, x: t.nn.functional.avg_pool2d(x, 3, stride=2, padding=1), [(2, 2, 7, 6)]),
    _same("logsumexp", lambda x: x.logsumexp(1), [(3, 4)]),
    TorchCase("logsumexp", lambda x: x.logsumexp(axis=(0, 2), keepdims=True),
              lambda t, x: x.logsumexp(dim=(0, 2), keepdim=True), [(2, 3, 4)]),
    TorchCase("var", lambda x: x.var(axis=1, ddof=1),
              lambda t, x: x.var(dim=1, correction=1), [(3, 4)]),
    TorchCase("var", lambda x: x.var(), lambda t, x: x.var(correction=0), [(2, 3, 4)]),
    TorchCase("std", lambda x: x.std(axis=0, ddof=1, keepdims=True),
              lambda t, x: x.std(dim=0, correction=1, keepdim=True), [(3, 4)]),
    TorchCase("prod", lambda x: x.prod(axis=1), lambda t, x: x.prod(dim=1), [(3, 4)],
              integers=True),  # zeros among the integers: the product of the others
    TorchCase("prod", lambda x: x.prod(), lambda t, x: x.prod(), [(2, 3)]),
    TorchCase("cumsum", lambda x: x.cumsum(axis=1), lambda t, x: x.cumsum(dim=1), [(3, 4)]),
    TorchCase("cumsum", lambda x: x.cumsum(), lambda t, x: x.flatten().cumsum(dim=0), [(3, 4)]),
    _same("log1p", lambda x: (x * 0.4).log1p(), [(3, 4)]),
    _same("expm1", lambda x: x.expm1(), [(3, 4)]),
    _same("sin", lambda x: x.sin(), [(3, 4)]),
    _same("cos", lambda x: x.cos(), [(3, 4)]),
    _same("sign", lambda x: x.sign() * x, [(3, 4)], integers=True),
    _same("rsqrt", lambda x: (x * x + 0.1).rsqrt(), [(3, 4)]),
    TorchCase("leaky_relu", lambda x: x.leaky_relu(0.2),
              lambda t, x: t.nn.functional.leaky_relu(x, 0.2), [(4, 5)], integers=True),
    TorchCase("elu", lambda x: x.elu(0.7), lambda t, x: t.nn.functional.elu(x, 0.7), [(4, 5)],
              integers=True),
    TorchCase("gelu", lambda x: x.gelu(), lambda t, x: t.nn.functional.gelu(x), [(4, 5)]),
    TorchCase("gelu", lambda x: x.gelu(approximate="tanh"),
              lambda t, x: t.nn.functional.gelu(x, approximate="tanh"), [(4, 5)]),
    TorchCase("silu", lambda x: x.silu(), lambda t, x: t.nn.functional.silu(x), [(4, 5)]),
    TorchCase("softplus", lambda x: x.softplus(beta=1.5),
              lambda t, x: t.nn.functional.softplus(x, beta=1.5), [(4, 5)]),
    TorchCase("expand", lambda x: x.expand(2, 3, 4), lambda t, x: x.expand(2, 3, 4), [(3, 1)]),
    TorchCase("pad", lambda x: x.pad(((0, 0), (1, 2)), value=0.5),
              lambda t, x: t.nn.functional.pad(x, (1, 2), value=0.5), [(3, 4)]),
    TorchCase("tile", lambda x: x.tile(2, 3), lambda t, x: x.repeat(2, 3), [(3, 4)]),
    TorchCase("repeat", lambda x: x.repeat(2, axis=0),
              lambda t, x: x.repeat_interleave(2, dim=0), [(3, 4)]),
    TorchCase("flip", lambda x: x.flip(axis=(0, 1)), lambda t, x: x.flip((0, 1)), [(3, 4)]),
    TorchCase("take_along_axis", lambda x: x.take_along_axis(np.array([[0, 0, 2], [1, 1, 1]]), 1),
              lambda t, x: x.gather(1, t.tensor([[0, 0, 2], [1, 1, 1]])), [(2, 4)]),
    TorchCase("dropout", lambda x: x.dropout(0.4, training=False),
              lambda t, x: t.nn.functional.dropout(x, 0.4, training=False), [(3, 4)]),
]


def _torch_id(case: TorchCase) -> str:
    return f"{case.name}-{'x'.join(str(s) for s in case.shapes)}"


@pytest.mark.parametrize("case", TORCH_CASES, ids=[_torch_id(c) for c in TORCH_CASES])
def test_forward_and_backward_match_pytorch_float64(case: TorchCase, torch) -> None:
    rng = np.random.default_rng(7)
    arrays = [
        rng.integers(-3, 4, size=s).astype(np.float64) if case.integers
        else rng.uniform(-2.0, 2.0, size=s)
        for s in case.shapes
    ]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = case.ours(*ours)
    expected = case.ours(*theirs) if case.theirs is None else case.theirs(torch, *theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = rng.normal(size=out.shape)
    out.backward(upstream)
    expected.backward(torch.tensor(upstream))
    for mine, reference in zip(ours, theirs, strict=True):  # None: no path (both sides agree)
        assert (mine.grad is None) == (reference.grad is None)
        if mine.grad is not None:
            np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_every_new_op_has_a_pytorch_comparison() -> None:
    new = {case.op for case in MORE_CASES}
    assert new <= {case.name for case in TORCH_CASES}


# ---- helpers recorded as existing ops, against PyTorch --------------------------------------

HELPER_CASES: list[TorchCase] = [
    _same("flatten", lambda x: x.flatten(1) * 1.5, [(2, 3, 4, 5)]),
    _same("squeeze", lambda x: x.squeeze(1) * 1.5, [(3, 1, 4)]),
    _same("unsqueeze", lambda x: x.unsqueeze(-1) * 1.5, [(3, 4)]),
    _same("permute", lambda x: x.permute(2, 0, 1) * 1.5, [(2, 3, 4)]),
    TorchCase("split", lambda x: tg.concatenate([p * (i + 1.0) for i, p in enumerate(
        x.split(2, axis=1))], axis=1), lambda t, x: t.cat([p * (i + 1.0) for i, p in enumerate(
            x.split(2, dim=1))], dim=1), [(3, 5)]),
    TorchCase("chunk", lambda x: tg.concatenate([p * (i + 1.0) for i, p in enumerate(
        x.chunk(3))]), lambda t, x: t.cat([p * (i + 1.0) for i, p in enumerate(
            x.chunk(3))]), [(7, 2)]),
    TorchCase("broadcast_to", lambda x: ops.broadcast_to(x, (2, 3, 4)),
              lambda t, x: t.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    TorchCase("gather", lambda x: ops.gather(x, 0, np.array([[2, 0, 2], [1, 1, 0]])),
              lambda t, x: x.gather(0, t.tensor([[2, 0, 2], [1, 1, 0]])), [(3, 3)]),
]


@pytest.mark.parametrize("case", HELPER_CASES, ids=[c.name for c in HELPER_CASES])
def test_helpers_match_pytorch_float64(case: TorchCase, torch) -> None:
    test_forward_and_backward_match_pytorch_float64(case, torch)


# ---- booleans, integers and masks -------------------------------------------------------------


def test_comparison_results_are_boolean_and_never_require_grad() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.data, [False, True, True])


def test_multiplying_by_a_not_equal_mask_keeps_the_values_and_their_gradient() -> None:
    t = Tensor([0.0, 3.0, 0.0, -2.0], requires_grad=True)
    y = t * (t != 0)
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(y.data, [0.0, 3.0, 0.0, -2.0])
    np.testing.assert_array_equal(t.grad, [0.0, 2.0, 0.0, 4.0])


def test_a_mask_keeps_a_float32_tensor_float32() -> None:
    x = Tensor(np.array([1.0, -1.0], dtype=np.float32))
    assert (x * (x > 0)).dtype == np.float32
    assert ops.where(x > 0, x, 0.0).dtype == np.float32


def test_a_python_number_next_to_a_mask_is_not_cast_to_bool() -> None:
    m = Tensor([1.0, -1.0]) > 0
    np.testing.assert_array_equal((m * 2.5).data, [2.5, 0.0])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_boolean_numpy_arrays_keep_their_dtype(dtype) -> None:
    assert Tensor(np.array([1, 0, 1], dtype=dtype)).dtype == dtype


def test_only_floating_tensors_can_require_grad() -> None:
    with pytest.raises(TypeError, match=r"floating.*int64"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_eq_compares_values_while_tensors_still_hash_by_identity() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 5.0])
    np.testing.assert_array_equal((a == b).data, [True, False])
    assert {a: "a", b: "b"}[a] == "a" and len({a, b}) == 2


@pytest.mark.parametrize("other", [None, "label", object()])
def test_eq_with_something_that_is_not_numeric_answers_by_identity_as_pytorch(other) -> None:
    t = Tensor([1.0, 2.0])
    assert (t == other) is False and (t != other) is True


def test_embedding_lookup_with_an_integer_tensor_adds_the_gradients_of_repeated_rows(torch):
    weights = np.random.default_rng(0).normal(size=(5, 3))
    tokens = np.array([[1, 3, 1], [1, 0, 4]])
    W = Tensor(weights, requires_grad=True)
    out = W[Tensor(tokens)]
    upstream = np.random.default_rng(1).normal(size=out.shape)
    out.backward(upstream)
    W_ref = torch.tensor(weights, requires_grad=True)
    ref = torch.nn.functional.embedding(torch.tensor(tokens), W_ref)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(W.grad, W_ref.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(W.grad[1], upstream[0, 0] + upstream[0, 2] + upstream[1, 0])


def test_argmax_result_indexes_the_tensor_it_came_from() -> None:
    logits = Tensor([[0.1, 2.0, 2.0], [5.0, 1.0, 0.0]], requires_grad=True)
    best = logits.argmax(axis=1)
    np.testing.assert_array_equal(best.data, [1, 0])  # the first of the tie
    picked = logits[np.arange(2), best]
    picked.sum().backward()
    np.testing.assert_array_equal(logits.grad, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_where_rejects_a_condition_that_is_not_boolean() -> None:
    with pytest.raises(TypeError, match=r"where.*condition.*boolean.*float64"):
        ops.where(Tensor([0.5, 1.0]), Tensor([1.0, 2.0]), 0.0)


def test_masked_fill_rejects_a_mask_that_would_grow_the_tensor() -> None:
    with pytest.raises(ValueError, match=r"masked_fill.*\(2, 3\).*\(3,\)"):
        Tensor([1.0, 2.0, 3.0]).masked_fill(np.ones((2, 3), dtype=bool), 0.0)


def test_maximum_splits_the_gradient_at_a_tie() -> None:
    a, b = Tensor([2.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    a.maximum(b).backward([1.0])
    assert a.grad[0] == 0.5 and b.grad[0] == 0.5


def test_clip_with_a_float64_bound_keeps_a_float32_tensor_float32() -> None:
    x = Tensor(np.array([0.0, 0.5], dtype=np.float32))
    assert x.clip(low=np.float64(0.1)).dtype == x.clip(0.0, np.float64(0.2)).dtype == np.float32


def test_clip_passes_the_gradient_at_its_bounds() -> None:
    x = Tensor([-1.0, 1.0, 1.5], requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])


# ---- convolution and pooling conventions ------------------------------------------------------


def test_max_pool2d_gives_the_gradient_to_the_first_maximum_of_a_tie() -> None:
    x = Tensor(np.array([[[[4.0, 4.0], [4.0, 1.0]]]]), requires_grad=True)
    x.max_pool2d(2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_max_pool2d_with_overlapping_windows_adds_the_gradients_of_a_shared_maximum() -> None:
    x = Tensor(np.array([[[[0.0, 9.0, 0.0]]]]), requires_grad=True)
    y = x.max_pool2d((1, 2), stride=1)  # both windows pick the 9
    y.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0, 0], [0.0, 2.0, 0.0])


def test_max_pool2d_of_a_window_with_nan_is_nan_and_the_nan_takes_the_gradient() -> None:
    x = Tensor(np.array([[[[1.0, np.nan], [3.0, 2.0]]]]), requires_grad=True)
    y = x.max_pool2d(2)
    y.sum().backward()
    assert np.isnan(y.item())
    np.testing.assert_array_equal(x.grad[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_conv2d_rejects_mismatched_channels_naming_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"conv2d.*3 channels.*\(4, 2, 3, 3\).*groups=1"):
        Tensor(np.zeros((1, 3, 5, 5))).conv2d(Tensor(np.zeros((4, 2, 3, 3))))


def test_conv2d_rejects_a_kernel_larger_than_the_padded_input() -> None:
    with pytest.raises(ValueError, match=r"conv2d.*kernel \(5, 5\).*\(3, 3\)"):
        Tensor(np.zeros((1, 1, 3, 3))).conv2d(Tensor(np.zeros((1, 1, 5, 5))))


def test_conv2d_rejects_an_input_without_batch_and_channel_axes() -> None:
    with pytest.raises(ValueError, match=r"conv2d.*\(N, C, H, W\).*\(5, 5\)"):
        Tensor(np.zeros((5, 5))).conv2d(Tensor(np.zeros((1, 1, 3, 3))))


def test_conv2d_and_its_gradients_keep_float32() -> None:
    x = Tensor(np.ones((2, 1, 4, 4), dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 1, 2, 2), dtype=np.float32), requires_grad=True)
    y = x.conv2d(w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_pooling_rejects_padding_over_half_the_kernel() -> None:
    with pytest.raises(ValueError, match=r"max_pool2d.*padding.*half the kernel"):
        Tensor(np.zeros((1, 1, 4, 4))).max_pool2d(2, padding=2)


# ---- dropout ------------------------------------------------------------------------------------


def test_dropout_scales_kept_elements_by_the_same_factor_as_pytorch(torch) -> None:
    x = np.ones((200, 50))
    ours = Tensor(x).dropout(0.3, rng=np.random.default_rng(0)).data
    theirs = torch.nn.functional.dropout(torch.tensor(x), 0.3).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.7}


def test_dropout_zeroes_close_to_a_fraction_p_of_the_elements() -> None:
    y = Tensor(np.ones(100_000)).dropout(0.25, rng=np.random.default_rng(0))
    assert abs((y.data == 0).mean() - 0.25) < 0.01


def test_dropout_repeats_its_mask_for_a_generator_with_the_same_seed() -> None:
    x = Tensor(np.ones(50))
    first = x.dropout(0.5, rng=np.random.default_rng(3)).data
    np.testing.assert_array_equal(first, x.dropout(0.5, rng=np.random.default_rng(3)).data)


def test_dropout_leaves_numpys_global_generator_alone() -> None:
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    Tensor(np.ones(10)).dropout(0.5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_dropout_rejects_a_probability_of_one() -> None:
    with pytest.raises(ValueError, match=r"dropout.*p.*\[0, 1\).*1\.0"):
        Tensor([1.0]).dropout(1.0)


# ---- maths conventions ---------------------------------------------------------------------------


def test_prod_gradient_at_a_single_zero_is_the_product_of_the_others() -> None:
    x = Tensor([2.0, 0.0, 5.0, 3.0], requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 30.0, 0.0, 0.0])


@pytest.mark.filterwarnings("error")
def test_logsumexp_is_finite_at_plus_minus_1000_and_minus_inf_for_an_all_minus_inf_row() -> None:
    x = Tensor([[1000.0, -1000.0], [-np.inf, -np.inf]])
    y = x.logsumexp(axis=1)
    np.testing.assert_allclose(y.data[0], 1000.0)
    assert y.data[1] == -np.inf


def test_var_rejects_a_ddof_that_leaves_no_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match=r"var.*ddof=3.*3 element"):
        Tensor([1.0, 2.0, 3.0]).var(ddof=3)


def test_gelu_rejects_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match=r"gelu.*approximate.*'fast'"):
        Tensor([1.0]).gelu(approximate="fast")


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "gelu", "silu", "softplus"])
def test_new_activations_are_accepted_by_the_mlp(name: str) -> None:
    net = tg.nn.MLP([2, 3, 1], activation=name, seed=0)
    assert net(Tensor(np.ones((2, 4)))).shape == (1, 4)


# ---- shapes ----------------------------------------------------------------------------------


def test_take_along_axis_adds_the_gradients_of_repeated_indices() -> None:
    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.take_along_axis(np.array([[2, 2, 0]]), 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 2.0]])


def test_expand_rejects_a_shape_the_tensor_cannot_broadcast_to() -> None:
    with pytest.raises(ValueError, match=r"expand.*\(3, 2\).*\(3, 4\)"):
        Tensor(np.zeros((3, 2))).expand(3, 4)


def test_pad_rejects_negative_widths() -> None:
    with pytest.raises(ValueError, match=r"pad.*non-negative.*-1"):
        Tensor([1.0]).pad(-1)


def test_squeeze_rejects_an_axis_whose_length_is_not_one() -> None:
    with pytest.raises(ValueError, match=r"squeeze.*axis 0.*\(3, 1\)"):
        Tensor(np.zeros((3, 1))).squeeze(0)


def test_split_rejects_sizes_that_do_not_add_up() -> None:
    with pytest.raises(ValueError, match=r"split.*\[1, 1\].*3"):
        Tensor([1.0, 2.0, 3.0]).split([1, 1])


# ---- properties ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"]),
    seed=st.integers(0, 2**16),
)
def test_comparisons_agree_with_numpy_over_random_broadcastable_shapes(shapes, name, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(-2, 3, size=s).astype(float) for s in shapes.input_shapes)
    numpy_op = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                "eq": np.equal, "ne": np.not_equal}[name]
    out = getattr(ops, name)(Tensor(a), Tensor(b))
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out.data, numpy_op(a, b))


@settings(max_examples=30, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    name=st.sampled_from(["maximum", "minimum"]),
    seed=st.integers(0, 2**16),
)
def test_maximum_and_minimum_gradcheck_over_random_broadcastable_shapes(shapes, name, seed):
    rng = np.random.default_rng(seed)
    a, b = (Tensor(rng.uniform(-2, 2, size=s), requires_grad=True) for s in shapes.input_shapes)
    assert gradcheck(lambda x, y: getattr(x, name)(y), [a, b])


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 2), groups=st.sampled_from([1, 2]), size=st.integers(3, 7),
    kernel=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
    dilation=st.integers(1, 2), seed=st.integers(0, 2**16),
)
def test_conv2d_matches_pytorch_over_random_geometries(
    n, groups, size, kernel, stride, padding, dilation, seed
):
    torch = import_torch()
    if dilation * (kernel - 1) + 1 > size + 2 * padding:
        return  # the kernel does not fit: the error is tested on its own
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=(n, 2 * groups, size, size)), rng.normal(size=(2, 2, kernel, kernel))
    w = np.concatenate([w] * groups)  # (2·groups, 2, k, k)
    kw = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = X.conv2d(W, **kw)
    Xt, Wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv2d(Xt, Wt, **kw)
    upstream = rng.normal(size=y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.grad, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W.grad, Wt.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                       elements=st.floats(-3, 3)),
       size=st.integers(1, 4), seed=st.integers(0, 100))
def test_split_then_concatenate_gives_back_the_tensor(data, size, seed):
    axis = seed % data.ndim
    pieces = Tensor(data).split(size, axis=axis)
    np.testing.assert_array_equal(tg.concatenate(pieces, axis=axis).data, data)


UNARY_VS_TORCH = {  # ours, PyTorch's; inputs kept in each op's domain by `domain`
    "log1p": (lambda x: x.log1p(), lambda t, x: x.log1p()),
    "expm1": (lambda x: x.expm1(), lambda t, x: x.expm1()),
    "sin": (lambda x: x.sin(), lambda t, x: x.sin()),
    "cos": (lambda x: x.cos(), lambda t, x: x.cos()),
    "rsqrt": (lambda x: x.rsqrt(), lambda t, x: x.rsqrt()),
    "leaky_relu": (lambda x: x.leaky_relu(), lambda t, x: t.nn.functional.leaky_relu(x)),
    "elu": (lambda x: x.elu(), lambda t, x: t.nn.functional.elu(x)),
    "gelu": (lambda x: x.gelu(), lambda t, x: t.nn.functional.gelu(x)),
    "gelu_tanh": (lambda x: x.gelu(approximate="tanh"),
                  lambda t, x: t.nn.functional.gelu(x, approximate="tanh")),
    "silu": (lambda x: x.silu(), lambda t, x: t.nn.functional.silu(x)),
    "softplus": (lambda x: x.softplus(), lambda t, x: t.nn.functional.softplus(x)),
}


def _compare(torch, ours, theirs, array, rng: np.random.Generator) -> None:
    x, xt = Tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    y, yt = ours(x), theirs(torch, xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.normal(size=y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    data=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=st.floats(-15, 15)),
    name=st.sampled_from(sorted(UNARY_VS_TORCH)),
    seed=st.integers(0, 2**16),
)
def test_elementwise_maths_and_activations_match_pytorch_on_random_inputs(data, name, seed):
    torch = import_torch()
    if name == "rsqrt":
        data = np.abs(data) + 0.1
    if name == "log1p":
        data = np.abs(data) - 0.5
    rng = np.random.default_rng(seed)
    _compare(torch, *UNARY_VS_TORCH[name], data, rng)


@settings(max_examples=40, deadline=None)
@given(
    data=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-3, 3)),
    name=st.sampled_from(["logsumexp", "var", "std", "prod", "cumsum"]),
    keepdims=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_reductions_match_pytorch_over_random_axes(data, name, keepdims, seed):
    torch = import_torch()
    axis = seed % data.ndim
    if name in ("var", "std") and data.shape[axis] < 2:
        return  # ddof=1 needs two elements: the error is tested on its own
    if name == "std":
        data = data + np.arange(data.size).reshape(data.shape)  # no all-equal rows (y = 0)
    if name == "prod":  # PyTorch divides y by x, which underflows to 0 for subnormal products
        data = np.round(data, 2)
    ours = {
        "logsumexp": lambda x: x.logsumexp(axis=axis, keepdims=keepdims),
        "var": lambda x: x.var(axis=axis, ddof=1, keepdims=keepdims),
        "std": lambda x: x.std(axis=axis, ddof=1, keepdims=keepdims),
        "prod": lambda x: x.prod(axis=axis, keepdims=keepdims),
        "cumsum": lambda x: x.cumsum(axis=axis),
    }[name]
    theirs = {
        "logsumexp": lambda t, x: x.logsumexp(dim=axis, keepdim=keepdims),
        "var": lambda t, x: x.var(dim=axis, keepdim=keepdims),
        "std": lambda t, x: x.std(dim=axis, keepdim=keepdims),
        "prod": lambda t, x: x.prod(dim=axis, keepdim=keepdims),
        "cumsum": lambda t, x: x.cumsum(dim=axis),
    }[name]
    rng = np.random.default_rng(seed)
    _compare(torch, ours, theirs, data, rng)


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(2, 7), kernel=st.integers(1, 3), stride=st.integers(1, 3),
    padding=st.integers(0, 1), pool=st.sampled_from(["max_pool2d", "avg_pool2d"]),
    integers=st.booleans(), seed=st.integers(0, 2**16),
)
def test_pooling_matches_pytorch_over_random_geometries(
    size, kernel, stride, padding, pool, integers, seed
):
    torch = import_torch()
    if kernel > size + 2 * padding or 2 * padding > kernel:
        return  # refused with an error, tested on its own
    rng = np.random.default_rng(seed)
    shape = (2, 3, size, size + 1)
    data = rng.integers(-2, 3, size=shape).astype(float) if integers else rng.normal(size=shape)
    _compare(
        torch,
        lambda x: getattr(x, pool)(kernel, stride=stride, padding=padding),
        lambda t, x: getattr(t.nn.functional, pool)(x, kernel, stride=stride, padding=padding),
        data,
        rng,
    )


def test_a_boolean_tensor_selects_elements_like_a_numpy_mask() -> None:
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0], [0.0, 1.0]])

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
from test_ops import BROADCAST_PAIRS, UNARY_SHAPES, Case

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

"""Every op against central finite differences (float64, random upstream gradient), through the
project's own gradcheck, over broadcasting shape pairs.

Adding an op: add one row to OP_CASES. ``test_every_registered_op_has_a_gradcheck_row`` fails
until you do.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import import_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_nn as tg
from tinygrad_nn import Tensor, gradcheck, ops

# The article's case first: a bias (n, 1) added to (n, m).
BROADCAST_PAIRS = [
    ((3, 5), (3, 1)),
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((1, 4), (3, 1)),
    ((2, 3, 4), (3, 1)),
    ((), (2, 3)),
]
UNARY_SHAPES = [(), (5,), (3, 4), (2, 3, 4)]


@dataclass
class Case:
    op: str
    fn: Callable[..., Tensor]
    shapes: list[tuple[int, ...]]
    low: float = -2.0
    high: float = 2.0
    away_from_zero: bool = False

    def inputs(self, rng: np.random.Generator) -> list[Tensor]:
        tensors = []
        for shape in self.shapes:
            data = rng.uniform(self.low, self.high, size=shape)
            if self.away_from_zero:
                data = np.where(np.abs(data) < 0.2, 0.5, data)
            tensors.append(Tensor(data, requires_grad=True))
        return tensors


def _binary(name, fn, low=-2.0, high=2.0, away=False):
    return [Case(name, fn, list(pair), low, high, away) for pair in BROADCAST_PAIRS]


def _unary(name, fn, low=-2.0, high=2.0, away=False):
    return [Case(name, fn, [shape], low, high, away) for shape in UNARY_SHAPES]


OP_CASES: list[Case] = [
    *_binary("add", lambda a, b: a + b),
    *_binary("sub", lambda a, b: a - b),
    *_binary("mul", lambda a, b: a * b),
    *_binary("div", lambda a, b: a / b, away=True),
    *_binary("pow", lambda a, b: a**b, low=0.5, high=2.0),
    Case("pow", lambda x: x**3, [(3, 4)]),
    Case("pow", lambda x: x**0.5, [(3, 4)], low=0.5),
    Case("pow", lambda x: 2.0**x, [(3, 4)]),
    Case("matmul", lambda a, b: a @ b, [(3, 4), (4, 2)]),
    Case("matmul", lambda a, b: a @ b, [(4,), (4, 2)]),
    Case("matmul", lambda a, b: a @ b, [(3, 4), (4,)]),
    Case("matmul", lambda a, b: a @ b, [(4,), (4,)]),
    Case("matmul", lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    Case("matmul", lambda a, b: a @ b, [(2, 3, 4), (1, 4, 5)]),
    *_unary("neg", lambda x: -x),
    *_unary("exp", lambda x: x.exp()),
    *_unary("log", lambda x: x.log(), low=0.2, high=3.0),
    *_unary("sigmoid", lambda x: x.sigmoid(), low=-6, high=6),
    *_unary("tanh", lambda x: x.tanh()),
    *_unary("relu", lambda x: x.relu(), away=True),
    *_unary("sqrt", lambda x: x.sqrt(), low=0.2, high=3.0),
    *_unary("abs", lambda x: abs(x), away=True),
    Case("sum", lambda x: x.sum(), [(3, 4)]),
    Case("sum", lambda x: x.sum(axis=0), [(3, 4)]),
    Case("sum", lambda x: x.sum(axis=-1, keepdims=True), [(2, 3, 4)]),
    Case("sum", lambda x: x.sum(axis=(0, 2)), [(2, 3, 4)]),
    Case("mean", lambda x: x.mean(), [(3, 4)]),
    Case("mean", lambda x: x.mean(axis=1, keepdims=True), [(3, 4)]),
    Case("mean", lambda x: x.mean(axis=(0, 1)), [(2, 3, 4)]),
    Case("max", lambda x: x.max(), [(3, 4)]),
    Case("max", lambda x: x.max(axis=0), [(3, 4)]),
    Case("max", lambda x: x.max(axis=(0, 2), keepdims=True), [(2, 3, 4)]),
    Case("min", lambda x: x.min(), [(3, 4)]),
    Case("min", lambda x: x.min(axis=-1, keepdims=True), [(2, 3, 4)]),
    Case("reshape", lambda x: x.reshape(4, 3), [(3, 4)]),
    Case("reshape", lambda x: x.reshape((-1,)), [(2, 3, 4)]),
    Case("transpose", lambda x: x.T, [(3, 4)]),
    Case("transpose", lambda x: x.transpose(1, 2, 0), [(2, 3, 4)]),
    Case("getitem", lambda x: x[1], [(3, 4)]),
    Case("getitem", lambda x: x[:, 1:3], [(3, 4)]),
    Case("getitem", lambda x: x[..., -1], [(2, 3, 4)]),
    Case("getitem", lambda x: x[[0, 2, 0, 0]], [(3, 4)]),
    Case("getitem", lambda x: x[np.array([True, False, True])], [(3, 4)]),
    Case("getitem", lambda x: x[None, 0, [1, 1]], [(3, 4)]),
    Case("concatenate", lambda a, b: tg.concatenate([a, b], axis=1), [(3, 2), (3, 4)]),
    Case("concatenate", lambda a, b: tg.concatenate([a, b, a]), [(2, 3), (1, 3)]),
    Case("stack", lambda a, b: tg.stack([a, b]), [(3, 4), (3, 4)]),
    Case("stack", lambda a, b: tg.stack([a, b, a], axis=-1), [(3, 4), (3, 4)]),
    Case("softmax", lambda x: x.softmax(), [(3, 4)]),
    Case("softmax", lambda x: x.softmax(axis=0), [(3, 4)]),
    Case("log_softmax", lambda x: x.log_softmax(), [(3, 4)]),
    Case("log_softmax", lambda x: x.log_softmax(axis=0), [(2, 3, 4)]),
    Case("linear", lambda W, A, b: ops.linear(W, A, b), [(3, 4), (4, 5), (3, 1)]),
    Case("bce_with_logits", lambda z, y: ops.bce_with_logits(z, y), [(1, 6), (1, 6)], -4, 4),
]


def _case_id(case: Case) -> str:
    return f"{case.op}-{'x'.join(str(s) for s in case.shapes)}"


@pytest.mark.parametrize("case", OP_CASES, ids=[_case_id(c) for c in OP_CASES])
def test_op_gradient_matches_central_differences(case: Case) -> None:
    inputs = case.inputs(np.random.default_rng(0))
    assert gradcheck(case.fn, inputs)


def test_every_registered_op_has_a_gradcheck_row() -> None:
    from test_ops_more import MORE_CASES  # the issue-15 families keep their rows there

    covered = {case.op for case in OP_CASES} | {case.op for case in MORE_CASES}
    assert set(ops.REGISTRY) <= covered, set(ops.REGISTRY) - covered


def test_every_op_result_reports_its_op_name() -> None:
    rng = np.random.default_rng(1)
    for case in OP_CASES:
        out = case.fn(*case.inputs(rng))
        assert out.op == case.op


@pytest.mark.parametrize("name", sorted(ops.REGISTRY))
def test_every_op_docstring_gives_forward_and_one_rule_per_input(name: str) -> None:
    info = ops.REGISTRY[name]
    assert "=" in info.forward
    assert info.backward, f"{name} has no backward formula"
    assert all("=" in rule for rule in info.backward)


def test_activations_are_the_registry_ops_with_an_init_in_registry_order() -> None:
    new = ("leaky_relu", "elu", "gelu", "silu", "softplus")  # issue 15's, all relu-like
    assert ops.activations() == ("sigmoid", "tanh", "relu", *new)
    assert [ops.REGISTRY[n].activation_init for n in ops.activations()] == [
        "article", "xavier", "he", *["he"] * len(new)
    ]


@pytest.mark.parametrize("name", ops.activations())
def test_every_activation_is_one_input_and_keeps_the_shape(name: str) -> None:
    x = Tensor(np.linspace(-2.0, 2.0, 12).reshape(3, 4))
    y = getattr(x, ops.REGISTRY[name].method or name)()
    assert y.op == name and y.shape == (3, 4) and y.parents == (x,)


def test_broadcasting_ops_are_exactly_the_elementwise_binary_arithmetic() -> None:
    marked = [name for name, info in ops.REGISTRY.items() if info.broadcasting]
    assert marked == [  # and issue 15's comparisons and selections
        "add", "sub", "mul", "div", "pow", "lt", "le", "gt", "ge", "eq", "ne", "where", "maximum",
        "minimum",
    ]


@pytest.mark.parametrize(
    "name", [n for n, info in ops.REGISTRY.items() if info.broadcasting and info.method]
)
def test_every_broadcasting_op_broadcasts_a_column_against_a_matrix(name: str) -> None:
    a, b = Tensor(np.full((3, 4), 2.0)), Tensor(np.full((3, 1), 3.0))
    assert getattr(a, ops.REGISTRY[name].method or name)(b).shape == (3, 4)


def test_an_activation_with_two_inputs_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match=r"bad_act.*one input.*inputs=2"):

        @ops.op(2, activation_init="he")
        def bad_act(a, b):
            """y = a·b   da = g·b   db = g·a"""
            return a * b, (lambda g: g * b, lambda g: g * a)

    assert "bad_act" not in ops.REGISTRY


# ---- Tensor's methods: written out in its class body, one per registered method/operator ----

_OP_FUNCTIONS = {f.__name__: attr for attr, f in vars(ops).items() if hasattr(f, "__wrapped__")}
_METHODS = [
    (name, attribute)
    for name, info in ops.REGISTRY.items()
    for attribute in ((info.method,) if info.method else ()) + info.operators
]


@pytest.mark.parametrize(("op_name", "attribute"), _METHODS, ids=[a for _, a in _METHODS])
def test_every_registered_method_and_operator_is_written_in_tensor_and_calls_its_op(
    op_name: str, attribute: str
) -> None:
    function = Tensor.__dict__.get(attribute)
    assert callable(function), f"op '{op_name}': add `def {attribute}(self, ...)` to Tensor"
    assert _OP_FUNCTIONS[op_name] in function.__code__.co_names, (
        f"Tensor.{attribute} does not call ops.{_OP_FUNCTIONS[op_name]}"
    )


@pytest.mark.parametrize(("op_name", "attribute"), _METHODS, ids=[a for _, a in _METHODS])
def test_every_method_docstring_is_its_ops_formula(op_name: str, attribute: str) -> None:
    assert getattr(Tensor, attribute).__doc__ == ops.REGISTRY[op_name].formula


def _call_with_defaults(attribute: str):
    """Tensor.<attribute> called on (3, 3) inputs in [0.5, 2), or None if it needs more."""
    parameters = list(inspect.signature(getattr(Tensor, attribute)).parameters.values())[1:]
    required = [p for p in parameters if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    x = Tensor(np.random.default_rng(5).uniform(0.5, 2.0, size=(3, 3)), requires_grad=True)
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):  # reshape(*shape), ...
        return None
    if not required:
        return getattr(x, attribute)()
    if len(required) == 1 and required[0].name in ("other", "exponent"):
        return getattr(x, attribute)(Tensor(np.full((3, 3), 1.5)))
    return None


def _image(*shape: int) -> Tensor:
    return Tensor(np.arange(float(np.prod(shape))).reshape(shape) / 10, requires_grad=True)


# Calls for the methods that need arguments of their own.
METHOD_CALLS: dict[str, Callable[[Tensor], Tensor]] = {
    "pow": lambda x: x.pow(2.0),
    "reshape": lambda x: x.reshape(9),
    "transpose": lambda x: x.transpose(1, 0),
    "__getitem__": lambda x: x[0],
    "clip": lambda x: x.clip(0.7, 1.5),
    "masked_fill": lambda x: x.masked_fill(x > 1.0, 0.0),
    "conv2d": lambda x: _image(1, 1, 4, 4).conv2d(_image(1, 1, 2, 2)),
    "conv1d": lambda x: _image(1, 1, 5).conv1d(_image(1, 1, 2)),
    "max_pool2d": lambda x: _image(1, 1, 4, 4).max_pool2d(2),
    "avg_pool2d": lambda x: _image(1, 1, 4, 4).avg_pool2d(2),
    "expand": lambda x: _image(3, 1).expand(3, 4),
    "pad": lambda x: x.pad(((1, 1), (0, 0))),
    "tile": lambda x: x.tile(2),
    "repeat": lambda x: x.repeat(2),
    "take_along_axis": lambda x: x.take_along_axis(np.zeros((3, 1), dtype=np.int64), 1),
}


@pytest.mark.parametrize(("op_name", "attribute"), _METHODS, ids=[a for _, a in _METHODS])
def test_every_method_records_its_op(op_name, attribute) -> None:
    if attribute in METHOD_CALLS:
        x = Tensor(np.random.default_rng(5).uniform(0.5, 2.0, size=(3, 3)), requires_grad=True)
        out = METHOD_CALLS[attribute](x)
    else:
        out = _call_with_defaults(attribute)
        assert out is not None, f"Tensor.{attribute} needs arguments: add it to METHOD_CALLS"
    assert out.op == op_name


def test_a_forgotten_method_line_fails_the_method_check() -> None:
    @ops.op(1, method="forgotten_cube")
    def forgotten_cube(x):
        """y = x³   dx = g·3x²"""
        return x**3, lambda g: g * 3 * x**2

    try:
        with pytest.raises(AssertionError, match=r"forgotten_cube.*def forgotten_cube"):
            test_every_registered_method_and_operator_is_written_in_tensor_and_calls_its_op(
                "forgotten_cube", "forgotten_cube"
            )
    finally:
        del ops.REGISTRY["forgotten_cube"]


OPERATOR_CASES = [
    ("add", lambda a, b: a + b, np.add),
    ("add", lambda a, b: 2.0 + b, lambda a, b: 2.0 + b),
    ("sub", lambda a, b: a - b, np.subtract),
    ("sub", lambda a, b: 2.0 - b, lambda a, b: 2.0 - b),
    ("mul", lambda a, b: 3.0 * b, lambda a, b: 3.0 * b),
    ("div", lambda a, b: a / b, np.divide),
    ("div", lambda a, b: 2.0 / b, lambda a, b: 2.0 / b),
    ("pow", lambda a, b: a**b, np.power),
    ("pow", lambda a, b: 2.0**b, lambda a, b: 2.0**b),
    ("matmul", lambda a, b: a @ b.T, lambda a, b: a @ b.T),
    ("matmul", lambda a, b: np.ones((2, 3)) @ b, lambda a, b: np.ones((2, 3)) @ b),
    ("neg", lambda a, b: -a, np.negative),
    ("abs", lambda a, b: abs(a), np.abs),
    ("getitem", lambda a, b: a[1:, 0], lambda a, b: a[1:, 0]),
    ("lt", lambda a, b: a < b, np.less),
    ("le", lambda a, b: a <= b, np.less_equal),
    ("gt", lambda a, b: a > b, np.greater),
    ("ge", lambda a, b: a >= b, np.greater_equal),
    ("eq", lambda a, b: a == b, np.equal),
    ("ne", lambda a, b: a != b, np.not_equal),
]


@pytest.mark.parametrize(("op_name", "expression", "expected"), OPERATOR_CASES)
def test_python_operators_record_their_op_with_operands_in_order(op_name, expression, expected):
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.5, 2.0, size=(3, 3)), rng.uniform(0.5, 2.0, size=(3, 3))
    out = expression(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))
    assert out.op == op_name
    np.testing.assert_array_equal(out.data, expected(a, b))


def test_every_registered_operator_has_a_python_syntax_case() -> None:
    covered = {name for name, _, _ in OPERATOR_CASES}
    with_operators = {name for name, info in ops.REGISTRY.items() if info.operators}
    assert with_operators <= covered, with_operators - covered


def test_tensors_hash_by_identity_although_equality_is_elementwise() -> None:
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1
    np.testing.assert_array_equal((a == b).data, [True, True])


# ---- property tests over random broadcastable shapes ----------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op_name=st.sampled_from(["add", "sub", "mul", "div"]),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_gradcheck_over_random_broadcastable_shapes(shapes, op_name, seed) -> None:
    rng = np.random.default_rng(seed)
    a = Tensor(rng.uniform(0.5, 2.0, shapes.input_shapes[0]), requires_grad=True)
    b = Tensor(rng.uniform(0.5, 2.0, shapes.input_shapes[1]), requires_grad=True)
    fn = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
    }[op_name]
    assert gradcheck(fn, [a, b])
    assert a.grad is None and b.grad is None  # gradcheck leaves .grad as it found it


@settings(max_examples=30, deadline=None)
@given(
    data=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
        elements=st.floats(-3, 3),
    ),
    reduction=st.sampled_from(["sum", "mean"]),
    keepdims=st.booleans(),
    axis_seed=st.integers(0, 100),
)
def test_reductions_over_random_axes_match_numpy_and_central_differences(
    data, reduction, keepdims, axis_seed
) -> None:
    axis = axis_seed % data.ndim
    x = Tensor(data, requires_grad=True)
    out = getattr(x, reduction)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(data, reduction)(axis=axis, keepdims=keepdims))
    assert gradcheck(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x])


# ---- conventions at ties and kinks ----------------------------------------------------------


def test_max_splits_the_gradient_evenly_among_ties() -> None:
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [2.0, 0.0, 2.0]])


def test_min_splits_the_gradient_evenly_among_ties() -> None:
    x = Tensor([1.0, 1.0, 1.0, 5.0], requires_grad=True)
    x.min().backward()
    np.testing.assert_allclose(x.grad, [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_relu_gradient_at_zero_is_zero() -> None:
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])


def test_abs_gradient_at_zero_is_zero() -> None:
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])


def test_getitem_with_repeated_indices_adds_their_gradients() -> None:
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_getitem_with_boolean_mask_routes_gradient_to_selected_elements() -> None:
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    mask = x.data > 0
    (x[mask] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0], [0.0, 2.0]])


def test_pow_exponent_gradient_is_zero_where_base_is_zero() -> None:
    x = Tensor([0.0, 2.0])
    p = Tensor(3.0, requires_grad=True)
    (x**p).sum().backward()
    np.testing.assert_allclose(p.grad, 8.0 * np.log(2.0))


# ---- numerical stability --------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_sigmoid_is_exact_and_silent_at_plus_minus_1000() -> None:
    x = Tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    expected = [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0]
    np.testing.assert_allclose(y.data, expected)
    y.sum().backward()
    assert np.isfinite(x.grad).all()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax_family_is_finite_for_logits_of_plus_minus_1000(method: str) -> None:
    x = Tensor([[1000.0, -1000.0], [999.0, 0.0], [-1000.0, 1000.0]], requires_grad=True)
    y = getattr(x, method)(axis=0)
    assert np.isfinite(y.data).all()
    (y * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    assert np.isfinite(x.grad).all()


def test_log_softmax_equals_log_of_softmax_for_moderate_logits() -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(4, 5)))
    np.testing.assert_allclose(x.log_softmax(axis=0).data, np.log(x.softmax(axis=0).data))


@pytest.mark.filterwarnings("error")
def test_bce_with_logits_is_finite_at_plus_minus_1000() -> None:
    z = Tensor([[-1000.0, 1000.0, 0.0]], requires_grad=True)
    y = Tensor([[1.0, 0.0, 1.0]])
    J = ops.bce_with_logits(z, y)
    np.testing.assert_allclose(J.item(), (1000 + 1000 + np.log(2)) / 3)
    J.backward()
    np.testing.assert_allclose(z.grad, [[-1 / 3, 1 / 3, -1 / 6]])


def test_linear_equals_matmul_plus_bias_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    W, A, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 7)), rng.normal(size=(5, 1))
    np.testing.assert_array_equal(ops.linear(Tensor(W), Tensor(A), Tensor(b)).data, W @ A + b)


# ---- optional comparison with PyTorch ------------------------------------------------------


def test_gradients_agree_with_pytorch_when_installed() -> None:
    torch = import_torch()
    rng = np.random.default_rng(0)
    W, X, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 6)), rng.normal(size=(4, 1))
    Y = (rng.uniform(size=(1, 6)) > 0.5).astype(float)
    V = rng.normal(size=(1, 4))

    def loss_ours():
        w, bb = Tensor(W, requires_grad=True), Tensor(b, requires_grad=True)
        a = (w @ Tensor(X) + bb).tanh()
        p = (Tensor(V) @ a).sigmoid()
        cost = -(Tensor(Y) * p.log() + (1 - Tensor(Y)) * (1 - p).log()).mean()
        cost = cost + a.softmax(axis=0).max() + a.log_softmax(axis=0).mean()
        cost.backward()
        return cost.item(), w.grad, bb.grad

    w = torch.tensor(W, requires_grad=True)
    bb = torch.tensor(b, requires_grad=True)
    a = torch.tanh(w @ torch.tensor(X) + bb)
    p = torch.sigmoid(torch.tensor(V) @ a)
    yt = torch.tensor(Y)
    cost = -(yt * p.log() + (1 - yt) * (1 - p).log()).mean()
    cost = cost + torch.softmax(a, 0).max() + torch.log_softmax(a, 0).mean()
    cost.backward()
    value, gw, gb = loss_ours()
    np.testing.assert_allclose(value, cost.item(), rtol=1e-12)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gb, bb.grad.numpy(), rtol=1e-10, atol=1e-14)

"""The whole engine against central differences, on random computation graphs.

``test_ops.py`` checks every op alone; here hypothesis writes random programs — op after op over
random broadcastable shapes, reusing earlier results (diamonds), reducing, reshaping, indexing,
multiplying matrices where the shapes allow — and :func:`tinygrad_nn.gradcheck` checks the
gradient of the whole program with respect to every input.

How a program is built: the inputs' values are fixed first (from a drawn seed), then every step
is a small function ``nodes -> Tensor`` of the earlier nodes, run once on the real values so the
next step knows the shapes it may use. ``gradcheck`` then replays the steps on perturbed inputs.
Values stay where every op is smooth: inputs are bounded away from 0 (``abs``/``relu`` kinks),
``log``/``sqrt``/division only see expressions like ``x·x + 1``, ``exp`` only sees ``tanh(x)``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinygrad_nn as tg
from tinygrad_nn import Tensor, ops

Step = Callable[[list[Tensor]], Tensor]

FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_SIZE = 64  # elements per node: keeps gradcheck's 2·size forward passes cheap


class Program:
    """Random inputs and the steps that combine them; ``run`` replays the steps."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays
        self.steps: list[tuple[str, Step]] = []

    def sinks(self) -> list[int]:
        """Results no later step uses: the output gathers them all, so every step matters."""
        used = {int(k) for name, _ in self.steps for k in re.findall(r"\bn(\d+)\b", name)}
        n_nodes = len(self.arrays) + len(self.steps)
        return [k for k in range(len(self.arrays), n_nodes) if k not in used]

    def run(self, *inputs: Tensor) -> Tensor:
        nodes = list(inputs)
        for _, step in self.steps:
            nodes.append(step(nodes))
        sinks = self.sinks()
        if len(sinks) == 1:
            return nodes[sinks[0]]
        return tg.concatenate([nodes[k].reshape(-1) for k in sinks])

    def inputs(self, dtype: type = np.float64) -> list[Tensor]:
        return [
            Tensor(a.astype(dtype), requires_grad=True, name=f"x{i}")
            for i, a in enumerate(self.arrays)
        ]

    def _repr_pretty_(self, printer, cycle) -> None:  # what hypothesis prints on failure
        printer.text(repr(self))

    def __repr__(self) -> str:
        shapes = [a.shape for a in self.arrays]
        steps = "; ".join(f"n{k} = {name}" for k, (name, _) in enumerate(self.steps, len(shapes)))
        return f"Program(inputs n0.. of shapes {shapes}: {steps}; output {self.sinks()})"


# --------------------------------------------------------------------------------------------
# steps: each returns (description, step) or None when the node's shape does not allow it
# --------------------------------------------------------------------------------------------

UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "neg": lambda x: -x,
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "abs": lambda x: abs(x),
    "exp(tanh)": lambda x: x.tanh().exp(),
    "log(x²+1)": lambda x: (x * x + 1).log(),
    "sqrt(x²+1)": lambda x: (x * x + 1).sqrt(),
    "x**2": lambda x: x**2,
    "x**3": lambda x: x**3,
    "(x²+1)**-0.5": lambda x: (x * x + 1) ** -0.5,
    "2**tanh": lambda x: 2 ** x.tanh(),
    "scalar arithmetic": lambda x: (3.0 - x * 2.5) / 4 + 1,
    "1/(x²+1)": lambda x: 1 / (x * x + 1),
}

BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 1) ** b.tanh(),
}


def _axes(draw: st.DrawFn, ndim: int) -> int | tuple[int, ...] | None:
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    choice = draw(st.sampled_from(["none", "int", "tuple"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(chosen)


def _pick(draw: st.DrawFn, nodes: list[Tensor]) -> int:
    return draw(st.integers(0, len(nodes) - 1))


def unary_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    name = draw(st.sampled_from(sorted(UNARY)))
    fn = UNARY[name]
    return f"{name}(n{i})", lambda n: fn(n[i])


def binary_step(draw: st.DrawFn, nodes: list[Tensor]):
    i, j = _pick(draw, nodes), _pick(draw, nodes)
    try:
        np.broadcast_shapes(nodes[i].shape, nodes[j].shape)
    except ValueError:
        return None
    name = draw(st.sampled_from([*sorted(BINARY), "numpy operand"]))
    if name == "numpy operand":  # constant arrays on both sides, of another node's shape
        constant = np.linspace(0.5, 1.5, max(nodes[j].size, 1)).reshape(nodes[j].shape)

        def with_constant(n: list[Tensor]) -> Tensor:
            c = constant.astype(n[i].dtype)
            return c * n[i] + n[i] / c

        return f"const{constant.shape} * n{i} + n{i} / const", with_constant
    fn = BINARY[name]
    return f"{name}(n{i}, n{j})", lambda n: fn(n[i], n[j])


def reduce_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    axis = _axes(draw, nodes[i].ndim)
    keepdims = draw(st.booleans())
    name = draw(st.sampled_from(["sum", "mean", "max", "min"]))
    return (
        f"n{i}.{name}(axis={axis}, keepdims={keepdims})",
        lambda n: getattr(n[i], name)(axis=axis, keepdims=keepdims),
    )


def reshape_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    shape, size = nodes[i].shape, nodes[i].size
    targets = [(-1,), (size, 1), (1, size), tuple(reversed(shape)), (1, *shape, 1)]
    if len(shape) >= 2:
        targets.append((shape[0], -1))
    target = draw(st.sampled_from(targets))
    as_varargs = draw(st.booleans())
    if as_varargs:
        return f"n{i}.reshape(*{target})", lambda n: n[i].reshape(*target)
    return f"n{i}.reshape({target})", lambda n: n[i].reshape(target)


def transpose_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    ndim = nodes[i].ndim
    if draw(st.booleans()):
        return f"n{i}.T", lambda n: n[i].T
    order = tuple(draw(st.permutations(range(ndim))))
    return f"n{i}.transpose{order}", lambda n: n[i].transpose(*order)


def getitem_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    shape = nodes[i].shape
    if not shape:
        return f"n{i}[None]", lambda n: n[i][None]
    first = shape[0]
    kind = draw(st.sampled_from(["int", "slice", "ellipsis", "newaxis", "repeats", "mask"]))
    if kind == "int":
        index = draw(st.integers(-first, first - 1))
    elif kind == "slice":
        start = draw(st.integers(0, first - 1))
        step = draw(st.sampled_from([1, 2, -1]))
        index = slice(start, None, step)
    elif kind == "ellipsis":
        last = shape[-1]
        index = (Ellipsis, slice(draw(st.integers(0, last - 1)), None))
    elif kind == "newaxis":
        index = (slice(None), None)
    elif kind == "repeats":  # repeated indices: their gradients must add up
        index = np.array(draw(st.lists(st.integers(-first, first - 1), min_size=1, max_size=5)))
    else:
        mask = np.array(draw(st.lists(st.booleans(), min_size=nodes[i].size,
                                      max_size=nodes[i].size))).reshape(shape)
        if not mask.any():
            mask.flat[0] = True
        index = mask
    return f"n{i}[{index!r}]", lambda n: n[i][index]


def matmul_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    a = nodes[i]
    if a.ndim == 0:
        return None
    partners = [j for j, b in enumerate(nodes) if b.ndim >= 1 and _matmul_fits(a, b)]
    if partners and draw(st.booleans()):
        j = draw(st.sampled_from(partners))
        return f"n{i} @ n{j}", lambda n: n[i] @ n[j]
    if a.ndim == 1:
        return f"n{i} @ n{i}", lambda n: n[i] @ n[i]
    order = (*range(a.ndim - 2), a.ndim - 1, a.ndim - 2)
    return f"n{i} @ n{i}.swap", lambda n: n[i] @ n[i].transpose(*order)


def _matmul_fits(a: Tensor, b: Tensor) -> bool:
    try:
        np.zeros(a.shape) @ np.zeros(b.shape)
    except ValueError:
        return False
    return True


def join_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    same = [j for j, b in enumerate(nodes) if b.shape == nodes[i].shape]
    j = draw(st.sampled_from(same))
    ndim = nodes[i].ndim
    if ndim >= 1 and draw(st.booleans()):
        axis = draw(st.integers(-ndim, ndim - 1))
        return (
            f"concatenate(n{i}, n{j}, axis={axis})",
            lambda n: tg.concatenate([n[i], n[j]], axis=axis),
        )
    axis = draw(st.integers(-ndim - 1, ndim))
    return f"stack(n{i}, n{j}, axis={axis})", lambda n: tg.stack([n[i], n[j]], axis=axis)


def softmax_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    ndim = nodes[i].ndim
    if ndim == 0:
        return None
    axis = draw(st.integers(-ndim, ndim - 1))
    name = draw(st.sampled_from(["softmax", "log_softmax"]))
    return f"n{i}.{name}({axis})", lambda n: getattr(n[i], name)(axis=axis)


def fused_step(draw: st.DrawFn, nodes: list[Tensor]):
    i = _pick(draw, nodes)
    if draw(st.booleans()):
        same = [j for j, b in enumerate(nodes) if b.shape == nodes[i].shape]
        j = draw(st.sampled_from(same))
        return (
            f"bce_with_logits(n{i}, sigmoid(n{j}))",
            lambda n: ops.bce_with_logits(n[i], n[j].sigmoid()),
        )
    if nodes[i].ndim != 2:
        return None
    # Z = W @ A + b in the article's layout: A = Wᵀ (so the shapes fit), b one value per row.
    return (
        f"linear(n{i}, n{i}.T, n{i}.sum(1))",
        lambda n: ops.linear(n[i], n[i].T, n[i].sum(axis=1, keepdims=True)),
    )


STEP_KINDS = [
    unary_step,
    binary_step,
    reduce_step,
    reshape_step,
    transpose_step,
    getitem_step,
    matmul_step,
    join_step,
    softmax_step,
    fused_step,
]


@st.composite
def programs(draw: st.DrawFn, max_steps: int = 7) -> Program:
    n_inputs = draw(st.integers(1, 3))
    shapes = draw(
        mutually_broadcastable_shapes(num_shapes=n_inputs, min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # |x| in [0.3, 1.3]: away from the kinks of abs/relu at 0, small enough that x**3 chains
    # stay well inside float64's comfortable range.
    arrays = [rng.uniform(0.3, 1.3, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
    program = Program(arrays)
    with tg.no_grad():
        nodes = [Tensor(a) for a in arrays]
        for _ in range(draw(st.integers(1, max_steps))):
            made = draw(st.sampled_from(STEP_KINDS))(draw, nodes)
            if made is None:
                continue
            name, step = made
            result = step(nodes)
            if result.size > MAX_SIZE or not np.isfinite(result.data).all():
                continue
            program.steps.append((name, step))
            nodes.append(result)
    if not program.steps:
        program.steps.append(("add(n0, n0)", lambda n: n[0] + n[0]))
    return program


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

@FUZZ
@given(programs())
def test_random_graph_gradients_match_central_differences(program):
    assert tg.gradcheck(program.run, program.inputs())


@FUZZ
@given(programs())
def test_random_graph_backward_with_retain_graph_twice_gives_twice_the_gradients(program):
    inputs = program.inputs()
    out = program.run(*inputs)
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(upstream, retain_graph=True)
    first = [None if t.grad is None else t.grad.copy() for t in inputs]
    out.backward(upstream)
    for once, t in zip(first, inputs, strict=True):
        if once is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad, 2 * once)


@FUZZ
@given(programs())
def test_random_graph_is_released_after_backward_and_refuses_a_second_one(program):
    out = program.run(*program.inputs())
    if out.is_leaf:  # a program whose last step hands back an input unchanged has no graph
        return
    out.backward(np.ones(out.shape))
    assert out.parents == ()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        out.backward(np.ones(out.shape))


@FUZZ
@given(programs(max_steps=5))
def test_random_graph_in_float32_gives_float32_gradients_close_to_float64(program):
    outputs = {}
    for dtype in (np.float64, np.float32):
        inputs = program.inputs(dtype)
        out = program.run(*inputs)
        out.backward(np.ones(out.shape, dtype=dtype))
        outputs[dtype] = (out, inputs)
    out32, inputs32 = outputs[np.float32]
    out64, inputs64 = outputs[np.float64]
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-3, atol=1e-3)
    for t32, t64 in zip(inputs32, inputs64, strict=True):
        if t64.grad is None:
            assert t32.grad is None
            continue
        assert t32.grad.dtype == np.float32
        scale = max(1.0, float(np.abs(t64.grad).max()))
        np.testing.assert_allclose(t32.grad, t64.grad, rtol=1e-2, atol=1e-3 * scale)


@FUZZ
@given(programs())
def test_random_graph_compiled_replays_the_eager_forward_and_backward(program):
    """tinygrad_nn.compile on a random program: every replay gives the eager call's output and
    gradients (the generic ops, gradient sums and ownership of the generated backward)."""
    eager, replayed = (_four_calls(program, compiled) for compiled in (False, True))
    for (out_e, grads_e), (out_c, grads_c) in zip(eager, replayed, strict=True):
        np.testing.assert_allclose(out_c, out_e, rtol=1e-12, atol=1e-12)
        for e, c in zip(grads_e, grads_c, strict=True):
            assert (e is None) == (c is None)
            if e is not None:
                np.testing.assert_allclose(c, e, rtol=1e-12, atol=1e-12)


def _four_calls(program: Program, compiled: bool) -> list[tuple[np.ndarray, list]]:
    """A step (the program, its gradients cleared by hand, backward) called four times, its
    first input an argument of the step with new values at every call (the others are
    parameters)."""
    inputs = program.inputs()
    upstream = np.random.default_rng(1).standard_normal(program.run(*inputs).shape)
    params = inputs[1:]
    if not params:  # a program of one input: it stays a parameter
        params, inputs = inputs, []

    def step(*argument: np.ndarray) -> Tensor:
        out = program.run(*(Tensor(a) for a in argument), *params)
        for t in params:
            t.grad = None
        if out.requires_grad:  # (not when only the argument reaches the output)
            out.backward(upstream)
        return out

    run = tg.compile(step) if compiled else step
    first = program.arrays[0]
    calls = []
    for k in range(4):
        argument = (first * (1.0 + 0.1 * k),) if inputs else ()
        calls.append((run(*argument).data.copy(),
                      [None if t.grad is None else t.grad.copy() for t in params]))
    return calls


# --------------------------------------------------------------------------------------------
# fixed graphs the random ones make rarely: deep reuse, wide fan-out, long diamonds chains
# --------------------------------------------------------------------------------------------


def test_chain_of_diamonds_each_node_used_twice():
    x = Tensor(np.random.default_rng(2).uniform(0.3, 1.3, (2, 3)), requires_grad=True)

    def fn(x):
        y = x
        for _ in range(20):
            y = (y.tanh() + y.sigmoid() * y) / 2
        return y

    assert tg.gradcheck(fn, [x])


def test_one_input_feeding_every_op_kind_at_once():
    rng = np.random.default_rng(3)
    x = Tensor(rng.uniform(0.3, 1.3, (3, 2)), requires_grad=True)
    b = Tensor(rng.uniform(0.3, 1.3, (3, 1)), requires_grad=True)

    def fn(x, b):
        parts = [
            (x + b).sum(axis=0),
            (x @ x.T).max(axis=1),
            x[[0, 0, 2]].mean(axis=1),
            tg.stack([x, x * b], axis=0).min(axis=(0, 2)),
            x.reshape(-1).softmax()[::2],
        ]
        return tg.concatenate([p.reshape(-1) for p in parts])

    assert tg.gradcheck(fn, [x, b])


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_all_pairs_of_a_growing_pool_summed(depth):
    """Every node combined with every other: the gradient of x arrives along many paths."""
    x = Tensor(np.array([0.7, -0.4, 1.1]), requires_grad=True)

    def fn(x):
        pool = [x]
        for _ in range(depth):
            pool = pool + [a * b.tanh() for a, b in itertools.combinations(pool, 2)] + [pool[-1]]
        return sum(pool[1:], pool[0])

    assert tg.gradcheck(fn, [x])


# --------------------------------------------------------------------------------------------
# what the fuzz found (core bugs, now fixed: kept as regression tests)
# --------------------------------------------------------------------------------------------


def test_scalar_used_by_three_consumers_backpropagates():
    x = Tensor(0.5, requires_grad=True)
    ((x + x) + x).backward()
    assert x.grad == 3.0


def test_reduced_value_used_by_three_consumers_backpropagates():
    x = Tensor([0.5, 1.5], requires_grad=True)
    total = x.sum()
    (total * total + total).backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_scalar_leaf_grad_stays_an_array_when_accumulated_across_backward_calls():
    x = Tensor(0.5, requires_grad=True)
    x.exp().backward()
    x.exp().backward()
    assert type(x.grad) is np.ndarray
    assert x.grad.shape == ()


def test_scalar_retained_grad_is_an_array():
    x = Tensor(0.5, requires_grad=True)
    y = (x * 2).retain_grad()
    (y + y).backward()
    assert type(y.grad) is np.ndarray

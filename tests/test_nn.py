"""Specification of tinygrad_nn.nn's modules: Module, Linear and MLP.

With its defaults, MLP is the article's network: same initial weights as the article's
init_params (np.random.seed(3), randn * 0.01 layer after layer), sigmoid on every layer,
parameters W1, b1, W2, b2, ... .
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Tensor, nn, no_grad, ops
from tinygrad_nn.nn import MLP, Linear, Module

try:
    from tinygrad_nn import reference
except ImportError:  # written in parallel by another helper
    reference = None


def article_init_params(layer_dims):
    """The article's init_params, written out here: global seed 3, randn * 0.01, zero biases."""
    np.random.seed(3)
    params = {}
    for l in range(1, len(layer_dims)):  # noqa: E741
        params["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        params["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return params


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------------------------
# MLP: the article's network
# ---------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=5))
def test_default_mlp_weights_are_the_articles_seed_3_stream(layer_dims):
    expected = article_init_params(layer_dims)
    state = MLP(layer_dims).state_dict()
    assert list(state) == list(expected)
    for name in expected:
        assert state[name].dtype == np.float64
        np.testing.assert_array_equal(state[name], expected[name])


@pytest.mark.skipif(reference is None, reason="tinygrad_nn.reference not written yet")
def test_default_mlp_weights_equal_reference_init_params():
    layer_dims = [4, 5, 3, 1]
    expected = reference.init_params(layer_dims)
    state = MLP(layer_dims).state_dict()
    assert sorted(state) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(state[name], expected[name])


def test_mlp_leaves_numpys_global_random_stream_alone():
    np.random.seed(123)
    expected_next = np.random.RandomState(123).randn(3)
    MLP([5, 4, 1])
    np.testing.assert_array_equal(np.random.randn(3), expected_next)


def test_float32_mlp_weights_are_the_float64_stream_rounded():
    state64 = MLP([3, 4, 2]).state_dict()
    state32 = MLP([3, 4, 2], dtype=np.float32).state_dict()
    for name, value in state32.items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, state64[name].astype(np.float32))


def test_another_seed_gives_other_weights():
    assert not np.array_equal(MLP([3, 4, 1], seed=4).W1.data, MLP([3, 4, 1]).W1.data)


def test_parameters_are_ordered_W1_b1_W2_b2_with_the_articles_names():
    model = MLP([2, 4, 3, 1])
    names = [name for name, _ in model.named_parameters()]
    assert names == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p.name for p in model.parameters()] == names
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [p.shape for p in model.parameters()] == [(4, 2), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1)]


def test_parameters_are_leaves_that_require_grad():
    assert all(p.is_leaf and p.requires_grad for p in MLP([2, 3, 1]).parameters())


def test_W_and_b_attributes_are_the_layers_tensors():
    model = MLP([2, 3, 1])
    assert model.W1 is model.layers[0].W and model.b2 is model.layers[1].b
    with pytest.raises(AttributeError):
        _ = model.W3


def test_mlp_keeps_its_arguments_as_attributes():
    model = MLP([2, 3, 1], activation="tanh", seed=7, dtype=np.float32, output_activation="none")
    assert model.layer_dims == [2, 3, 1]
    assert (model.activation, model.init, model.seed) == ("tanh", "xavier", 7)
    assert (model.output_activation, model.dtype, model.n_layers) == ("none", np.float32, 2)


def test_default_mlp_output_equals_the_articles_forward_prop():
    X = np.random.default_rng(0).standard_normal((3, 6))
    params = article_init_params([3, 4, 2, 1])
    A = X
    for l in range(1, 4):  # noqa: E741
        A = sigmoid(params[f"W{l}"] @ A + params[f"b{l}"])
    out = MLP([3, 4, 2, 1])(X)
    assert out.op == "sigmoid"
    np.testing.assert_allclose(out.data, A, rtol=1e-14, atol=0)


@pytest.mark.skipif(reference is None, reason="tinygrad_nn.reference not written yet")
def test_default_mlp_output_equals_reference_forward_prop():
    X = np.random.default_rng(1).standard_normal((3, 5))
    AL, _ = reference.forward_prop(X, reference.init_params([3, 4, 1]))
    np.testing.assert_allclose(MLP([3, 4, 1])(X).data, AL, rtol=1e-14, atol=0)


def test_logits_are_the_last_layers_pre_activation():
    model = MLP([3, 4, 2], activation="relu")
    X = np.random.default_rng(2).standard_normal((3, 5))
    hidden = np.maximum(model.W1.data @ X + model.b1.data, 0)
    Z = model.logits(X)
    assert (Z.op, Z.parents[0].op) == ("add", "matmul")
    np.testing.assert_allclose(Z.data, model.W2.data @ hidden + model.b2.data, rtol=1e-14)
    np.testing.assert_allclose(model(X).data, sigmoid(Z.data), rtol=1e-14)


def test_output_activation_none_returns_the_logits():
    model = MLP([3, 4, 3], activation="relu", output_activation="none")
    X = np.ones((3, 2))
    np.testing.assert_array_equal(model(X).data, model.logits(X).data)


def linear_input(Z):
    """A in Z = W @ A + b, as Linear records it: add(matmul(W, A), b)."""
    assert (Z.op, Z.parents[0].op) == ("add", "matmul")
    return Z.parents[0].parents[1]


@pytest.mark.parametrize("activation", ops.activations())
def test_hidden_layers_use_any_registered_activation_and_the_output_stays_sigmoid(activation):
    model = MLP([2, 3, 1], activation=activation)
    out = model(np.ones((2, 4)))
    assert out.op == "sigmoid"
    assert linear_input(out.parents[0]).op == activation
    assert model.init == ops.REGISTRY[activation].activation_init


def test_activations_and_default_inits_come_from_the_registry():
    assert nn.ACTIVATIONS == ops.activations()
    assert nn.DEFAULT_INIT == {a: ops.REGISTRY[a].activation_init for a in ops.activations()}


def test_an_activation_registered_later_is_accepted_by_mlp(monkeypatch):
    @ops.op(1, activation_init="xavier")
    def softsign_h3(x):
        """y = x/(1+|x|)   dx = g/(1+|x|)²"""
        return x / (1 + np.abs(x)), lambda g: g / (1 + np.abs(x)) ** 2

    # OpInfo holds no callable: nn.Activation finds an op's function in the ops namespace.
    monkeypatch.setattr(ops, "softsign_h3", softsign_h3, raising=False)
    try:
        assert "softsign_h3" in nn.ACTIVATIONS
        model = MLP([2, 3, 1], activation="softsign_h3")
        assert model.init == "xavier"
        assert linear_input(model(np.ones((2, 4))).parents[0]).op == "softsign_h3"
    finally:
        del ops.REGISTRY["softsign_h3"]


def test_inputs_as_numpy_are_converted_to_the_models_dtype():
    model = MLP([2, 3, 1], dtype=np.float32)
    assert model(np.ones((2, 4), dtype=np.float64)).dtype == np.float32
    assert model(np.ones((2, 4), dtype=np.int64)).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# initialisation scales
# ---------------------------------------------------------------------------------------------


def test_relu_gets_he_init_by_default():
    model = MLP([400, 300, 1], activation="relu", seed=0)
    assert model.init == "he"
    assert model.W1.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert model.W1.data.mean() == pytest.approx(0, abs=0.002)


def test_tanh_gets_xavier_init_by_default():
    model = MLP([400, 200, 1], activation="tanh", seed=0)
    assert model.init == "xavier"
    assert model.W1.data.std() == pytest.approx(np.sqrt(2 / (400 + 200)), rel=0.02)


def test_init_can_be_overridden():
    model = MLP([400, 300, 1], activation="relu", init="article", seed=0)
    assert model.W1.data.std() == pytest.approx(0.01, rel=0.02)
    he_sigmoid = MLP([400, 300, 1], init="he", seed=0)
    assert he_sigmoid.W1.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)


def test_biases_start_at_zero_for_every_init():
    for init in ("article", "he", "xavier"):
        model = MLP([3, 4, 2], init=init)
        assert not model.b1.data.any() and not model.b2.data.any()


# ---------------------------------------------------------------------------------------------
# scopes (graph pictures cluster by them)
# ---------------------------------------------------------------------------------------------


def test_tensors_made_in_layer_l_carry_scope_layer_l():
    model = MLP([2, 3, 1])
    A2 = model(np.ones((2, 4)))
    Z2 = A2.parents[0]
    A1 = linear_input(Z2)
    Z1 = A1.parents[0]
    assert [A2.scope, Z2.scope, A1.scope, Z1.scope] == ["layer2", "layer2", "layer1", "layer1"]
    assert Z2.parents[0].scope == "layer2"  # the matmul too


def test_parameters_carry_no_scope():
    assert MLP([2, 3, 1]).W1.scope is None


def test_the_logits_path_is_scoped_by_layer_too():
    Z2 = MLP([2, 3, 1]).logits(np.ones((2, 1)))
    assert (Z2.scope, linear_input(Z2).scope) == ("layer2", "layer1")


def test_a_submodule_is_scoped_by_its_attribute_name_nested_under_its_parent():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.body = MLP([2, 3, 1])

        def forward(self, X):
            return self.body(X)

    net = Net()
    net.scope_name = "net"
    assert net(np.ones((2, 1))).scope == "net.body.layer2"
    names = [name for name, _ in net.named_parameters()]
    assert names == ["body.W1", "body.b1", "body.W2", "body.b2"]


def test_scope_is_left_once_the_forward_returns():
    MLP([2, 3, 1])(np.ones((2, 1)))
    assert Tensor([1.0]).scope is None


# ---------------------------------------------------------------------------------------------
# Module mechanics
# ---------------------------------------------------------------------------------------------


class Affine(Module):
    def __init__(self):
        super().__init__()
        self.scale = Tensor([[2.0]], requires_grad=True)
        self.constant = Tensor([[5.0]])  # requires no grad: not a parameter
        self.shift = Tensor([[1.0]], requires_grad=True)

    def forward(self, x):
        return self.scale * x + self.shift + self.constant


def test_module_registers_leaf_tensors_that_require_grad_in_assignment_order():
    assert [name for name, _ in Affine().named_parameters()] == ["scale", "shift"]


def test_reassigning_a_parameter_keeps_its_place():
    module = Affine()
    module.scale = Tensor([[3.0]], requires_grad=True)
    assert [name for name, _ in module.named_parameters()] == ["scale", "shift"]
    assert module.parameters()[0] is module.scale


def test_a_non_leaf_tensor_attribute_is_not_a_parameter():
    module = Affine()
    module.cache = module.scale * 2
    assert [name for name, _ in module.named_parameters()] == ["scale", "shift"]


def test_deleting_an_attribute_unregisters_the_parameter():
    module = Affine()
    del module.shift
    assert [name for name, _ in module.named_parameters()] == ["scale"]


def test_a_tensor_shared_by_two_submodules_is_listed_once():
    class Tied(Module):
        def __init__(self):
            super().__init__()
            self.a = Linear(2, 2)
            self.b = Linear(2, 2)
            self.b.W = self.a.W

    assert [name for name, _ in Tied().named_parameters()] == ["a.W", "a.b", "b.b"]


def test_forgetting_super_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.w = Tensor([1.0], requires_grad=True)

    with pytest.raises(RuntimeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        Module()(1)


def test_zero_grad_sets_every_grad_to_none():
    model = MLP([2, 3, 1])
    model(np.ones((2, 4))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_shows_the_configuration():
    assert repr(MLP([2, 3, 1])) == (
        "MLP(layer_dims=[2, 3, 1], activation='sigmoid', seed=3, init='article', "
        "dtype='float64', output_activation='sigmoid')"
    )


# ---------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------------------------


def test_state_dict_holds_copies():
    model = MLP([2, 3, 1])
    state = model.state_dict()
    state["W1"][...] = 7.0
    assert not (model.W1.data == 7.0).any()


def test_state_dict_round_trip_is_exact():
    source, target = MLP([3, 5, 2], seed=0), MLP([3, 5, 2], seed=1)
    target.load_state_dict(source.state_dict())
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


def test_load_state_dict_copies_into_the_same_tensors():
    target = MLP([2, 3, 1], seed=1)
    tensors = target.parameters()
    target.load_state_dict(MLP([2, 3, 1]).state_dict())
    assert all(a is b for a, b in zip(tensors, target.parameters(), strict=True))


def test_load_state_dict_accepts_tensors_as_values():
    source, target = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=1)
    target.load_state_dict(dict(source.named_parameters()))
    np.testing.assert_array_equal(target.W2.data, source.W2.data)


def test_a_graph_built_before_load_state_dict_refuses_backward():
    model = MLP([2, 3, 1], seed=1)
    out = model(np.ones((2, 2))).sum()
    model.load_state_dict(MLP([2, 3, 1]).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("b2"), r"missing: b2"),
        (lambda s: s.update(W3=np.zeros((1, 1))), r"unexpected: W3"),
        (lambda s: s.update(W1=np.zeros((2, 3))), r"W1: shape \(2, 3\), expected \(3, 2\)"),
        (lambda s: s.update(b1=np.zeros((3, 1), "f4")), r"b1: dtype float32, expected float64"),
        (lambda s: s.update(W2=["a", ["b", "c"]]), r"W2: list is not an array"),
    ],
    ids=["missing", "unexpected", "shape", "dtype", "not-an-array"],
)
def test_load_state_dict_names_what_is_wrong_and_loads_nothing(change, message):
    model = MLP([2, 3, 1], seed=1)
    before = model.state_dict()
    state = MLP([2, 3, 1], seed=0).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_lists_every_problem_at_once():
    state = MLP([2, 3, 1]).state_dict()
    del state["W1"]
    state["extra"] = np.zeros(1)
    state["b2"] = np.zeros((2, 2))
    with pytest.raises(ValueError) as error:
        MLP([2, 3, 1]).load_state_dict(state)
    assert all(part in str(error.value) for part in ("missing: W1", "unexpected: extra", "b2:"))


def test_load_state_dict_wants_a_mapping():
    with pytest.raises(TypeError, match="mapping"):
        MLP([2, 3, 1]).load_state_dict([np.zeros((3, 2))])


# ---------------------------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------------------------


def test_linear_computes_W_at_A_plus_b_in_the_articles_layout():
    layer = Linear(3, 2, seed=0)
    with no_grad():
        layer.b += np.array([[1.0], [-1.0]])
    A = np.random.default_rng(0).standard_normal((3, 4))
    Z = layer(A)
    assert (layer.W.shape, layer.b.shape, Z.shape) == ((2, 3), (2, 1), (2, 4))
    np.testing.assert_allclose(Z.data, layer.W.data @ A + layer.b.data, rtol=1e-15)


def test_linear_records_a_matmul_and_an_add_not_the_fused_op():
    layer = Linear(3, 2, seed=0)
    Z = layer(Tensor(np.ones((3, 4))))
    product, bias = Z.parents
    assert (Z.op, product.op, bias is layer.b) == ("add", "matmul", True)
    assert product.parents[0] is layer.W


def test_linear_with_a_random_state_draws_from_it():
    rng = np.random.RandomState(3)
    layer = Linear(2, 3, seed=rng)
    np.random.seed(3)
    np.testing.assert_array_equal(layer.W.data, np.random.randn(3, 2) * 0.01)
    np.testing.assert_array_equal(rng.randn(2), np.random.randn(2))  # the stream moved on


def test_linear_rejects_an_input_with_the_wrong_number_of_rows():
    with pytest.raises(ValueError, match=r"Linear\(n_in=3, n_out=2\).*\(3, m\).*\(4, 5\)"):
        Linear(3, 2)(np.ones((4, 5)))


def test_linear_rejects_a_one_dimensional_input():
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        Linear(3, 2)(np.ones(3))


@pytest.mark.parametrize(("n_in", "n_out", "error"), [(0, 2, ValueError), (2, -1, ValueError),
                                                       (2.0, 2, TypeError), (True, 2, TypeError)])
def test_linear_rejects_bad_sizes(n_in, n_out, error):
    with pytest.raises(error, match="Linear: n_"):
        Linear(n_in, n_out)


# ---------------------------------------------------------------------------------------------
# MLP argument checks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer_dims", "error", "message"),
    [
        ([3], ValueError, "at least 2"),
        ([], ValueError, "at least 2"),
        ([3, 0, 1], ValueError, r"layer_dims\[1\] must be a positive int; got 0"),
        ([3, -2], ValueError, r"layer_dims\[1\]"),
        ([3, 2.5], TypeError, r"layer_dims\[1\] must be a positive int; got float"),
        ("32", TypeError, "sequence of ints"),
        (3, TypeError, "sequence of ints"),
    ],
)
def test_mlp_rejects_bad_layer_dims(layer_dims, error, message):
    with pytest.raises(error, match=message):
        MLP(layer_dims)


def test_mlp_accepts_numpy_ints_in_layer_dims():
    assert MLP(np.array([2, 3, 1])).layer_dims == [2, 3, 1]


def test_unknown_activation_names_the_valid_choices():
    with pytest.raises(ValueError, match=r"MLP.*activation 'softsign'.*'sigmoid'.*'relu'"):
        MLP([2, 3, 1], activation="softsign")


def test_unknown_init_names_the_valid_choices():
    with pytest.raises(ValueError, match=r"init 'kaiming'.*'article', 'he', 'xavier'"):
        MLP([2, 3, 1], init="kaiming")


def test_unknown_output_activation_names_the_valid_choices():
    with pytest.raises(ValueError, match=r"output_activation 'softmax'.*'none'"):
        MLP([2, 3, 1], output_activation="softmax")


@pytest.mark.parametrize(("dtype", "error"), [(np.float16, ValueError), (np.int64, ValueError),
                                              ("not-a-dtype", TypeError)])
def test_mlp_dtype_must_be_float32_or_float64(dtype, error):
    with pytest.raises(error, match="float32 or float64"):
        MLP([2, 3, 1], dtype=dtype)


def test_mlp_rejects_a_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        MLP([2, 3, 1], seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        MLP([2, 3, 1], seed=-1)


def test_mlp_rejects_X_with_the_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\).*got shape \(3, 4\)"):
        MLP([2, 3, 1])(np.ones((3, 4)))


def test_mlp_says_when_X_looks_transposed():
    with pytest.raises(ValueError, match=r"\(5, 2\) \(it looks transposed: pass X.T\)"):
        MLP([2, 3, 1])(np.ones((5, 2)))


def test_mlp_rejects_non_numeric_X():
    with pytest.raises(TypeError, match="MLP input X"):
        MLP([2, 3, 1])(np.array([["a", "b"], ["c", "d"]]))

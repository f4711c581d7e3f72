"""The layers of issue 15 (Sequential, Conv2d, pools, Flatten, Dropout, Embedding, activation
modules, train/eval): shapes, errors, gradcheck in float64, and PyTorch float64 comparisons."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Tensor, gradcheck, nn, ops


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _leaf(array: np.ndarray) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def _grads_after(out: Tensor, upstream: np.ndarray) -> None:
    (out * Tensor(upstream)).sum().backward()


# ---- Sequential -------------------------------------------------------------------------------


def test_sequential_applies_its_modules_in_order():
    first, second = nn.Linear(3, 4, seed=0), nn.Linear(4, 2, seed=1)
    net = nn.Sequential(first, nn.Tanh(), second)
    X = _rng().normal(size=(3, 5))
    expected = second(first(X).tanh()).data
    np.testing.assert_allclose(net(X).data, expected, rtol=0, atol=0)


def test_sequential_names_parameters_by_position_as_pytorch():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2, 1))
    assert [name for name, _ in net.named_parameters()] == ["0.W", "0.b", "3.W", "3.b"]
    assert set(net.state_dict()) == {"0.W", "0.b", "3.W", "3.b"}


def test_sequential_scopes_each_module_by_class_and_position():
    net = nn.Sequential(nn.Linear(2, 2, seed=0), nn.ReLU())
    out = net(np.ones((2, 3)))
    assert out.scope == "relu1"
    assert out.parents[0].scope == "linear0"


def test_sequential_rejects_something_that_is_not_a_module():
    with pytest.raises(TypeError, match=r"Sequential: argument 1 must be a Module.*ufunc"):
        nn.Sequential(nn.ReLU(), np.tanh)


def test_sequential_needs_at_least_one_module():
    with pytest.raises(ValueError, match="Sequential needs at least one module"):
        nn.Sequential()


def test_sequential_supports_len_indexing_and_iteration():
    relu, tanh = nn.ReLU(), nn.Tanh()
    net = nn.Sequential(relu, tanh)
    assert len(net) == 2 and net[1] is tanh and list(net) == [relu, tanh]


# ---- train() / eval() ---------------------------------------------------------------------------


def test_modules_start_in_training_mode():
    assert nn.Linear(2, 1).training and nn.Sequential(nn.Dropout()).training


def test_eval_and_train_reach_every_nested_module():
    inner = nn.Sequential(nn.Dropout(0.5), nn.ReLU())
    outer = nn.Sequential(inner, nn.Linear(2, 2))
    assert outer.eval() is outer
    assert not any(m.training for m in (outer, inner, inner[0], inner[1], outer[1]))
    outer.train()
    assert all(m.training for m in (outer, inner, inner[0], inner[1], outer[1]))


def test_train_refuses_a_mode_that_is_not_a_bool():
    with pytest.raises(TypeError, match=r"train: mode must be a bool; got 'no'"):
        nn.ReLU().train("no")


def test_mlp_has_train_and_eval_too():
    model = nn.MLP([2, 3, 1])
    assert model.eval().training is False and model.layer1.training is False


# ---- Dropout ------------------------------------------------------------------------------------


def test_dropout_zeroes_and_rescales_in_training_mode():
    y = nn.Dropout(0.25, seed=0)(Tensor(np.ones(10_000))).data
    assert set(np.unique(y).tolist()) == {0.0, 1 / 0.75}
    assert abs((y == 0).mean() - 0.25) < 0.02


def test_dropout_is_the_identity_in_eval_mode():
    x = _leaf(_rng().normal(size=(4, 5)))
    layer = nn.Dropout(0.9).eval()
    y = layer(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, x.data)
    np.testing.assert_array_equal(x.grad, np.ones((4, 5)))


def test_dropout_with_the_same_seed_draws_the_same_masks():
    a, b = nn.Dropout(0.5, seed=7), nn.Dropout(0.5, seed=7)
    x = Tensor(np.ones(50))
    for _ in range(3):
        np.testing.assert_array_equal(a(x).data, b(x).data)


def test_dropout_gradient_goes_through_the_kept_elements_only():
    x = _leaf(np.ones(200))
    y = nn.Dropout(0.5, seed=1)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # mask/(1−p), the same as y for x = 1


def test_dropout_rejects_a_probability_outside_zero_to_one():
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\); got 1"):
        nn.Dropout(1)


# ---- activation modules -------------------------------------------------------------------------


def test_there_is_one_activation_module_per_registry_activation():
    classes = nn.activation_modules()
    assert tuple(classes) == ops.activations()
    for name, cls in classes.items():
        assert getattr(nn, cls.__name__) is cls
        assert cls().name == name


def test_activation_modules_use_pytorch_spelling():
    assert {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}.items() <= {
        name: cls.__name__ for name, cls in nn.activation_modules().items()
    }.items()


@pytest.mark.parametrize("name", ops.activations())
def test_each_activation_module_records_its_op(name):
    cls = nn.activation_modules()[name]
    out = cls()(Tensor(np.linspace(-2.0, 2.0, 7)))
    assert out.op == name


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_modules_match_pytorch(name, torch):
    x = _rng(1).normal(size=(3, 4))
    module = nn.activation_modules()[name]()
    ours = module(_leaf(x))
    upstream = _rng(2).normal(size=x.shape)
    t = torch.tensor(x, requires_grad=True)
    expected = getattr(torch, name)(t)
    expected.backward(torch.tensor(upstream))
    leaf = ours.parents[0]
    _grads_after(ours, upstream)
    np.testing.assert_allclose(ours.data, expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(leaf.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_activation_with_an_unknown_name_lists_the_registry_activations():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*'relu'"):
        nn.Activation("swish")


# ---- Conv2d -------------------------------------------------------------------------------------


def test_conv2d_shapes_follow_pytorch_formula():
    layer = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), seed=0)
    assert layer.W.shape == (5, 3, 3, 2) and layer.b.shape == (5, 1, 1)
    # H' = (9 + 2 - 2 - 1)//2 + 1 = 5 ; W' = (7 - 2 - 1)//1 + 1 = 5
    assert layer(np.zeros((2, 3, 9, 7))).shape == (2, 5, 5, 5)


def test_conv2d_he_init_has_the_fan_in_scale():
    layer = nn.Conv2d(8, 64, 3, seed=0)
    assert abs(layer.W.data.std() - np.sqrt(2 / (8 * 9))) < 0.01
    assert not layer.b.data.any()


def test_conv2d_without_bias_has_only_a_weight():
    layer = nn.Conv2d(1, 2, 3, bias=False)
    assert [name for name, _ in layer.named_parameters()] == ["W"]


def test_conv2d_with_the_wrong_number_of_channels_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Conv2d: .*\(N, 3, H, W\).*\(2, 4, 8, 8\)"):
        nn.Conv2d(3, 2, 3)(np.zeros((2, 4, 8, 8)))


def test_conv2d_given_one_image_without_a_batch_axis_says_how_to_add_one():
    with pytest.raises(ValueError, match=r"add a batch axis"):
        nn.Conv2d(1, 2, 3)(np.zeros((1, 8, 8)))


def test_conv2d_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv2d_rejects_a_kernel_size_that_is_not_an_int_or_pair():
    with pytest.raises(TypeError, match=r"Conv2d: kernel_size must be an int or a pair"):
        nn.Conv2d(1, 1, 2.5)


@pytest.mark.parametrize(
    "options",
    [{}, {"stride": 2, "padding": 1}, {"dilation": 2}, {"groups": 2, "padding": (1, 0)}],
    ids=["plain", "stride-padding", "dilation", "groups"],
)
def test_conv2d_gradients_pass_gradcheck(options):
    layer = nn.Conv2d(2, 4, 3, seed=0, **options)
    layer.b.data[:] = _rng(3).normal(size=layer.b.shape)
    x = _leaf(_rng(4).normal(size=(2, 2, 6, 5)))
    assert gradcheck(lambda x, W, b: layer(x), [x, layer.W, layer.b])


@pytest.mark.parametrize(
    "options",
    [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2}, {"groups": 2}],
    ids=["plain", "stride-padding", "dilation", "groups"],
)
def test_conv2d_matches_pytorch_outputs_and_gradients(options, torch):
    layer = nn.Conv2d(4, 6, 3, seed=0, **options)
    layer.b.data[:] = _rng(5).normal(size=layer.b.shape)
    x = _rng(6).normal(size=(3, 4, 7, 8))
    reference = torch.nn.Conv2d(4, 6, 3, dtype=torch.float64, **options)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.W.data))
        reference.bias.copy_(torch.tensor(layer.b.data.reshape(-1)))
    tx = torch.tensor(x, requires_grad=True)
    expected = reference(tx)
    upstream = _rng(7).normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    ours_x = _leaf(x)
    ours = layer(ours_x)
    _grads_after(ours, upstream)
    np.testing.assert_allclose(ours.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, reference.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        layer.b.grad.reshape(-1), reference.bias.grad.numpy(), rtol=1e-10, atol=1e-12
    )


def test_conv2d_float32_layer_gives_float32_outputs():
    layer = nn.Conv2d(1, 2, 3, dtype=np.float32)
    assert layer(np.ones((1, 1, 5, 5))).dtype == np.float32


# ---- pooling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize(
    "options", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}],
    ids=["2x2", "3x3-stride2-pad1"],
)
def test_pooling_matches_pytorch_outputs_and_gradients(cls, options, torch):
    x = _rng(8).normal(size=(2, 3, 7, 6))
    reference = {nn.MaxPool2d: torch.nn.MaxPool2d, nn.AvgPool2d: torch.nn.AvgPool2d}[cls](
        **options
    )
    tx = torch.tensor(x, requires_grad=True)
    expected = reference(tx)
    upstream = _rng(9).normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    ours_x = _leaf(x)
    ours = cls(**options)(ours_x)
    _grads_after(ours, upstream)
    np.testing.assert_allclose(ours.data, expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_pooling_gradients_pass_gradcheck(cls):
    x = _leaf(_rng(10).permutation(48).reshape(1, 3, 4, 4) / 7.0)  # distinct: no max ties
    assert gradcheck(lambda x: cls(2, stride=1)(x), [x])


def test_pooling_stride_defaults_to_the_kernel_size():
    assert nn.MaxPool2d(3).stride == (3, 3)
    assert nn.AvgPool2d(2)(np.zeros((1, 1, 6, 6))).shape == (1, 1, 3, 3)


def test_pooling_an_input_that_is_not_a_batch_of_images_names_the_layer():
    with pytest.raises(ValueError, match=r"MaxPool2d: the input must be a batch of images"):
        nn.MaxPool2d(2)(np.zeros((4, 4)))


# ---- Flatten and a CNN ending in Linear --------------------------------------------------------


def test_flatten_gives_one_column_per_image_in_pytorch_feature_order(torch):
    x = _rng(11).normal(size=(5, 3, 2, 4))
    ours = nn.Flatten()(x)
    assert ours.shape == (24, 5)
    np.testing.assert_array_equal(ours.data, torch.tensor(x).flatten(1).numpy().T)


def test_flatten_needs_a_batch_axis():
    with pytest.raises(ValueError, match=r"Flatten: the input needs a batch axis"):
        nn.Flatten()(np.zeros(3))


def _small_cnn(seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=seed),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 3 * 3, 3, init="he", seed=seed + 1),
    )


def test_a_cnn_ending_in_linear_needs_no_transpose_and_feeds_cross_entropy():
    net = _small_cnn()
    logits = net(_rng(12).normal(size=(6, 1, 6, 6)))
    assert logits.shape == (3, 6)  # (classes, N): the layout cross_entropy expects
    nn.cross_entropy(logits, np.array([0, 1, 2, 0, 1, 2])).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_a_small_cnn_passes_gradcheck():
    net = _small_cnn()
    x = _leaf(_rng(13).normal(size=(2, 1, 6, 6)))
    params = net.parameters()
    assert gradcheck(lambda x, *p: net(x), [x, *params])


def test_a_small_cnn_matches_pytorch_with_the_same_weights(torch):
    net = _small_cnn()
    x = _rng(14).normal(size=(5, 1, 6, 6))
    labels = np.array([0, 2, 1, 1, 0])
    F = torch.nn
    reference = F.Sequential(
        F.Conv2d(1, 4, 3, padding=1), F.ReLU(), F.MaxPool2d(2), F.Flatten(), F.Linear(36, 3)
    ).double()
    with torch.no_grad():
        reference[0].weight.copy_(torch.tensor(net[0].W.data))
        reference[0].bias.copy_(torch.tensor(net[0].b.data.reshape(-1)))
        reference[4].weight.copy_(torch.tensor(net[4].W.data))
        reference[4].bias.copy_(torch.tensor(net[4].b.data.reshape(-1)))
    expected_loss = F.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(labels))
    expected_loss.backward()
    loss = nn.cross_entropy(net(x), labels)
    loss.backward()
    assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-12)
    np.testing.assert_allclose(net[0].W.grad, reference[0].weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(net[4].W.grad, reference[4].weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        net[4].b.grad.reshape(-1), reference[4].bias.grad.numpy(), rtol=1e-9, atol=1e-15
    )


# ---- Embedding ----------------------------------------------------------------------------------


def test_embedding_returns_one_column_per_index():
    table = nn.Embedding(6, 4, seed=0)
    out = table(np.array([5, 0, 3]))
    np.testing.assert_array_equal(out.data, table.W.data[:, [5, 0, 3]])
    assert table(np.zeros((2, 7), dtype=int)).shape == (4, 2, 7)


def test_embedding_repeated_indices_add_up_their_gradients():
    table = nn.Embedding(3, 2, seed=0)
    table(np.array([1, 1, 1, 2])).sum().backward()
    np.testing.assert_array_equal(table.W.grad, [[0.0, 3.0, 1.0], [0.0, 3.0, 1.0]])


def test_embedding_matches_pytorch_with_the_transposed_weight(torch):
    table = nn.Embedding(7, 3, seed=1)
    indices = np.array([[0, 6, 6], [2, 0, 5]])
    reference = torch.nn.Embedding(7, 3, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(table.W.data.T))
    expected = reference(torch.tensor(indices))  # (2, 3, d)
    upstream = _rng(15).normal(size=tuple(expected.shape))
    expected.backward(torch.tensor(upstream))
    ours = table(indices)  # (d, 2, 3)
    _grads_after(ours, np.moveaxis(upstream, -1, 0))
    np.testing.assert_array_equal(np.moveaxis(ours.data, 0, -1), expected.detach().numpy())
    np.testing.assert_allclose(table.W.grad.T, reference.weight.grad.numpy(), rtol=1e-12)


def test_embedding_gradients_pass_gradcheck():
    table = nn.Embedding(4, 3, seed=2)
    assert gradcheck(lambda W: table(np.array([3, 1, 3])), [table.W])


def test_embedding_rejects_an_index_outside_the_table():
    with pytest.raises(ValueError, match=r"Embedding\(num_embeddings=4\): .*\[0, 4\); got 4"):
        nn.Embedding(4, 2)(np.array([0, 4]))


def test_embedding_rejects_float_indices():
    with pytest.raises(TypeError, match=r"Embedding: indices must be integers.*float64"):
        nn.Embedding(4, 2)(np.array([0.0, 1.0]))


# ---- LayerNorm, BatchNorm1d, BatchNorm2d --------------------------------------------------------


def _set_affine(layer, seed: int) -> None:
    layer.gamma.data[:] = 1.0 + 0.5 * _rng(seed).normal(size=layer.gamma.shape)
    layer.beta.data[:] = _rng(seed + 1).normal(size=layer.beta.shape)


def _torch_norm(torch, kind: str, n: int):
    reference = {
        "layer": torch.nn.LayerNorm, "bn1": torch.nn.BatchNorm1d, "bn2": torch.nn.BatchNorm2d
    }[kind](n, dtype=torch.float64)
    return reference


_NORMS = {
    # kind: (our class, our input shape, to torch's layout, back to ours)
    "layer": (nn.LayerNorm, (5, 7), lambda a: a.T, lambda a: a.T),
    "bn1": (nn.BatchNorm1d, (5, 7), lambda a: a.T, lambda a: a.T),
    "bn2": (nn.BatchNorm2d, (4, 5, 3, 3), lambda a: a, lambda a: a),
}


@pytest.mark.parametrize("kind", list(_NORMS))
def test_norm_layers_match_pytorch_in_training_mode(kind, torch):
    cls, shape, to_torch, back = _NORMS[kind]
    layer = cls(5)
    _set_affine(layer, 20)
    reference = _torch_norm(torch, kind, 5)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.gamma.data.reshape(-1)))
        reference.bias.copy_(torch.tensor(layer.beta.data.reshape(-1)))
    x = _rng(22).normal(2.0, 3.0, size=shape)
    upstream = _rng(23).normal(size=shape)
    tx = torch.tensor(to_torch(x), requires_grad=True)
    expected = reference(tx)
    expected.backward(torch.tensor(to_torch(upstream)))
    ours_x = _leaf(x)
    ours = layer(ours_x)
    _grads_after(ours, upstream)
    np.testing.assert_allclose(ours.data, back(expected.detach().numpy()), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_x.grad, back(tx.grad.numpy()), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        layer.gamma.grad.reshape(-1), reference.weight.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        layer.beta.grad.reshape(-1), reference.bias.grad.numpy(), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("kind", ["bn1", "bn2"])
def test_batch_norm_running_statistics_and_eval_mode_match_pytorch(kind, torch):
    cls, shape, to_torch, back = _NORMS[kind]
    layer = cls(5, momentum=0.3)
    reference = _torch_norm(torch, kind, 5)
    reference.momentum = 0.3
    for step in range(3):
        x = _rng(30 + step).normal(1.0 + step, 2.0, size=shape)
        layer(x)
        reference(torch.tensor(to_torch(x)))
    np.testing.assert_allclose(layer.running_mean.reshape(-1), reference.running_mean.numpy())
    np.testing.assert_allclose(layer.running_var.reshape(-1), reference.running_var.numpy())
    layer.eval()
    reference.eval()
    x = _rng(40).normal(size=shape)
    np.testing.assert_allclose(
        layer(x).data, back(reference(torch.tensor(to_torch(x))).detach().numpy()), rtol=1e-12
    )


def test_batch_norm_in_eval_mode_does_not_update_its_running_statistics():
    layer = nn.BatchNorm2d(2)
    layer(_rng(41).normal(size=(3, 2, 2, 2)))
    before = layer.running_mean.copy(), layer.running_var.copy()
    layer.eval()(_rng(42).normal(5.0, size=(3, 2, 2, 2)))
    np.testing.assert_array_equal(layer.running_mean, before[0])
    np.testing.assert_array_equal(layer.running_var, before[1])


def _trained_batch_norm() -> nn.Sequential:
    net = nn.Sequential(nn.BatchNorm2d(2))
    for seed in (60, 61, 62):
        net(_rng(seed).normal(3.0, 2.0, size=(4, 2, 3, 3)))
    return net


def test_batch_norm_running_statistics_are_buffers_in_the_state_dict_not_parameters():
    net = _trained_batch_norm()
    state = net.state_dict()
    assert list(state) == ["0.gamma", "0.beta", "0.running_mean", "0.running_var"]
    np.testing.assert_array_equal(state["0.running_mean"], net[0].running_mean)
    assert state["0.running_mean"] is not net[0].running_mean  # a copy
    assert [p.name for p in net.parameters()] == ["gamma", "beta"]


def test_a_model_loaded_from_a_state_dict_evaluates_like_the_trained_one():
    net, fresh = _trained_batch_norm(), nn.Sequential(nn.BatchNorm2d(2))
    fresh.load_state_dict(net.state_dict())
    x = _rng(63).normal(size=(2, 2, 3, 3))
    np.testing.assert_array_equal(fresh.eval()(x).data, net.eval()(x).data)


def test_a_saved_model_keeps_its_running_statistics(tmp_path):
    net = _trained_batch_norm()
    path = tmp_path / "bn.npz"
    net.save(path)
    arrays, metadata = nn.load_arrays(path)
    assert metadata["buffers"] == ["0.running_mean", "0.running_var"]
    fresh = nn.Sequential(nn.BatchNorm2d(2))
    fresh.load_state_dict(arrays)
    np.testing.assert_array_equal(fresh[0].running_var, net[0].running_var)


def test_load_state_dict_refuses_a_running_statistic_of_another_shape_and_loads_nothing():
    net, fresh = _trained_batch_norm(), nn.Sequential(nn.BatchNorm2d(2))
    state = net.state_dict()
    state["0.running_var"] = np.ones((3, 1, 1))
    with pytest.raises(ValueError, match=r"0\.running_var.*\(3, 1, 1\).*\(2, 1, 1\)"):
        fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh[0].running_mean, np.zeros((2, 1, 1)))  # not loaded


def test_load_state_dict_names_a_missing_running_statistic():
    state = _trained_batch_norm().state_dict()
    del state["0.running_mean"]
    with pytest.raises(ValueError, match=r"missing.*0\.running_mean"):
        nn.Sequential(nn.BatchNorm2d(2)).load_state_dict(state)


def test_batch_norm_without_running_statistics_has_no_buffers_in_its_state_dict():
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["gamma", "beta"]


def test_a_buffer_takes_only_an_array_or_none():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match=r"running_mean is a buffer.*ndarray.*list"):
        layer.running_mean = [0.0, 0.0, 0.0]
    layer.running_mean = None
    assert [name for name, _ in layer.named_buffers()] == ["running_var"]


def test_register_buffer_refuses_a_parameter_name():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"'gamma' is already a parameter"):
        layer.register_buffer("gamma", np.zeros(3))


@pytest.mark.parametrize("kind", list(_NORMS))
def test_norm_layers_pass_gradcheck(kind):
    cls, shape, _, _ = _NORMS[kind]
    layer = cls(5)
    _set_affine(layer, 50)
    x = _leaf(_rng(51).normal(size=shape))
    assert gradcheck(lambda x, g, b: layer(x), [x, layer.gamma, layer.beta])


def test_batch_norm_eval_mode_gradient_passes_gradcheck():
    layer = nn.BatchNorm1d(3)
    layer(_rng(52).normal(size=(3, 6)))
    layer.eval()
    x = _leaf(_rng(53).normal(size=(3, 4)))
    assert gradcheck(lambda x, g, b: layer(x), [x, layer.gamma, layer.beta])


def test_batch_norm_with_the_wrong_number_of_channels_names_the_layout():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(num_features=3\).*\(N, 3, H, W\).*\(2, 4"):
        nn.BatchNorm2d(3)(np.zeros((2, 4, 5, 5)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(num_features=3\).*\(3, m\)"):
        nn.BatchNorm1d(3)(np.zeros((4, 3)))


def test_batch_norm_training_on_one_value_per_channel_is_refused():
    with pytest.raises(ValueError, match=r"BatchNorm1d: training needs more than one value"):
        nn.BatchNorm1d(3)(np.zeros((3, 1)))


def test_layer_norm_without_affine_has_no_parameters():
    assert nn.LayerNorm(4, affine=False).parameters() == []


def test_batch_norm_momentum_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match=r"BatchNorm2d: momentum must be a number in \[0, 1\]"):
        nn.BatchNorm2d(3, momentum=1.5)


def test_compiling_a_step_that_updates_batch_norm_running_statistics_is_an_error():
    # the tracer cannot see numpy work on the buffers: a replay would freeze them silently
    import tinygrad_nn as tg

    net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.BatchNorm1d(4))
    step = tg.compile(lambda x: net(x).sum())
    x = _rng(70).normal(size=(3, 8))
    step(x)  # the first call runs eagerly
    with pytest.raises(tg.CompileError, match=r"BatchNorm1d.*running statistics.*eval\(\)"):
        step(x)


def test_a_compiled_step_may_use_batch_norm_in_eval_mode():
    import tinygrad_nn as tg

    net = nn.Sequential(nn.Linear(3, 4, seed=0), _trained_batch_norm_1d())
    net.eval()
    step = tg.compile(lambda x: net(x).sum())
    x = _rng(71).normal(size=(3, 8))
    eager = net(x).sum().item()
    assert [step(x).item() for _ in range(4)] == pytest.approx([eager] * 4, rel=1e-12)
    assert step.replays == 2


def _trained_batch_norm_1d() -> nn.BatchNorm1d:
    layer = nn.BatchNorm1d(4)
    layer(_rng(72).normal(2.0, size=(4, 10)))
    return layer


def test_a_compiled_step_is_traced_again_after_its_modules_switch_to_eval_mode():
    import tinygrad_nn as tg

    net = nn.Sequential(nn.Linear(3, 6, seed=0), nn.Dropout(0.5, seed=0))
    step = tg.compile(lambda x: net(x).sum())
    x = np.ones((3, 4))
    for _ in range(3):
        step(x)  # eager, traced (Dropout on), replayed
    net.eval()
    expected = net(x).sum().item()  # Dropout off
    assert [step(x).item() for _ in range(3)] == pytest.approx([expected] * 3, rel=1e-12)
    assert step.traces == 2

"""cross_entropy's options (weight, ignore_index, reduction, label_smoothing) and nll_loss,
against PyTorch float64 (values and gradients), with the errors they give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Tensor, gradcheck, nn

K, M = 4, 6
LABELS = np.array([0, 3, 3, 1, 2, 0])
WEIGHT = np.array([0.5, 2.0, 1.0, 0.25])


def _logits(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(K, M)) * 2.0


OPTION_CASES = {
    "plain": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "weight": {"weight": WEIGHT},
    "weight-sum": {"weight": WEIGHT, "reduction": "sum"},
    "ignore": {"ignore_index": 3},
    "ignore-outside": {"ignore_index": -100, "labels": np.array([0, -100, 3, 1, -100, 0])},
    "smoothing": {"label_smoothing": 0.2},
    "all": {"weight": WEIGHT, "ignore_index": 0, "label_smoothing": 0.1},
    "all-none": {"weight": WEIGHT, "ignore_index": 0, "label_smoothing": 0.1, "reduction": "none"},
}


def _torch_options(torch, options: dict) -> dict:
    converted = {k: v for k, v in options.items() if k != "labels"}
    if "weight" in converted:
        converted["weight"] = torch.tensor(converted["weight"])
    return converted


def _compare(torch, ours_fn, torch_fn, options: dict, to_torch_input) -> None:
    labels = options.get("labels", LABELS)
    x = _logits()
    upstream = None
    ours_input = Tensor(x, requires_grad=True)
    ours = ours_fn(ours_input, labels, **{k: v for k, v in options.items() if k != "labels"})
    t = torch.tensor(x.T, requires_grad=True)
    expected = torch_fn(to_torch_input(t), torch.tensor(labels), **_torch_options(torch, options))
    if expected.ndim:
        upstream = np.random.default_rng(1).normal(size=tuple(expected.shape))
        expected.backward(torch.tensor(upstream))
        (ours * Tensor(upstream)).sum().backward()
    else:
        expected.backward()
        ours.backward()
    np.testing.assert_allclose(ours.data, expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours_input.grad, t.grad.numpy().T, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("options", OPTION_CASES.values(), ids=OPTION_CASES.keys())
def test_cross_entropy_options_match_pytorch(options, torch):
    _compare(torch, nn.cross_entropy, torch.nn.functional.cross_entropy, options, lambda t: t)


@pytest.mark.parametrize(
    "options",
    [v for k, v in OPTION_CASES.items() if "label_smoothing" not in v],
    ids=[k for k, v in OPTION_CASES.items() if "label_smoothing" not in v],
)
def test_nll_loss_matches_pytorch(options, torch):
    _compare(
        torch,
        lambda x, y, **o: nn.nll_loss(x.log_softmax(axis=0), y, **o),
        torch.nn.functional.nll_loss,
        options,
        lambda t: t.log_softmax(dim=1),
    )


def test_cross_entropy_with_soft_labels_and_options_matches_pytorch(torch):
    probabilities = np.random.default_rng(2).dirichlet(np.ones(K), size=M).T  # (K, M)
    x = _logits(3)
    ours_input = Tensor(x, requires_grad=True)
    ours = nn.cross_entropy(ours_input, probabilities, weight=WEIGHT, label_smoothing=0.3)
    ours.backward()
    t = torch.tensor(x.T, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(
        t, torch.tensor(probabilities.T), weight=torch.tensor(WEIGHT), label_smoothing=0.3
    )
    expected.backward()
    assert ours.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(ours_input.grad, t.grad.numpy().T, rtol=1e-10)


@pytest.mark.parametrize("options", OPTION_CASES.values(), ids=OPTION_CASES.keys())
def test_cross_entropy_options_pass_gradcheck(options):
    labels = options.get("labels", LABELS)
    rest = {k: v for k, v in options.items() if k != "labels"}
    x = Tensor(_logits(4), requires_grad=True)
    assert gradcheck(lambda z: nn.cross_entropy(z, labels, **rest), [x])


@settings(max_examples=30, deadline=None)
@given(
    smoothing=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_per_example_losses_add_up_to_the_sum_and_mean(smoothing, seed):
    x = Tensor(np.random.default_rng(seed).normal(size=(K, M)))
    each = nn.cross_entropy(x, LABELS, reduction="none", label_smoothing=smoothing).data
    total = nn.cross_entropy(x, LABELS, reduction="sum", label_smoothing=smoothing).item()
    mean = nn.cross_entropy(x, LABELS, label_smoothing=smoothing).item()
    assert each.shape == (M,) and (each >= 0).all()
    assert total == pytest.approx(each.sum(), rel=1e-12)
    assert mean == pytest.approx(total / M, rel=1e-12)


def test_ignored_examples_get_no_gradient():
    x = Tensor(_logits(5), requires_grad=True)
    nn.cross_entropy(x, LABELS, ignore_index=3).backward()
    assert not x.grad[:, LABELS == 3].any()
    assert x.grad[:, LABELS != 3].any(axis=0).all()


def test_an_unknown_reduction_lists_the_choices():
    with pytest.raises(ValueError, match=r"cross_entropy: unknown reduction 'avg'.*'mean'"):
        nn.cross_entropy(Tensor(_logits()), LABELS, reduction="avg")


def test_a_weight_of_the_wrong_length_names_the_number_of_classes():
    with pytest.raises(ValueError, match=r"cross_entropy: weight must hold one number per class, "
                                         r"shape \(4,\); got shape \(3,\)"):
        nn.cross_entropy(Tensor(_logits()), LABELS, weight=[1.0, 1.0, 1.0])


def test_a_negative_class_weight_is_refused():
    with pytest.raises(ValueError, match=r"weight must be finite and >= 0"):
        nn.cross_entropy(Tensor(_logits()), LABELS, weight=[1.0, -1.0, 1.0, 1.0])


def test_label_smoothing_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]; got 1.5"):
        nn.cross_entropy(Tensor(_logits()), LABELS, label_smoothing=1.5)


def test_a_mean_over_only_ignored_examples_is_refused_not_nan():
    with pytest.raises(ValueError, match=r"every label is ignore_index -1.*reduction='sum'"):
        nn.cross_entropy(Tensor(_logits()), -np.ones(M, dtype=int), ignore_index=-1)


def test_ignore_index_with_probability_labels_is_refused():
    probabilities = np.full((K, M), 1.0 / K)
    with pytest.raises(ValueError, match=r"ignore_index applies to class indices"):
        nn.cross_entropy(Tensor(_logits()), probabilities, ignore_index=0)


def test_labels_outside_the_classes_still_fail_unless_ignored():
    with pytest.raises(ValueError, match=r"cross_entropy: labels must be integer class indices"):
        nn.cross_entropy(Tensor(_logits()), np.array([0, 1, 2, 3, 0, -100]))


def test_nll_loss_errors_name_nll_loss():
    with pytest.raises(ValueError, match=r"nll_loss: labels must be integer class indices"):
        nn.nll_loss(Tensor(_logits()), np.array([0, 1, 2, 3, 0, 7]))
    with pytest.raises(ValueError, match=r"nll_loss: log_probs must have shape \(k, m\)"):
        nn.nll_loss(Tensor(np.zeros(3)), np.array([0]))

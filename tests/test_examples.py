"""The examples reach what their docstrings promise, with their default settings.

Each example's ``main`` is what ``python examples/<name>.py`` runs; these tests call it with the
same settings (the progress bar off) and check the accuracy target of issue 15.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tinygrad_nn import gradcheck

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_digits_mlp_reaches_97_percent_test_accuracy(capsys):
    accuracy = _example("digits_mlp").main(progress=False)
    assert accuracy >= 0.97
    assert "test accuracy" in capsys.readouterr().out


def test_digits_cnn_reaches_98_percent_test_accuracy(capsys):
    accuracy = _example("digits_cnn").main(progress=False)
    assert accuracy >= 0.98
    assert "test accuracy" in capsys.readouterr().out


def test_digits_cnn_stays_in_training_mode_after_measuring_accuracy():
    example = _example("digits_cnn")
    model = example.make_cnn(0)
    example.accuracy(model, example.images(np.zeros((64, 3))), np.zeros(3, dtype=int))
    assert model.training


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_example_runs_as_a_script_with_a_progress_bar(name, tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--epochs", "1"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch" in result.stderr  # tqdm writes its bar to stderr
    assert "test accuracy" in result.stdout


def test_char_rnn_loss_falls_well_below_a_uniform_guess_and_samples_print(capsys):
    losses = _example("char_rnn").main(iterations=150, progress=False, samples=1)
    out = capsys.readouterr().out
    assert losses[0] > 3.0  # ln 30 = 3.40: the untrained network guesses about uniformly
    assert np.mean(losses[-20:]) < 2.2
    assert "step 150, loss" in out and "'the " in out


def test_char_rnn_backpropagation_through_time_passes_gradcheck():
    example = _example("char_rnn")
    model = example.CharRNN(vocab_size=5, embedding_dim=3, hidden=4, seed=1)
    sequences = np.array([[0, 3, 3, 1, 4], [2, 2, 0, 4, 1]])
    params = model.parameters()
    assert len(params) == 7  # embedding, and W, b of the three Linear layers
    assert gradcheck(lambda *p: model(sequences), params)

"""Specification of the ``tinygrad-nn`` command (tinygrad_nn.cli), run end to end.

Every run writes into pytest's temporary folder and trains for a few epochs only. Most runs call
``main([...])`` in-process; a few run ``python -m tinygrad_nn`` and the console script as real
subprocesses, as a user would.
"""

import argparse
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn
from tinygrad_nn import cli, data, nn
from tinygrad_nn.cli import build_parser, main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OUTPUT_FILES = {
    "training_step.svg",
    "training_step.dot",
    "cost_history.png",
    "decision_boundary.png",
    "training.gif",
    "model.npz",
    "cost_history.csv",
    "cost_history.json",
}  # what demo writes; train writes the animation only with --animate
TRAIN_FILES = OUTPUT_FILES - {"training.gif"}
DEMO_EPOCHS = 5
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot program is not installed")


def run(*argv):
    """``main(argv)`` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = main([str(arg) for arg in argv])
    return status, out.getvalue(), err.getvalue()


def run_subprocess(*argv, env=None):
    return subprocess.run(
        [sys.executable, "-m", "tinygrad_nn", *map(str, argv)],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    content = Path(path).read_bytes()
    assert content[:8] == PNG_SIGNATURE
    assert content[12:16] == b"IHDR"
    return struct.unpack(">II", content[16:24])


def svg_texts(path):
    """Every piece of text in an SVG (parsing it as XML on the way)."""
    tree = ET.parse(path)
    return [text.strip() for text in (element.text for element in tree.iter())
            if text and text.strip()]


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def assert_one_line_error(stderr):
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("tinygrad-nn: error: ")


@pytest.fixture
def hidden_dot(tmp_path_factory, monkeypatch):
    """PATH set to an empty folder: Graphviz's dot cannot be found."""
    empty = tmp_path_factory.mktemp("bin-without-dot")
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    return empty


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One short demo run shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("demo") / "out"
    status, stdout, stderr = run("demo", "--out", out, "--epochs", DEMO_EPOCHS, "--quiet")
    assert status == 0, stderr
    return argparse.Namespace(out=out, stdout=stdout, stderr=stderr)


def article_training(epochs):
    """The demo's problem trained by tinygrad_nn.train, the article's train() on the engine."""
    X, Y = data.load(cli.DEMO_DATASET, m=cli.DEMO_SAMPLES, seed=cli.TRAIN_DEFAULTS["seed"])
    X_train, Y_train, _, _ = data.train_test_split(
        X, Y, test_fraction=cli.TEST_FRACTION, seed=cli.TRAIN_DEFAULTS["seed"]
    )
    return tinygrad_nn.train(X_train, Y_train, list(cli.DEMO_LAYERS), epochs, cli.DEMO_LR)


@pytest.mark.skipif(not HAVE_DOT, reason="without dot there is no SVG")
def test_demo_writes_every_output_file(demo):
    assert {path.name for path in demo.out.iterdir()} == OUTPUT_FILES


def test_demo_prints_where_each_file_went(demo):
    for path in demo.out.iterdir():
        assert str(path) in demo.stdout


def test_demo_prints_the_crosscheck_table_and_the_accuracy(demo):
    assert "crosscheck: engine (loss.backward()) vs the article's backprop" in demo.stdout
    for row in ("dW1", "db1", "dZ1*", "dA0*", "dW3", "db3", "dZ3*", "dA2*"):
        assert f"\n{row} " in demo.stdout
    assert "max_error" in demo.stdout and ": ok" in demo.stdout
    assert "accuracy: train " in demo.stdout and ", test " in demo.stdout


def test_demo_trains_the_article_network_with_the_article_gradient_descent(demo):
    params, cost_history = article_training(DEMO_EPOCHS)
    model = nn.load(demo.out / "model.npz")
    assert model.layer_dims == list(cli.DEMO_LAYERS)
    assert model.activation == "sigmoid" and model.output_activation == "sigmoid"
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, params[name], rtol=1e-12, atol=0)
    recorded = json.loads((demo.out / "cost_history.json").read_text())["cost_history"]
    np.testing.assert_allclose(recorded, cost_history, rtol=1e-12, atol=0)


@needs_dot
def test_demo_graph_svg_is_xml_naming_ops_parameters_and_backward_rules(demo):
    texts = svg_texts(demo.out / "training_step.svg")
    # The ops the article writes (issue 13: the graph records what was written, nothing fused).
    for expected in ("matmul", "add", "sigmoid", "log", "mean", "W1", "b1", "W3", "X", "Y",
                     "cost", "(4, 2) float64"):
        assert expected in texts, expected
    assert "linear" not in texts and "bce_with_logits" not in texts
    assert any("·(1−" in text for text in texts)  # sigmoid's rule, g·y·(1−y) in the graph's names
    # Drawn from the step's backward(retain_graph=True): the parameters show their gradients.
    assert any(text.startswith("grad") for text in texts)


def test_demo_writes_an_animation_of_the_training_under_2_mb(demo):
    from PIL import Image

    gif = demo.out / "training.gif"
    assert gif.stat().st_size <= 2_000_000
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == DEMO_EPOCHS


def test_demo_with_no_animation_writes_no_gif(tmp_path):
    status, _, stderr = run("demo", "--out", tmp_path, "--epochs", 2, "--quiet",
                            "--no-animation")
    assert status == 0, stderr
    assert not (tmp_path / "training.gif").exists()


def test_train_with_animate_writes_the_animation(tmp_path):
    from PIL import Image

    status, stdout, stderr = run("train", "--dataset", "spirals", "--epochs", 4, "--animate",
                                 "--quiet", "--out", tmp_path)
    assert status == 0, stderr
    assert "training.gif" in stdout
    with Image.open(tmp_path / "training.gif") as image:
        assert image.n_frames == 4


def test_demo_dot_file_holds_the_graph_text(demo):
    dot = (demo.out / "training_step.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph")
    assert "W1" in dot and "sigmoid" in dot and "grad" in dot


@pytest.mark.parametrize("name", ["cost_history.png", "decision_boundary.png"])
def test_demo_plots_are_png_images(demo, name):
    width, height = png_size(demo.out / name)
    assert width >= 300 and height >= 200


def test_demo_cost_history_csv_has_a_header_and_one_row_per_epoch(demo):
    rows = read_csv(demo.out / "cost_history.csv")
    assert rows[0] == ["epoch", "cost"]
    assert [int(epoch) for epoch, _ in rows[1:]] == list(range(1, DEMO_EPOCHS + 1))
    recorded = json.loads((demo.out / "cost_history.json").read_text())["cost_history"]
    assert [float(cost) for _, cost in rows[1:]] == recorded


def test_demo_cost_history_json_has_one_cost_per_epoch_and_the_settings(demo):
    record = json.loads((demo.out / "cost_history.json").read_text())
    assert len(record["cost_history"]) == DEMO_EPOCHS
    assert record["config"]["layers"] == list(cli.DEMO_LAYERS)
    assert record["config"]["optimizer"] == "sgd" and record["config"]["lr"] == cli.DEMO_LR
    assert 0.0 <= record["train_accuracy"] <= 1.0 and 0.0 <= record["test_accuracy"] <= 1.0


def test_demo_with_its_default_epochs_learns_the_problem(tmp_path):
    status, _, stderr = run("demo", "--out", tmp_path, "--quiet")
    assert status == 0, stderr
    record = json.loads((tmp_path / "cost_history.json").read_text())
    assert len(record["cost_history"]) == cli.DEMO_EPOCHS
    assert record["train_accuracy"] >= 0.95 and record["test_accuracy"] >= 0.9


def test_every_output_file_is_written_through_the_atomic_writer(tmp_path, monkeypatch):
    written = []
    atomic_write = tinygrad_nn.io.atomic_write

    def recording(path, content):
        written.append(Path(path).name)
        atomic_write(path, content)

    monkeypatch.setattr(tinygrad_nn.io, "atomic_write", recording)
    status, _, stderr = run("demo", "--out", tmp_path, "--epochs", 2, "--quiet")
    assert status == 0, stderr
    assert sorted(written) == sorted(path.name for path in tmp_path.iterdir())


def test_a_file_that_cannot_be_written_is_one_line_and_exit_status_1(tmp_path, monkeypatch):
    def full_disk(path, content):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(tinygrad_nn.io, "atomic_write", full_disk)
    status, _, stderr = run("demo", "--out", tmp_path, "--epochs", 2, "--quiet")
    assert status == 1
    assert_one_line_error(stderr)
    assert "No space left on device" in stderr


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_train_with_each_optimizer_writes_every_output_and_lowers_the_cost(tmp_path, optimizer):
    status, _, stderr = run(
        "train", "--dataset", "moons", "--layers", "2,8,8,1", "--optimizer", optimizer,
        "--epochs", 30, "--out", tmp_path, "--quiet",
    )
    assert status == 0, stderr
    assert TRAIN_FILES - {"training_step.svg"} <= {path.name for path in tmp_path.iterdir()}
    assert not (tmp_path / "training.gif").exists()
    record = json.loads((tmp_path / "cost_history.json").read_text())
    assert record["config"]["optimizer"] == optimizer
    assert len(record["cost_history"]) == 30
    assert record["cost_history"][-1] < record["cost_history"][0]


def test_train_sgd_with_momentum_records_it(tmp_path):
    status, _, stderr = run(
        "train", "--optimizer", "sgd", "--momentum", 0.9, "--lr", 0.1, "--epochs", 5,
        "--out", tmp_path, "--quiet",
    )
    assert status == 0, stderr
    record = json.loads((tmp_path / "cost_history.json").read_text())
    assert record["config"]["momentum"] == 0.9 and record["config"]["lr"] == 0.1


@pytest.mark.parametrize("dataset", ["article", "xor", "circles"])
def test_train_runs_on_every_two_class_dataset(tmp_path, dataset):
    status, _, stderr = run(
        "train", "--dataset", dataset, "--samples", 60, "--epochs", 3, "--out", tmp_path,
        "--quiet",
    )
    assert status == 0, stderr
    assert nn.load(tmp_path / "model.npz").layer_dims == [2, 16, 16, 1]


def test_train_on_spirals_learns_three_classes_with_a_softmax_output(tmp_path):
    status, stdout, stderr = run(
        "train", "--dataset", "spirals", "--layers", "2,16,3", "--epochs", 20,
        "--out", tmp_path, "--quiet",
    )
    assert status == 0, stderr
    model = nn.load(tmp_path / "model.npz")
    assert model.layer_dims == [2, 16, 3] and model.output_activation == "none"
    assert model(np.zeros((2, 5))).shape == (3, 5)
    record = json.loads((tmp_path / "cost_history.json").read_text())
    assert record["config"]["classes"] == 3
    assert record["cost_history"][-1] < record["cost_history"][0]
    png_size(tmp_path / "decision_boundary.png")
    assert "crosscheck: skipped" in stdout


def test_train_spirals_with_more_classes_needs_as_many_output_units(tmp_path):
    status, _, stderr = run(
        "train", "--dataset", "spirals", "--classes", 4, "--layers", "2,8,4", "--epochs", 2,
        "--out", tmp_path, "--quiet",
    )
    assert status == 0, stderr
    assert json.loads((tmp_path / "cost_history.json").read_text())["config"]["classes"] == 4


def test_train_with_sigmoid_layers_prints_the_crosscheck(tmp_path):
    status, stdout, _ = run(
        "train", "--activation", "sigmoid", "--layers", "2,3,1", "--epochs", 2,
        "--out", tmp_path, "--quiet",
    )
    assert status == 0
    assert "dW1" in stdout and "max_error" in stdout


def test_train_with_relu_layers_says_the_crosscheck_does_not_apply(tmp_path):
    status, stdout, _ = run(
        "train", "--activation", "relu", "--epochs", 2, "--out", tmp_path, "--quiet"
    )
    assert status == 0
    assert "crosscheck: skipped" in stdout and "relu" in stdout


def test_training_that_diverges_stops_with_one_line_and_exit_status_1(tmp_path):
    status, _, stderr = run(
        "train", "--optimizer", "sgd", "--lr", "1e300", "--activation", "relu", "--epochs", 10,
        "--out", tmp_path, "--quiet",
    )
    assert status == 1
    assert_one_line_error(stderr)
    assert "diverged" in stderr


# ---------------------------------------------------------------------------------------------
# graph
# ---------------------------------------------------------------------------------------------


@needs_dot
def test_graph_writes_the_svg_and_the_dot_into_out(tmp_path):
    status, stdout, stderr = run("graph", "--out", tmp_path)
    assert status == 0, stderr
    assert {path.name for path in tmp_path.iterdir()} == {"training_step.svg", "training_step.dot"}
    texts = svg_texts(tmp_path / "training_step.svg")
    assert "W1" in texts and "sigmoid" in texts and "matmul" in texts
    assert str(tmp_path / "training_step.svg") in stdout


@needs_dot
def test_graph_output_file_takes_its_format_from_the_suffix(tmp_path):
    target = tmp_path / "pictures" / "step.png"
    status, _, stderr = run("graph", "--layers", "2,3,1", "--activation", "tanh",
                            "--output", target)
    assert status == 0, stderr
    png_size(target)
    assert (tmp_path / "pictures" / "step.dot").exists()


@needs_dot
def test_graph_of_a_spirals_network_shows_the_softmax_loss(tmp_path):
    status, _, stderr = run("graph", "--dataset", "spirals", "--layers", "2,5,3",
                            "--samples", 30, "--out", tmp_path)
    assert status == 0, stderr
    assert "log_softmax" in svg_texts(tmp_path / "training_step.svg")


def test_graph_format_dot_needs_no_graphviz(tmp_path, hidden_dot):
    status, _, stderr = run("graph", "--format", "dot", "--out", tmp_path)
    assert status == 0, stderr
    assert [path.name for path in tmp_path.iterdir()] == ["training_step.dot"]
    assert (tmp_path / "training_step.dot").read_text(encoding="utf-8").startswith("digraph")


# ---------------------------------------------------------------------------------------------
# without Graphviz's dot
# ---------------------------------------------------------------------------------------------


def test_demo_without_dot_finishes_writes_the_dot_and_says_how_to_get_the_svg(
    tmp_path, hidden_dot
):
    status, stdout, stderr = run("demo", "--out", tmp_path, "--epochs", 2, "--quiet")
    assert status == 0, stderr
    assert {path.name for path in tmp_path.iterdir()} == OUTPUT_FILES - {"training_step.svg"}
    dot_path = tmp_path / "training_step.dot"
    assert dot_path.read_text(encoding="utf-8").startswith("digraph")
    hint = [line for line in stdout.splitlines() if "Graphviz" in line]
    assert len(hint) == 1
    assert "apt-get install graphviz" in hint[0]
    assert f"dot -Tsvg {dot_path} -o {tmp_path / 'training_step.svg'}" in hint[0]


def test_graph_without_dot_writes_the_dot_and_fails_in_one_line(tmp_path, hidden_dot):
    status, _, stderr = run("graph", "--out", tmp_path)
    assert status == 1
    assert_one_line_error(stderr)
    assert "apt-get install graphviz" in stderr
    assert (tmp_path / "training_step.dot").exists()


# ---------------------------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ["train", "--layers", "2,0,1"],
    ["train", "--layers", "2,x,1"],
    ["train", "--layers", "2"],
    ["train", "--layers", "3,4,1"],
    ["train", "--layers", "2,4,2"],
    ["train", "--dataset", "spirals", "--layers", "2,8,1"],
    ["train", "--dataset", "spirals", "--classes", "1", "--layers", "2,8,1"],
    ["train", "--classes", "3"],
    ["train", "--lr", "-1"],
    ["train", "--lr", "0"],
    ["train", "--lr", "nan"],
    ["train", "--epochs", "-5"],
    ["train", "--epochs", "0"],
    ["train", "--epochs", "2.5"],
    ["train", "--dataset", "mnist"],
    ["train", "--activation", "no-such-activation"],
    ["train", "--optimizer", "rmsprop"],
    ["train", "--optimizer", "sgd", "--momentum", "1.5"],
    ["train", "--optimizer", "adam", "--momentum", "0.9"],
    ["train", "--samples", "1"],
    ["train", "--dataset", "xor", "--samples", "3"],
    ["train", "--noise", "-0.1"],
    ["train", "--seed", "-1"],
    ["train", "--unknown-option"],
    ["demo", "--epochs", "-1"],
    ["demo", "extra"],
    ["graph", "--output", "picture.txt"],
    ["graph", "--output", "picture.png", "--format", "svg"],
    ["graph", "--format", "gif"],
    ["frobnicate"],
    [],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=" ".join)
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run(*argv)
    assert status == 2
    assert_one_line_error(stderr)
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_an_out_folder_that_cannot_be_created_is_a_bad_argument(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    status, _, stderr = run("train", "--epochs", 1, "--out", a_file / "out", "--quiet")
    assert status == 2
    assert_one_line_error(stderr)
    assert "--out" in stderr


def test_bad_arguments_from_a_subprocess_exit_2_without_a_traceback(tmp_path):
    result = run_subprocess("train", "--layers", "2,0,1", "--out", tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr)


# ---------------------------------------------------------------------------------------------
# --help and --version
# ---------------------------------------------------------------------------------------------


def subcommand_parsers():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


@pytest.mark.parametrize("command", ["demo", "train", "graph"])
def test_help_documents_every_option_with_its_default(command):
    status, stdout, _ = run(command, "--help")
    assert status == 0
    for action in subcommand_parsers()[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        for option in action.option_strings:
            assert option in stdout, option
        assert "default" in action.help, action.option_strings


def test_help_lists_the_commands():
    status, stdout, _ = run("--help")
    assert status == 0
    for command in ("demo", "train", "graph", "--version"):
        assert command in stdout


def test_version_prints_the_package_version():
    status, stdout, _ = run("--version")
    assert status == 0
    assert stdout.strip() == f"tinygrad-nn {tinygrad_nn.__version__}"


# ---------------------------------------------------------------------------------------------
# as a real process
# ---------------------------------------------------------------------------------------------


def test_python_m_tinygrad_nn_runs_the_demo_with_a_progress_bar_showing_the_cost(tmp_path):
    result = run_subprocess("demo", "--out", tmp_path, "--epochs", 3)
    assert result.returncode == 0, result.stderr
    assert "wrote:" in result.stdout and "crosscheck" in result.stdout
    assert "cost=" in result.stderr and "3/3" in result.stderr  # tqdm, on stderr
    assert "Traceback" not in result.stderr
    assert {"model.npz", "cost_history.csv", "training_step.dot"} <= set(os.listdir(tmp_path))


def test_quiet_turns_the_progress_bar_off(tmp_path):
    result = run_subprocess("demo", "--out", tmp_path, "--epochs", 3, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_console_script_is_installed_and_runs():
    script = Path(sys.executable).parent / "tinygrad-nn"
    if not script.exists():
        pytest.skip("the package is not installed as a console script in this environment")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"tinygrad-nn {tinygrad_nn.__version__}"


# ---------------------------------------------------------------------------------------------
# output folders: never two runs in one folder
# ---------------------------------------------------------------------------------------------


def test_demo_and_train_default_to_different_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("demo", "--epochs", 1, "--quiet")[0] == 0
    assert run("train", "--epochs", 1, "--layers", "2,4,1", "--quiet")[0] == 0
    demo_record = json.loads((tmp_path / "out" / "demo" / "cost_history.json").read_text())
    train_record = json.loads((tmp_path / "out" / "train" / "cost_history.json").read_text())
    assert (demo_record["config"]["command"], train_record["config"]["command"]) == (
        "demo", "train"
    )


def test_a_run_into_a_previous_runs_folder_replaces_it_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "training.gif").write_bytes(b"GIF89a, an older run's")  # this run does not write it
    (out / "model.npz").write_bytes(b"older")
    status, _, stderr = run("demo", "--out", out, "--epochs", 1, "--quiet", "--no-animation")
    assert status == 0, stderr
    assert not (out / "training.gif").exists()
    assert nn.load(out / "model.npz").layer_dims == list(cli.DEMO_LAYERS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


def test_an_interrupted_run_leaves_the_previous_run_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run("demo", "--out", out, "--epochs", 1, "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tinygrad_nn.viz, "plot_decision_boundary", interrupted)
    status, _, stderr = run("demo", "--out", out, "--epochs", 3, "--quiet")
    assert status == 130 and "interrupted" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path):
    (tmp_path / "thesis.tex").write_text("my work")
    status, _, stderr = run("demo", "--out", tmp_path, "--epochs", 1, "--quiet")
    assert status == 2
    assert_one_line_error(stderr)
    assert "--out" in stderr and "thesis.tex" in stderr and "new or empty folder" in stderr
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_graph_refuses_to_draw_into_a_training_runs_folder(tmp_path):
    out = tmp_path / "out"
    assert run("demo", "--out", out, "--epochs", 1, "--quiet")[0] == 0
    picture = (out / "training_step.dot").read_text()
    status, _, stderr = run("graph", "--out", out, "--format", "dot")
    assert status == 2
    assert_one_line_error(stderr)
    assert "training run" in stderr
    assert (out / "training_step.dot").read_text() == picture


def test_a_non_utf8_out_folder_gets_every_file_and_prints_its_name_escaped(tmp_path):
    out = os.fsencode(tmp_path) + b"/caf\xe9"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_nn", "demo", "--epochs", "1", "--quiet", "--out", out],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "caf\\xe9" in result.stdout and "Traceback" not in result.stderr
    expected = OUTPUT_FILES if HAVE_DOT else OUTPUT_FILES - {"training_step.svg"}
    assert set(os.listdir(out)) == {name.encode() for name in expected}


# ---------------------------------------------------------------------------------------------
# out of memory
# ---------------------------------------------------------------------------------------------


def run_with_memory_limit(*argv, limit=2 * 2**30):
    """``python -m tinygrad_nn ARGV`` with its address space capped, so that a huge request
    fails at once with a MemoryError instead of swapping the machine."""
    import resource

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "tinygrad_nn", *map(str, argv)], capture_output=True, text=True,
        timeout=300, check=False, preexec_fn=cap,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS caps memory on Linux")
@pytest.mark.parametrize(
    "argv",
    [["--layers", "2,100000,100000,1"], ["--samples", "1000000000"]],
    ids=["huge layers", "huge samples"],
)
def test_running_out_of_memory_is_one_line_and_exit_status_1(tmp_path, argv):
    result = run_with_memory_limit("train", *argv, "--epochs", 1, "--quiet", "--out",
                                   tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert_one_line_error(result.stderr)
    assert "out of memory" in result.stderr and argv[0] in result.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# what the run says
# ---------------------------------------------------------------------------------------------


def test_the_summary_line_says_how_many_examples_train_and_test_get(tmp_path):
    status, stdout, stderr = run(
        "train", "--samples", 4, "--epochs", 1, "--layers", "2,3,1", "--quiet",
        "--out", tmp_path / "out",
    )
    assert status == 0, stderr
    (line,) = [line for line in stdout.splitlines() if line.startswith("dataset:")]
    assert "4 points" in line and "3 for training" in line and "1 held out" in line


ADD_AN_ACTIVATION = """
import contextlib, importlib.util, io, sys
import numpy as np
from tinygrad_nn import Tensor, nn, ops, viz
from tinygrad_nn.cli import build_parser, main

@ops.op(1, method="bent", activation_init="he")
def bent(x):
    '''y = x + |x|/2   dx = g·(1 + sign(x)/2)'''
    return x + np.abs(x) / 2, lambda g: g * (1 + np.sign(x) / 2)
ops.bent = bent  # where a definition in an ops module (ops/nonlinear.py...) ends up

spec = importlib.util.spec_from_file_location("make_ops_doc", sys.argv[1])
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)
print("docs:", "### bent" in generator.render_ops_doc())
x = Tensor([[1.0, -2.0]], requires_grad=True, name="x")
print("explain:", "·(1 + sign(x)/2)" in str(viz.explain(bent(x).sum())))
print("cli:", build_parser().parse_args(["train", "--activation", "bent"]).activation)
print("mlp:", nn.MLP([2, 3, 1], activation="bent").activation)
with contextlib.redirect_stdout(io.StringIO()):
    status = main(["train", "--activation", "bent", "--epochs", "1", "--layers", "2,3,1",
                   "--quiet", "--out", sys.argv[2]])
print("train:", status)
"""


def test_an_activation_is_one_registered_op_for_docs_explain_the_cli_and_mlp(tmp_path):
    generator = Path(__file__).resolve().parent.parent / "scripts" / "make_ops_doc.py"
    result = subprocess.run(
        [sys.executable, "-c", ADD_AN_ACTIVATION, str(generator), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == [
        "docs: True", "explain: True", "cli: bent", "mlp: bent", "train: 0",
    ]


# ---------------------------------------------------------------------------------------------
# compiled by default, --eager to switch it off
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["demo"], ["train", "--layers", "2,6,1", "--optimizer",
                                                 "adam"]], ids=["demo", "train"])
def test_compiled_and_eager_runs_give_the_same_costs(tmp_path, command):
    histories = {}
    for how in ("compiled", "eager"):
        argv = [*command, "--epochs", 30, "--quiet", "--out", tmp_path / how]
        status, _, stderr = run(*argv, *(["--eager"] if how == "eager" else []))
        assert status == 0, stderr
        record = json.loads((tmp_path / how / "cost_history.json").read_text())
        assert record["config"]["compiled"] is (how == "compiled")
        histories[how] = record["cost_history"]
    np.testing.assert_allclose(histories["compiled"], histories["eager"], rtol=1e-12)


def test_the_run_says_whether_it_was_compiled_and_prints_the_time_per_epoch(tmp_path):
    for flag, how in (([], "compiled, tinygrad_nn.compile"), (["--eager"], "eager")):
        status, stdout, stderr = run("demo", "--epochs", 5, "--quiet", "--out",
                                     tmp_path / str(len(flag)), *flag)
        assert status == 0, stderr
        (line,) = [line for line in stdout.splitlines() if line.startswith("time:")]
        assert "ms per epoch" in line and how in line
        record = json.loads((tmp_path / str(len(flag)) / "cost_history.json").read_text())
        assert record["median_epoch_ms"] > 0


def test_the_output_folder_gets_the_mode_a_new_folder_gets(tmp_path):
    (tmp_path / "plain").mkdir()
    status, _, stderr = run("train", "--epochs", 1, "--layers", "2,3,1", "--quiet",
                            "--out", tmp_path / "out")
    assert status == 0, stderr
    assert (tmp_path / "out").stat().st_mode == (tmp_path / "plain").stat().st_mode

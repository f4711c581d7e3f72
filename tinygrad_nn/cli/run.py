"""The command's work: build the problem, the network and the optimizer, train, report, write.

Examples
--------
>>> from tinygrad_nn.cli.arguments import build_parser, demo_config
>>> from tinygrad_nn.cli.run import build_model, load_problem
>>> config = demo_config(build_parser().parse_args(["demo"]))
>>> problem = load_problem(config)
>>> problem.X_train.shape, build_model(config).layer_dims
((2, 300), [2, 4, 3, 1])
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from tinygrad_nn import data, nn, viz
from tinygrad_nn.cli.arguments import (
    DEFAULT_OUT,
    TEST_FRACTION,
    RunConfig,
    UsageError,
    demo_config,
    graph_config,
    graph_target,
    train_config,
)
from tinygrad_nn.cli.outputs import (
    Report,
    RunError,
    check_output_folder,
    draw,
    make_folder,
    one_line,
    staged_folder,
    write,
)
from tinygrad_nn.compiler import CompileError
from tinygrad_nn.compiler import compile as tn_compile
from tinygrad_nn.optim import SGD, Adam, Optimizer
from tinygrad_nn.tensor import Tensor, no_grad
from tinygrad_nn.training import crosscheck, fit, training_step

__all__ = ["build_model", "load_problem", "run_demo", "run_graph", "run_train"]

#: ``loss(model, X, Y)``: one training step's cost (the model is the run's MLP; typed as
#: training_step takes any Module).
LossFunction = Callable[[Any, Any, Any], Tensor]


@dataclass
class Problem:
    """A dataset split into its training and test parts (examples are columns).

    Examples
    --------
    >>> from tinygrad_nn.cli.arguments import build_parser, train_config
    >>> config = train_config(build_parser().parse_args(["train", "--samples", "8"]))
    >>> problem = load_problem(config)
    >>> problem.X_train.shape[1], problem.X_test.shape[1]
    (6, 2)
    """

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    X: np.ndarray
    Y: np.ndarray


@contextlib.contextmanager
def _bad_values_are_usage_errors(what: str = "") -> Iterator[None]:
    """The library's TypeError/ValueError about a value the user gave -> one-line UsageError."""
    try:
        yield
    except (TypeError, ValueError) as error:
        raise UsageError(f"{what}{one_line(error)}") from error


def load_problem(config: RunConfig) -> Problem:
    """The run's dataset, split into training and test sets (a UsageError if it cannot be made).

    Examples
    --------
    See the module's example.

    >>> from tinygrad_nn.cli.arguments import build_parser, train_config
    >>> args = build_parser().parse_args(["train", "--dataset", "xor", "--samples", "3"])
    >>> load_problem(train_config(args))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_nn.cli.arguments.UsageError: cannot make --dataset xor --samples 3: ...
    """
    options: dict[str, int] = {"k": config.classes} if config.multiclass else {}
    described = f"--dataset {config.dataset}"
    if config.samples is not None:
        described += f" --samples {config.samples}"
    with _bad_values_are_usage_errors(f"cannot make {described}: "):
        X, Y = data.load(config.dataset, m=config.samples, noise=config.noise, seed=config.seed,
                         **options)
        X_train, Y_train, X_test, Y_test = data.train_test_split(
            X, Y, test_fraction=TEST_FRACTION, seed=config.seed
        )
    return Problem(X_train, Y_train, X_test, Y_test, X, Y)


def build_model(config: RunConfig) -> nn.MLP:
    """The run's network: an MLP with the config's layers, activation and seed.

    Examples
    --------
    See the module's example.

    >>> from tinygrad_nn.cli.arguments import build_parser, train_config
    >>> args = build_parser().parse_args(["train", "--activation", "relu"])
    >>> build_model(train_config(args)).activation
    'relu'
    """
    output = "none" if config.multiclass else "sigmoid"
    with _bad_values_are_usage_errors():
        return nn.MLP(config.layers, activation=config.activation, seed=config.seed,
                      output_activation=output)


def _build_optimizer(config: RunConfig, parameters: list[Tensor]) -> Optimizer:
    with _bad_values_are_usage_errors():
        if config.optimizer == "sgd":
            return SGD(parameters, lr=config.lr, momentum=config.momentum)
        return Adam(parameters, lr=config.lr)


def _loss_function(config: RunConfig) -> LossFunction:
    """The demo: the article's cost of the article's output A_L, as the article writes it. train:
    the stable losses of the logits (binary for two classes, softmax for spirals)."""
    if config.multiclass:
        return lambda model, X, Y: nn.cross_entropy(model(X), Y)
    if config.command == "demo":
        return lambda model, X, Y: nn.binary_cross_entropy(model(X), Y)
    return lambda model, X, Y: nn.binary_cross_entropy_with_logits(model.logits(X), Y)


def _training_inputs(config: RunConfig, problem: Problem) -> tuple[Tensor, Any]:
    """The training set as the loss takes it: Tensors, but spirals' integer labels as they are."""
    X = Tensor(problem.X_train, name="X")
    Y = problem.Y_train if config.multiclass else Tensor(problem.Y_train, name="Y")
    return X, Y


def _accuracy(model: nn.MLP, X: np.ndarray, Y: np.ndarray, multiclass: bool) -> float:
    with no_grad():
        scores = model.logits(X).data
    if multiclass:
        return float(np.mean(scores.argmax(axis=0) == Y))
    return float(np.mean((scores > 0) == (Y > 0.5)))


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


class _SilentProgress:
    """What the loop calls on a progress bar, doing nothing."""

    def __enter__(self) -> _SilentProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        pass


def _progress(total: int, enabled: bool, stream: IO[str]) -> Any:
    """A tqdm bar on ``stream``, or a stand-in that does nothing (quiet, or tqdm missing)."""
    if enabled:
        try:
            # tqdm is the viz extra's (the package does not import it): works without it.
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc="training", unit="epoch", file=stream,
                        dynamic_ncols=True, leave=True)
    return _SilentProgress()


@dataclass
class Trained:
    """A finished run: the model, every epoch's cost and time, the first step's parameters and
    graph, and the animation if one was recorded.

    Examples
    --------
    >>> Trained(nn.MLP([2, 1]), [0.69], [0.001], {}, "digraph {}").cost_history
    [0.69]
    """

    model: nn.MLP
    cost_history: list[float]
    epoch_seconds: list[float]
    initial_params: dict[str, np.ndarray]
    step_dot: str
    animation: viz.TrainingAnimation | None = None

    @property
    def median_epoch_ms(self) -> float:
        """The median time of one epoch after the first (the first draws the graph; a compiled
        run traces in its first epochs), in milliseconds.

        Examples
        --------
        >>> Trained(nn.MLP([2, 1]), [0.7, 0.6, 0.5], [9.0, 0.002, 0.004], {}, "").median_epoch_ms
        3.0
        """
        later = self.epoch_seconds[1:] or self.epoch_seconds
        return 1e3 * statistics.median(later)


#: An animation keeps at most this many frames (TrainingAnimation.save's default).
ANIMATION_FRAMES = 60


def _train(
    config: RunConfig, problem: Problem, model: nn.MLP, optimizer: Optimizer, *, progress: bool,
    animate: bool, stderr: IO[str],
) -> Trained:
    """Full-batch training with the shared loop (:func:`tinygrad_nn.training.fit`), through
    tinygrad_nn.compile unless --eager. The first step runs eagerly and keeps its graph (as DOT
    text) for the picture."""
    loss_of = _loss_function(config)
    X, Y = _training_inputs(config, problem)
    initial_params = model.state_dict()
    animation = None
    if animate:
        every = max(1, config.epochs // ANIMATION_FRAMES)
        animation = viz.TrainingAnimation(problem.X, problem.Y, every=every)

    start = time.perf_counter()
    optimizer.zero_grad()
    first = loss_of(model, X, Y)
    first.name = "cost"
    first.backward(retain_graph=True)  # keep the first step's graph until it is drawn
    step_dot = viz.to_dot(first, legend=True)
    optimizer.step()
    first_cost, first_seconds = first.item(), time.perf_counter() - start
    del first

    step = training_step(model, optimizer, loss_of)
    # two cores where a step is big enough to split (the command may retune the process)
    later_steps = tn_compile(step, threads=2) if config.compiled else step
    # A diverging run overflows on its way to NaN; the check below says so in one line, so
    # numpy's warnings would only repeat it as noise.
    with _progress(config.epochs, progress, stderr) as bar, np.errstate(over="ignore",
                                                                          invalid="ignore"):

        def after_epoch(epoch: int, cost: float) -> None:
            if not math.isfinite(cost):
                raise RunError(
                    f"training diverged: the cost is {cost} at epoch {epoch + 1}; try a smaller "
                    f"--lr (it is {config.lr:g})"
                )
            if animation is not None:
                animation.record(model, cost)
            bar.set_postfix_str(f"cost={cost:.4f}", refresh=False)
            bar.update()

        after_epoch(0, first_cost)
        try:
            history = fit(later_steps, X, Y, config.epochs - 1,
                          callback=lambda epoch, cost: after_epoch(epoch + 1, cost))
        except CompileError as error:
            raise RunError(
                f"tinygrad_nn.compile cannot replay this step: {one_line(error)}; run with "
                "--eager"
            ) from error
    return Trained(model, [first_cost, *history.cost_history],
                   [first_seconds, *history.epoch_seconds], initial_params, step_dot, animation)


# --------------------------------------------------------------------------------------------
# writing the outputs
# --------------------------------------------------------------------------------------------


def _write_outputs(
    config: RunConfig, problem: Problem, trained: Trained, results: dict[str, float],
    staging: Path, out: Path,
) -> Report:
    """Write every output file of demo and train into ``staging``, listed as in ``out``."""
    report = Report()
    picture = draw(trained.step_dot, staging / "training_step.svg", "svg",
                   shown_as=out / "training_step.svg")
    report.add_picture("graph of the first training step", picture)

    def png(name: str, figure: Any) -> None:
        write(staging / name, lambda file: figure.savefig(file, format="png", dpi=120))

    figure, _ = viz.plot_cost_history(trained.cost_history)
    png("cost_history.png", figure)
    report.add("cost curve", out / "cost_history.png")

    figure, _ = viz.plot_decision_boundary(trained.model, problem.X, problem.Y)
    png("decision_boundary.png", figure)
    report.add("decision boundary", out / "decision_boundary.png")

    if trained.animation is not None:
        with tempfile.TemporaryDirectory(prefix="tinygrad-nn-") as scratch:
            gif = trained.animation.save(Path(scratch) / "training.gif")
            write(staging / "training.gif", gif.read_bytes())
        report.add("training, animated", out / "training.gif")

    trained.model.save(staging / "model.npz")
    report.add("trained parameters", out / "model.npz")

    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["epoch", "cost"])
    for epoch, cost in enumerate(trained.cost_history, start=1):
        writer.writerow([epoch, repr(cost)])  # repr: the shortest text that reads back exactly
    write(staging / "cost_history.csv", table.getvalue())
    report.add("cost history", out / "cost_history.csv")

    record = {"config": asdict(config), **results, "cost_history": trained.cost_history}
    write(staging / "cost_history.json", json.dumps(record, indent=2, allow_nan=False) + "\n")
    report.add("cost history and settings", out / "cost_history.json")
    return report


# --------------------------------------------------------------------------------------------
# the commands
# --------------------------------------------------------------------------------------------


def _describe(config: RunConfig, problem: Problem) -> list[str]:
    output = "softmax output (in the loss)" if config.multiclass else "sigmoid output"
    optimizer = f"{config.optimizer} lr={config.lr:g}"
    if config.momentum:
        optimizer += f" momentum={config.momentum:g}"
    m_train, m_test = problem.X_train.shape[1], problem.X_test.shape[1]
    return [
        f"dataset:  {config.dataset}, {config.classes} classes, {m_train + m_test} points: "
        f"{m_train} for training, {m_test} held out for testing",
        f"network:  {config.layers}, {config.activation} hidden layers, {output}",
        f"training: {optimizer}, {config.epochs} full-batch epochs, "
        + ("compiled (tinygrad_nn.compile)" if config.compiled else "eager (--eager)"),
    ]


def _print_crosscheck(
    config: RunConfig, problem: Problem, trained: Trained, stdout: IO[str]
) -> None:
    if config.multiclass or config.activation != "sigmoid":
        reason = "a softmax output" if config.multiclass else f"{config.activation} hidden layers"
        print(
            f"crosscheck: skipped (the article's formulas are for sigmoid layers and two "
            f"classes; this network has {reason})",
            file=stdout,
        )
        return
    # The first training step, the one the graph shows, with the article's cost composed of
    # Tensor ops (the cost the training used), against the article's backprop.
    report = crosscheck(problem.X_train, problem.Y_train, trained.initial_params)
    print(report, file=stdout)
    if not report.ok:
        raise RunError(
            f"the engine's gradients differ from the article's (largest relative difference "
            f"{report.max_error:.2e}); please report this"
        )


def _run_training(
    config: RunConfig, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]
) -> int:
    out = args.out
    # Everything that can reject an argument runs before anything is created or printed.
    problem = load_problem(config)
    model = build_model(config)
    optimizer = _build_optimizer(config, model.parameters())
    with staged_folder(out, "--out") as staging:
        print("\n".join(_describe(config, problem)), file=stdout, flush=True)
        trained = _train(config, problem, model, optimizer, progress=not args.quiet,
                         animate=args.animate, stderr=stderr)
        history = trained.cost_history
        results = {
            "final_cost": history[-1],
            "train_accuracy": _accuracy(model, problem.X_train, problem.Y_train,
                                        config.multiclass),
            "test_accuracy": _accuracy(model, problem.X_test, problem.Y_test, config.multiclass),
            "median_epoch_ms": trained.median_epoch_ms,
        }
        print(f"cost:     {history[0]:.4f} -> {history[-1]:.4f}", file=stdout)
        how = "compiled, tinygrad_nn.compile" if config.compiled else "eager, op by op"
        print(f"time:     {trained.median_epoch_ms:.3f} ms per epoch (median; {how})",
              file=stdout)
        print(
            f"accuracy: train {results['train_accuracy']:.1%}, "
            f"test {results['test_accuracy']:.1%}",
            file=stdout,
        )
        print(file=stdout)
        _print_crosscheck(config, problem, trained, stdout)
        print(file=stdout)
        report = _write_outputs(config, problem, trained, results, staging, out)
    report.print(stdout)
    return 0


def run_demo(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    """``tinygrad-nn demo``: train the article's network, print the checks, write the files.

    Examples
    --------
    >>> import io, tempfile
    >>> from pathlib import Path
    >>> from tinygrad_nn.cli.arguments import build_parser
    >>> out = Path(tempfile.mkdtemp()) / "demo"
    >>> args = build_parser().parse_args(["demo", "--epochs", "2", "--quiet", "--out", str(out)])
    >>> run_demo(args, io.StringIO(), io.StringIO()), (out / "model.npz").exists()
    (0, True)
    """
    return _run_training(demo_config(args), args, stdout, stderr)


def run_train(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    """``tinygrad-nn train``: as :func:`run_demo` for any dataset, network and optimizer.

    Examples
    --------
    >>> import io, tempfile
    >>> from pathlib import Path
    >>> from tinygrad_nn.cli.arguments import build_parser
    >>> out = Path(tempfile.mkdtemp()) / "train"
    >>> argv = ["train", "--epochs", "2", "--layers", "2,4,1", "--quiet", "--out", str(out)]
    >>> run_train(build_parser().parse_args(argv), io.StringIO(), io.StringIO())
    0
    """
    return _run_training(train_config(args), args, stdout, stderr)


def run_graph(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    """``tinygrad-nn graph``: draw one training step's graph (exit 1 if it cannot be drawn).

    Examples
    --------
    >>> import io, tempfile
    >>> from pathlib import Path
    >>> from tinygrad_nn.cli.arguments import build_parser
    >>> out = Path(tempfile.mkdtemp())
    >>> args = build_parser().parse_args(["graph", "--format", "dot", "--out", str(out)])
    >>> run_graph(args, io.StringIO(), io.StringIO()), (out / "training_step.dot").exists()
    (0, True)
    """
    config = graph_config(args)
    target, fmt = graph_target(args)
    problem = load_problem(config)
    option = "--output" if args.output is not None else "--out"
    check_output_folder(target.parent, option, replace_whole=False)
    make_folder(target.parent, option)

    model = build_model(config)
    X, Y = _training_inputs(config, problem)
    loss = _loss_function(config)(model, X, Y)
    loss.name = "cost"
    loss.backward(retain_graph=True)  # keep the graph: the picture shows the gradients
    picture = draw(viz.to_dot(loss, legend=True), target, fmt)

    report = Report()
    report.add_picture("graph of one training step", picture)
    report.notes.clear()
    report.print(stdout)
    if picture.missing_reason is not None:
        # The picture is this command's only product: without it, the run failed.
        raise RunError(picture.missing_reason)
    return 0


#: The function that runs each command.
COMMANDS = {"demo": run_demo, "train": run_train, "graph": run_graph}
assert set(COMMANDS) == set(DEFAULT_OUT)

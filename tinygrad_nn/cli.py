"""The ``tinygrad-nn`` command: train the article's network and show what backprop did.

Three sub-commands (also ``python -m tinygrad_nn``):

* ``tinygrad-nn demo`` trains the article's network (``[2, 4, 3, 1]``, sigmoid everywhere,
  gradient descent) on the article's kind of two-class problem, prints the cross-check of the
  engine's gradients against the article's formulas and the accuracy, and writes the pictures,
  the parameters and the cost history into ``--out``.
* ``tinygrad-nn train`` does the same for any dataset, network, activation and optimizer.
* ``tinygrad-nn graph`` only draws the graph of one training step.

Exit status: 0 on success; 2 for bad arguments (a one-line ``tinygrad-nn: error: ...`` on
stderr, never a traceback); 1 when the work itself fails (a file cannot be written, training
diverges, or ``graph`` cannot draw its picture because Graphviz's ``dot`` is missing).

Examples
--------
>>> from tinygrad_nn.cli import build_parser
>>> args = build_parser().parse_args(["train", "--dataset", "xor", "--layers", "2,8,1"])
>>> args.dataset, args.layers, args.optimizer
('xor', [2, 8, 1], 'adam')
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import numpy as np

from tinygrad_nn import data
from tinygrad_nn._version import __version__

__all__ = ["build_parser", "main"]

PROG = "tinygrad-nn"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

#: Datasets the command offers; "article" is the article's kind of problem (two blobs).
DATASETS = ("article", "xor", "moons", "circles", "spirals")
ACTIVATIONS = ("sigmoid", "relu", "tanh")
OPTIMIZERS = ("sgd", "adam")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot")

# The demo: the article's network and gradient descent. With the article's tiny initial
# weights (0.01·randn) a sigmoid network sits on a plateau for a few hundred epochs before it
# learns; lr 2 gets it past the plateau and to ~98% accuracy well within 1000 epochs.
DEMO_DATASET = "article"
DEMO_LAYERS = (2, 4, 3, 1)
DEMO_LR = 2.0
DEMO_EPOCHS = 1000
DEMO_SAMPLES = 400

TRAIN_DEFAULTS = {
    "dataset": "moons",
    "hidden": (16, 16),
    "activation": "tanh",
    "optimizer": "adam",
    "lr": {"sgd": 0.5, "adam": 0.01},
    "epochs": 1000,
    "seed": 3,
    "classes": 3,
}
# The picture of the article's network by default: small enough to read every node.
GRAPH_DEFAULTS = {"hidden": DEMO_LAYERS[1:-1], "activation": "sigmoid"}
TEST_FRACTION = 0.25

_INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install -c conda-forge graphviz)"
)


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2.

    Examples
    --------
    >>> from tinygrad_nn.cli import UsageError, build_parser
    >>> try:
    ...     build_parser().parse_args(["train", "--epochs", "0"])
    ... except UsageError as error:
    ...     print(error)
    argument --epochs: must be at least 1, got 0 (see 'tinygrad-nn train --help')
    """


class RunError(Exception):
    """The work failed (not the arguments): reported as one line, exit status 1.

    Examples
    --------
    ``graph`` fails when it cannot draw its picture:

    >>> import contextlib, io, os, tempfile
    >>> from tinygrad_nn.cli import main
    >>> stdout, stderr, path = io.StringIO(), io.StringIO(), os.environ["PATH"]
    >>> os.environ["PATH"] = ""       # as if Graphviz's dot were not installed
    >>> try:
    ...     with tempfile.TemporaryDirectory() as out:
    ...         with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
    ...             status = main(["graph", "--out", out])
    ... finally:
    ...     os.environ["PATH"] = path
    >>> status
    1
    >>> print(stderr.getvalue())  # doctest: +ELLIPSIS
    tinygrad-nn: error: no SVG of the graph: Graphviz's `dot` program is not on PATH. ...
    """


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


# --------------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become :class:`UsageError` (one line, no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value:g}")
    return value


def _non_negative_float(text: str) -> float:
    value = _finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value:g}")
    return value


def _layers(text: str) -> list[int]:
    """``"2,16,16,1"`` -> ``[2, 16, 16, 1]``: at least two sizes, each a positive int."""
    pieces = [piece.strip() for piece in text.split(",")]
    try:
        sizes = [int(piece) for piece in pieces]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 2,16,16,1; got {text!r}"
        ) from None
    if len(sizes) < 2:
        raise argparse.ArgumentTypeError(
            f"needs the input size and at least one layer, like 2,16,1; got {text!r}"
        )
    for index, size in enumerate(sizes):
        if size < 1:
            raise argparse.ArgumentTypeError(
                f"every layer size must be at least 1; size {index} of {text!r} is {size}"
            )
    return sizes


def _add_data_options(parser: argparse.ArgumentParser, default_dataset: str) -> None:
    parser.add_argument(
        "--dataset", choices=DATASETS, default=default_dataset,
        help="the 2-D dataset: article (two Gaussian blobs, the article's kind of problem), "
        "xor, moons, circles (two classes) or spirals (--classes classes) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--samples", type=_positive_int, default=None, metavar="M",
        help="number of examples m, a quarter of them held out as the test set "
        "(default: the dataset's, 400 or 300 for spirals)",
    )
    parser.add_argument(
        "--noise", type=_non_negative_float, default=None,
        help="noise of the dataset (a standard deviation) (default: the dataset's)",
    )
    parser.add_argument(
        "--classes", type=_positive_int, default=None, metavar="K",
        help=f"number of classes of spirals; the last layer needs K units "
        f"(default: {TRAIN_DEFAULTS['classes']})",
    )


def _add_network_options(
    parser: argparse.ArgumentParser, default_layers: str, default_activation: str
) -> None:
    parser.add_argument(
        "--layers", type=_layers, default=None, metavar="SIZES",
        help="layer sizes n_0,n_1,...,n_L: the first is 2 (the points are 2-D), the last 1 for "
        f"two classes or K for spirals (default: {default_layers})",
    )
    parser.add_argument(
        "--activation", choices=ACTIVATIONS, default=default_activation,
        help="activation of the hidden layers; the output layer is a sigmoid for two classes "
        "and a softmax (in the loss) for spirals (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=TRAIN_DEFAULTS["seed"],
        help="seed of the dataset, the train/test split and the initial weights "
        "(default: %(default)s, the article's)",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR",
        help="folder for the output files, created if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true",
        help="no progress bar (default: a progress bar on stderr)",
    )


_OUTPUTS_EPILOG = """\
files written into DIR:
  training_step.svg, .dot   the graph of the first training step, values and gradients
  cost_history.png          the cost curve
  decision_boundary.png     the regions the trained network assigns to each class
  model.npz                 the trained parameters (tinygrad_nn.nn.load reads it)
  cost_history.csv, .json   the cost of every epoch (the JSON also holds the settings)
Without Graphviz's `dot` program the .dot is written and the command says how to get the SVG.
"""


def _paragraph(text: str) -> str:
    # The formatter keeps the epilog's layout as written, so wrap the prose here.
    return textwrap.fill(text, width=79)


def build_parser() -> argparse.ArgumentParser:
    """The ``tinygrad-nn`` argument parser (errors raise :class:`UsageError`).

    Examples
    --------
    >>> args = build_parser().parse_args(["demo", "--epochs", "10", "--quiet"])
    >>> args.command, args.epochs, args.quiet, str(args.out)
    ('demo', 10, True, 'out')
    """
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG,
        description=_paragraph(
            "A small autograd engine on numpy whose loss.backward() reproduces the "
        "backprop of the article 'How to build a neural network from scratch'."
        ),
        epilog="Run 'tinygrad-nn COMMAND --help' for the options of each command.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    demo = commands.add_parser(
        "demo", formatter_class=formatter, epilog=_OUTPUTS_EPILOG,
        help="train the article's network and write its pictures (start here)",
        description=_paragraph(
            f"Train the article's network {list(DEMO_LAYERS)} (sigmoid everywhere, "
        f"gradient descent with lr {DEMO_LR:g}) on {DEMO_SAMPLES} points of two Gaussian "
        "blobs, check the engine's gradients against the article's formulas, print the "
        "accuracy and write the pictures."
        ),
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=DEMO_EPOCHS,
        help="number of full-batch gradient descent steps (default: %(default)s)",
    )
    _add_output_options(demo)
    demo.set_defaults(handler=_run_demo)

    train = commands.add_parser(
        "train", formatter_class=formatter, epilog=_OUTPUTS_EPILOG,
        help="train any configuration and write the same outputs as demo",
        description=_paragraph(
            "Train a network on a built-in 2-D dataset and write the same outputs as demo."
        ),
    )
    _add_data_options(train, TRAIN_DEFAULTS["dataset"])
    _add_network_options(
        train, "2,16,16,1, or 2,16,16,K for spirals", TRAIN_DEFAULTS["activation"]
    )
    train.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=TRAIN_DEFAULTS["optimizer"],
        help="sgd (full-batch gradient descent, the article's) or adam (default: %(default)s)",
    )
    train.add_argument(
        "--lr", type=_positive_float, default=None,
        help="learning rate (default: 0.01 for adam, 0.5 for sgd)",
    )
    train.add_argument(
        "--momentum", type=_finite_float, default=0.0,
        help="momentum of sgd, in [0, 1) (default: %(default)s)",
    )
    train.add_argument(
        "--epochs", type=_positive_int, default=TRAIN_DEFAULTS["epochs"],
        help="number of full-batch steps (default: %(default)s)",
    )
    _add_output_options(train)
    train.set_defaults(handler=_run_train)

    graph = commands.add_parser(
        "graph", formatter_class=formatter,
        help="only draw the graph of one training step",
        description=_paragraph(
            "Draw the graph of one training step (forward, cost, backward) of a "
        "network: every tensor with its values and gradient, every op with its backward rule. "
        "The .dot text is written beside the picture."
        ),
    )
    _add_data_options(graph, DEMO_DATASET)
    _add_network_options(
        graph, "the article's 2,4,3,1, or 2,4,3,K for spirals", GRAPH_DEFAULTS["activation"]
    )
    where = graph.add_mutually_exclusive_group()
    where.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="write DIR/training_step.FORMAT (default: out/training_step.svg)",
    )
    where.add_argument(
        "--output", type=Path, default=None, metavar="FILE",
        help="write the picture to FILE instead, its suffix giving the format unless --format "
        "is given (default: none, --out decides)",
    )
    graph.add_argument(
        "--format", choices=GRAPH_FORMATS, default=None,
        help="picture format; dot writes only the DOT text, which needs no Graphviz "
        "(default: svg, or FILE's suffix)",
    )
    graph.set_defaults(handler=_run_graph)
    return parser


# --------------------------------------------------------------------------------------------
# the configuration of a run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run depends on (written into cost_history.json).

    Examples
    --------
    >>> config = RunConfig(
    ...     command="train", dataset="moons", samples=None, noise=None, classes=2,
    ...     layers=[2, 16, 16, 1], activation="tanh", optimizer="adam", lr=0.01,
    ...     momentum=0.0, epochs=1000, seed=3,
    ... )
    >>> config.layers, config.multiclass
    ([2, 16, 16, 1], False)
    """

    command: str
    dataset: str
    samples: int | None
    noise: float | None
    classes: int  # 2 for the two-class datasets
    layers: list[int]
    activation: str
    optimizer: str
    lr: float
    momentum: float
    epochs: int
    seed: int

    @property
    def multiclass(self) -> bool:
        """True for spirals, the one dataset with K classes (softmax cross-entropy, no sigmoid).

        Examples
        --------
        >>> config = RunConfig(
        ...     command="train", dataset="spirals", samples=None, noise=None, classes=3,
        ...     layers=[2, 16, 16, 3], activation="tanh", optimizer="adam", lr=0.01,
        ...     momentum=0.0, epochs=1000, seed=3,
        ... )
        >>> config.multiclass
        True
        """
        return self.dataset == "spirals"


def _classes_and_layers(
    args: argparse.Namespace, hidden: Sequence[int]
) -> tuple[int, list[int]]:
    """The number of classes and the checked layer sizes, or a UsageError saying what's wrong."""
    if args.dataset == "spirals":
        classes = TRAIN_DEFAULTS["classes"] if args.classes is None else args.classes
        if classes < 2:
            raise UsageError(f"argument --classes: spirals needs at least 2 classes, got {classes}")
    else:
        if args.classes is not None:
            raise UsageError(
                f"argument --classes: only spirals has a choice of classes; {args.dataset} has 2"
            )
        classes = 2
    output_size = classes if args.dataset == "spirals" else 1
    layers = args.layers
    if layers is None:
        layers = [2, *hidden, output_size]
    text = ",".join(map(str, layers))
    if layers[0] != 2:
        raise UsageError(
            f"argument --layers: the first size is the number of input features, which is 2 "
            f"(the datasets are 2-D points); got {text}"
        )
    if layers[-1] != output_size:
        if args.dataset == "spirals":
            need = f"{output_size} units, one per class of spirals (--classes {classes})"
        else:
            need = f"1 unit, the probability of class 1 ({args.dataset} has two classes)"
        raise UsageError(f"argument --layers: the last layer needs {need}; got {text}")
    return classes, list(layers)


def _train_config(args: argparse.Namespace) -> RunConfig:
    classes, layers = _classes_and_layers(args, TRAIN_DEFAULTS["hidden"])
    if args.optimizer != "sgd" and args.momentum != 0.0:
        raise UsageError("argument --momentum: applies to --optimizer sgd only")
    lr = TRAIN_DEFAULTS["lr"][args.optimizer] if args.lr is None else args.lr
    return RunConfig(
        command="train", dataset=args.dataset, samples=args.samples, noise=args.noise,
        classes=classes, layers=layers, activation=args.activation, optimizer=args.optimizer,
        lr=lr, momentum=args.momentum, epochs=args.epochs, seed=args.seed,
    )


def _demo_config(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        command="demo", dataset=DEMO_DATASET, samples=DEMO_SAMPLES, noise=None, classes=2,
        layers=list(DEMO_LAYERS), activation="sigmoid", optimizer="sgd", lr=DEMO_LR,
        momentum=0.0, epochs=args.epochs, seed=TRAIN_DEFAULTS["seed"],
    )


# --------------------------------------------------------------------------------------------
# building the pieces (library ValueErrors here are bad arguments)
# --------------------------------------------------------------------------------------------


@dataclass
class _Problem:
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
        raise UsageError(f"{what}{_one_line(error)}") from error


def _load_problem(config: RunConfig) -> _Problem:
    options: dict[str, Any] = {"k": config.classes} if config.multiclass else {}
    described = f"--dataset {config.dataset}"
    if config.samples is not None:
        described += f" --samples {config.samples}"
    with _bad_values_are_usage_errors(f"cannot make {described}: "):
        X, Y = data.load(config.dataset, m=config.samples, noise=config.noise, seed=config.seed,
                         **options)
        X_train, Y_train, X_test, Y_test = data.train_test_split(
            X, Y, test_fraction=TEST_FRACTION, seed=config.seed
        )
    return _Problem(X_train, Y_train, X_test, Y_test, X, Y)


def _build_model(config: RunConfig) -> Any:
    from tinygrad_nn.nn import MLP

    output = "none" if config.multiclass else "sigmoid"
    with _bad_values_are_usage_errors():
        return MLP(config.layers, activation=config.activation, seed=config.seed,
                   output_activation=output)


def _build_optimizer(config: RunConfig, parameters: list[Any]) -> Any:
    from tinygrad_nn.optim import SGD, Adam

    with _bad_values_are_usage_errors():
        if config.optimizer == "sgd":
            return SGD(parameters, lr=config.lr, momentum=config.momentum)
        return Adam(parameters, lr=config.lr)


def _loss_function(config: RunConfig) -> Callable[[Any, Any, Any], Any]:
    """``loss(model, X, Y)``: the article's cost for the demo, the stable losses otherwise."""
    from tinygrad_nn import nn

    if config.multiclass:
        return lambda model, X, Y: nn.cross_entropy(model(X), Y)
    if config.command == "demo":
        # The article's cost of the article's output A_L (nn computes it stably from Z_L).
        return lambda model, X, Y: nn.binary_cross_entropy(model(X), Y)
    return lambda model, X, Y: nn.binary_cross_entropy_with_logits(model.logits(X), Y)


def _training_inputs(config: RunConfig, problem: _Problem) -> tuple[Any, Any]:
    """The training set as the loss takes it: Tensors, but spirals' integer labels as they are."""
    from tinygrad_nn.tensor import Tensor

    X = Tensor(problem.X_train, name="X")
    Y = problem.Y_train if config.multiclass else Tensor(problem.Y_train, name="Y")
    return X, Y


def _accuracy(model: Any, X: np.ndarray, Y: np.ndarray, multiclass: bool) -> float:
    from tinygrad_nn.tensor import no_grad

    with no_grad():
        scores = model.logits(X).data
    if multiclass:
        return float(np.mean(scores.argmax(axis=0) == Y))
    return float(np.mean((scores > 0) == (Y > 0.5)))


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


def _progress(total: int, enabled: bool, stream: IO[str]) -> Any:
    """A tqdm bar on ``stream``, or a stand-in that does nothing (quiet, or tqdm missing)."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            return tqdm(total=total, desc="training", unit="epoch", file=stream,
                        dynamic_ncols=True, leave=True)
    return _SilentProgress()


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


@dataclass
class _Trained:
    model: Any
    cost_history: list[float]
    initial_params: dict[str, np.ndarray]
    step_dot: str


def _step_graph(loss: Any) -> str:
    from tinygrad_nn import viz

    return viz.to_dot(loss, legend=True)


def _train(
    config: RunConfig, problem: _Problem, model: Any, optimizer: Any, *, progress: bool,
    stderr: IO[str],
) -> _Trained:
    """Full-batch training; the first step's graph is kept (as DOT text) for the picture."""
    loss_of = _loss_function(config)
    X, Y = _training_inputs(config, problem)
    initial_params = model.state_dict()

    cost_history: list[float] = []
    step_dot = ""
    # A diverging run overflows on its way to NaN; the cost check below says so in one line,
    # so numpy's warnings would only repeat it as noise.
    with _progress(config.epochs, progress, stderr) as bar, np.errstate(over="ignore",
                                                                          invalid="ignore"):
        for epoch in range(1, config.epochs + 1):
            optimizer.zero_grad()
            loss = loss_of(model, X, Y)
            loss.name = "cost"
            cost = loss.item()
            if not math.isfinite(cost):
                raise RunError(
                    f"training diverged: the cost is {cost} at epoch {epoch}; try a smaller --lr "
                    f"(it is {config.lr:g})"
                )
            cost_history.append(cost)
            if epoch == 1:
                # Keep the first step's graph until it is drawn, gradients included.
                loss.backward(retain_graph=True)
                step_dot = _step_graph(loss)
            else:
                loss.backward()
            del loss
            optimizer.step()
            bar.set_postfix_str(f"cost={cost:.4f}", refresh=False)
            bar.update()
    return _Trained(model, cost_history, initial_params, step_dot)


# --------------------------------------------------------------------------------------------
# writing the outputs
# --------------------------------------------------------------------------------------------


def _write(path: Path, content: bytes | str | Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` atomically with the checkpoint writer: all of it or nothing."""
    from tinygrad_nn.io import atomic_write

    atomic_write(path, content)


def _write_png(path: Path, figure: Any) -> None:
    _write(path, lambda file: figure.savefig(file, format="png", dpi=120))


@dataclass
class _Picture:
    """The outcome of drawing a graph: the files written, or why the picture is missing."""

    dot_path: Path
    picture_path: Path | None
    missing_reason: str | None = None


def _draw(dot_text: str, picture_path: Path, fmt: str) -> _Picture:
    """Write ``<picture>.dot`` and, with Graphviz, the picture; both atomically."""
    from tinygrad_nn import viz

    dot_path = picture_path.with_suffix(".dot")
    _write(dot_path, dot_text)
    if fmt == "dot":
        return _Picture(dot_path, None)
    # viz.render writes in place; render into a scratch folder and move the result in whole.
    with tempfile.TemporaryDirectory(prefix="tinygrad-nn-") as scratch:
        try:
            drawn = viz.render(dot_text, Path(scratch) / f"graph.{fmt}", format=fmt)
        except viz.GraphvizNotFoundError:
            reason = (
                f"no {fmt.upper()} of the graph: Graphviz's `dot` program is not on PATH. To get "
                f"it, {_INSTALL_HINT}, then run: dot -T{fmt} {dot_path} -o {picture_path}"
            )
            return _Picture(dot_path, None, reason)
        except RuntimeError as error:
            raise RunError(f"drawing {picture_path}: {_one_line(error)}") from error
        _write(picture_path, drawn.read_bytes())
    return _Picture(dot_path, picture_path)


class _Report:
    """The files a command wrote, and notes about the ones it could not, for the user."""

    def __init__(self) -> None:
        self.files: list[tuple[str, Path]] = []
        self.notes: list[str] = []

    def add(self, what: str, path: Path) -> None:
        self.files.append((what, path))

    def add_picture(self, what: str, picture: _Picture) -> None:
        if picture.picture_path is not None:
            self.add(what, picture.picture_path)
        self.add(f"{what} (DOT text)", picture.dot_path)
        if picture.missing_reason is not None:
            self.notes.append(picture.missing_reason)

    def print(self, stdout: IO[str]) -> None:
        print("wrote:", file=stdout)
        width = max(len(what) for what, _ in self.files)
        for what, path in self.files:
            print(f"  {what.ljust(width)}  {path}", file=stdout)
        for note in self.notes:
            print(f"note: {note}", file=stdout)


def _write_outputs(
    config: RunConfig, problem: _Problem, trained: _Trained, results: dict[str, float],
    out: Path,
) -> _Report:
    """Write every output file of demo and train into ``out``."""
    from tinygrad_nn import viz

    report = _Report()
    picture = _draw(trained.step_dot, out / "training_step.svg", "svg")
    report.add_picture("graph of the first training step", picture)

    figure, _ = viz.plot_cost_history(trained.cost_history)
    _write_png(out / "cost_history.png", figure)
    report.add("cost curve", out / "cost_history.png")

    figure, _ = viz.plot_decision_boundary(trained.model, problem.X, problem.Y)
    _write_png(out / "decision_boundary.png", figure)
    report.add("decision boundary", out / "decision_boundary.png")

    trained.model.save(out / "model.npz")
    report.add("trained parameters", out / "model.npz")

    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["epoch", "cost"])
    for epoch, cost in enumerate(trained.cost_history, start=1):
        writer.writerow([epoch, repr(cost)])  # repr: the shortest text that reads back exactly
    _write(out / "cost_history.csv", table.getvalue())
    report.add("cost history", out / "cost_history.csv")

    record = {"config": asdict(config), **results, "cost_history": trained.cost_history}
    _write(out / "cost_history.json", json.dumps(record, indent=2, allow_nan=False) + "\n")
    report.add("cost history and settings", out / "cost_history.json")
    return report


def _make_folder(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"argument {option}: cannot create the folder {str(folder)!r}: "
            f"{error.strerror or _one_line(error)}"
        ) from error


# --------------------------------------------------------------------------------------------
# the commands
# --------------------------------------------------------------------------------------------


def _describe(config: RunConfig, problem: _Problem) -> list[str]:
    output = "softmax output (in the loss)" if config.multiclass else "sigmoid output"
    optimizer = f"{config.optimizer} lr={config.lr:g}"
    if config.momentum:
        optimizer += f" momentum={config.momentum:g}"
    return [
        f"dataset:  {config.dataset}, {config.classes} classes, {problem.X_train.shape[1]} "
        f"training and {problem.X_test.shape[1]} test points",
        f"network:  {config.layers}, {config.activation} hidden layers, {output}",
        f"training: {optimizer}, {config.epochs} full-batch epochs",
    ]


def _print_crosscheck(
    config: RunConfig, problem: _Problem, trained: _Trained, stdout: IO[str]
) -> None:
    if config.multiclass or config.activation != "sigmoid":
        reason = "a softmax output" if config.multiclass else f"{config.activation} hidden layers"
        print(
            f"crosscheck: skipped (the article's formulas are for sigmoid layers and two "
            f"classes; this network has {reason})",
            file=stdout,
        )
        return
    from tinygrad_nn.training import crosscheck

    # The first training step, the one the graph shows, with the cost the training used
    # (the fused, stable form of the article's cost), against the article's backprop.
    report = crosscheck(problem.X_train, problem.Y_train, trained.initial_params, cost="fused")
    print(report, file=stdout)
    if not report.ok:
        raise RunError(
            f"the engine's gradients differ from the article's (largest relative difference "
            f"{report.max_error:.2e}); please report this"
        )


def _run_training(
    config: RunConfig, out: Path, quiet: bool, stdout: IO[str], stderr: IO[str]
) -> int:
    # Everything that can reject an argument runs before anything is created or printed.
    problem = _load_problem(config)
    model = _build_model(config)
    optimizer = _build_optimizer(config, model.parameters())
    _make_folder(out, "--out")
    print("\n".join(_describe(config, problem)), file=stdout, flush=True)
    trained = _train(config, problem, model, optimizer, progress=not quiet, stderr=stderr)

    model, history = trained.model, trained.cost_history
    results = {
        "final_cost": history[-1],
        "train_accuracy": _accuracy(model, problem.X_train, problem.Y_train, config.multiclass),
        "test_accuracy": _accuracy(model, problem.X_test, problem.Y_test, config.multiclass),
    }
    print(f"cost:     {history[0]:.4f} -> {history[-1]:.4f}", file=stdout)
    print(
        f"accuracy: train {results['train_accuracy']:.1%}, test {results['test_accuracy']:.1%}",
        file=stdout,
    )
    print(file=stdout)
    _print_crosscheck(config, problem, trained, stdout)
    print(file=stdout)
    _write_outputs(config, problem, trained, results, out).print(stdout)
    return EXIT_OK


def _run_demo(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    return _run_training(_demo_config(args), args.out, args.quiet, stdout, stderr)


def _run_train(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    return _run_training(_train_config(args), args.out, args.quiet, stdout, stderr)


def _graph_target(args: argparse.Namespace) -> tuple[Path, str]:
    """Where the picture goes and its format, from --out/--output/--format."""
    if args.output is None:
        fmt = args.format or "svg"
        folder = args.out if args.out is not None else Path("out")
        return folder / f"training_step.{fmt}", fmt
    suffix = args.output.suffix.lower().lstrip(".")
    if args.format is None:
        if suffix not in GRAPH_FORMATS:
            raise UsageError(
                f"argument --output: cannot tell the format from {str(args.output)!r}; end it in "
                f"{', '.join('.' + f for f in GRAPH_FORMATS)} or give --format"
            )
        return args.output, suffix
    if suffix in GRAPH_FORMATS and suffix != args.format:
        raise UsageError(
            f"argument --output: {str(args.output)!r} ends in .{suffix} but --format is "
            f"{args.format}"
        )
    if suffix != args.format:
        return args.output.with_name(f"{args.output.name}.{args.format}"), args.format
    return args.output, args.format


def _run_graph(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    classes, layers = _classes_and_layers(args, GRAPH_DEFAULTS["hidden"])
    config = RunConfig(
        command="graph", dataset=args.dataset, samples=args.samples, noise=args.noise,
        classes=classes, layers=layers, activation=args.activation, optimizer="sgd", lr=1.0,
        momentum=0.0, epochs=1, seed=args.seed,
    )
    target, fmt = _graph_target(args)
    problem = _load_problem(config)
    _make_folder(target.parent, "--output" if args.output is not None else "--out")

    model = _build_model(config)
    X, Y = _training_inputs(config, problem)
    loss = _loss_function(config)(model, X, Y)
    loss.name = "cost"
    loss.backward(retain_graph=True)  # keep the graph: the picture shows the gradients
    picture = _draw(_step_graph(loss), target, fmt)

    report = _Report()
    report.add_picture("graph of one training step", picture)
    report.notes.clear()
    report.print(stdout)
    if picture.missing_reason is not None:
        # The picture is this command's only product: without it, the run failed.
        raise RunError(picture.missing_reason)
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    tinygrad-nn ...
    0
    """
    stdout, stderr = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(f"choose a command: demo, train or graph (see '{PROG} --help')")
        return int(args.handler(args, stdout, stderr))
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except UsageError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=stderr)
        return EXIT_USAGE
    except (RunError, OSError) as error:  # OSError: a file could not be written; say which
        print(f"{PROG}: error: {_one_line(error)}", file=stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return 130

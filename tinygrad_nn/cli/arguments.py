"""The command's arguments: the parser, the checks of each option, and the run's configuration.

Every number an option takes is checked by :mod:`tinygrad_nn._checks`, the checks the library
uses; the ``--activation`` choices are the registry's activations (:func:`tinygrad_nn.ops.
activations`). A bad argument is a :class:`UsageError`: one line, exit status 2.

Examples
--------
>>> from tinygrad_nn.cli.arguments import build_parser
>>> args = build_parser().parse_args(["train", "--dataset", "xor", "--layers", "2,8,1"])
>>> args.dataset, args.layers, args.optimizer
('xor', [2, 8, 1], 'adam')
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypedDict

from tinygrad_nn import _checks, ops
from tinygrad_nn._version import __version__

__all__ = ["RunConfig", "UsageError", "build_parser", "demo_config", "graph_config",
           "train_config"]

PROG = "tinygrad-nn"

#: Datasets the command offers; "article" is the article's kind of problem (two blobs).
DATASETS = ("article", "xor", "moons", "circles", "spirals")
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

class _TrainDefaults(TypedDict):
    dataset: str
    hidden: tuple[int, ...]
    activation: str
    optimizer: str
    lr: dict[str, float]
    epochs: int
    seed: int
    classes: int


TRAIN_DEFAULTS: _TrainDefaults = {
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
GRAPH_HIDDEN, GRAPH_ACTIVATION = DEMO_LAYERS[1:-1], "sigmoid"
TEST_FRACTION = 0.25

#: Each command's default output folder: one run never overwrites another command's files.
DEFAULT_OUT = {"demo": Path("out") / "demo", "train": Path("out") / "train",
               "graph": Path("out") / "graph"}


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2.

    Examples
    --------
    >>> from tinygrad_nn.cli import UsageError, build_parser
    >>> try:
    ...     build_parser().parse_args(["train", "--epochs", "0"])
    ... except UsageError as error:
    ...     print(error)
    argument --epochs: must be at least 1; got 0 (see 'tinygrad-nn train --help')
    """


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become :class:`UsageError` (one line, no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _checked(check: Callable[[], object]) -> object:
    """Run one of _checks' functions; its ValueError/TypeError becomes argparse's error."""
    try:
        return check()
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error).strip()) from None


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        _checked(lambda: _checks.whole_number(value, "", None, minimum=minimum))
        return value

    return parse


def _real(*, positive: bool = False, nonnegative: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        checked = _checked(lambda: _checks.real_number(
            value, "", None, positive=positive, nonnegative=nonnegative
        ))
        assert isinstance(checked, float)
        return checked

    return parse


# _checks' messages read "<name> must be ..."; argparse already names the option.
_positive_int, _non_negative_int = _whole(1), _whole(0)
_finite_float, _positive_float, _non_negative_float = (
    _real(), _real(positive=True), _real(nonnegative=True)
)


def _layers(text: str) -> list[int]:
    """``"2,16,16,1"`` -> ``[2, 16, 16, 1]``: at least two sizes, each a positive int."""
    try:
        sizes = [int(piece.strip()) for piece in text.split(",")]
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
        help="number of examples m, a quarter of them held out as the test set; the summary "
        "line says how many each gets (default: the dataset's, 400 or 300 for spirals)",
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
        "--activation", choices=ops.activations(), default=default_activation,
        help="activation of the hidden layers; the output layer is a sigmoid for two classes "
        "and a softmax (in the loss) for spirals (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=TRAIN_DEFAULTS["seed"],
        help="seed of the dataset, the train/test split and the initial weights "
        "(default: %(default)s, the article's)",
    )


def _add_run_options(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT[command], metavar="DIR",
        help="folder for the output files, created if missing; a folder holding a previous "
        "run's files is replaced whole when this run has finished, one holding other files "
        "is refused (default: %(default)s)",
    )
    if command == "demo":
        parser.add_argument(
            "--no-animation", dest="animate", action="store_false",
            help="do not write training.gif (default: written)",
        )
    else:
        parser.add_argument(
            "--animate", action="store_true",
            help="also write training.gif: the decision boundary and the cost curve as "
            "training goes (default: off)",
        )
    parser.add_argument(
        "--eager", action="store_true",
        help="run every training step op by op, as recorded, instead of replaying it through "
        "tinygrad_nn.compile (default: compiled; both give the same numbers)",
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
  training.gif              the regions and the cost as training goes (demo; train --animate)
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
    ('demo', 10, True, 'out/demo')
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
    _add_run_options(demo, "demo")

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
    _add_run_options(train, "train")

    graph = commands.add_parser(
        "graph", formatter_class=formatter,
        help="only draw the graph of one training step",
        description=_paragraph(
            "Draw the graph of one training step (forward, cost, backward) of a "
            "network: every tensor with its values and gradient, every op with its backward "
            "rule. The .dot text is written beside the picture."
        ),
    )
    _add_data_options(graph, DEMO_DATASET)
    _add_network_options(
        graph, "the article's 2,4,3,1, or 2,4,3,K for spirals", GRAPH_ACTIVATION
    )
    where = graph.add_mutually_exclusive_group()
    where.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help=f"write DIR/training_step.FORMAT (default: {DEFAULT_OUT['graph']})",
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
    compiled: bool = True  # trained through tinygrad_nn.compile (False: --eager)

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


def train_config(args: argparse.Namespace) -> RunConfig:
    """The configuration of ``tinygrad-nn train`` from its parsed arguments.

    Examples
    --------
    >>> config = train_config(build_parser().parse_args(["train", "--optimizer", "sgd"]))
    >>> config.lr, config.layers, config.compiled
    (0.5, [2, 16, 16, 1], True)
    >>> train_config(build_parser().parse_args(["train", "--eager"])).compiled
    False
    """
    classes, layers = _classes_and_layers(args, TRAIN_DEFAULTS["hidden"])
    if args.optimizer != "sgd" and args.momentum != 0.0:
        raise UsageError("argument --momentum: applies to --optimizer sgd only")
    lr = TRAIN_DEFAULTS["lr"][args.optimizer] if args.lr is None else args.lr
    return RunConfig(
        command="train", dataset=args.dataset, samples=args.samples, noise=args.noise,
        classes=classes, layers=layers, activation=args.activation, optimizer=args.optimizer,
        lr=lr, momentum=args.momentum, epochs=args.epochs, seed=args.seed,
        compiled=not args.eager,
    )


def demo_config(args: argparse.Namespace) -> RunConfig:
    """The configuration of ``tinygrad-nn demo``: the article's network and problem.

    Examples
    --------
    >>> demo_config(build_parser().parse_args(["demo"])).layers
    [2, 4, 3, 1]
    """
    return RunConfig(
        command="demo", dataset=DEMO_DATASET, samples=DEMO_SAMPLES, noise=None, classes=2,
        layers=list(DEMO_LAYERS), activation="sigmoid", optimizer="sgd", lr=DEMO_LR,
        momentum=0.0, epochs=args.epochs, seed=TRAIN_DEFAULTS["seed"], compiled=not args.eager,
    )


def graph_config(args: argparse.Namespace) -> RunConfig:
    """The configuration of ``tinygrad-nn graph``: one step, nothing trained.

    Examples
    --------
    >>> graph_config(build_parser().parse_args(["graph"])).layers
    [2, 4, 3, 1]
    """
    classes, layers = _classes_and_layers(args, GRAPH_HIDDEN)
    return RunConfig(
        command="graph", dataset=args.dataset, samples=args.samples, noise=args.noise,
        classes=classes, layers=layers, activation=args.activation, optimizer="sgd", lr=1.0,
        momentum=0.0, epochs=1, seed=args.seed, compiled=False,
    )


def graph_target(args: argparse.Namespace) -> tuple[Path, str]:
    """Where ``graph`` writes its picture and in which format, from --out/--output/--format.

    Examples
    --------
    >>> graph_target(build_parser().parse_args(["graph", "--output", "step.png"]))
    (PosixPath('step.png'), 'png')
    """
    if args.output is None:
        fmt = args.format or "svg"
        folder = args.out if args.out is not None else DEFAULT_OUT["graph"]
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

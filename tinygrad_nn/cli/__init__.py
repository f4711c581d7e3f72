"""The ``tinygrad-nn`` command: train the article's network and show what backprop did.

Three sub-commands (also ``python -m tinygrad_nn``):

* ``tinygrad-nn demo`` trains the article's network (``[2, 4, 3, 1]``, sigmoid everywhere,
  gradient descent) on the article's kind of two-class problem, prints the cross-check of the
  engine's gradients against the article's formulas and the accuracy, and writes the pictures,
  the parameters and the cost history into ``--out`` (default ``out/demo``).
* ``tinygrad-nn train`` does the same for any dataset, network, activation and optimizer
  (default ``out/train``).
* ``tinygrad-nn graph`` only draws the graph of one training step (default ``out/graph``).

Three modules: :mod:`~tinygrad_nn.cli.arguments` (the options and the run's configuration),
:mod:`~tinygrad_nn.cli.run` (the work) and :mod:`~tinygrad_nn.cli.outputs` (the files: a run
is written into a staging folder and swapped in whole, so a folder never mixes two runs).

Exit status: 0 on success; 2 for bad arguments (a one-line ``tinygrad-nn: error: ...`` on
stderr, never a traceback); 1 when the work itself fails (a file cannot be written, training
diverges, memory runs out, or ``graph`` cannot draw its picture because Graphviz's ``dot`` is
missing).

The command keeps freed memory for reuse (:func:`tinygrad_nn.keep_freed_memory`, a setting of
the process's C allocator that importing the library never makes); set
``TINYGRAD_NN_KEEP_FREED_MEMORY=0`` to keep glibc's defaults.

Examples
--------
>>> from tinygrad_nn.cli import build_parser
>>> args = build_parser().parse_args(["train", "--dataset", "xor", "--layers", "2,8,1"])
>>> args.dataset, args.layers, args.optimizer
('xor', [2, 8, 1], 'adam')
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tinygrad_nn import _allocator
from tinygrad_nn.cli.arguments import (
    DEMO_DATASET,
    DEMO_EPOCHS,
    DEMO_LAYERS,
    DEMO_LR,
    DEMO_SAMPLES,
    PROG,
    TEST_FRACTION,
    TRAIN_DEFAULTS,
    RunConfig,
    UsageError,
    build_parser,
)
from tinygrad_nn.cli.outputs import RunError, one_line
from tinygrad_nn.cli.run import COMMANDS

__all__ = [
    "DEMO_DATASET", "DEMO_EPOCHS", "DEMO_LAYERS", "DEMO_LR", "DEMO_SAMPLES", "TEST_FRACTION",
    "TRAIN_DEFAULTS", "RunConfig", "RunError", "UsageError", "build_parser", "main",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _out_of_memory_hint(argv: Sequence[str]) -> str:
    """What to make smaller, from the sizes the user asked for."""
    asked = [f"{option} {argv[i + 1]}" for i, option in enumerate(argv[:-1])
             if option in ("--layers", "--samples")]
    return f" ({', '.join(asked)})" if asked else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    tinygrad-nn ...
    0
    """
    stdout, stderr = sys.stdout, sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    _allocator.keep_freed_memory_unless_disabled()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(f"choose a command: demo, train or graph (see '{PROG} --help')")
        return int(COMMANDS[args.command](args, stdout, stderr))
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except UsageError as error:
        print(f"{PROG}: error: {one_line(error)}", file=stderr)
        return EXIT_USAGE
    except (RunError, OSError) as error:  # OSError: a file could not be written; say which
        print(f"{PROG}: error: {one_line(error)}", file=stderr)
        return EXIT_FAILURE
    except MemoryError:
        print(
            f"{PROG}: error: out of memory{_out_of_memory_hint(argv)}: try smaller --layers "
            "or fewer --samples",
            file=stderr,
        )
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=stderr)
        return 130

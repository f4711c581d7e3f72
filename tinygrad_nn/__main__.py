"""``python -m tinygrad_nn``: the ``tinygrad-nn`` command (see :mod:`tinygrad_nn.cli`)."""

import sys

from tinygrad_nn.cli import main

if __name__ == "__main__":
    sys.exit(main())

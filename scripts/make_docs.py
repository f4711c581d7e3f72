"""Regenerate every generated file under docs/ (what ``make docs`` runs).

Runs, in order:

1. ``scripts/make_ops_doc.py``: docs/ops.md and the module-structure picture
   (docs/img/architecture.dot, .svg);
2. ``scripts/make_images.py``, if present: the graph, cost-curve and gradient-flow images in
   docs/img/ that the README and the tutorial show;
3. ``scripts/make_readme.py``: README.md's quotes of program output (the cross-check table, the
   example's agreement, the demo's accuracy) and the demo's cost curve, from fresh runs.

Each script runs in its own process with this interpreter; the first failure stops the run and
its exit status is returned.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
STEPS = ("make_ops_doc.py", "make_images.py", "make_readme.py")


def main() -> int:
    for name in STEPS:
        script = SCRIPTS / name
        if not script.exists():
            print(f"skipping {name}: not in scripts/")
            continue
        print(f"running scripts/{name}")
        status = subprocess.run([sys.executable, str(script)], cwd=SCRIPTS.parent).returncode
        if status != 0:
            print(f"scripts/{name} failed with exit status {status}", file=sys.stderr)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate the parts of README.md that quote program output, from the programs' real output.

The README quotes what ``tinygrad-nn demo`` and ``python examples/article_retold.py`` print: the
cross-check table, how closely the cost histories agree, the demo's accuracy and its cost curve;
and its speed table comes from docs/performance.md, which ``benchmarks/bench_step.py`` writes.
Each quote sits between two markers::

    <!-- make_readme: NAME -->...<!-- /make_readme -->

and this script replaces what is between them with the text made from a fresh run (it also
writes the demo's cost curve to docs/img/demo_cost_history.png). tests/test_docs.py runs the
programs again and checks the README against their output, so a quote cannot go stale.

Usage::

    python scripts/make_readme.py           # rewrite README.md's quotes (and the picture)
    python scripts/make_readme.py --check   # exit 1 if a quote differs from the output
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a clone without installing
    sys.path.insert(0, str(ROOT))

from tinygrad_nn.cli import main as tinygrad_nn_main  # noqa: E402

README = ROOT / "README.md"
EXAMPLE = ROOT / "examples" / "article_retold.py"
DEMO_COST_PICTURE = ROOT / "docs" / "img" / "demo_cost_history.png"
PERFORMANCE = ROOT / "docs" / "performance.md"

MARKER = re.compile(
    r"(?P<open><!-- make_readme: (?P<name>[a-z-]+) -->)(?P<body>.*?)"
    r"(?P<close><!-- /make_readme -->)",
    re.DOTALL,
)


class Outputs:
    """What the two programs print, each run once on first use.

    Examples
    --------
    >>> outputs = Outputs()
    >>> "crosscheck:" in outputs.example
    True
    """

    def __init__(self, picture: Path | None = None) -> None:
        self._demo: str | None = None
        self._example: str | None = None
        self.picture = picture  # where to copy the demo's cost curve, if anywhere

    @property
    def demo(self) -> str:
        """The standard output of ``tinygrad-nn demo`` (its defaults: 1000 epochs, compiled)."""
        if self._demo is None:
            with tempfile.TemporaryDirectory() as scratch:
                out = Path(scratch) / "demo"
                stdout = io.StringIO()
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
                    status = tinygrad_nn_main(["demo", "--quiet", "--out", str(out)])
                if status != 0:
                    raise RuntimeError(f"tinygrad-nn demo failed (exit status {status})")
                if self.picture is not None:
                    shutil.copyfile(out / "cost_history.png", self.picture)
            self._demo = stdout.getvalue()
        return self._demo

    @property
    def performance(self) -> str:
        """docs/performance.md as committed (the benchmark is not rerun: it takes minutes)."""
        return PERFORMANCE.read_text(encoding="utf-8")

    @property
    def example(self) -> str:
        """The standard output of ``python examples/article_retold.py``."""
        if self._example is None:
            done = subprocess.run(
                [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True,
                cwd=ROOT, timeout=600,
            )
            self._example = done.stdout
        return self._example


def _line(text: str, pattern: str) -> re.Match[str]:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise ValueError(f"the output has no line matching {pattern!r}:\n{text}")
    return match


def example_agreement(outputs: Outputs) -> str:
    """The largest relative difference between the engine's and the article's cost histories."""
    return _line(outputs.example, r"^over all .* max rel diff (\S+)$").group(1)


def example_crosscheck(outputs: Outputs) -> str:
    """The example's cross-check report, as a text block."""
    start = outputs.example.index("crosscheck:")
    end = _line(outputs.example[start:], r"^max_error = .*$").end()
    return "\n```text\n" + outputs.example[start:start + end] + "\n```\n"


def demo_accuracy(outputs: Outputs) -> str:
    """``100.0% train, 99.0% test``, as the demo prints it."""
    match = _line(outputs.demo, r"^accuracy: train (\S+), test (\S+)$")
    return f"{match.group(1)} train, {match.group(2)} test"


def demo_cost(outputs: Outputs) -> str:
    """The demo's cost curve and a caption with its epochs and first and last cost."""
    epochs = _line(outputs.demo, r"^training: .*, (\d+) full-batch epochs").group(1)
    cost = _line(outputs.demo, r"^cost: +(\S+) -> (\S+)$")
    caption = (
        f"The cost of `tinygrad-nn demo` over its {int(epochs):,} epochs, from "
        f"{cost.group(1)} to {cost.group(2)}"
    )
    picture = f"![cost history of tinygrad-nn demo](docs/img/{DEMO_COST_PICTURE.name})"
    return f"\n{picture}\n\n*{caption}.*\n"


#: The README's speed columns: (engine in docs/performance.md, column heading).
SPEED_COLUMNS = (
    ("engine_ops", "ops written by hand"),
    ("engine_mlp", "`MLP` + `SGD`"),
    ("engine_compiled", "`MLP` + `SGD`, compiled"),
    ("numpy_optimal", "hand-optimised numpy"),
    ("torch", "PyTorch eager"),
    ("gemms_only", "products alone"),
)


def _markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` (header row first, separator dropped)."""
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows


def _median_ms(text: str, workload: str, engine: str) -> float:
    rows = _markdown_rows(text, f"### {workload}")
    for cells in rows[1:]:
        if cells[0] == engine:
            return float(cells[1].split()[0])
    raise ValueError(f"docs/performance.md has no {engine} row for {workload}")


def speed(outputs: Outputs) -> str:
    """The README's speed table: medians from docs/performance.md's summary and details."""
    text = outputs.performance
    rows = _markdown_rows(text, "## Time per step relative to `numpy_article`")
    header, body = rows[0], rows[1:]
    lines = [
        "| workload | " + " | ".join(title for _, title in SPEED_COLUMNS)
        + " | compiled ÷ hand-optimised numpy | compiled ÷ PyTorch |",
        "|---" * (len(SPEED_COLUMNS) + 3) + "|",
    ]
    for cells in body:
        ratio = dict(zip(header, cells, strict=True))
        workload = cells[0]
        medians = {e: _median_ms(text, workload, e) for e in ("engine_compiled", "numpy_optimal",
                                                              "torch")}
        lines.append(
            f"| {workload} | "
            + " | ".join(ratio[engine].split()[0] for engine, _ in SPEED_COLUMNS)
            + f" | {medians['engine_compiled'] / medians['numpy_optimal']:.2f}x"
            + f" | {medians['engine_compiled'] / medians['torch']:.2f}x |"
        )
    return "\n" + "\n".join(lines) + "\n"


SECTIONS: dict[str, Callable[[Outputs], str]] = {
    "example-agreement": example_agreement,
    "example-crosscheck": example_crosscheck,
    "demo-accuracy": demo_accuracy,
    "demo-cost": demo_cost,
    "speed": speed,
}


def quotes(text: str) -> dict[str, str]:
    """The README's quotes, by name.

    Examples
    --------
    >>> quotes("agree to <!-- make_readme: example-agreement -->3e-14<!-- /make_readme -->.")
    {'example-agreement': '3e-14'}
    """
    found: dict[str, str] = {}
    for match in MARKER.finditer(text):
        if match.group("name") not in SECTIONS:
            raise ValueError(f"README.md: unknown quote {match.group('name')!r}")
        found[match.group("name")] = match.group("body")
    return found


def render(text: str, outputs: Outputs) -> str:
    """``text`` with every quote replaced by what the programs print now."""
    return MARKER.sub(
        lambda m: m.group("open") + SECTIONS[m.group("name")](outputs) + m.group("close"), text
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if README.md's quotes differ from the programs' output")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    fresh = render(text, Outputs(picture=None if args.check else DEMO_COST_PICTURE))
    if args.check:
        if fresh != text:
            print("README.md quotes stale output: run python scripts/make_readme.py")
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    print(f"wrote {README.relative_to(ROOT)} and {DEMO_COST_PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

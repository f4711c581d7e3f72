"""The docs cannot drift from the code.

- docs/ops.md and docs/img/architecture.dot are what scripts/make_ops_doc.py generates now;
- every fenced ``python`` block in README.md and docs/*.md runs: each file's blocks in order,
  in one namespace per file, in a temporary working directory. A block is skipped when its
  fence reads ``python no-run`` or the line before it is ``<!-- no-run -->``. A ``text output``
  block right after a python block must equal what that block printed;
- the doctests of every tinygrad_nn module pass;
- every public function and class of every module, and every public method and property of
  those classes, has a docstring with a ``>>>`` example.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import importlib.util
import inspect
import io
import os
import re
import sys
import textwrap
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

# Plots in doc blocks and doctests must never need a display.
os.environ["MPLBACKEND"] = "Agg"

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
NO_RUN_COMMENT = "<!-- no-run -->"
README = ROOT / "README.md"

# Every module the package is meant to have (dotted below tinygrad_nn: "ops.registry"); those
# whose file does not exist yet are skipped, any module found on disk is added.
EXPECTED_MODULES = (
    "tensor", "modes", "autograd", "ops", "ops.registry", "gradcheck", "nn", "optim",
    "training", "reference", "data", "viz", "cli", "io", "_checks", "compiler",
)
NO_DOCTESTS = {"__main__", "_version"}  # the top __init__ is tested as "tinygrad_nn"
PACKAGE = ROOT / "tinygrad_nn"


def _module_path(name: str) -> Path | None:
    """The file of ``tinygrad_nn.<name>`` (a module or a package's __init__), None if absent."""
    base = PACKAGE.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _modules_on_disk() -> set[str]:
    """Every module below tinygrad_nn, dotted (``"ops"`` for ops/__init__.py, ``"ops.unary"``)."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[-1] not in NO_DOCTESTS:
            names.add(".".join(parts))
    return names


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_ops_doc", ROOT / "scripts" / "make_ops_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- generated files ----------------------------------------------------------------------


def test_ops_doc_matches_what_the_generator_makes_from_the_registry() -> None:
    generator = _load_generator()
    committed = generator.OPS_DOC.read_text(encoding="utf-8")
    assert committed == generator.render_ops_doc(), (
        "docs/ops.md is stale: run `python scripts/make_ops_doc.py` (or `make docs`)"
    )


def test_architecture_dot_matches_the_package_imports() -> None:
    generator = _load_generator()
    committed = generator.ARCHITECTURE_DOT.read_text(encoding="utf-8")
    assert committed == generator.render_architecture_dot(), (
        "docs/img/architecture.dot is stale: run `python scripts/make_ops_doc.py`"
    )


def test_ops_doc_lists_every_registered_op_with_its_formula() -> None:
    from tinygrad_nn import ops

    text = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")
    for name, info in ops.REGISTRY.items():
        assert f"\n### {name}" in text, name
        for rule in info.backward:
            assert rule.replace("|", "\\|") in text, (name, rule)


# ---- code blocks in the Markdown docs -----------------------------------------------------


@dataclass
class Block:
    info: str  # the fence's info string: "python", "python no-run", "text output", ...
    code: str
    line: int  # 1-based line of the first line of code
    no_run_comment: bool  # preceded by <!-- no-run -->


_FENCE = re.compile(r"^(`{3,})\s*(.*)$")


def extract_blocks(text: str) -> list[Block]:
    """Fenced blocks of a Markdown text, in order (unindented fences only)."""
    blocks = []
    lines = text.splitlines()
    i = 0
    previous = ""  # last non-blank line before the current one
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, info = match.group(1), match.group(2).strip()
        body = []
        j = i + 1
        while j < len(lines) and not lines[j].startswith(fence):
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: code fence {fence}{info} is never closed")
        blocks.append(Block(info, "\n".join(body) + "\n", i + 2, previous == NO_RUN_COMMENT))
        previous = lines[j].strip()
        i = j + 1
    return blocks


def runnable(block: Block) -> bool:
    words = block.info.split()
    return bool(words) and words[0] == "python" and "no-run" not in words[1:] and not (
        block.no_run_comment
    )


def test_extract_blocks_honours_both_no_run_markers_and_keeps_line_numbers() -> None:
    text = (
        "intro\n```python\nx = 1\n```\n"
        "```python no-run\nboom()\n```\n"
        "<!-- no-run -->\n\n```python\nboom()\n```\n"
        "```text output\n1\n```\n"
    )
    blocks = extract_blocks(text)
    assert [b.info for b in blocks] == ["python", "python no-run", "python", "text output"]
    assert [runnable(b) for b in blocks] == [True, False, False, False]
    assert blocks[0].line == 3 and blocks[0].code == "x = 1\n"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


@contextlib.contextmanager
def numpy_warnings_as_a_user_sees_them():
    """The suite turns warnings into errors (pyproject's filterwarnings); an example that shows
    log(0) = -inf or anomaly mode naming it provokes numpy's RuntimeWarning on purpose, which a
    user's script prints and goes on. Every other warning still fails the example."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning,
                                message=r"(divide by zero|overflow|invalid value) encountered")
        yield


def run_blocks(path: Path, blocks: list[Block]) -> int:
    """Execute the runnable blocks in one namespace; check ``text output`` blocks. Returns the
    number of blocks run."""
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    printed: str | None = None  # stdout of the last python block that ran
    ran = 0
    for block in blocks:
        if block.info.split()[:2] == ["text", "output"]:
            assert printed is not None, (
                f"{_shown(path)}:{block.line}: a `text output` block must follow a python block"
            )
            expected = [line.rstrip() for line in block.code.rstrip("\n").splitlines()]
            got = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
            assert got == expected, (
                f"{_shown(path)}:{block.line}: the output shown differs from what the code "
                f"prints now:\n{printed}"
            )
            printed = None
            continue
        if not runnable(block):
            printed = None
            continue
        # Pad with blank lines so tracebacks give the line number in the Markdown file.
        source = "\n" * (block.line - 1) + block.code
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer), numpy_warnings_as_a_user_sees_them():
                exec(compile(source, str(path), "exec"), namespace)
        except Exception:
            pytest.fail(
                f"the python block at {_shown(path)}:{block.line} failed:\n"
                f"{traceback.format_exc()}"
            )
        printed = buffer.getvalue()
        ran += 1
    return ran


def test_a_text_output_block_must_equal_what_the_block_before_it_printed(tmp_path) -> None:
    doc = tmp_path / "doc.md"
    shown_right = "```python\nprint(6 * 7)\n```\n```text output\n42\n```\n"
    assert run_blocks(doc, extract_blocks(shown_right)) == 1
    shown_wrong = "```python\nprint(6 * 7)\n```\n```text output\n41\n```\n"
    with pytest.raises(AssertionError, match="differs from what the code prints"):
        run_blocks(doc, extract_blocks(shown_wrong))


def test_a_failing_block_fails_with_its_line_in_the_markdown_file(tmp_path) -> None:
    doc = tmp_path / "doc.md"
    text = "# title\n\n```python\nx = 1\n```\n\n```python\nx = x + undefined_name\n```\n"
    with pytest.raises(pytest.fail.Exception, match=r"doc\.md:8") as failure:
        run_blocks(doc, extract_blocks(text))
    assert 'doc.md", line 8' in str(failure.value)


@pytest.mark.parametrize(
    "path", DOC_FILES, ids=[str(p.relative_to(ROOT)) for p in DOC_FILES]
)
def test_every_python_block_in_the_docs_runs(path: Path, tmp_path, monkeypatch) -> None:
    blocks = extract_blocks(path.read_text(encoding="utf-8"))
    if not any(runnable(b) or b.info.startswith("text output") for b in blocks):
        pytest.skip(f"{path.name} has no python blocks to run")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))  # docs may import from scripts/ or examples/
    try:
        run_blocks(path, blocks)
    finally:
        _close_figures()


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


# ---- doctests -----------------------------------------------------------------------------


def _module_names() -> list[str]:
    return ["tinygrad_nn", *sorted(set(EXPECTED_MODULES) | _modules_on_disk())]


def test_the_module_list_finds_the_subpackages_modules() -> None:
    names = _module_names()
    assert {"ops", "ops.registry", "ops.unary", "nn", "nn.layers", "viz.graph"} <= set(names)
    assert "__main__" not in names and "_version" not in names


@pytest.mark.parametrize("name", _module_names())
def test_module_doctests_pass(name: str, tmp_path, monkeypatch) -> None:
    if name != "tinygrad_nn" and _module_path(name) is None:
        pytest.skip(f"tinygrad_nn.{name} is not written yet")
    module = importlib.import_module(name if name == "tinygrad_nn" else f"tinygrad_nn.{name}")
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(verbose=False)
    report = io.StringIO()
    with np.printoptions(legacy=False), numpy_warnings_as_a_user_sees_them():
        for test in finder.find(module, module.__name__):
            runner.run(test, out=report.write)
    _close_figures()
    result = runner.summarize(verbose=False)
    assert result.failed == 0, report.getvalue()


# ---- every public name shows an example ---------------------------------------------------

# The package's public modules: the expected ones, and any public module found on disk
# (private modules such as _checks have their doctests run, but no example is required).
PUBLIC_MODULES = sorted(
    name
    for name in set(EXPECTED_MODULES) | _modules_on_disk()
    if not any(part.startswith("_") for part in name.split("."))
)


def public_api(module: types.ModuleType) -> dict[str, object]:
    """The public functions and classes defined in ``module`` (not those it imports), and the
    public methods and properties each of those classes defines itself, by name
    (``"Tensor.backward"``). An override needs its own example: the inherited docstring
    describes the base class."""
    found: dict[str, object] = {}
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        found[name] = value
        if not inspect.isclass(value):
            continue
        for attribute, member in vars(value).items():
            if attribute.startswith("_"):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if inspect.isfunction(member) or isinstance(member, property):
                found[f"{name}.{attribute}"] = member
    return found


def _calls_a_registered_op(qualified_name: str) -> bool:
    """A one-line Tensor method that calls a registered op (its docstring is that op's formula)
    is documented by the op's own docstring and example."""
    from tinygrad_nn import Tensor, ops

    owner, _, attribute = qualified_name.partition(".")
    return owner == "Tensor" and any(
        info.method == attribute and getattr(Tensor, attribute).__doc__ == info.formula
        for info in ops.REGISTRY.values()
    )


def without_example(api: dict[str, object]) -> list[str]:
    """The names in ``api`` whose docstring has no ``>>>`` example."""
    return sorted(name for name, value in api.items() if ">>>" not in (value.__doc__ or ""))


def test_public_api_is_what_a_module_defines_with_its_classes_methods_and_properties() -> None:
    module = types.ModuleType("a_module")
    exec(
        textwrap.dedent(
            '''
            from os.path import join  # imported: documented where it is defined

            def shown():
                """>>> shown()"""

            def not_shown():
                """No example."""

            def _private():
                pass

            class Thing:
                """>>> Thing()"""

                def method(self):
                    """No example."""

                @property
                def size(self):
                    return 1

                @staticmethod
                def make():
                    """>>> Thing.make()"""

                def _helper(self):
                    pass
            '''
        ),
        module.__dict__,
    )
    api = public_api(module)
    assert sorted(api) == [
        "Thing", "Thing.make", "Thing.method", "Thing.size", "not_shown", "shown",
    ]
    assert without_example(api) == ["Thing.method", "Thing.size", "not_shown"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_function_and_class_has_an_example(name: str) -> None:
    if _module_path(name) is None:
        pytest.skip(f"tinygrad_nn.{name} is not written yet")
    module = importlib.import_module(f"tinygrad_nn.{name}")
    missing = [n for n in without_example(public_api(module)) if not _calls_a_registered_op(n)]
    assert not missing, (
        f"tinygrad_nn.{name}: give these an Examples section with a `>>>` example in their "
        f"docstring: {', '.join(missing)}"
    )


# ---- README quotes of program output -------------------------------------------------------

_NUMBER = re.compile(r"\d+\.\d+e[-+]\d+")


def _same_quote(committed: str, fresh: str) -> bool:
    """Equal text, except that numbers in scientific notation (rounding-level differences such
    as 1.5e-18, which another CPU's BLAS changes in the last bits) may differ within a factor of
    ten: a stale or wrong quote still fails, a machine with other rounding does not."""
    if _NUMBER.sub("#", committed) != _NUMBER.sub("#", fresh):
        return False
    pairs = zip(_NUMBER.findall(committed), _NUMBER.findall(fresh), strict=True)
    return all(
        float(a) == float(b) or (float(a) > 0 and float(b) > 0 and 0.1 < float(a) / float(b) < 10)
        for a, b in pairs
    )


def _load_readme_generator():
    spec = importlib.util.spec_from_file_location(
        "make_readme", ROOT / "scripts" / "make_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_quote_comparison_tolerates_rounding_only() -> None:
    assert _same_quote("dW1  1.52e-18  yes", "dW1  2.28e-18  yes")
    assert not _same_quote("dW1  1.52e-18  yes", "dW1  1.52e-12  yes")
    assert not _same_quote("accuracy 99.0%", "accuracy 98.5%")


def test_readme_quotes_are_what_the_demo_and_the_example_print_now() -> None:
    generator = _load_readme_generator()
    committed = generator.quotes(README.read_text(encoding="utf-8"))
    assert set(committed) == set(generator.SECTIONS), "README.md lost a make_readme marker"
    outputs = generator.Outputs()
    for name, make in generator.SECTIONS.items():
        assert _same_quote(committed[name], make(outputs)), (
            f"README.md's quote {name!r} is not what the program prints now: run "
            "`python scripts/make_readme.py` (or `make docs`)"
        )

"""The command's files: one run's outputs written into a staging folder and swapped in whole.

A run never leaves a folder that mixes two runs: ``demo`` and ``train`` write into a hidden
folder beside ``--out`` and, once every file is written, put it in place of ``--out`` in two
renames (the previous run's folder is removed only after the new one is in place). An
interrupted or failed run leaves ``--out`` as it was. A folder holding files that no run writes
is refused rather than replaced. Every file is written with :func:`tinygrad_nn.io.atomic_write`.

Paths are printed so that any folder name works, also one that is not valid UTF-8
(``--out $'caf\\xe9'``): undecodable bytes are shown as ``\\xe9``.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from tinygrad_nn.cli.outputs import staged_folder
>>> out = Path(tempfile.mkdtemp()) / "run"
>>> with staged_folder(out, "--out") as staging:
...     _ = (staging / "cost_history.csv").write_text("epoch,cost\\n")
>>> sorted(path.name for path in out.iterdir())
['cost_history.csv']
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tinygrad_nn import io as tn_io
from tinygrad_nn import viz
from tinygrad_nn.cli.arguments import UsageError

__all__ = ["Picture", "Report", "RunError", "draw", "printable", "staged_folder", "write"]

#: The files a training run writes: a folder holding only these holds a previous run.
RUN_FILES = frozenset({
    "training_step.svg", "training_step.dot", "cost_history.png", "decision_boundary.png",
    "training.gif", "model.npz", "cost_history.csv", "cost_history.json",
})

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install -c conda-forge graphviz)"
)


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


def one_line(message: object) -> str:
    """``message`` as one line of text (newlines and runs of spaces become one space).

    Examples
    --------
    >>> one_line("disk\\n  full")
    'disk full'
    """
    return " ".join(str(message).split())


def printable(text: object) -> str:
    """``text`` with the bytes of a non-UTF-8 file name shown as ``\\xe9`` escapes.

    Python keeps such bytes as lone surrogates (``'caf\\udce9'``), which no stream can encode.

    Examples
    --------
    >>> import os
    >>> printable(os.fsdecode(b"caf\\xe9/model.npz"))
    'caf\\\\xe9/model.npz'
    """
    raw = str(text).encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace")


def write(path: Path, content: bytes | str | Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` atomically with the checkpoint writer: all of it or nothing.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> write(path, "done\\n")
    >>> path.read_text()
    'done\\n'
    """
    tn_io.atomic_write(path, content)


# --------------------------------------------------------------------------------------------
# the output folder
# --------------------------------------------------------------------------------------------


def _is_run_file(name: str) -> bool:
    # atomic_write's temporaries (".model.npz.x1y2.tmp") are left behind only by a killed run.
    return name in RUN_FILES or (name.startswith(".") and name.endswith(".tmp"))


def check_output_folder(folder: Path, option: str, *, replace_whole: bool) -> None:
    """Refuse (UsageError) a ``folder`` a run may not write into.

    With ``replace_whole`` (demo, train) the folder must be missing, empty or a previous run's;
    otherwise (graph, one picture) it must not hold a training run whose picture would then
    belong to another network.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "thesis.tex").write_text("")
    >>> check_output_folder(folder, "--out", replace_whole=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_nn.cli.arguments.UsageError: argument --out: ... holds files no run writes ...
    """
    shown = printable(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"argument {option}: {shown!r} is a file, not a folder")
    if not folder.is_dir():
        return
    names = sorted(os.listdir(folder))
    if replace_whole:
        foreign = [name for name in names if not _is_run_file(name)]
        if foreign:
            listed = ", ".join(printable(name) for name in foreign[:3])
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            raise UsageError(
                f"argument {option}: {shown!r} holds files no run writes ({listed}{more}); a "
                "run replaces its folder whole, so give a new or empty folder"
            )
        if folder.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
            raise UsageError(
                f"argument {option}: {shown!r} is the current folder or holds it; a run "
                "replaces its folder whole, so give a folder inside it"
            )
    elif "cost_history.json" in names:
        raise UsageError(
            f"argument {option}: {shown!r} holds a training run (cost_history.json); its "
            "picture would then show another network: give another folder"
        )


def make_folder(folder: Path, option: str) -> None:
    """Create ``folder`` and its parents, or a UsageError naming the option.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp()) / "a" / "b"
    >>> make_folder(folder, "--out")
    >>> folder.is_dir()
    True
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"argument {option}: cannot create the folder {printable(folder)!r}: "
            f"{error.strerror or one_line(error)}"
        ) from error


@contextlib.contextmanager
def staged_folder(folder: Path, option: str) -> Iterator[Path]:
    """A fresh hidden folder beside ``folder`` to write a run into, put in its place at the end.

    When the block ends normally the staging folder replaces ``folder`` (a previous run's
    folder is renamed aside, the new one renamed in, the old one removed). When it raises —
    an error, Ctrl-C — the staging folder is removed and ``folder`` is left as it was.

    Examples
    --------
    An interrupted run leaves the previous run's files as they were:

    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> out.mkdir()
    >>> _ = (out / "model.npz").write_text("previous run")
    >>> try:
    ...     with staged_folder(out, "--out") as staging:
    ...         _ = (staging / "model.npz").write_text("this run")
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> (out / "model.npz").read_text(), len(list(out.parent.iterdir()))
    ('previous run', 1)
    """
    folder = Path(os.path.abspath(folder))
    check_output_folder(folder, option, replace_whole=True)
    make_folder(folder.parent, option)
    try:
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
        # mkdtemp makes it private (0700); the folder it becomes gets the usual mode.
        os.chmod(staging, 0o777 & ~_umask())
    except OSError as error:
        raise UsageError(
            f"argument {option}: cannot write into {printable(folder.parent)!r}: "
            f"{error.strerror or one_line(error)}"
        ) from error
    try:
        yield staging
        _swap_in(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _swap_in(staging: Path, folder: Path) -> None:
    """Put ``staging`` at ``folder``; the folder there before is removed once it is replaced."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    aside = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.previous-"))
    os.rmdir(aside)  # only its unique name was wanted: rename needs the target absent
    os.rename(folder, aside)
    try:
        os.rename(staging, folder)
    except BaseException:
        os.rename(aside, folder)
        raise
    shutil.rmtree(aside, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# pictures and the list of files written
# --------------------------------------------------------------------------------------------


@dataclass
class Picture:
    """The outcome of drawing a graph: the files written, or why the picture is missing.

    Examples
    --------
    >>> from pathlib import Path
    >>> Picture(Path("out/graph.dot"), None, "no SVG").missing_reason
    'no SVG'
    """

    dot_path: Path
    picture_path: Path | None
    missing_reason: str | None = None


def draw(dot_text: str, picture_path: Path, fmt: str, *, shown_as: Path | None = None) -> Picture:
    """Write ``<picture>.dot`` and, with Graphviz, the picture; both atomically.

    ``shown_as`` is where the picture will be once the run's folder is in place (the paths the
    result and its messages name); by default ``picture_path`` itself.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from tinygrad_nn import Tensor, viz
    >>> folder = Path(tempfile.mkdtemp())
    >>> text = viz.to_dot(Tensor([1.0], requires_grad=True).exp())
    >>> draw(text, folder / "g.dot", "dot").dot_path.name
    'g.dot'
    """
    final = picture_path if shown_as is None else shown_as
    write(picture_path.with_suffix(".dot"), dot_text)
    picture = Picture(final.with_suffix(".dot"), None)
    if fmt == "dot":
        return picture
    # viz.render writes in place; render into a scratch folder and move the result in whole.
    with tempfile.TemporaryDirectory(prefix="tinygrad-nn-") as scratch:
        try:
            drawn = viz.render(dot_text, Path(scratch) / f"graph.{fmt}", format=fmt)
        except viz.GraphvizNotFoundError:
            picture.missing_reason = (
                f"no {fmt.upper()} of the graph: Graphviz's `dot` program is not on PATH. To get "
                f"it, {INSTALL_HINT}, then run: dot -T{fmt} {picture.dot_path} -o {final}"
            )
            return picture
        except RuntimeError as error:
            raise RunError(f"drawing {final}: {one_line(error)}") from error
        write(picture_path, drawn.read_bytes())
    picture.picture_path = final
    return picture


class Report:
    """The files a command wrote, and notes about the ones it could not, for the user.

    Examples
    --------
    >>> import io
    >>> from pathlib import Path
    >>> report = Report()
    >>> report.add("trained parameters", Path("out/model.npz"))
    >>> stream = io.StringIO()
    >>> report.print(stream)
    >>> print(stream.getvalue().rstrip())
    wrote:
      trained parameters  out/model.npz
    """

    def __init__(self) -> None:
        self.files: list[tuple[str, Path]] = []
        self.notes: list[str] = []

    def add(self, what: str, path: Path) -> None:
        """List ``path`` as the file holding ``what``.

        Examples
        --------
        >>> from pathlib import Path
        >>> report = Report()
        >>> report.add("cost curve", Path("out/cost_history.png"))
        >>> report.files[0][0]
        'cost curve'
        """
        self.files.append((what, path))

    def add_picture(self, what: str, picture: Picture) -> None:
        """List a drawn graph: the picture if there is one, the DOT text, and a note if not.

        Examples
        --------
        >>> from pathlib import Path
        >>> report = Report()
        >>> report.add_picture("graph", Picture(Path("g.dot"), None, "no SVG: install dot"))
        >>> [what for what, _ in report.files], report.notes
        (['graph (DOT text)'], ['no SVG: install dot'])
        """
        if picture.picture_path is not None:
            self.add(what, picture.picture_path)
        self.add(f"{what} (DOT text)", picture.dot_path)
        if picture.missing_reason is not None:
            self.notes.append(picture.missing_reason)

    def print(self, stdout: IO[str]) -> None:
        """Print the list of files and the notes (any file name prints, see :func:`printable`).

        Examples
        --------
        >>> import io, os
        >>> from pathlib import Path
        >>> report = Report()
        >>> report.add("cost curve", Path(os.fsdecode(b"caf\\xe9")) / "cost_history.png")
        >>> stream = io.StringIO()
        >>> report.print(stream)
        >>> print(stream.getvalue().rstrip())
        wrote:
          cost curve  caf\\xe9/cost_history.png
        """
        if not self.files and not self.notes:
            return
        print("wrote:", file=stdout)
        width = max((len(what) for what, _ in self.files), default=0)
        for what, path in self.files:
            print(f"  {what.ljust(width)}  {printable(path)}", file=stdout)
        for note in self.notes:
            print(f"note: {printable(note)}", file=stdout)

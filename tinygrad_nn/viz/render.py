"""The graph drawn by Graphviz: a graphviz.Digraph for notebooks, and SVG/PNG/PDF files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinygrad_nn.tensor import Tensor
from tinygrad_nn.viz._common import _optional
from tinygrad_nn.viz.graph import _dot_body, to_dot

if TYPE_CHECKING:  # imported lazily at run time: an optional dependency
    import graphviz

__all__ = ["GraphvizNotFoundError", "draw_graph", "render"]

_FORMATS = ("svg", "png", "pdf")


def draw_graph(
    root: Tensor,
    *,
    show_values: bool = True,
    show_grads: bool = True,
    show_formulas: bool = True,
    rankdir: str = "TB",
    max_nodes: int | None = None,
    collapse: bool | str | None = None,
    legend: bool = False,
) -> graphviz.Digraph:
    """``root``'s graph as a ``graphviz.Digraph``; Jupyter shows it inline.

    Takes the options of :func:`to_dot`, and its ``.source`` is exactly ``to_dot``'s text.
    Needs the ``graphviz`` Python package (``pip install 'tinygrad-nn[viz]'``); displaying or
    rendering it needs Graphviz's ``dot`` program too (see :func:`render`). Without ``dot``, a
    notebook shows how to install it instead of the picture, and the graph's ``pipe`` and
    ``render`` raise :class:`GraphvizNotFoundError` (not graphviz's ``ExecutableNotFound``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> g = draw_graph(loss)
    >>> type(g).__name__, g.source == to_dot(loss)
    ('Digraph', True)
    """
    _optional("graphviz", "draw_graph")
    body = _dot_body(root, show_values=show_values, show_grads=show_grads,
                     show_formulas=show_formulas, rankdir=rankdir, max_nodes=max_nodes,
                     collapse=collapse, legend=legend, what="draw_graph")
    from tinygrad_nn.viz._digraph import Digraph  # imports graphviz: only when drawing

    graph = Digraph(name="tinygrad_nn")
    graph.body.extend(body)
    return graph


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not on PATH; :func:`render` wrote the DOT text to
    ``dot_path`` (None when the error comes from a :func:`draw_graph` graph).

    Examples
    --------
    >>> import os, tempfile
    >>> from tinygrad_nn import Tensor, viz
    >>> loss = (Tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
    >>> path = os.environ["PATH"]
    >>> os.environ["PATH"] = ""       # as if Graphviz were not installed
    >>> try:
    ...     with tempfile.TemporaryDirectory() as folder:
    ...         viz.render(loss, os.path.join(folder, "graph.svg"))
    ... except viz.GraphvizNotFoundError as error:
    ...     print(error.dot_path.name, isinstance(error, RuntimeError))
    ... finally:
    ...     os.environ["PATH"] = path
    graph.dot True
    """

    def __init__(self, message: str, dot_path: Path | None) -> None:
        super().__init__(message)
        self.dot_path = dot_path


def _install_instructions() -> str:
    return (
        "Install Graphviz (the program, not only the Python package 'graphviz'):\n"
        "  Debian/Ubuntu: sudo apt-get install graphviz\n"
        "  macOS:         brew install graphviz\n"
        "  conda:         conda install -c conda-forge graphviz\n"
        "  Windows:       winget install graphviz  (or https://graphviz.org/download/)"
    )


def render(
    graph_or_root: Tensor | graphviz.Digraph | str,
    path: str | Path,
    format: str | None = None,
    **options: Any,
) -> Path:
    """Write a picture of the graph with Graphviz's ``dot``, and its DOT text beside it.

    Parameters
    ----------
    graph_or_root : Tensor, graphviz.Digraph or str
        A tensor (drawn with :func:`to_dot` and ``options``), a graph from :func:`draw_graph`
        (anything with a ``.source``), or DOT text.
    path : str or Path
        Where the picture goes, e.g. ``"out/graph.svg"``. Without a suffix, ``.{format}`` is
        added. The DOT text always goes to the same path with the suffix ``.dot``, written
        first, so it exists even when ``dot`` is missing. Missing folders are created.
    format : {"svg", "png", "pdf"}, optional
        Defaults to the path's suffix, or ``"svg"``.
    **options
        Passed to :func:`to_dot` when ``graph_or_root`` is a tensor.

    Returns
    -------
    Path
        The picture's path.

    Raises
    ------
    GraphvizNotFoundError
        (a ``RuntimeError``) when ``dot`` is not on PATH: says how to install it and where the
        DOT text was written.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> path = render((w * w).sum(), folder / "graph.svg")  # doctest: +SKIP
    >>> path.name, path.with_suffix(".dot").exists()  # doctest: +SKIP
    ('graph.svg', True)
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if format is None:
        format = suffix if suffix in _FORMATS else "svg"
    if not isinstance(format, str) or format.lower() not in _FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(_FORMATS)}; got {format!r}")
    format = format.lower()
    if suffix in _FORMATS and suffix != format:
        raise ValueError(f"render: path {str(path)!r} ends in .{suffix} but format is {format!r}")
    if suffix != format:
        path = path.with_name(path.name + "." + format)

    if isinstance(graph_or_root, Tensor):
        source = to_dot(graph_or_root, **options)
    else:
        if options:
            raise TypeError(
                f"render: options {sorted(options)} apply only when drawing a Tensor; this "
                f"graph is already drawn"
            )
        if isinstance(graph_or_root, str):
            source = graph_or_root
        elif isinstance(getattr(graph_or_root, "source", None), str):
            source = graph_or_root.source
        else:
            raise TypeError(
                f"render: expected a Tensor, a graphviz graph or DOT text; got "
                f"{type(graph_or_root).__name__}"
            )

    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(source, encoding="utf-8")

    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFoundError(
            f"Graphviz's 'dot' program was not found on PATH, so {path} was not drawn. The DOT "
            f"text was written to {dot_path}; once Graphviz is installed, draw it with\n"
            f"  dot -T{format} {dot_path} -o {path}\n{_install_instructions()}",
            dot_path,
        )
    result = subprocess.run(
        [executable, f"-T{format}", str(dot_path), "-o", str(path)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"Graphviz's dot failed (exit status {result.returncode}) drawing {dot_path}: "
            f"{result.stderr.strip()}"
        )
    return path

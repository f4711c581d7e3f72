"""graphviz.Digraph for the graph pictures: a missing ``dot`` says how to install Graphviz.

Imported only by :func:`tinygrad_nn.viz.draw_graph`, because it imports the optional
``graphviz`` package.
"""

from __future__ import annotations

import shutil
from typing import Any

import graphviz

from tinygrad_nn.viz.render import GraphvizNotFoundError, _install_instructions

__all__ = ["Digraph"]


def _missing_dot() -> GraphvizNotFoundError:
    return GraphvizNotFoundError(
        "Graphviz's 'dot' program was not found on PATH, so this graph cannot be drawn; its DOT "
        f"text is in .source.\n{_install_instructions()}",
        None,
    )


class Digraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that, without Graphviz's ``dot``, shows install advice in a notebook
    and raises :class:`~tinygrad_nn.viz.GraphvizNotFoundError` from ``pipe`` and ``render``
    (instead of graphviz's ``ExecutableNotFound``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor, viz
    >>> graph = viz.draw_graph(Tensor([1.0], requires_grad=True).exp())
    >>> isinstance(graph, Digraph), graph.source.startswith("digraph tinygrad_nn")
    (True, True)
    """

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None,
                          **options: Any) -> dict[str, Any]:
        if shutil.which("dot") is None:
            return {"text/plain": str(_missing_dot())}
        return super()._repr_mimebundle_(include, exclude, **options)

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """``graphviz.Digraph.pipe``; without ``dot``, a :class:`GraphvizNotFoundError`.

        Examples
        --------
        >>> from tinygrad_nn import Tensor, viz
        >>> svg = viz.draw_graph(Tensor([1.0], requires_grad=True).exp()).pipe("svg")
        >>> svg[:5]
        b'<?xml'
        """
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise _missing_dot() from error

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """``graphviz.Digraph.render``; without ``dot``, a :class:`GraphvizNotFoundError`.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from tinygrad_nn import Tensor, viz
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> graph = viz.draw_graph(Tensor([1.0], requires_grad=True).exp())
        >>> pathlib.Path(graph.render(folder / "g", format="svg")).name
        'g.svg'
        """
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise _missing_dot() from error

"""Rich HTML for notebooks: a Tensor (shape, dtype, values, gradient) and a Module (its layers).

Jupyter calls ``_repr_html_`` to display an object; :class:`~tinygrad_nn.tensor.Tensor` and
:class:`~tinygrad_nn.nn.Module` forward theirs to :func:`tensor_html` and :func:`module_html`.
Pure Python and numpy: nothing to install.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nn.viz._common import _html, _shape_text

__all__ = ["module_html", "tensor_html"]

_STYLE = (
    "font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; "
    "border-collapse: collapse"
)
_CELL = 'style="text-align: left; vertical-align: top; padding: 2px 8px"'
_MUTED = 'style="color: #888888"'


def _preview(array: np.ndarray) -> str:
    """At most ~6 rows of values, numpy's way of eliding the middle."""
    text = np.array2string(np.asarray(array), precision=4, threshold=60, edgeitems=3,
                           max_line_width=88, suppress_small=True)
    return f'<pre style="margin: 0">{_html(text)}</pre>'


def tensor_html(t: Any) -> str:
    """A Tensor as HTML: name, shape, dtype, how it was made, a preview of its values and
    of ``.grad``.

    Parameters
    ----------
    t : Tensor

    Returns
    -------
    str
        An HTML table (what a notebook shows for ``t``).

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([[1.0, -2.0]], requires_grad=True, name="W")
    >>> (w * w).sum().backward()
    >>> html = tensor_html(w)
    >>> "<b>W</b>" in html and "(1, 2)" in html and "float64" in html and "-4." in html
    True
    """
    title = f"<b>{_html(t.name)}</b> " if t.name else ""
    facts = [_shape_text(t.shape), str(t.dtype)]
    if t.op is not None:
        facts.append(f"made by {_html(t.op)}")
    elif t.requires_grad:
        facts.append("parameter (requires grad)")
    else:
        facts.append("leaf")
    if t.graph_released:
        facts.append("graph released by backward()")
    rows = [f"<tr><td {_CELL}>values</td><td {_CELL}>{_preview(t.data)}</td></tr>"]
    if t.grad is not None:
        rows.append(f"<tr><td {_CELL}>grad</td><td {_CELL}>{_preview(t.grad)}</td></tr>")
    elif t.requires_grad:
        hint = ("call backward() on a result" if t.is_leaf
                else "kept on intermediates only after retain_grad()")
        rows.append(f"<tr><td {_CELL}>grad</td><td {_CELL}><span {_MUTED}>None ({hint})"
                    f"</span></td></tr>")
    return (f'<table style="{_STYLE}"><tr><td {_CELL} colspan="2">{title}Tensor · '
            f"{' · '.join(facts)}</td></tr>{''.join(rows)}</table>")


def _submodules(module: Any) -> list[tuple[str, Any]]:
    """(path, module) for the module and every sub-module, depth first, in order."""
    found: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [("", module)]
    while stack:
        path, current = stack.pop()
        found.append((path, current))
        children = list(getattr(current, "_modules", {}).items())
        stack.extend((f"{path}.{name}" if path else name, child)
                     for name, child in reversed(children))
    return found


def module_html(module: Any) -> str:
    """A Module as HTML: its repr, then one row per layer with its parameters' shapes and
    counts, and the total.

    Parameters
    ----------
    module : Module

    Returns
    -------
    str
        An HTML table (what a notebook shows for ``module``).

    Examples
    --------
    >>> from tinygrad_nn import nn
    >>> html = module_html(nn.MLP([2, 3, 1]))
    >>> "layer1" in html and "W (3, 2)" in html and "13 parameters" in html
    True
    """
    rows = []
    total = 0
    for path, sub in _submodules(module):
        own = list(getattr(sub, "_parameters", {}).items())
        count = sum(int(p.size) for _, p in own)
        total += count
        if not path:
            if not own:
                continue
            path = "(own)"
        shapes = ", ".join(f"{_html(name)} {_shape_text(p.shape)}" for name, p in own)
        rows.append(f"<tr><td {_CELL}>{_html(path)}</td><td {_CELL}>{_html(type(sub).__name__)}"
                    f"</td><td {_CELL}>{shapes}</td><td {_CELL} align='right'>"
                    f"{count:,}</td></tr>")
    header = (f"<tr><th {_CELL}>layer</th><th {_CELL}>kind</th><th {_CELL}>parameters</th>"
              f"<th {_CELL}>count</th></tr>")
    return (f'<table style="{_STYLE}"><tr><td {_CELL} colspan="4"><b>{_html(repr(module))}'
            f"</b> · {total:,} parameters</td></tr>{header}{''.join(rows)}</table>")

"""Pictures that teach backprop: the graph, the backward pass written out, and training plots.

* **The graph** — :func:`to_dot` writes the DOT text of a tensor's graph in pure Python (no
  Graphviz needed), :func:`draw_graph` wraps the same text in a ``graphviz.Digraph`` (shown
  inline by Jupyter) and :func:`render` writes an SVG/PNG/PDF with Graphviz's ``dot``. Every
  tensor shows its name (the user's, or the article's ``Z1``, ``A1``…), shape, dtype, values
  and gradient; every op its local backward rule, taken from the op's definition in
  :mod:`tinygrad_nn.ops` and written with the graph's names. Draw before or after
  ``backward()``: after it, from the summary the backward pass leaves
  (:mod:`tinygrad_nn.graph_summary`).
* **The backward pass** — :func:`explain` lists what ``backward()`` does, op by op, in the
  engine's order, with each rule written with this graph's names (``dZ2 = dA2·A2·(1−A2)``).
* **Training** — :func:`plot_cost_history`, :func:`plot_decision_boundary` and
  :func:`plot_gradient_flow` (with :func:`gradient_norms` to record it) draw with matplotlib
  on a fresh ``Figure`` (never ``pyplot.show``), so they work on a headless machine;
  :class:`TrainingAnimation` records a run and saves it as a GIF (Pillow).
* **The compiled plan** — :func:`plan_to_dot` / :func:`draw_plan`: what a
  ``tinygrad_nn.compile`` replay executes for each recorded op.
* **Notebooks** — a ``Tensor`` and a ``Module`` display as HTML tables (:mod:`.html`).

``graphviz``, ``matplotlib`` and Pillow are imported inside the functions that need them:
importing this module, :func:`to_dot` and :func:`explain` need numpy only.

Examples
--------
>>> from tinygrad_nn import Tensor, viz
>>> w = Tensor([[0.5, -1.0]], requires_grad=True, name="W")
>>> x = Tensor([[1.0], [2.0]], name="X")
>>> loss = (w @ x).sigmoid().sum()
>>> print(viz.to_dot(loss).splitlines()[0])
digraph tinygrad_nn {
"""

from tinygrad_nn.viz.animation import TrainingAnimation
from tinygrad_nn.viz.explain import ExplainStep, Explanation, GradientFlow, explain
from tinygrad_nn.viz.graph import to_dot
from tinygrad_nn.viz.plan import draw_plan, plan_to_dot
from tinygrad_nn.viz.plots import (
    gradient_norms,
    plot_cost_history,
    plot_decision_boundary,
    plot_gradient_flow,
)
from tinygrad_nn.viz.render import GraphvizNotFoundError, draw_graph, render

__all__ = [
    "ExplainStep",
    "Explanation",
    "GradientFlow",
    "GraphvizNotFoundError",
    "TrainingAnimation",
    "draw_graph",
    "draw_plan",
    "explain",
    "gradient_norms",
    "plan_to_dot",
    "plot_cost_history",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "render",
    "to_dot",
]

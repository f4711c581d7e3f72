"""Pictures that teach backprop: the graph, the backward pass written out, and training plots.

Three kinds of pictures:

* **The graph** — :func:`to_dot` writes the DOT text of a tensor's graph in pure Python (no
  Graphviz needed), :func:`draw_graph` wraps the same text in a ``graphviz.Digraph`` (shown
  inline by Jupyter) and :func:`render` writes an SVG/PNG/PDF with Graphviz's ``dot`` program.
  Every tensor shows its name, shape, dtype, values and gradient; every op shows its local
  backward rule, taken from the op's definition in :mod:`tinygrad_nn.ops`.
* **The backward pass** — :func:`explain` lists what ``backward()`` will do, op by op, in the
  engine's order, with each rule written with this graph's names (``dZ2 = dA2·A2·(1−A2)``).
* **Training** — :func:`plot_cost_history`, :func:`plot_decision_boundary` and
  :func:`plot_gradient_flow` (with :func:`gradient_norms` to record it) draw with matplotlib
  on a fresh ``Figure`` (never ``pyplot.show``), so they work on a headless machine.

``graphviz`` and ``matplotlib`` are imported inside the functions that need them: importing this
module, :func:`to_dot` and :func:`explain` need numpy only.

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
    "plot_cost_history",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "plan_to_dot",
    "render",
    "to_dot",
]

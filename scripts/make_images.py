"""Regenerate the pictures in docs/img/ that the README shows; none is drawn by hand.

    .venv/bin/python scripts/make_images.py            # writes docs/img/
    .venv/bin/python scripts/make_images.py --out DIR

Writes:

* ``graph_article_step.svg`` (and its ``.dot``): one training step of the article's network
  [2, 3, 1] on 4 examples, drawn after ``backward()`` (from the summary backward leaves), so
  every tensor shows its value and its gradient.
* ``plan_article_step.svg`` (and its ``.dot``): the article's training step [2, 4, 3, 1]
  through ``tinygrad_nn.compile``: the ops as recorded beside what the replay executes, each
  executed step with its lines of the generated source.
* ``cost_history.png``, ``decision_boundary.png`` and ``training.gif``: the article's sigmoid
  network [2, 8, 1] (its initialisation) trained with plain gradient descent on the two moons;
  the GIF (``viz.TrainingAnimation``) shows the decision regions and the cost as it trains.
* ``gradient_flow.png``: per-parameter gradient norms while training a deep net (8 hidden
  layers) with sigmoid and with ReLU: the sigmoid's first layers get gradients orders of
  magnitude smaller (vanishing gradients).

Everything is seeded, so a rerun gives the same pictures (up to the versions of Graphviz and
matplotlib). The SVG needs Graphviz's ``dot``; without it the ``.dot`` is still written and the
script says how to install Graphviz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Figures are made with matplotlib.figure.Figure, never pyplot: no window, no GUI backend.
from matplotlib.figure import Figure

import tinygrad_nn
from tinygrad_nn import Tensor, data, nn, viz
from tinygrad_nn.optim import SGD

ROOT = Path(__file__).resolve().parent.parent


def graph_of_one_step(out: Path) -> Path:
    """The article's network [2, 3, 1] (sigmoid layers, article init) and its cost on 4 examples."""
    X_all, Y_all = data.load("article", m=4, seed=0)
    X = Tensor(X_all, name="X")
    Y = Tensor(Y_all, name="Y")
    model = nn.MLP([2, 3, 1])
    J = nn.binary_cross_entropy(model(X), Y)
    J.name = "J"
    J.backward()
    return viz.render(J, out / "graph_article_step.svg", legend=True)


def plan_of_one_step(out: Path) -> Path:
    """The article's network and training step, compiled: the recorded ops beside the replay."""
    model = nn.MLP([2, 4, 3, 1], seed=3)
    optimizer = SGD(model.parameters(), lr=2.0)

    @tinygrad_nn.compile
    def step(X: Tensor, Y: Tensor) -> Tensor:
        loss = nn.binary_cross_entropy(model(X), Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    X, Y = data.load("article", m=40, seed=0)
    for _ in range(3):  # eager, traced, replayed
        step(X, Y)
    return viz.render(viz.plan_to_dot(step), out / "plan_article_step.svg")


def train_article_network(
    epochs: int = 6000, lr: float = 3.0, animation_path: Path | None = None
) -> tuple[nn.MLP, list[float], Tensor, Tensor]:
    """The article's network and loop (sigmoid layers, its init, full-batch gradient descent:
    forward, cost, backward, step) on the two moons; recorded as a GIF if a path is given."""
    X_all, Y_all = data.load("moons", m=300, noise=0.15, seed=0)
    X, Y = Tensor(X_all, name="X"), Tensor(Y_all, name="Y")
    model = nn.MLP([2, 8, 1])
    optimizer = SGD(model.parameters(), lr=lr)
    animation = viz.TrainingAnimation(X, Y, every=50)
    cost_history = []
    for _ in range(epochs):
        optimizer.zero_grad()
        J = nn.binary_cross_entropy(model(X), Y)
        cost_history.append(J.item())
        J.backward()
        optimizer.step()
        animation.record(model, cost_history[-1])
    if animation_path is not None:
        animation.save(animation_path)
    return model, cost_history, X, Y


def gradient_flow(out: Path, depth: int = 8, steps: int = 100) -> Path:
    """Gradient norms of a deep sigmoid net beside the same net with ReLU."""
    X_all, Y_all = data.load("moons", m=200, noise=0.15, seed=1)
    X, Y = Tensor(X_all, name="X"), Tensor(Y_all, name="Y")
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    for ax, activation in zip(axes, ("sigmoid", "relu"), strict=True):
        init = "xavier" if activation == "sigmoid" else "he"
        model = nn.MLP([2] + [16] * depth + [1], activation=activation, init=init, seed=0)
        weights = [p for name, p in model.named_parameters() if name.startswith("W")]
        optimizer = SGD(model.parameters(), lr=0.05)
        history = []
        for _ in range(steps):
            optimizer.zero_grad()
            nn.binary_cross_entropy(model(X), Y).backward()
            history.append(viz.gradient_norms(weights))
            optimizer.step()
        viz.plot_gradient_flow(
            history, ax=ax,
            title=f"{depth} hidden layers, {activation} ({init} init): ‖dW‖ per layer",
        )
    path = out / "gradient_flow.png"
    figure.savefig(path, dpi=110)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img",
                        help="folder for the pictures (default: docs/img)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    written = []

    for draw in (graph_of_one_step, plan_of_one_step):
        try:
            written.append(draw(out))
        except viz.GraphvizNotFoundError as error:
            print(error, file=sys.stderr)
            written.append(error.dot_path)

    model, cost_history, X, Y = train_article_network(animation_path=out / "training.gif")
    written.append(out / "training.gif")
    figure, _ = viz.plot_cost_history(cost_history)
    figure.savefig(out / "cost_history.png", dpi=110)
    written.append(out / "cost_history.png")
    figure, ax = viz.plot_decision_boundary(model, X, Y)
    accuracy = float(((model(X).data > 0.5) == (Y.data > 0.5)).mean())
    ax.set_title(f"decision boundary of the article's network [2, 8, 1]\n"
                 f"after {len(cost_history)} epochs: {accuracy:.0%} train accuracy", fontsize=10)
    figure.savefig(out / "decision_boundary.png", dpi=110)
    written.append(out / "decision_boundary.png")

    written.append(gradient_flow(out))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

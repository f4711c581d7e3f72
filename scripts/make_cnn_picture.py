"""Draw the graph of one training step of a small CNN, one node per module, for the tutorial:
docs/img/graph_cnn_step.svg (and .dot). Run: python scripts/make_cnn_picture.py"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygrad_nn import data, nn, viz

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "graph_cnn_step.svg"


def main() -> Path:
    """Build the tutorial's CNN, run one step on four digits and render it collapsed."""
    X, labels = data.load("digits", m=4)
    images = X.T.reshape(-1, 1, 8, 8)
    cnn = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10, init="he", seed=1),
    )
    loss = nn.cross_entropy(cnn(images), labels)
    loss.backward(retain_graph=True)
    return viz.render(loss, OUT, collapse="modules")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    print(main())

"""Handwritten digits with the article's kind of network: an MLP on 8x8 images, >= 97% on test.

The data is scikit-learn's 1,797 8x8 digits (``tinygrad_nn.data.load("digits")``, through the
optional extra: ``pip install '.[data]'``); nothing is downloaded. Each image is one column of
64 pixels, the article's layout ``(features, m)``. The network is ``MLP([64, 128, 64, 10])`` with
ReLU and He initialisation, its 10 logits go into the softmax cross-entropy, and Adam trains
it on minibatches. A quarter of the images are held out for the test accuracy.

Run:  python examples/digits_mlp.py            (about 10 s on two cores)
"""

from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

from tinygrad_nn import data, nn, no_grad, optim

LAYER_DIMS = [64, 128, 64, 10]


def accuracy(model: nn.Module, X: np.ndarray, labels: np.ndarray) -> float:
    """Share of the columns of X whose largest logit is the label (in eval mode)."""
    model.eval()
    with no_grad():
        logits = model(X).data
    return float((logits.argmax(axis=0) == labels).mean())


def main(epochs: int = 30, batch_size: int = 32, lr: float = 3e-3, seed: int = 0,
         progress: bool = True) -> float:
    """Train the MLP and return its test accuracy."""
    X, labels = data.load("digits", seed=seed)
    X_train, y_train, X_test, y_test = data.train_test_split(
        X, labels, test_fraction=0.25, seed=seed
    )
    model = nn.MLP(LAYER_DIMS, activation="relu", output_activation="none", seed=seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    m = X_train.shape[1]
    bar = tqdm(range(epochs), desc="digits MLP", unit="epoch", disable=not progress)
    for _ in bar:
        order = rng.permutation(m)
        total = 0.0
        for start in range(0, m, batch_size):
            batch = order[start:start + batch_size]
            loss = nn.cross_entropy(model(X_train[:, batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        bar.set_postfix(loss=f"{total / m:.4f}")
    train_accuracy = accuracy(model, X_train, y_train)  # accuracy() sets eval mode
    test_accuracy = accuracy(model, X_test, y_test)
    print(f"train accuracy {train_accuracy:.2%}, test accuracy {test_accuracy:.2%} "
          f"({X_test.shape[1]} held-out images)")
    return test_accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(epochs=args.epochs, seed=args.seed)

"""Handwritten digits with a small CNN: two convolutions on the 8x8 images, >= 98% on test.

The same data as examples/digits_mlp.py (``tinygrad_nn.data.load("digits")``, through the
optional extra ``pip install '.[data]'``). The convolution layers take a batch of images
``(N, C, H, W)`` as PyTorch does; ``Flatten`` then turns the feature maps into one column per
image, ``(features, N)``, the article's layout, which ``Linear`` and ``cross_entropy`` take — no
transpose by hand:

    (N, 1, 8, 8) -> Conv2d 3x3 -> ReLU -> MaxPool 2 -> (N, 32, 4, 4)
                 -> Conv2d 3x3 -> ReLU -> MaxPool 2 -> (N, 64, 2, 2)
                 -> Flatten -> (256, N) -> Linear -> (10, N) logits

The training step goes through ``tinygrad_nn.compile``: traced on its second call, replayed
after (the last, smaller batch of an epoch gets a plan of its own).

Run:  python examples/digits_cnn.py            (about 20 s on two cores)
"""

from __future__ import annotations

import argparse

import numpy as np
from tqdm import tqdm

import tinygrad_nn
from tinygrad_nn import data, nn, no_grad, optim


def make_cnn(seed: int = 0) -> nn.Sequential:
    """The network: two conv-ReLU-pool blocks and a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, seed=seed),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, seed=seed + 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 2 * 2, 10, init="he", seed=seed + 2),
    )


def images(X: np.ndarray) -> np.ndarray:
    """Columns of 64 pixels -> a batch of 1-channel 8x8 images (N, 1, 8, 8)."""
    return np.ascontiguousarray(X.T.reshape(-1, 1, 8, 8))


def accuracy(model: nn.Module, X: np.ndarray, labels: np.ndarray) -> float:
    """Share of the images whose largest logit is the label (in eval mode)."""
    model.eval()
    with no_grad():
        logits = model(X).data
    model.train()
    return float((logits.argmax(axis=0) == labels).mean())


def main(epochs: int = 12, batch_size: int = 32, lr: float = 3e-3, seed: int = 0,
         progress: bool = True) -> float:
    """Train the CNN and return its test accuracy."""
    X, labels = data.load("digits", seed=seed)
    X_train, y_train, X_test, y_test = data.train_test_split(
        X, labels, test_fraction=0.25, seed=seed
    )
    X_train, X_test = images(X_train), images(X_test)
    model = make_cnn(seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)

    @tinygrad_nn.compile
    def step(images: np.ndarray, labels: np.ndarray) -> tinygrad_nn.Tensor:
        loss = nn.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    rng = np.random.default_rng(seed)
    m = X_train.shape[0]
    bar = tqdm(range(epochs), desc="digits CNN", unit="epoch", disable=not progress)
    for _ in bar:
        order = rng.permutation(m)
        total = 0.0
        for start in range(0, m, batch_size):
            batch = order[start:start + batch_size]
            loss = step(X_train[batch], y_train[batch])
            total += loss.item() * len(batch)
        bar.set_postfix(loss=f"{total / m:.4f}")
    train_accuracy = accuracy(model, X_train, y_train)
    test_accuracy = accuracy(model, X_test, y_test)
    print(f"train accuracy {train_accuracy:.2%}, test accuracy {test_accuracy:.2%} "
          f"({X_test.shape[0]} held-out images)")
    return test_accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(epochs=args.epochs, seed=args.seed)

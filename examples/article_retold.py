"""The article "How to build a neural network from scratch", retold with the engine.

The article trains a small sigmoid network with gradients derived by hand. Here the same network
is trained three ways, from the same initial weights:

1. with the article's own functions (``tinygrad_nn.reference``: forward_prop, backprop,
   update_parameters);
2. with ``tinygrad_nn.train``, the article's signature, gradients from ``loss.backward()``;
3. with the training step written out: ``MLP`` + ``binary_cross_entropy`` + ``SGD``, run by
   ``tinygrad_nn.training.fit``, the package's one training loop.

The three cost histories agree to rounding, and ``crosscheck`` shows where the agreement comes
from: layer by layer, the engine's dW, db, dZ and dA equal the article's.

Run:  python examples/article_retold.py
"""

import numpy as np

import tinygrad_nn
from tinygrad_nn import Tensor, data, nn, optim, reference, training

LAYER_DIMS = [2, 4, 3, 1]  # two features, two hidden layers, one sigmoid output
EPOCHS = 1000
LEARNING_RATE = 1.0
SHOWN_EPOCHS = [0, 1, 10, 100, 500, 600, 700, 800, 999]


def engine_loop(X, Y):
    """The training step with the engine, written out, run by the package's one training loop
    (tinygrad_nn.training.fit, which tinygrad_nn.train and the command line use too)."""
    model = nn.MLP(LAYER_DIMS)  # the article's init_params: randn * 0.01 from seed 3
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def step(X, Y):
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy(model(X), Y)  # the article's cost, as written
        loss.backward()
        optimizer.step()
        return loss  # the cost before this step's update, as the article records it

    history = training.fit(step, Tensor(X, name="X"), Tensor(Y, name="Y"), EPOCHS)
    return model, history.cost_history


def accuracy(X, Y, params):
    return float(np.mean(reference.predict(X, params) == Y))


def main():
    # The article's kind of problem: two clusters in the plane, labels 0/1 in a (1, m) row.
    X, Y = data.load("article", m=400, seed=0)
    X_train, Y_train, X_test, Y_test = data.train_test_split(X, Y, test_fraction=0.25, seed=0)
    print(f"data: X_train {X_train.shape}, Y_train {Y_train.shape} (examples are columns)")
    print(f"network: layer_dims {LAYER_DIMS}, sigmoid everywhere, {EPOCHS} epochs, "
          f"lr {LEARNING_RATE}\n")

    article_params, article_costs = reference.train(
        X_train, Y_train, LAYER_DIMS, EPOCHS, LEARNING_RATE
    )
    engine_params, engine_costs = tinygrad_nn.train(
        X_train, Y_train, LAYER_DIMS, EPOCHS, LEARNING_RATE
    )
    model, loop_costs = engine_loop(X_train, Y_train)

    # Small initial weights (0.01) and sigmoids everywhere: a long plateau near ln 2, then a drop.
    print("cost J per epoch (before that epoch's update):")
    print(f"{'epoch':>5}  {'article (reference)':>20}  {'tinygrad_nn.train':>20}  "
          f"{'MLP+BCE+SGD loop':>20}  {'max rel diff':>12}")
    for epoch in SHOWN_EPOCHS:
        a, e, lo = article_costs[epoch], engine_costs[epoch], loop_costs[epoch]
        diff = max(abs(e - a), abs(lo - a)) / abs(a)
        print(f"{epoch:>5}  {a:>20.15f}  {e:>20.15f}  {lo:>20.15f}  {diff:>12.1e}")
    whole = np.max(np.abs(np.array(engine_costs) - article_costs) / np.array(article_costs))
    print(f"over all {EPOCHS} epochs, tinygrad_nn.train vs the article: max rel diff "
          f"{whole:.1e}\n")

    # One forward/backward pass both ways, at the trained weights, compared layer by layer.
    report = tinygrad_nn.crosscheck(X_train, Y_train, engine_params)
    print(report)
    fused = tinygrad_nn.crosscheck(X_train, Y_train, engine_params, cost="fused")
    print(f"with the stable fused cost (dZ_L = (A_L − Y)/m) instead: max_error "
          f"{fused.max_error:.1e}, {'ok' if fused.ok else 'MISMATCH'}\n")

    runs = {"article": article_params, "engine": engine_params, "loop": model.state_dict()}
    splits = {"train": (X_train, Y_train), "test": (X_test, Y_test)}
    for split, (X_split, Y_split) in splits.items():
        scores = ", ".join(f"{name} {accuracy(X_split, Y_split, run):.3f}"
                           for name, run in runs.items())
        print(f"{split} accuracy ({X_split.shape[1]} examples): {scores}")


if __name__ == "__main__":
    main()

"""The digits CNN's training step, tinygrad_nn against PyTorch eager: time per step and accuracy.

The network is examples/digits_cnn.py's (two conv-ReLU-pool blocks and a Linear, on (N, 1, 8, 8)
digits), built in both engines from the same initial weights, in float64, with the same Adam.
One step = forward + cross-entropy + backward + Adam update on one batch of 32 training images.

- Speed: each pass times ``--steps`` steps of each engine, each engine in its own fresh child
  process (engines alternate within a pass); the report gives the median ms/step of every pass
  and, over passes, the median and the min–max of the per-pass ratio to PyTorch.
- Agreement: after the timed steps of the first pass both engines' losses are compared (same
  weights, same batch, float64: they agree to rounding).
- Accuracy: both engines train the example's full run (12 epochs, the same batches in the same
  order) and report test accuracy on the same held-out images.

Run:  python benchmarks/bench_cnn.py --passes 5 --out docs/performance_cnn.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
sys.path[:0] = [str(BENCHMARKS), str(REPO), str(REPO / "examples")]

import harness  # noqa: E402

ENGINES = ("tinygrad_nn", "torch")
BATCH = 32
LR = 3e-3


# ---- the two engines (run inside child processes) ---------------------------------------------


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import digits_cnn

    from tinygrad_nn import data

    X, labels = data.load("digits", seed=seed)
    X_train, y_train, X_test, y_test = data.train_test_split(
        X, labels, test_fraction=0.25, seed=seed
    )
    return digits_cnn.images(X_train), y_train, digits_cnn.images(X_test), y_test


class _Ours:
    def __init__(self, seed: int = 0) -> None:
        import digits_cnn

        from tinygrad_nn import nn, no_grad, optim

        self.nn, self.no_grad = nn, no_grad
        self.model = digits_cnn.make_cnn(seed)
        self.optimizer = optim.Adam(self.model.parameters(), lr=LR)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = self.nn.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x: np.ndarray) -> np.ndarray:
        with self.no_grad():
            return self.model(x).data.argmax(axis=0)


class _Torch:
    """The same network in PyTorch, with the weights copied from _Ours (PyTorch's row layout:
    its Linear takes x.flatten(1) and its bias is b.reshape(-1))."""

    def __init__(self, seed: int = 0) -> None:
        import torch

        self.torch = torch
        ours = _Ours(seed).model
        F = torch.nn
        self.model = F.Sequential(
            F.Conv2d(1, 32, 3, padding=1), F.ReLU(), F.MaxPool2d(2),
            F.Conv2d(32, 64, 3, padding=1), F.ReLU(), F.MaxPool2d(2),
            F.Flatten(), F.Linear(256, 10),
        ).double()
        with torch.no_grad():
            for index in (0, 3, 7):
                self.model[index].weight.copy_(torch.from_numpy(ours[index].W.data))
                self.model[index].bias.copy_(torch.from_numpy(ours[index].b.data.reshape(-1)))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(self.model(torch.from_numpy(x)),
                                                 torch.from_numpy(y))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).numpy().argmax(axis=1)


def _engine(name: str) -> Any:
    return _Ours() if name == "tinygrad_nn" else _Torch()


def child_time(name: str, steps: int) -> dict[str, Any]:
    X_train, y_train, _, _ = _data()
    x, y = np.ascontiguousarray(X_train[:BATCH]), y_train[:BATCH]
    engine = _engine(name)
    for _ in range(5):  # warm-up: first-call costs, allocator, thread pools
        engine.step(x, y)
    times, losses = [], []
    for _ in range(steps):
        start = time.perf_counter()
        losses.append(engine.step(x, y))
        times.append(time.perf_counter() - start)
    return {"status": "ok", "ms": 1000 * statistics.median(times), "losses": losses}


def child_accuracy(name: str, epochs: int) -> dict[str, Any]:
    X_train, y_train, X_test, y_test = _data()
    engine = _engine(name)
    rng = np.random.default_rng(0)  # the example's batch order
    m = X_train.shape[0]
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(m)
        for begin in range(0, m, BATCH):
            batch = order[begin:begin + BATCH]
            engine.step(np.ascontiguousarray(X_train[batch]), y_train[batch])
    seconds = time.perf_counter() - start
    accuracy = float((engine.predict(X_test) == y_test).mean())
    return {"status": "ok", "accuracy": accuracy, "seconds": seconds}


# ---- the parent: passes, report ---------------------------------------------------------------


THREADS: int | None = None  # --threads: BLAS/OpenMP threads of every child (None: as inherited)


def _run(argv: list[str]) -> dict[str, Any]:
    env = harness.child_env(threads=THREADS)
    return harness.run_child([str(Path(__file__).resolve()), *argv], env)


def measure(passes: int, steps: int, epochs: int) -> dict[str, Any]:
    per_pass: list[dict[str, float]] = []
    agreement = None
    for index in range(passes):
        order = ENGINES if index % 2 == 0 else ENGINES[::-1]
        results = {name: _run(["child-time", name, str(steps)]) for name in order}
        for name, result in results.items():
            if result.get("status") != "ok":
                raise SystemExit(f"{name} failed: {json.dumps(result)}")
        per_pass.append({name: results[name]["ms"] for name in ENGINES})
        if agreement is None:
            ours, theirs = (np.array(results[n]["losses"]) for n in ENGINES)
            agreement = float(np.max(np.abs(ours - theirs)))
        print(f"pass {index + 1}/{passes}: " + ", ".join(
            f"{name} {per_pass[-1][name]:.2f} ms" for name in ENGINES), flush=True)
    accuracy = {name: _run(["child-accuracy", name, str(epochs)]) for name in ENGINES}
    return {"passes": per_pass, "agreement": agreement, "accuracy": accuracy}


def report(results: dict[str, Any], passes: int, steps: int, epochs: int) -> str:
    per_pass = results["passes"]
    ratios = [p["tinygrad_nn"] / p["torch"] for p in per_pass]
    info = _run(["child-machine"])
    rows = []
    for name in ENGINES:
        values = [p[name] for p in per_pass]
        ratio = [p[name] / p["torch"] for p in per_pass]
        acc = results["accuracy"][name]
        rows.append([
            f"`{name}`",
            f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})",
            f"{statistics.median(ratio):.2f}x ({min(ratio):.2f}–{max(ratio):.2f})",
            f"{100 * acc['accuracy']:.2f}%",
            f"{acc['seconds']:.1f}",
        ])
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    accuracy_gap = 100 * abs(
        results["accuracy"]["tinygrad_nn"]["accuracy"] - results["accuracy"]["torch"]["accuracy"]
    )
    lines = [
        "# Performance of the digits CNN's training step",
        "",
        f"Generated {now} by `{harness.command_line()}` ({passes} interleaved passes of {steps} "
        f"timed steps each, every engine in its own process; BLAS/OpenMP threads: "
        f"{THREADS if THREADS is not None else 'as inherited'}).",
        "",
        "One step = forward + cross-entropy + backward + Adam update of "
        "[examples/digits_cnn.py](../examples/digits_cnn.py)'s network (Conv2d 1→32 3×3, ReLU, "
        "MaxPool 2, Conv2d 32→64 3×3, ReLU, MaxPool 2, Flatten, Linear 256→10) on a batch of "
        f"{BATCH} 8×8 digits, float64, both engines from the same initial weights. Times are "
        "the median ms/step of each pass, summarised as median (min–max) over passes; the ratio "
        "is taken within each pass. Accuracy: the example's full training run "
        f"({epochs} epochs, the same batches in the same order) in each engine, tested on the "
        "same 449 held-out images.",
        "",
        harness.markdown_table(
            ["engine", "ms/step", "x PyTorch eager", "test accuracy", "training run (s)"], rows
        ),
        "",
        f"- target: ≤ 2.0x PyTorch eager per step — measured {statistics.median(ratios):.2f}x "
        f"(median over passes): {'met' if statistics.median(ratios) <= 2.0 else 'NOT met'}",
        f"- accuracy within 1 point of PyTorch's: {accuracy_gap:.2f} points apart: "
        f"{'met' if accuracy_gap <= 1.0 else 'NOT met'}",
        f"- agreement: over the first pass's {steps} steps the two engines' losses differ by at "
        f"most {results['agreement']:.1e} (same weights, same batch, float64)",
        "",
        "## Machine",
        "",
        harness.machine_markdown(info, unset_openblas_env=False),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="measure and write the report (the default)")
    for p in (parser, run):
        p.add_argument("--passes", type=int, default=5)
        p.add_argument("--steps", type=int, default=60)
        p.add_argument("--epochs", type=int, default=12)
        p.add_argument("--out", type=Path, default=None, help="write the report here")
        p.add_argument("--threads", type=int, default=None,
                       help="BLAS/OpenMP threads per child (default: as inherited); on a busy "
                            "machine 1 keeps PyTorch's OpenMP from spinning against other work")
    timing = sub.add_parser("child-time")
    timing.add_argument("engine", choices=ENGINES)
    timing.add_argument("steps", type=int)
    acc = sub.add_parser("child-accuracy")
    acc.add_argument("engine", choices=ENGINES)
    acc.add_argument("epochs", type=int)
    sub.add_parser("child-machine")
    args = parser.parse_args()
    if args.command == "child-time":
        harness.emit(child_time(args.engine, args.steps))
    elif args.command == "child-accuracy":
        harness.emit(child_accuracy(args.engine, args.epochs))
    elif args.command == "child-machine":
        harness.emit(harness.machine_info())
    else:
        global THREADS
        THREADS = args.threads
        results = measure(args.passes, args.steps, args.epochs)
        text = report(results, args.passes, args.steps, args.epochs)
        print(text)
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

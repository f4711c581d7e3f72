"""Does elementwise work on the second core pay inside a training step? (issue 13, item 5)

numpy runs every elementwise pass (the sigmoid's exp, the slopes, the update) on one core;
OpenBLAS runs the products on both. This script times the best hand-written numpy step
(``numpy_optimal`` from engines.py, the bar the compiled step is measured against) four ways, in
one process, interleaved pass by pass:

- ``as_is``: numpy_optimal unchanged (OpenBLAS on its default threads, elementwise on one);
- ``halves_blas1``: OpenBLAS set to one thread (through threadpoolctl, restored after), and
  every product and elementwise pass of the step split into two row halves, one on a worker
  thread (numpy releases the GIL inside a ufunc or a product);
- ``halves_blas2``: the same halves with OpenBLAS left on two threads: its workers spin for a
  while after each product and compete with the worker thread for the second core;
- ``numexpr``: the sigmoid and its slope as numexpr expressions (numexpr's own thread pool, one
  pass each), products as before — only when numexpr is installed (it is not a dependency).

It also times the parts that decide the answer: a float64 ``np.exp`` over a layer of the
large workload (numpy has no vectorised float64 exp for AVX2, so it runs element by element),
and the sigmoid split in halves right after a product, with OpenBLAS on two threads and on one.

Run:  python benchmarks/bench_threads.py --passes 5 --out docs/performance_threads.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

import engines  # noqa: E402
from workloads import WORKLOADS, make_problem  # noqa: E402

STEPS = {"medium": 30, "large": 3, "large_f32": 5}
_pool = ThreadPoolExecutor(1)


def _halves(kernel: Callable[..., Any], *arrays: np.ndarray) -> None:
    """Run ``kernel`` on the top halves (rows) here and on the bottom halves on the worker."""
    half = arrays[0].shape[0] // 2
    if half < 8:
        kernel(*arrays)
        return
    bottom = _pool.submit(kernel, *(a[half:] for a in arrays))
    kernel(*(a[:half] for a in arrays))
    bottom.result()


class Halves(engines.NumpyOptimal):
    """numpy_optimal with every product and elementwise pass split into two row halves."""

    def step(self) -> float:
        inputs = [self.X1, *self.A1[:-1]]
        for Wb, A, A_prev in zip(self.Wb, self.A, inputs, strict=True):

            def forward(W_rows: np.ndarray, A_rows: np.ndarray, A_prev: np.ndarray = A_prev
                        ) -> None:
                np.matmul(W_rows, A_prev, out=A_rows)
                np.negative(A_rows, out=A_rows)
                np.exp(A_rows, out=A_rows)
                np.add(A_rows, 1, out=A_rows)
                np.reciprocal(A_rows, out=A_rows)

            _halves(forward, Wb, A)
        A_L, Y = self.A[-1], self.Y
        cost = -float(np.mean(Y * np.log(A_L) + (1 - Y) * np.log1p(-A_L)))
        dZ = np.subtract(A_L, Y, out=self.dZ[-1])
        np.multiply(dZ, self.scale, out=dZ)
        for layer in reversed(range(len(self.Wb))):
            A_in = inputs[layer]
            _halves(lambda dz, out, A_in=A_in: np.matmul(dz, A_in.T, out=out), dZ,
                    self.dWb[layer])
            if layer > 0:
                dZ_next = self.dZ[layer - 1]

                def backward(Wt_rows: np.ndarray, dz_rows: np.ndarray, a_rows: np.ndarray,
                             dZ: np.ndarray = dZ) -> None:
                    np.matmul(Wt_rows, dZ, out=dz_rows)
                    np.multiply(dz_rows, a_rows, out=dz_rows)
                    np.subtract(1, a_rows, out=a_rows)
                    np.multiply(dz_rows, a_rows, out=dz_rows)

                _halves(backward, self.W[layer].T, dZ_next, self.A[layer - 1])
            _halves(lambda w, d: np.subtract(w, d, out=w), self.Wb[layer], self.dWb[layer])
            if layer > 0:
                dZ = dZ_next
        return cost


class Numexpr(engines.NumpyOptimal):
    """numpy_optimal with the sigmoid and its slope as numexpr expressions."""

    def __init__(self, problem: Any) -> None:
        import numexpr

        super().__init__(problem)
        self.ne = numexpr

    def step(self) -> float:
        evaluate = self.ne.evaluate
        inputs = [self.X1, *self.A1[:-1]]
        for Wb, A, A_prev in zip(self.Wb, self.A, inputs, strict=True):
            np.matmul(Wb, A_prev, out=A)
            evaluate("1 / (1 + exp(-A))", local_dict={"A": A}, out=A)
        A_L, Y = self.A[-1], self.Y
        cost = -float(np.mean(Y * np.log(A_L) + (1 - Y) * np.log1p(-A_L)))
        dZ = np.subtract(A_L, Y, out=self.dZ[-1])
        np.multiply(dZ, self.scale, out=dZ)
        for layer in reversed(range(len(self.Wb))):
            np.matmul(dZ, inputs[layer].T, out=self.dWb[layer])
            if layer > 0:
                a = self.A[layer - 1]
                dZ = np.matmul(self.W[layer].T, dZ, out=self.dZ[layer - 1])
                evaluate("d * a * (1 - a)", local_dict={"d": dZ, "a": a}, out=dZ)
            np.subtract(self.Wb[layer], self.dWb[layer], out=self.Wb[layer])
        return cost


def _blas() -> Any:
    """The OpenBLAS controller of threadpoolctl (None without threadpoolctl or OpenBLAS)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    selected = ThreadpoolController().select(internal_api="openblas").lib_controllers
    return selected[0] if selected else None


def _median_ms(run: Callable[[], Any], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def parts(blas: Any) -> dict[str, float]:
    """The pieces: float64 exp per element, and the sigmoid in halves after a product."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((1024, 2048))
    W, A = rng.standard_normal((1024, 784)) * 0.03, rng.standard_normal((784, 2048))
    out: dict[str, float] = {}
    out["exp float64, 1024x2048 (ms)"] = _median_ms(lambda: np.exp(Z, out=np.empty_like(Z)), 9)
    Z32 = Z.astype(np.float32)
    out["exp float32, 1024x2048 (ms)"] = _median_ms(lambda: np.exp(Z32, out=np.empty_like(Z32)), 9)

    def sigmoid(z: np.ndarray) -> None:
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=z)

    def product_then(split: bool) -> Callable[[], None]:
        def run() -> None:
            np.matmul(W, A, out=Z)
            if split:
                _halves(sigmoid, Z)
            else:
                sigmoid(Z)
        return run

    out["product + sigmoid, one thread (ms)"] = _median_ms(product_then(False), 9)
    out["product + sigmoid in halves, OpenBLAS 2 threads (ms)"] = _median_ms(product_then(True), 9)
    if blas is not None:
        threads = blas.num_threads
        blas.set_num_threads(1)
        try:
            out["product in halves + sigmoid in halves, OpenBLAS 1 thread (ms)"] = _median_ms(
                lambda: _halves(lambda w, z: (np.matmul(w, A, out=z), sigmoid(z)), W, Z), 9)
        finally:
            blas.set_num_threads(threads)
    return out


def measure(workloads: list[str], passes: int) -> dict[str, Any]:
    blas = _blas()
    variants: dict[str, Callable[[Any], Any]] = {
        "as_is": engines.NumpyOptimal, "halves_blas1": Halves, "halves_blas2": Halves}
    try:
        import numexpr  # noqa: F401

        variants["numexpr"] = Numexpr
    except ImportError:
        pass
    if blas is None:
        variants.pop("halves_blas1")
    results: dict[str, Any] = {}
    for name in workloads:
        problem = make_problem(WORKLOADS[name])
        steps = {v: build(problem) for v, build in variants.items()}
        costs = {v: [s.step() for _ in range(3)] for v, s in steps.items()}
        agree = max(abs(c[-1] - costs["as_is"][-1]) for c in costs.values())
        per_pass: dict[str, list[float]] = {v: [] for v in steps}
        for p in range(passes):
            order = list(steps)[p % len(steps):] + list(steps)[: p % len(steps)]
            for v in order:
                threads = blas.num_threads if blas is not None else None
                if v == "halves_blas1":
                    blas.set_num_threads(1)
                try:
                    ms = _median_ms(steps[v].step, STEPS[name])
                finally:
                    if v == "halves_blas1":
                        blas.set_num_threads(threads)
                per_pass[v].append(ms)
        results[name] = {"per_pass": per_pass, "agree": agree}
    return {"workloads": results, "parts": parts(blas)}


def report(results: dict[str, Any], passes: int, seconds: float) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Elementwise work on the second core",
        "",
        f"Generated {now} by `python benchmarks/bench_threads.py --passes {passes}` "
        f"({seconds / 60:.1f} minutes; load average before the run: {results['load']:.2f}).",
        "",
        "The best hand-written numpy step (`numpy_optimal`) four ways in one process, interleaved "
        "pass by pass (see the script's docstring). Ratios are to `as_is` within each pass: "
        "median (min–max over passes); below 1 is faster.",
        "",
        "| workload | variant | ms/step (median) | x as_is |",
        "|---|---|---|---|",
    ]
    for name, res in results["workloads"].items():
        base = res["per_pass"]["as_is"]
        for variant, times in res["per_pass"].items():
            ratios = [t / b for t, b in zip(times, base, strict=True)]
            lines.append(
                f"| {WORKLOADS[name].label} | {variant} | {statistics.median(times):.2f} | "
                f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}–{max(ratios):.2f}) |")
    lines += ["", "All variants compute the same step: after 3 steps their costs agree to "
              + ", ".join(f"{r['agree']:.0e} ({n})" for n, r in results["workloads"].items())
              + ".", "", "## The parts", "", "| what | ms |", "|---|---|"]
    lines += [f"| {what} | {ms:.2f} |" for what, ms in results["parts"].items()]
    lines += [
        "", "## Machine", "",
        f"- {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
        f"Python {platform.python_version()}, numpy {np.__version__}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--workloads", default="medium,large,large_f32")
    parser.add_argument("--out", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load = os.getloadavg()[0]
    results = measure(args.workloads.split(","), args.passes)
    results["load"] = load
    text = report(results, args.passes, time.perf_counter() - start)
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

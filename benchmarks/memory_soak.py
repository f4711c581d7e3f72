"""Soak test: 10,000 training steps of the article's network, with the process's memory sampled.

Usage (from the repository root)::

    python benchmarks/memory_soak.py                      # both ways, 10,000 steps each
    python benchmarks/memory_soak.py --steps 2000 --every 250
    python benchmarks/memory_soak.py --out docs/          # also writes docs/memory_soak.md

Two ways of writing the training loop run, each in a fresh child process so that neither
inherits the other's memory:

* ``ops``: the article's step written with Tensor ops by hand — ``Z = W @ A + b``,
  ``A = Z.sigmoid()``, the article's cross-entropy, ``loss.backward()``, then
  ``p -= lr * p.grad; p.grad = None`` under ``no_grad()``;
* ``mlp``: ``nn.MLP`` + ``nn.binary_cross_entropy`` + ``optim.SGD`` (skipped if they are missing);
* ``compiled``: the ``mlp`` step through ``tinygrad_nn.compile`` (traced once, then replayed
  with buffers planned once).

Every ``--every`` steps the child records its resident set size (``/proc/self/statm``; where there
is no ``/proc``, the peak RSS from ``resource``) and the number of live Tensors. Memory is called
flat when the last sample is within ``--tolerance`` percent of the sample at step 1,000 (the
first thousand steps fill numpy's and Python's allocator caches). The exit status is 1 if any
way is not flat, so the script can guard CI.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from engines import keep_freed_memory
from workloads import LEARNING_RATE, WORKLOADS, make_problem

WAYS = ("ops", "mlp", "compiled")
REFERENCE_STEP = 1000


# --------------------------------------------------------------------------------------------
# measuring (in the child)
# --------------------------------------------------------------------------------------------


def rss_bytes() -> tuple[int, str]:
    """The current resident set size, and how it was measured."""
    try:
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE"), "current RSS (/proc/self/statm)"
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
        return peak * scale, "peak RSS (resource.getrusage)"


def live_tensors() -> int:
    from tinygrad_nn import Tensor

    return sum(1 for obj in gc.get_objects() if type(obj) is Tensor)


def make_ops_step(workload_name: str):
    """The article's training step, op by op, as a learner writes it."""
    import tinygrad_nn as tg
    from tinygrad_nn import Tensor

    problem = make_problem(WORKLOADS[workload_name])
    params = {k: Tensor(v, requires_grad=True, name=k) for k, v in problem.params.items()}
    X, Y = Tensor(problem.X, name="X"), Tensor(problem.Y, name="Y")
    n_layers = problem.n_layers

    def step() -> float:
        A = X
        for layer in range(1, n_layers + 1):
            A = (params[f"W{layer}"] @ A + params[f"b{layer}"]).sigmoid()
        loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
        loss.backward()
        with tg.no_grad():
            for p in params.values():
                p -= LEARNING_RATE * p.grad
                p.grad = None
        return loss.item()

    return step


def make_mlp_step(workload_name: str):
    """The same training with the library's MLP, loss and optimizer."""
    from tinygrad_nn import Tensor, nn, optim

    problem = make_problem(WORKLOADS[workload_name])
    model = nn.MLP(list(problem.workload.layer_dims), dtype=problem.dtype)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X, Y = Tensor(problem.X, name="X"), Tensor(problem.Y, name="Y")

    def step() -> float:
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy(model(X), Y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def make_compiled_step(workload_name: str):
    """The ``mlp`` step through ``tinygrad_nn.compile``."""
    import tinygrad_nn
    from tinygrad_nn import Tensor, nn, optim

    problem = make_problem(WORKLOADS[workload_name])
    model = nn.MLP(list(problem.workload.layer_dims), dtype=problem.dtype)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X, Y = Tensor(problem.X, name="X"), Tensor(problem.Y, name="Y")

    @tinygrad_nn.compile
    def compiled(X, Y):
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy(model(X), Y)
        loss.backward()
        optimizer.step()
        return loss

    def step() -> float:
        return compiled(X, Y).item()

    return step


def run_child(way: str, workload_name: str, steps: int, every: int) -> dict:
    keep_freed_memory()  # the library's opt-in allocator setting, as the command turns it on
    try:
        make = {"ops": make_ops_step, "mlp": make_mlp_step, "compiled": make_compiled_step}[way]
        step = make(workload_name)
    except ImportError as error:
        return {"way": way, "skipped": f"{type(error).__name__}: {error}"}
    samples = []
    method = ""
    start = time.perf_counter()
    cost = float("nan")
    for done in range(1, steps + 1):
        cost = step()
        if done == 1 or done % every == 0:
            rss, method = rss_bytes()
            samples.append({"step": done, "rss": rss, "tensors": live_tensors(), "cost": cost})
    return {
        "way": way,
        "samples": samples,
        "rss_method": method,
        "seconds": time.perf_counter() - start,
        "final_cost": cost,
    }


# --------------------------------------------------------------------------------------------
# reporting (in the parent)
# --------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    flat: bool
    reference_step: int
    reference_rss: int
    last_step: int
    last_rss: int

    @property
    def change_percent(self) -> float:
        return 100.0 * (self.last_rss - self.reference_rss) / self.reference_rss


def judge(samples: list[dict], tolerance_percent: float) -> Verdict:
    reference = next((s for s in samples if s["step"] >= REFERENCE_STEP), samples[0])
    last = samples[-1]
    change = abs(last["rss"] - reference["rss"]) / reference["rss"] * 100.0
    return Verdict(
        change <= tolerance_percent, reference["step"], reference["rss"], last["step"], last["rss"]
    )


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f}"


def table(result: dict, verdict: Verdict) -> list[str]:
    lines = [
        f"| step | RSS (MiB) | vs step {verdict.reference_step:,} | live Tensors | cost |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in result["samples"]:
        change = 100.0 * (s["rss"] - verdict.reference_rss) / verdict.reference_rss
        lines.append(
            f"| {s['step']:,} | {mib(s['rss'])} | {change:+.2f}% | {s['tensors']} | "
            f"{s['cost']:.8f} |"
        )
    return lines


def summary(result: dict, verdict: Verdict, tolerance: float) -> str:
    state = "FLAT" if verdict.flat else "NOT FLAT"
    growth_kib = (verdict.last_rss - verdict.reference_rss) / 1024
    return (
        f"{state}: RSS at step {verdict.last_step:,} is {mib(verdict.last_rss)} MiB, "
        f"{verdict.change_percent:+.2f}% ({growth_kib:+,.0f} KiB) against "
        f"{mib(verdict.reference_rss)} MiB at step {verdict.reference_step:,} "
        f"(tolerance ±{tolerance:g}%); {result['seconds']:.1f} s for {verdict.last_step:,} steps"
    )


TITLES = {
    "ops": "Ops by hand (`W @ A + b`, `sigmoid`, the article's cost, `p -= lr * p.grad`)",
    "mlp": "`nn.MLP` + `nn.binary_cross_entropy` + `optim.SGD`",
    "compiled": "The `nn.MLP` step through `tinygrad_nn.compile` (replayed)",
}


def write_markdown(path: Path, args: argparse.Namespace, results: list[dict],
                   verdicts: dict[str, Verdict]) -> None:
    workload = WORKLOADS[args.workload]
    lines = [
        "# Memory over 10,000 training steps",
        "",
        "Generated by `python benchmarks/memory_soak.py --out docs/` "
        f"({datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; Python "
        f"{platform.python_version()}, numpy {np.__version__}, {platform.machine()} "
        f"{platform.system()}).",
        "",
        f"The article's network {workload.label}: {args.steps:,} full-batch steps of forward, "
        "cost, `backward()` and an SGD update, each way in a fresh process. Every "
        f"{args.every:,} steps the process's resident memory and the number of live `Tensor` "
        "objects are recorded. *Flat* means the last sample is within "
        f"±{args.tolerance:g}% of the sample at step {REFERENCE_STEP:,} (the first steps fill "
        "numpy's and Python's allocator caches). A leak of one step's graph — about "
        "120 KB for this network — would add over 1 GB by the end.",
        "",
    ]
    for result in results:
        lines += [f"## {TITLES[result['way']]}", ""]
        if "skipped" in result:
            lines += [f"Skipped: {result['skipped']}.", ""]
            continue
        verdict = verdicts[result["way"]]
        lines += [f"**{summary(result, verdict, args.tolerance)}.**", ""]
        lines += table(result, verdict)
        lines += ["", f"Memory measured as the {result['rss_method']}.", ""]
    path.write_text("\n".join(lines))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="training steps per way")
    parser.add_argument("--every", type=int, default=500, help="sample memory every N steps")
    parser.add_argument("--workload", default="tiny", choices=sorted(WORKLOADS))
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    parser.add_argument("--tolerance", type=float, default=5.0,
                        help="percent change allowed after step 1,000 (default 5)")
    parser.add_argument("--out", type=Path, help="directory to write memory_soak.md into")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.every < 1:
        parser.error("--steps and --every must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.workload, args.steps, args.every)))
        return 0
    results, verdicts = [], {}
    for way in args.ways:
        command = [
            sys.executable, __file__, "--child", way, "--workload", args.workload,
            "--steps", str(args.steps), "--every", str(args.every),
        ]
        child = subprocess.run(command, capture_output=True, text=True, check=True)
        result = json.loads(child.stdout)
        results.append(result)
        print(f"\n{TITLES[way]}")
        if "skipped" in result:
            print(f"  skipped: {result['skipped']}")
            continue
        verdict = judge(result["samples"], args.tolerance)
        verdicts[way] = verdict
        print("\n".join(table(result, verdict)))
        print(summary(result, verdict, args.tolerance))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_markdown(args.out / "memory_soak.md", args, results, verdicts)
        print(f"\nwrote {args.out / 'memory_soak.md'}")
    return 0 if all(v.flat for v in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Per-op overhead: one small op, forward and backward, in numpy by hand and in each engine.

Usage (from the repository root)::

    python benchmarks/bench_ops.py [--quick] [--out docs/]

For each op (``add``, ``mul``, ``matmul`` on two 8x8 float64 arrays, and ``sigmoid`` on one),
one call does the forward op, sums the result to a scalar, and computes the gradients of that
sum with respect to the inputs. At this size the arithmetic is nearly free, so the time is the
per-op overhead: building graph nodes, dispatch, gradient bookkeeping. "numpy by hand" is the
floor: the same forward and backward formulas as plain numpy calls, with no graph at all.

Each implementation runs in its own child process; the parent checks every implementation's
gradients against numpy's (relative 1e-12), runs a few interleaved passes and writes
``<out>/performance_ops.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import harness
import numpy as np
from engines import EngineUnavailable, keep_freed_memory

SHAPE = (8, 8)
OPS = ("add", "mul", "matmul", "sigmoid")
IMPLEMENTATIONS = {
    "numpy": "numpy by hand: the forward and backward formulas as plain numpy calls",
    "engine": "tinygrad_nn: Tensors with requires_grad, `op(a, b).sum().backward()`",
    "torch": "PyTorch eager CPU: the same, grads reset to None before each call",
    "mygrad": "MyGrad: the same",
}
GRAD_TOLERANCE = 1e-12

# A call returns the gradients it computed, (d sum / d a, d sum / d b or None), for checking.
OpCall = Callable[[], tuple[np.ndarray, np.ndarray | None]]


def _inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(SHAPE), rng.standard_normal(SHAPE)


def numpy_calls(a: np.ndarray, b: np.ndarray) -> dict[str, OpCall]:
    def add():
        c = a + b
        c.sum()
        g = np.ones_like(c)
        return g, g

    def mul():
        c = a * b
        c.sum()
        g = np.ones_like(c)
        return g * b, g * a

    def matmul():
        c = a @ b
        c.sum()
        g = np.ones_like(c)
        return g @ b.T, a.T @ g

    def sigmoid():
        s = 1 / (1 + np.exp(-a))
        s.sum()
        g = np.ones_like(s)
        return g * s * (1 - s), None

    return {"add": add, "mul": mul, "matmul": matmul, "sigmoid": sigmoid}


def _autograd_calls(
    ta, tb, apply: dict[str, Callable], reset: Callable, grad: Callable
) -> dict[str, OpCall]:
    """Calls for a library whose tensors do ``op(...).sum().backward()`` and hold ``.grad``."""

    def make(op: Callable, binary: bool) -> OpCall:
        def call():
            reset()
            (op(ta, tb) if binary else op(ta)).sum().backward()
            return grad(ta), grad(tb) if binary else None

        return call

    return {name: make(op, name != "sigmoid") for name, op in apply.items()}


def engine_calls(a: np.ndarray, b: np.ndarray) -> dict[str, OpCall]:
    try:
        from tinygrad_nn import Tensor
    except ImportError as error:
        raise EngineUnavailable(f"tinygrad_nn.Tensor not available ({error})") from error
    keep_freed_memory()  # as the command does
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)

    def reset():
        ta.grad = tb.grad = None

    ops = {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "matmul": lambda x, y: x @ y,
        "sigmoid": lambda x: x.sigmoid(),
    }
    return _autograd_calls(ta, tb, ops, reset, lambda t: np.asarray(t.grad))


def torch_calls(a: np.ndarray, b: np.ndarray) -> dict[str, OpCall]:
    try:
        import torch
    except ImportError as error:
        raise EngineUnavailable(f"torch not available ({error})") from error
    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)

    def reset():
        ta.grad = tb.grad = None

    ops = {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "matmul": lambda x, y: x @ y,
        "sigmoid": torch.sigmoid,
    }
    return _autograd_calls(ta, tb, ops, reset, lambda t: t.grad.numpy())


def mygrad_calls(a: np.ndarray, b: np.ndarray) -> dict[str, OpCall]:
    try:
        import mygrad as mg
        from mygrad.nnet.activations import sigmoid
    except ImportError as error:
        raise EngineUnavailable(f"mygrad not available ({error})") from error
    ta, tb = mg.tensor(a), mg.tensor(b)
    ops = {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "matmul": lambda x, y: x @ y,
        "sigmoid": sigmoid,
    }
    # MyGrad replaces .grad at every backward(): nothing to reset.
    return _autograd_calls(ta, tb, ops, lambda: None, lambda t: np.asarray(t.grad))


BUILDERS = {
    "numpy": numpy_calls,
    "engine": engine_calls,
    "torch": torch_calls,
    "mygrad": mygrad_calls,
}


def measure(implementation: str, seconds: float, repeats: int) -> dict:
    """Time every op's call in this (fresh) process: median and best µs per call."""
    try:
        calls = BUILDERS[implementation](*_inputs())
    except EngineUnavailable as error:
        return {"status": "unavailable", "reason": str(error)}
    result = {}
    for op, call in calls.items():
        grads = [None if g is None else np.array(g).tolist() for g in call()]
        timer = timeit.Timer(call)
        number = max(1, int(seconds / repeats / _one_call_seconds(call)))
        per_call = [t / number * 1e6 for t in timer.repeat(repeat=repeats, number=number)]
        result[op] = {"us": statistics.median(per_call), "us_best": min(per_call), "grads": grads}
    return {"status": "ok", "ops": result}


def _one_call_seconds(call: OpCall) -> float:
    for _ in range(200):  # warm up caches and lazy initialisation
        call()
    start = time.perf_counter()
    for _ in range(200):
        call()
    return (time.perf_counter() - start) / 200


def _grad_error(got: list, want: list) -> float:
    errors = [0.0]
    for g, w in zip(got, want, strict=True):
        if w is not None:
            g, w = np.array(g), np.array(w)
            errors.append(float(np.abs(g - w).max() / max(np.abs(w).max(), 1e-300)))
    return max(errors)


def write_report(out: Path, context: dict, results: dict, problems: dict, unavailable: dict):
    shown = [i for i in IMPLEMENTATIONS if i in results]
    header = ["op", *(f"{i} µs" for i in shown)]
    rows = []
    for op in OPS:
        floor = results["numpy"][op]
        row = [op]
        for implementation in shown:
            us = results[implementation][op]
            ratio = "" if implementation == "numpy" else f" ({us / floor:.1f}x)"
            row.append(f"{us:.2f}{ratio}")
        rows.append(row)
    lines = [
        "# Per-op overhead",
        "",
        f"Generated {context['date']} by `{context['command']}` ({context['passes']} "
        "interleaved passes).",
        "",
        f"One call = one op on {SHAPE[0]}x{SHAPE[1]} float64 input(s), `.sum()` to a scalar, "
        "and the gradients of that sum with respect to the inputs. Median µs per call over "
        "the passes (each pass: the median of several timed repeats); in parentheses, the "
        "ratio to numpy by hand, which does the same forward and backward arithmetic with no "
        "graph: the difference is the library's per-op overhead.",
        "",
        harness.markdown_table(header, rows),
        "",
    ]
    for implementation, reason in unavailable.items():
        lines.append(f"- `{implementation}`: not available ({reason})")
    for implementation, text in problems.items():
        lines.append(f"- **{implementation}: FAIL** — {text}")
    lines += ["", "## Implementations", ""]
    lines += [f"- `{i}`: {text}" for i, text in IMPLEMENTATIONS.items()]
    lines += [
        "",
        "## Machine",
        "",
        harness.machine_markdown(context["machine"], context["unset_openblas_env"]),
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "performance_ops.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one pass, shorter timings")
    parser.add_argument("--out", type=Path, default=harness.REPO / "docs")
    parser.add_argument("--unset-openblas-env", action="store_true")
    parser.add_argument("--child", choices=list(IMPLEMENTATIONS), help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        harness.emit(measure(args.child, args.seconds, repeats=7))
        return 0

    passes, seconds = (1, 0.3) if args.quick else (3, 1.0)
    env = harness.child_env(args.unset_openblas_env)
    names = list(IMPLEMENTATIONS)
    timings: dict[str, dict[str, list[float]]] = {}
    grads: dict[str, dict] = {}
    unavailable: dict[str, str] = {}
    errors: dict[str, str] = {}
    for pass_index in range(passes):
        order = names[pass_index % len(names) :] + names[: pass_index % len(names)]
        for name in (n for n in order if n not in unavailable and n not in errors):
            result = harness.run_child([__file__, "--child", name, "--seconds", str(seconds)], env)
            if result["status"] == "unavailable":
                unavailable[name] = result["reason"]
            elif result["status"] == "error":
                errors[name] = f"{result['reason']}: {result.get('stderr', '')}"
            else:
                for op, value in result["ops"].items():
                    timings.setdefault(name, {}).setdefault(op, []).append(value["us"])
                    grads.setdefault(name, {})[op] = value["grads"]
            print(f"pass {pass_index + 1}/{passes} {name}: {result['status']}", flush=True)
    if "numpy" not in timings:
        print(f"numpy by hand failed: {errors.get('numpy')}")
        return 1

    results = {
        name: {op: statistics.median(v) for op, v in ops.items()} for name, ops in timings.items()
    }
    problems = dict(errors)
    for name in results:
        worst = max(_grad_error(grads[name][op], grads["numpy"][op]) for op in OPS)
        if worst > GRAD_TOLERANCE:
            problems[name] = f"gradients differ from numpy's by {worst:.1e}"
    context = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": harness.command_line(),
        "passes": passes,
        "machine": harness.run_child([harness.__file__, "machine"], env),
        "unset_openblas_env": args.unset_openblas_env,
    }
    if context["machine"].get("status") == "error":
        context["machine"] = harness.machine_info()
    path = write_report(args.out, context, results, problems, unavailable)
    print(f"\nwrote {path}\n")
    print(path.read_text().split("## Implementations")[0])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark one training step (forward + cost + backward + SGD update) of the article's network.

Usage (from the repository root)::

    python benchmarks/bench_step.py                 # full run, ~10-15 minutes, writes docs/
    python benchmarks/bench_step.py --quick         # ~2-3 minutes
    python benchmarks/bench_step.py --quick --engines engine_ops --out /tmp/bench

Every engine x workload runs in its own child process, started the same way for every engine.
The child builds the problem, runs 5 steps and reports the costs and the parameters' changes
(the parent checks them against ``numpy_optimal``), warms up, then times single steps for a
fixed time budget and reports the step times and its peak RSS. The parent runs several
passes, rotating the engines' order in each, and reports medians over the passes; ratios are
taken within a pass (same conditions), then their median is reported with the range.

It writes ``<out>/performance.md`` and ``<out>/img/performance.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import harness
import numpy as np
from engines import ENGINES, EngineUnavailable
from workloads import (
    CHECK_STEPS,
    WORKLOADS,
    bce_cost,
    make_problem,
    sample_entries,
    step_flops,
)

BASELINE = "numpy_article"  # the ratios are to the article's hand-written numpy step
CHECKER = "numpy_optimal"  # every engine's numbers are checked against this one
CEILING = "gemms_only"  # the step's matrix products alone: the most % GEMM peak any step can reach
# Relative tolerance of the cost after 5 steps (from the issue), and of the parameters' changes.
COST_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}
UPDATE_TOLERANCE = {"float64": 1e-8, "float32": 1e-3}


@dataclass(frozen=True)
class Settings:
    passes: int
    time_budget: float  # seconds of timed steps per child
    warmup_steps: int
    gemm_repeats: int
    wait_idle: float = 0.0  # seconds to wait, before each child, for other processes to calm down
    retry_busy: int = 0  # extra runs of a child that shared the machine with other processes


FULL = Settings(passes=5, time_budget=1.5, warmup_steps=2, gemm_repeats=5)
QUICK = Settings(passes=3, time_budget=0.4, warmup_steps=1, gemm_repeats=3)
MIN_TIMED_STEPS = 3
MAX_TIMED_STEPS = 200_000  # more than any engine runs in the time budget (tiny: ~35,000)
# Above this share of the CPUs used by other processes during the timed loops, the report warns.
BUSY_WARNING = 0.10


# --------------------------------------------------------------------------------------------
# Child: one engine on one workload
# --------------------------------------------------------------------------------------------
def measure(engine_name: str, workload_name: str, time_budget: float, warmup_steps: int) -> dict:
    """Check, warm up and time one engine on one workload, in this (fresh) process."""
    spec, workload = ENGINES[engine_name], WORKLOADS[workload_name]
    try:
        for module in spec.modules:
            __import__(module)
        rss_imports = harness.status_mb("VmRSS")
        problem = make_problem(workload)
        initial_samples = sample_entries(problem.params)
        engine = spec.build(problem)
    except (EngineUnavailable, ImportError) as error:
        return {"status": "unavailable", "reason": str(error)}

    costs = [engine.step() for _ in range(CHECK_STEPS)]
    params = engine.params()
    check = {
        "costs": costs,
        "cost_after": bce_cost(problem, params),
        "changes": {
            name: (np.array(after) - np.array(initial_samples[name])).tolist()
            for name, after in sample_entries(params).items()
        },
        "dtypes": sorted({str(p.dtype) for p in params.values()}),
    }
    del params

    for _ in range(warmup_steps):
        engine.step()
    # The step times go into an array written through now, so the record of a fast engine's
    # many steps adds nothing to the loop's memory (a list of floats grew by ~1 MB at tiny).
    times = np.full(MAX_TIMED_STEPS, np.nan)
    gc.collect()
    harness.release_free_heap()  # the checks' temporaries are not the loop's memory
    rss_before = harness.status_mb("VmRSS")
    loop_peak_measured = harness.reset_peak_rss()
    ticks = harness.cpu_ticks()
    count = 0
    started = time.perf_counter()
    while count < MIN_TIMED_STEPS or (time.perf_counter() - started < time_budget
                                      and count < MAX_TIMED_STEPS):
        t0 = time.perf_counter()
        engine.step()
        times[count] = time.perf_counter() - t0
        count += 1
    elapsed = time.perf_counter() - started
    others_cpu = harness.others_cpu_share(ticks, harness.cpu_ticks(), elapsed)
    memory = {  # read before the report's own lists are made
        "rss_imports_mb": rss_imports,
        "rss_before_loop_mb": rss_before,
        "rss_after_loop_mb": harness.status_mb("VmRSS"),
        "loop_peak_rss_mb": harness.status_mb("VmHWM") if loop_peak_measured else None,
        "process_peak_rss_mb": harness.process_peak_rss_mb(),
    }
    return {"status": "ok", "check": check, "times_ms": (times[:count] * 1e3).tolist(),
            **memory, "others_cpu": others_cpu}


# --------------------------------------------------------------------------------------------
# Parent: passes, checks, aggregation
# --------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """Everything measured for one engine on one workload, over the passes."""

    runs: list[dict] = field(default_factory=list)  # one "ok" child result per pass
    pass_medians: dict[int, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # failed checks and errors
    unavailable: str | None = None
    check_error: dict[str, float] = field(default_factory=dict)  # worst relative errors


def relative_error(values: list[float], reference: list[float]) -> float:
    """Largest ``|v - r|``, relative to the largest ``|r|``, over matching lists of numbers.

    Examples
    --------
    >>> relative_error([1.0, 3.0], [1.0, 4.0])
    0.25
    """
    scale = max(abs(r) for r in reference) or 1.0
    return float(max(abs(v - r) for v, r in zip(values, reference, strict=True)) / scale)


def check_against(result: dict, reference: dict, dtype: str) -> tuple[dict, list[str]]:
    """Compare a child's 5-step costs and parameter changes with the checker's."""
    got, want = result["check"], reference["check"]
    errors = {
        "cost": relative_error(
            [*got["costs"], got["cost_after"]], [*want["costs"], want["cost_after"]]
        ),
        "update": max(
            relative_error(got["changes"][k], want["changes"][k]) for k in want["changes"]
        ),
    }
    problems = []
    if errors["cost"] > COST_TOLERANCE[dtype]:
        problems.append(f"cost differs by {errors['cost']:.1e} (tolerance {COST_TOLERANCE[dtype]})")
    if errors["update"] > UPDATE_TOLERANCE[dtype]:
        problems.append(
            f"parameter updates differ by {errors['update']:.1e} "
            f"(tolerance {UPDATE_TOLERANCE[dtype]})"
        )
    if got["dtypes"] != [dtype]:
        problems.append(f"parameters became {got['dtypes']}, expected {dtype}")
    return errors, problems


def _busyness(result: dict) -> float:
    """Others' share of the CPUs during a child's timed steps (0 where unknown or not timed)."""
    return result.get("others_cpu") or 0.0


def run_cell(
    cell: Cell, engine: str, workload: str, pass_index: int, settings: Settings, env: dict
) -> None:
    """Run one child for ``engine`` on ``workload`` and record what it reports in ``cell``.

    With ``settings.retry_busy``, a child whose timed steps shared the machine with other
    processes (over ``BUSY_WARNING`` of the CPUs) is run again, and the quietest run is kept.
    """
    label = f"pass {pass_index + 1}/{settings.passes}  {workload:<9} {engine:<14}"
    argv = [
        __file__,
        "--child",
        engine,
        workload,
        "--time-budget",
        str(settings.time_budget),
        "--warmup-steps",
        str(settings.warmup_steps),
    ]
    result = None
    for _ in range(1 + settings.retry_busy):
        if settings.wait_idle:
            harness.wait_until_idle(settings.wait_idle)
        attempt = harness.run_child(argv, env)
        if result is None or _busyness(attempt) < _busyness(result):
            result = attempt
        if _busyness(result) <= BUSY_WARNING:
            break
    if result["status"] == "unavailable":
        cell.unavailable = result["reason"]
        print(f"{label} not available: {result['reason']}", flush=True)
    elif result["status"] == "error":
        cell.problems.append(f"pass {pass_index + 1}: {result['reason']}")
        print(f"{label} ERROR {result['reason']}\n{result.get('stderr', '')}", flush=True)
    else:
        cell.runs.append(result)
        median = cell.pass_medians[pass_index] = statistics.median(result["times_ms"])
        others = result.get("others_cpu")
        busy = "" if others is None else f", others' CPU {100 * others:.0f}%"
        steps = len(result["times_ms"])
        print(f"{label} {median:10.3f} ms/step ({steps} steps{busy})", flush=True)


def check_cells(cells: dict) -> None:
    """Check every run of every engine against the checker's first run on the same workload."""
    for (engine, workload), cell in cells.items():
        reference = cells[CHECKER, workload]
        if not ENGINES[engine].checked or not cell.runs or not reference.runs:
            continue
        dtype = WORKLOADS[workload].dtype
        for run in cell.runs:
            errors, problems = check_against(run, reference.runs[0], dtype)
            for key, value in errors.items():
                cell.check_error[key] = max(cell.check_error.get(key, 0.0), value)
            cell.problems += [p for p in problems if p not in cell.problems]


def run_passes(
    engines: list[str], workloads: list[str], settings: Settings, env: dict, peaks: dict
) -> dict:
    """All the passes: in each, every engine once per workload, the order rotated by one.

    The GEMM peak is measured again after every pass; ``peaks`` keeps the best seen.
    """
    cells = {(e, w): Cell() for e in engines for w in workloads}
    with_torch = "torch_float64" in peaks
    for pass_index in range(settings.passes):
        live = [e for e in engines if not all(cells[e, w].unavailable for w in workloads)]
        shift = pass_index % len(live)
        order = live[shift:] + live[:shift]  # over the passes, every engine runs early and late
        for workload in workloads:
            for engine in order:
                if not cells[engine, workload].unavailable:
                    run_cell(cells[engine, workload], engine, workload, pass_index, settings, env)
        update_peaks(peaks, settings, env, with_torch)
    check_cells(cells)
    return cells


def others_cpu_median(cells: dict) -> float | None:
    """Median share of the CPUs that other processes used during all the timed loops."""
    shares = [
        run["others_cpu"]
        for cell in cells.values()
        for run in cell.runs
        if run.get("others_cpu") is not None
    ]
    return statistics.median(shares) if shares else None


def summarize(cells: dict, engines: list[str], workloads: list[str], peaks: dict) -> dict:
    """Medians, ratios (within each pass, then their median), GFLOP/s and memory per cell."""
    rows = {}
    for workload in workloads:
        flops = step_flops(WORKLOADS[workload])
        peak = peaks.get(WORKLOADS[workload].dtype)
        for engine in engines:
            cell = cells[engine, workload]
            if not cell.pass_medians:
                continue
            medians = list(cell.pass_medians.values())
            row: dict[str, Any] = {
                "ms": statistics.median(medians),
                "ms_range": (min(medians), max(medians)),
                "steps": sum(len(run["times_ms"]) for run in cell.runs),
            }
            for name, base in (("x_article", BASELINE), ("x_optimal", CHECKER)):
                ratios = [
                    ms / cells[base, workload].pass_medians[i]
                    for i, ms in cell.pass_medians.items()
                    if i in cells[base, workload].pass_medians
                ]
                if ratios:
                    row[name] = (statistics.median(ratios), min(ratios), max(ratios))
            row["gflops"] = flops / (row["ms"] / 1e3) / 1e9
            row["peak_fraction"] = row["gflops"] / peak if peak else None
            loop_peaks = [r["loop_peak_rss_mb"] for r in cell.runs if r["loop_peak_rss_mb"]]
            row["loop_peak_mb"] = max(loop_peaks) if loop_peaks else None
            row["above_imports_mb"] = max(
                (r["loop_peak_rss_mb"] or r["process_peak_rss_mb"]) - r["rss_imports_mb"]
                for r in cell.runs
            )
            row["process_peak_mb"] = max(r["process_peak_rss_mb"] for r in cell.runs)
            shares = [r["others_cpu"] for r in cell.runs if r.get("others_cpu") is not None]
            row["others_cpu"] = max(shares) if shares else None
            row["rss_growth_mb"] = max(
                r["rss_after_loop_mb"] - r["rss_before_loop_mb"] for r in cell.runs
            )
            ceiling = cells[CEILING, workload].pass_medians if (CEILING, workload) in cells else {}
            beyond = [ms - ceiling[i] for i, ms in cell.pass_medians.items() if i in ceiling]
            row["beyond_products_ms"] = statistics.median(beyond) if beyond else None
            rows[engine, workload] = row
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def _ratio(value: tuple[float, float, float] | None) -> str:
    if value is None:
        return "—"
    median, low, high = value
    return f"{median:.2f}x ({low:.2f}–{high:.2f})"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _mb(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _status(cell: Cell, engine: str) -> str:
    if cell.problems:
        return "**FAIL**: " + "; ".join(cell.problems)
    if not ENGINES[engine].checked:
        return "not checked (products only)"
    errors = cell.check_error
    if not errors:
        return "reference"
    return f"ok (cost {errors['cost']:.0e}, updates {errors['update']:.0e})"


def _cnn_section(cnn_report: Path) -> list[str]:
    """The CNN step's row, copied from the report benchmarks/bench_cnn.py wrote (if it did)."""
    if not cnn_report.exists():
        return []
    table = [line for line in cnn_report.read_text(encoding="utf-8").splitlines()
             if line.startswith("|")]
    return [
        "## The digits CNN step",
        "",
        "From [performance_cnn.md](performance_cnn.md) (`python benchmarks/bench_cnn.py`: the "
        "digits CNN of examples/digits_cnn.py against the same network in PyTorch eager):",
        "",
        *table,
        "",
    ]


def write_report(
    out: Path, context: dict, cells: dict, rows: dict, engines: list[str], workloads: list[str]
) -> Path:
    peaks = context["peaks"]
    shown = [e for e in engines if any((e, w) in rows for w in workloads)]
    lines = [
        "# Performance of one training step",
        "",
        f"Generated {context['date']} by `{context['command']}` "
        f"({context['passes']} interleaved passes, {context['minutes']:.1f} minutes).",
        "",
        "One step = forward + cost + backward + SGD update of the article's network (sigmoid on "
        "every layer, binary cross-entropy, lr 0.1, the article's seed-3 initial weights). "
        f"Ratios are to `{BASELINE}` (the article's hand-written numpy step), measured within "
        "each pass and then summarized as median (min–max over passes); below 1 is faster.",
        "",
    ]
    busy = context["others_cpu_median"]
    if busy is not None and busy > BUSY_WARNING:
        lines += [
            f"**Warning: the machine was busy.** Other processes used a median {100 * busy:.0f}% "
            "of the CPUs while steps were timed (column *others' CPU*): these numbers measure "
            "contention as much as the engines. Re-run on an idle machine.",
            "",
        ]
    lines += [f"## Time per step relative to `{BASELINE}`", ""]
    summary_rows = [
        [WORKLOADS[w].label] + [_ratio(rows.get((e, w), {}).get("x_article")) for e in shown]
        for w in workloads
    ]
    lines += [harness.markdown_table(["workload", *shown], summary_rows), ""]
    if context["chart"]:
        lines += ["![time per step relative to the article's numpy step](img/performance.png)", ""]

    lines += ["## Details", ""]
    header = [
        "engine",
        "ms/step (median, min–max)",
        f"x {BASELINE}",
        f"x {CHECKER}",
        "GFLOP/s",
        "% GEMM peak",
        "beyond products (ms)",
        "peak RSS in loop (MB)",
        "above imports (MB)",
        "others' CPU",
        "check",
    ]
    for workload in workloads:
        w = WORKLOADS[workload]
        peak = peaks.get(w.dtype)
        lines += [
            f"### {w.label}",
            "",
            f"{step_flops(w) / 1e9:.4g} GFLOP per step; GEMM peak ({w.dtype}) {peak:.1f} GFLOP/s."
            if peak
            else "",
            "",
        ]
        table = []
        for engine in shown:
            row, cell = rows.get((engine, workload)), cells[engine, workload]
            if row is None:
                status = "**FAIL**: " + "; ".join(cell.problems) if cell.problems else "not run"
                table.append([engine, *["—"] * (len(header) - 2), status])
                continue
            low, high = row["ms_range"]
            fraction = row["peak_fraction"]
            table.append(
                [
                    engine,
                    f"{row['ms']:.4g} ({low:.4g}–{high:.4g})",
                    _ratio(row.get("x_article")),
                    _ratio(row.get("x_optimal")),
                    f"{row['gflops']:.1f}",
                    "—" if fraction is None else f"{100 * fraction:.0f}%",
                    _ms(row["beyond_products_ms"]),
                    _mb(row["loop_peak_mb"]),
                    _mb(row["above_imports_mb"]),
                    _share(row["others_cpu"]),
                    _status(cell, engine),
                ]
            )
        lines += [harness.markdown_table(header, table), ""]

    unavailable = {
        e: cells[e, w].unavailable for e in engines for w in workloads if cells[e, w].unavailable
    }
    if unavailable:
        lines += ["Not available in this run:", ""]
        lines += [f"- `{e}`: {reason}" for e, reason in unavailable.items()]
        lines.append("")

    lines += _cnn_section(out / "performance_cnn.md")
    lines += ["## Engines", ""]
    lines += [f"- `{e}`: {ENGINES[e].description}" for e in engines]
    lines += [
        "",
        "## Machine",
        "",
        harness.machine_markdown(context["machine"], context["unset_openblas_env"]),
        "- threads: "
        + (
            f"{context['threads']} (`--threads` set OMP/OpenBLAS/MKL threads in the children)"
            if context["threads"]
            else "the libraries' defaults"
        ),
        "- load average (1 min): {:.2f} before the run, {:.2f} after it (the run's own work "
        "included)".format(*context["load"]),
    ]
    lines += [
        "- GEMM peak, measured in a child process as the best of square `np.matmul(a, b, "
        "out=c)` products (n = 1024 and 2048), before the passes and after each one: "
        + ", ".join(
            f"{dtype} {value:.1f} GFLOP/s"
            for dtype, value in peaks.items()
            if not dtype.startswith("torch")
        ),
    ]
    torch_peaks = {k: v for k, v in peaks.items() if k.startswith("torch")}
    if torch_peaks:
        lines.append(
            "- the same with `torch.mm`: "
            + ", ".join(f"{k[6:]} {v:.1f} GFLOP/s" for k, v in torch_peaks.items())
        )
    lines += [
        "",
        "## Method",
        "",
        "- Each engine x workload runs in its own child process, started the same way for every "
        f"engine. The child runs {CHECK_STEPS} steps and reports the {CHECK_STEPS} costs, the cost "
        f"of the parameters after them (by a common numpy forward pass) and the change of a fixed "
        f"sample of every parameter's entries; the parent checks these against `{CHECKER}` "
        f"(relative tolerance: costs {COST_TOLERANCE['float64']:g} in float64, "
        f"{COST_TOLERANCE['float32']:g} in float32; updates {UPDATE_TOLERANCE['float64']:g} and "
        f"{UPDATE_TOLERANCE['float32']:g}). Then it runs {context['warmup_steps']} warm-up step(s) "
        f"and times single steps for {context['time_budget']} s (at least {MIN_TIMED_STEPS}).",
        "- The parent runs the passes one after the other; in each pass every engine runs once "
        "per workload, in an order rotated by one engine from pass to pass. A pass's figure is "
        "the median step time of its child."
        + (
            f" Before each child the parent waited (up to {context['wait_idle']:g} s) until other "
            "processes used under 10% of the CPUs."
            if context["wait_idle"]
            else ""
        )
        + (
            f" A child whose timed steps shared the CPUs with other processes (over 10%) was run "
            f"up to {context['retry_busy']} more times, keeping the quietest run."
            if context["retry_busy"]
            else ""
        ),
        "- FLOPs counted per step: the GEMMs the step must do — forward `2*n_l*n_{l-1}*m` per "
        "layer, backward `dW_l` the same per layer, and `dA_{l-1}` the same for every layer but "
        "the first (elementwise work not counted). GFLOP/s = those FLOPs / median time.",
        f"- Beyond products: the median over passes of the engine's step time minus "
        f"`{CEILING}`'s in the same pass — the time of everything but the matrix products "
        "(bias, sigmoid, cost, update, allocation, the engine's own bookkeeping). "
        f"`{CEILING}`'s % GEMM peak is the most any step that multiplies with numpy's BLAS can "
        "reach: the step's products are not square (k = 784 in the first layer; the last layer's "
        "are matrix-vector products and an outer product, bound by memory, not arithmetic).",
        "- Peak RSS in loop: `VmHWM` of the child over the timed steps only (reset by writing 5 "
        "to `/proc/self/clear_refs` after the warm-up, once the C heap's free memory is given "
        "back with `malloc_trim`, so the checks' temporaries kept by the allocator setting do "
        "not count as the loop's). Above imports: that peak minus the RSS "
        "after importing the engine's libraries, before building the data — the memory of the "
        "data, the parameters and the step itself, without the size of the libraries.",
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "performance.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_chart(path: Path, rows: dict, engines: list[str], workloads: list[str]) -> bool:
    """A grouped bar chart of every engine's time per step relative to the article's step."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FormatStrFormatter
    except ImportError:
        return False
    shown = [e for e in engines if any("x_article" in rows.get((e, w), {}) for w in workloads)]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(len(shown), 1)
    for i, engine in enumerate(shown):
        xs, heights, errors = [], [], [[], []]
        for j, workload in enumerate(workloads):
            value = rows.get((engine, workload), {}).get("x_article")
            if value is None:
                continue
            median, low, high = value
            xs.append(j + (i - (len(shown) - 1) / 2) * width)
            heights.append(median)
            errors[0].append(median - low)
            errors[1].append(high - median)
        bars = ax.bar(xs, heights, width, yerr=errors, capsize=2, label=engine)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=2)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xticks(range(len(workloads)), [WORKLOADS[w].label for w in workloads], fontsize=8)
    ax.set_ylabel(f"time per step / {BASELINE} (log scale)")
    ax.set_title("One training step: time relative to the article's numpy step (lower is faster)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def update_peaks(peaks: dict[str, float], settings: Settings, env: dict, with_torch: bool) -> None:
    """Measure the GEMM peaks in a child and keep, per dtype, the best seen so far."""
    argv = [harness.__file__, "gemm-peak", "--repeats", str(settings.gemm_repeats)]
    result = harness.run_child(argv + (["--torch"] if with_torch else []), env)
    if result.get("status") == "error":
        print(f"GEMM peak measurement failed: {result['reason']}\n{result.get('stderr', '')}")
        return
    for dtype, value in result.items():
        peaks[dtype] = max(peaks.get(dtype, 0.0), value["gflops"])
    print("GEMM peak so far: " + ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer passes, shorter timings")
    parser.add_argument(
        "--out",
        type=Path,
        default=harness.REPO / "docs",
        help="folder for performance.md and img/performance.png (default docs/)",
    )
    parser.add_argument("--passes", type=int, help="override the number of passes")
    parser.add_argument(
        "--engines",
        help=f"comma-separated subset of {', '.join(ENGINES)} "
        f"({BASELINE}, {CHECKER} and {CEILING} are always run)",
    )
    parser.add_argument("--workloads", help=f"comma-separated subset of {', '.join(WORKLOADS)}")
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help=f"unset {' and '.join(harness.OPENBLAS_VARS)} in the children",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each child, wait up to SECONDS until other processes use under 10%% of "
        "the CPUs (for a shared machine; default: do not wait)",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help="run a child up to N more times when other processes used over 10%% of the CPUs "
        "during its timed steps, and keep the quietest run (default 0)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="set OMP/OpenBLAS/MKL thread counts in the children (default: the libraries' own)",
    )
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "WORKLOAD"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--time-budget", type=float, default=FULL.time_budget, help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--warmup-steps", type=int, default=FULL.warmup_steps, help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def _subset(text: str | None, known: dict, what: str) -> list[str]:
    if not text:
        return list(known)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(known)})")
    return names


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        harness.emit(measure(*args.child, args.time_budget, args.warmup_steps))
        return 0

    settings = QUICK if args.quick else FULL
    settings = dataclasses.replace(
        settings,
        passes=args.passes or settings.passes,
        wait_idle=args.wait_idle,
        retry_busy=args.retry_busy,
    )
    requested = _subset(args.engines, ENGINES, "engines")
    engines = [e for e in ENGINES if e in {BASELINE, CHECKER, CEILING, *requested}]
    workloads = _subset(args.workloads, WORKLOADS, "workloads")
    env = harness.child_env(args.unset_openblas_env, args.threads)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()

    machine = harness.run_child([harness.__file__, "machine"], env)
    if machine.get("status") == "error":
        print(f"machine info child failed ({machine['reason']}); reading it in this process")
        machine = harness.machine_info()
    with_torch = bool(machine.get("torch"))
    peaks: dict[str, float] = {}
    update_peaks(peaks, settings, env, with_torch)
    cells = run_passes(engines, workloads, settings, env, peaks)

    rows = summarize(cells, engines, workloads, peaks)
    chart = write_chart(args.out / "img" / "performance.png", rows, engines, workloads)
    context = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": harness.command_line(),
        "passes": settings.passes,
        "time_budget": settings.time_budget,
        "warmup_steps": settings.warmup_steps,
        "minutes": (time.perf_counter() - started) / 60,
        "machine": machine,
        "peaks": peaks,
        "unset_openblas_env": args.unset_openblas_env,
        "threads": args.threads,
        "wait_idle": settings.wait_idle,
        "retry_busy": settings.retry_busy,
        "load": (load_before, os.getloadavg()[0]),
        "others_cpu_median": others_cpu_median(cells),
        "chart": chart,
    }
    report = write_report(args.out, context, cells, rows, engines, workloads)
    print(f"\nwrote {report}" + (f" and {args.out / 'img' / 'performance.png'}" if chart else ""))
    print(report.read_text().split("## Engines")[0])
    failed = [f"{e} on {w}" for (e, w), cell in cells.items() if cell.problems]
    if failed:
        print("FAILED: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared machinery of the benchmarks: child processes, memory readings, the machine, tables.

Every measurement runs in a fresh child process started the same way for every engine, so no
engine inherits another's allocator state, thread pools or imported libraries. A child prints
one result line (``RESULT {json}``); anything else it prints is ignored.

Run directly, this module is itself a child: ``python benchmarks/harness.py machine`` prints
what the children see of the machine (the BLAS and its kernel included), and
``python benchmarks/harness.py gemm-peak`` measures the machine's GEMM peak.

Examples
--------
>>> print(markdown_table(["a", "b"], [["1", "2"]]))
| a | b |
|---|---|
| 1 | 2 |
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
RESULT_PREFIX = "RESULT "
# Set on some machines for an old numpy; they slow a current one (see the machine section).
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------
def child_env(unset_openblas_env: bool = False, threads: int | None = None) -> dict[str, str]:
    """The environment of every child: the parent's, optionally without the OpenBLAS overrides
    and with a fixed number of BLAS/OpenMP threads (PyTorch follows ``OMP_NUM_THREADS``).

    The benchmark modules and the repository go first on ``PYTHONPATH`` so that a child finds
    them however the parent was started.
    """
    env = dict(os.environ)
    if unset_openblas_env:
        for name in OPENBLAS_VARS:
            env.pop(name, None)
    if threads is not None:
        env.update({name: str(threads) for name in THREAD_VARS})
    paths = [str(BENCHMARKS), str(REPO), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def run_child(argv: Sequence[str], env: dict[str, str], timeout: float = 900) -> dict[str, Any]:
    """Run ``python *argv`` in the repository and return the result it printed.

    A child that crashes, times out or prints no result gives ``{"status": "error", ...}``
    with the end of its stderr, so one broken engine never stops the whole benchmark.
    """
    command = [sys.executable, *argv]
    try:
        proc = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {timeout:.0f} s"}
    results = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not results:
        tail = proc.stderr.strip().splitlines()[-12:]
        return {
            "status": "error",
            "reason": f"exit code {proc.returncode}",
            "stderr": "\n".join(tail),
        }
    return json.loads(results[-1][len(RESULT_PREFIX) :])


def emit(result: dict[str, Any]) -> None:
    """Print a child's result line for :func:`run_child`."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------
def status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` size (``VmRSS``, ``VmHWM``) in MiB, or None where unreadable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (``VmHWM``) to the current RSS.

    Writing ``5`` to ``/proc/self/clear_refs`` does this on Linux >= 4.0. Returns False where it
    is not possible, and the caller falls back to the whole process's peak.
    """
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def release_free_heap() -> bool:
    """Give the C heap's free memory back to the kernel (glibc's ``malloc_trim(0)``).

    A child runs checks (a forward pass over the parameters) before its timed loop; with the
    allocator setting that keeps freed memory, their temporaries would stay resident and count
    as the loop's memory. Every child calls this before the loop, so the loop's peak is what
    the step itself needs (an engine that allocates per step takes the memory back at once).
    """
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def process_peak_rss_mb() -> float:
    """The whole process's peak RSS in MiB (``ru_maxrss``, which Linux gives in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------
# CPU time taken by other processes
# --------------------------------------------------------------------------------------------
def cpu_ticks() -> tuple[int, int] | None:
    """(busy ticks of the whole machine, ticks of this process) from ``/proc``, or None.

    Two readings around a timed loop give the share of the machine that *other* processes used
    meanwhile: on a 2-core machine a benchmark is only meaningful when that share is small.
    """
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        with open("/proc/self/stat") as own:
            # utime and stime are fields 14 and 15; the command name (field 2) may hold spaces.
            own_fields = own.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy, int(own_fields[11]) + int(own_fields[12])


def others_cpu_share(before: tuple | None, after: tuple | None, seconds: float) -> float | None:
    """Fraction of all CPUs' time used by other processes between two :func:`cpu_ticks`."""
    if before is None or after is None or seconds <= 0:
        return None
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    others = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, others / (ticks_per_second * seconds * (os.cpu_count() or 1)))


def wait_until_idle(max_wait: float, threshold: float = 0.10, window: float = 1.0) -> float | None:
    """Wait (at most ``max_wait`` s) until other processes use under ``threshold`` of the CPUs.

    Each check watches the machine for ``window`` seconds. Returns the share seen last (None
    where ``/proc`` cannot tell), so the caller can say how quiet the machine really was.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_ticks()
        time.sleep(window)
        share = others_cpu_share(before, cpu_ticks(), window)
        if share is None or share < threshold or time.monotonic() >= deadline:
            return share


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _numpy_blas() -> dict[str, Any]:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {k: blas.get(k) for k in ("name", "version", "openblas configuration")}
    except Exception as error:  # show_config's layout is not a stable API
        return {"error": repr(error)}


def _threadpools() -> list[dict[str, Any]] | str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads")
    return [{k: pool.get(k) for k in keys if k in pool} for pool in threadpool_info()]


def _torch_info() -> dict[str, Any] | None:
    try:
        import torch
    except ImportError:
        return None
    config = torch.__config__.show()
    # The build line is long: keep what says which kernels run.
    build = re.findall(r"CPU capability usage: \w+|(?:BLAS_INFO|USE_MKLDNN)=\w+", config)
    return {"version": torch.__version__, "threads": torch.get_num_threads(), "build": build}


def _version_of(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def machine_info() -> dict[str, Any]:
    """What this process sees of the machine and of the numerical libraries."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "env": {name: os.environ.get(name) for name in (*OPENBLAS_VARS, *THREAD_VARS)},
    }
    # Read the thread pools before torch loads its own OpenMP runtime into this process.
    info["threadpools"] = _threadpools()
    info["torch"] = _torch_info()
    info["mygrad"] = _version_of("mygrad")
    return info


def gemm_peak(dtype: str, sizes: Sequence[int] = (1024, 2048), repeats: int = 5) -> dict:
    """Best GFLOP/s of square ``np.matmul(a, b, out=c)`` products, over sizes and repeats.

    Examples
    --------
    >>> gemm_peak("float64", sizes=(64,), repeats=1)["gflops"] > 0
    True
    """
    rng = np.random.default_rng(0)
    by_size = {}
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
        out = np.empty((n, n), dtype)
        by_size[n] = 2 * n**3 / _best_time(partial(np.matmul, a, b, out=out), repeats) / 1e9
    return {"gflops": max(by_size.values()), "by_size": by_size}


def _best_time(product: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls, after one untimed call that warms the BLAS
    threads and the pages of the output."""
    product()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        best = min(best, time.perf_counter() - start)
    return best


def torch_gemm_peak(dtype: str, sizes: Sequence[int] = (1024, 2048), repeats: int = 5) -> dict:
    """The same measurement with ``torch.mm`` (for reference: PyTorch may use another BLAS)."""
    import torch

    by_size = {}
    torch_dtype = getattr(torch, dtype)
    for n in sizes:
        a, b = (torch.randn(n, n, dtype=torch_dtype) for _ in range(2))
        out = torch.empty(n, n, dtype=torch_dtype)
        by_size[n] = 2 * n**3 / _best_time(partial(torch.mm, a, b, out=out), repeats) / 1e9
    return {"gflops": max(by_size.values()), "by_size": by_size}


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------
def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_markdown(info: dict[str, Any], unset_openblas_env: bool) -> str:
    """The machine section of a report, from :func:`machine_info` as a child saw it."""
    lines = [
        f"- CPU: {info['cpu']}; {info['logical_cpus']} logical CPUs "
        f"({info['usable_cpus']} usable); {info['memory_gib']} GiB RAM",
        f"- OS: {info['os']}; Python {info['python']}",
        f"- numpy {info['numpy']}; BLAS: {_blas_line(info['numpy_blas'])}",
    ]
    pools = info["threadpools"]
    if isinstance(pools, str):
        lines.append(f"- thread pools: {pools}")
    else:
        for pool in pools:
            details = ", ".join(f"{k} {v}" for k, v in pool.items() if k != "user_api")
            lines.append(f"- threadpoolctl, {pool.get('user_api')}: {details}")
    parent_env = {name: os.environ.get(name) for name in OPENBLAS_VARS}
    shown = ", ".join(f"`{k}`={_env_value(v)}" for k, v in parent_env.items())
    action = (
        "unset in the benchmark's child processes (`--unset-openblas-env`)"
        if unset_openblas_env
        else "passed to the child processes unchanged"
    )
    lines.append(f"- OpenBLAS overrides in the environment: {shown}; {action}")
    threads = ", ".join(
        f"`{k}`={_env_value(v)}" for k, v in info["env"].items() if k in THREAD_VARS
    )
    lines.append(f"- thread settings seen by the children: {threads}")
    torch = info.get("torch")
    if torch:
        build = ", ".join(torch["build"])
        lines.append(f"- torch {torch['version']}, {torch['threads']} threads; {build}")
    else:
        lines.append("- torch: not installed")
    lines.append(f"- mygrad: {info.get('mygrad') or 'not installed'}")
    return "\n".join(lines)


def _env_value(value: str | None) -> str:
    return "unset" if value is None else f"`{value}`"


def _blas_line(blas: dict[str, Any]) -> str:
    if "error" in blas:
        return blas["error"]
    parts = [str(blas.get("name")), str(blas.get("version"))]
    if blas.get("openblas configuration"):
        parts.append(f"({blas['openblas configuration']})")
    return " ".join(parts)


def command_line() -> str:
    """The command that started this process, as a person would type it from the repository."""
    script = Path(sys.argv[0]).resolve()
    try:
        shown = str(script.relative_to(REPO))
    except ValueError:
        shown = str(script)
    return " ".join(["python", shown, *sys.argv[1:]])


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("machine", help="print what a child sees of the machine")
    peak = sub.add_parser("gemm-peak", help="measure the GEMM peak of numpy (and torch)")
    peak.add_argument("--repeats", type=int, default=5)
    peak.add_argument("--torch", action="store_true", help="also measure torch.mm")
    args = parser.parse_args()
    if args.what == "machine":
        emit(machine_info())
        return
    result: dict[str, Any] = {}
    for dtype in ("float64", "float32"):
        result[dtype] = gemm_peak(dtype, repeats=args.repeats)
        if args.torch:
            result[f"torch_{dtype}"] = torch_gemm_peak(dtype, repeats=args.repeats)
    emit(result)


if __name__ == "__main__":
    _main()

"""Two cores for a replay: big kernels run their row halves on two threads, BLAS on one.

numpy runs elementwise work (a sigmoid's ``exp``: scalar code for float64 on AVX2, ~5 ns per
element) on one core, and OpenBLAS's worker threads keep spinning for a while after each
product, so a second thread of ours competes with them. What measurably helps
(``benchmarks/bench_threads.py``, docs/performance_threads.md): set OpenBLAS to one thread for
the replay and split every big product and elementwise pass into two row halves, one on a
worker thread (numpy releases the GIL inside a ufunc and a product). That is a process-wide
setting for the duration of the replay, so it is opt-in: ``tinygrad_nn.compile(step,
threads=2)``; the ``tinygrad-nn`` command and the benchmark use it. It needs ``threadpoolctl``
(to reach OpenBLAS); without it a plan runs on one core.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["MIN_ELEMENTS", "TwoCores", "available", "halves"]

#: A kernel splits only arrays of at least this many elements (below, a thread hand-off costs
#: more than it saves: ~20 µs against ~5 ns per element of exp).
MIN_ELEMENTS = 1 << 15

_local = threading.local()  # .active: True inside a TwoCores block of this thread
_lock = threading.Lock()
_state: dict[str, Any] = {"pool": None, "blas": None, "blas_looked_up": False, "depth": 0,
                          "saved_threads": None}


def _blas() -> Any:
    """threadpoolctl's controller of the loaded OpenBLAS, or None (no threadpoolctl/OpenBLAS)."""
    if not _state["blas_looked_up"]:
        _state["blas_looked_up"] = True
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            return None
        found = ThreadpoolController().select(internal_api="openblas").lib_controllers
        _state["blas"] = found[0] if found else None
    return _state["blas"]


def available() -> bool:
    """Whether a replay can use two cores here (threadpoolctl finds OpenBLAS).

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    return _blas() is not None


class TwoCores:
    """A ``with`` block in which :func:`halves` splits big kernels over two threads and
    OpenBLAS runs on one thread (restored when the outermost block of any thread ends).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((4, 3))
    >>> with TwoCores():
    ...     halves(lambda rows: rows.fill(1.0), x)
    >>> float(x.sum())
    12.0
    """

    def __enter__(self) -> TwoCores:
        blas = _blas()
        with _lock:
            if _state["pool"] is None:
                _state["pool"] = ThreadPoolExecutor(1, thread_name_prefix="tinygrad_nn-replay")
            if _state["depth"] == 0 and blas is not None:
                _state["saved_threads"] = blas.num_threads
                blas.set_num_threads(1)
            _state["depth"] += 1
        _local.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        _local.active = False
        with _lock:
            _state["depth"] -= 1
            blas = _state["blas"]
            if _state["depth"] == 0 and blas is not None:
                blas.set_num_threads(_state["saved_threads"])


def halves(kernel: Callable[..., Any], *arrays: np.ndarray, whole: tuple[Any, ...] = ()) -> None:
    """``kernel(*arrays, *whole)``, or inside :class:`TwoCores` and for big arrays, ``kernel``
    on the top row halves here and on the bottom halves on the worker thread (each of
    ``arrays`` is split along its first axis, ``whole`` is passed to both; ``kernel`` must only
    write rows of its own arguments).

    Examples
    --------
    >>> import numpy as np
    >>> a, out = np.arange(6.0).reshape(3, 2), np.empty((3, 2))
    >>> halves(lambda x, y: np.multiply(x, 2, out=y), a, out)
    >>> out[:, 0]
    array([0., 4., 8.])
    """
    first = arrays[0]
    if (not getattr(_local, "active", False) or first.ndim == 0 or first.shape[0] < 2
            or max(a.size for a in arrays) < MIN_ELEMENTS):  # (an outer product: big output)
        kernel(*arrays, *whole)
        return
    half = first.shape[0] // 2
    bottom = _state["pool"].submit(kernel, *(a[half:] for a in arrays), *whole)
    try:
        kernel(*(a[:half] for a in arrays), *whole)
    finally:
        bottom.result()

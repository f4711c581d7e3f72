"""Opt-in: keep freed memory for reuse, so a training step does not page-fault on every temporary.

Why: numpy allocates every result afresh. With glibc's default settings a multi-megabyte array
is served by ``mmap`` and handed back to the kernel when freed, so the next step's array of the
same size starts as untouched pages: thousands of page faults per step (measured on the article's
network at [64, 256, 256, 1], m = 1024: about 4,000 faults and 40% of the step's time). PyTorch
avoids this with its caching allocator. :func:`keep_freed_memory` gets the same effect by asking
glibc to serve large blocks from its heap and to keep freed heap memory: the next step reuses the
same pages.

It retunes the whole process's C allocator (every library in the process is affected), so
importing ``tinygrad_nn`` never does it: a program asks for it. The ``tinygrad-nn`` command and
the benchmarks do, through :func:`keep_freed_memory_unless_disabled` (the environment variable
``TINYGRAD_NN_KEEP_FREED_MEMORY=0`` keeps glibc's defaults there). It cannot be undone: setting
either threshold with ``mallopt`` also switches off, for the rest of the process, glibc's dynamic
adjustment of the mmap threshold, and no call turns that adjustment back on. Linux with glibc
only; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = [
    "is_keeping_freed_memory", "keep_freed_memory", "keep_freed_memory_unless_disabled",
    "release_kept_memory",
]

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: Set to "0" to keep glibc's defaults in the command and the benchmarks.
ENVIRONMENT_VARIABLE = "TINYGRAD_NN_KEEP_FREED_MEMORY"

_state = {"enabled": False}


def keep_freed_memory(
    mmap_threshold: int = 64 * 2**20,
    trim_threshold: int = 512 * 2**20,
) -> bool:
    """Ask glibc to reuse freed memory instead of returning it to the kernel, for good.

    Changes the allocator of the whole process: blocks smaller than ``mmap_threshold`` come from
    the heap, and up to ``trim_threshold`` bytes of freed memory stay there for reuse. There is
    no way back: glibc's dynamic mmap threshold stays off for the rest of the process (calling
    this again only sets new thresholds). No result changes, only where the memory comes from.

    Parameters
    ----------
    mmap_threshold : int
        Blocks smaller than this come from the heap, whose freed memory is reused.
    trim_threshold : int
        Free memory at the top of the heap kept for reuse before it is returned.

    Returns
    -------
    bool
        True if the settings were applied (Linux with glibc), False otherwise.

    Examples
    --------
    >>> import tinygrad_nn
    >>> isinstance(tinygrad_nn.keep_freed_memory(), bool)
    True
    """
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            raise ValueError(
                f"keep_freed_memory: {name} must be an int in [1, 2**31), as glibc's mallopt "
                f"takes it; got {value!r}"
            )
    if not sys.platform.startswith("linux"):
        return False
    try:
        # glibc's soname: find_library would spawn ldconfig (~20 ms).
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    )
    _state["enabled"] = _state["enabled"] or ok
    return ok


def keep_freed_memory_unless_disabled() -> bool:
    """:func:`keep_freed_memory`, unless ``TINYGRAD_NN_KEEP_FREED_MEMORY=0`` (what the command and
    the benchmarks call at start).

    Returns
    -------
    bool
        True if the settings are now in effect.

    Examples
    --------
    >>> from tinygrad_nn import _allocator
    >>> isinstance(_allocator.keep_freed_memory_unless_disabled(), bool)
    True
    """
    if os.environ.get(ENVIRONMENT_VARIABLE, "1").strip() == "0":
        return _state["enabled"]
    return keep_freed_memory()


def is_keeping_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` has been applied in this process.

    Examples
    --------
    >>> import tinygrad_nn
    >>> tinygrad_nn.keep_freed_memory() == tinygrad_nn.is_keeping_freed_memory()
    True
    """
    return _state["enabled"]


def release_kept_memory() -> bool:
    """Give the freed memory that :func:`keep_freed_memory` kept back to the kernel, once
    (glibc's ``malloc_trim``), when it was turned on; changes no setting.

    :func:`tinygrad_nn.compile` calls it after building a plan: the eager calls before the
    trace left their temporaries' memory in the heap for the next eager step, and a replay
    allocates nothing, so that memory would only add to the process's resident size.

    Returns
    -------
    bool
        True if memory was released (the setting is on, on Linux with glibc).

    Examples
    --------
    >>> from tinygrad_nn import _allocator
    >>> isinstance(_allocator.release_kept_memory(), bool)
    True
    """
    if not _state["enabled"]:
        return False
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return False
    return bool(trim(0))

"""Keep freed memory for reuse, so a training step does not page-fault on every temporary.

Why: numpy allocates every result afresh. With glibc's default settings a multi-megabyte array
is served by ``mmap`` and handed back to the kernel when freed, so the next step's array of the
same size starts as untouched pages: thousands of page faults per step (measured on the article's
network at [64, 256, 256, 1], m = 1024: about 4,000 faults and 40% of the step's time). PyTorch
avoids this with its caching allocator. We get the same effect by asking glibc to serve large
blocks from its heap and to keep freed heap memory: the next step reuses the same pages.

This changes two settings of the process's C allocator (all numpy code in the process gains), on
Linux with glibc only; elsewhere it does nothing. Freed memory is kept up to ``trim_threshold``
bytes instead of being returned to the operating system at once. Turn it off before importing
tinygrad_nn with the environment variable ``TINYGRAD_NN_KEEP_FREED_MEMORY=0``.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory"]

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_state = {"enabled": False}


def keep_freed_memory(
    enabled: bool = True,
    mmap_threshold: int = 64 * 2**20,
    trim_threshold: int = 512 * 2**20,
) -> bool:
    """Ask glibc to reuse freed memory instead of returning it to the kernel.

    Called once when ``tinygrad_nn`` is imported (unless ``TINYGRAD_NN_KEEP_FREED_MEMORY=0``).

    Parameters
    ----------
    enabled : bool
        ``False`` restores glibc's defaults (128 KiB thresholds, and its dynamic adjustment).
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
    >>> from tinygrad_nn._allocator import keep_freed_memory
    >>> isinstance(keep_freed_memory(), bool)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        # glibc's soname first: find_library would spawn ldconfig (~20 ms at every import).
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    if not enabled:
        mmap_threshold, trim_threshold = 128 * 2**10, 128 * 2**10
    ok = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    )
    _state["enabled"] = ok and enabled
    return ok


def is_keeping_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` is in effect."""
    return _state["enabled"]


if os.environ.get("TINYGRAD_NN_KEEP_FREED_MEMORY", "1") != "0":
    keep_freed_memory()

"""Shared test helpers: PyTorch for the comparisons (required in CI, optional elsewhere), and the
weak references that memory tests use to see what a graph keeps alive."""

from __future__ import annotations

import os
import weakref
from types import ModuleType
from typing import Any

import pytest


def import_torch() -> ModuleType:
    """PyTorch, or a skip; a failure instead when CI asks for the comparisons to run.

    ``.ci/run`` installs the pinned ``torch==2.13.0`` and sets ``TINYGRAD_NN_REQUIRE_TORCH=1``,
    so a comparison that silently skipped there would be a bug in CI, not a missing extra.
    """
    if os.environ.get("TINYGRAD_NN_REQUIRE_TORCH") == "1":
        import torch

        return torch
    return pytest.importorskip("torch")


@pytest.fixture
def torch() -> ModuleType:
    """The ``torch`` module for tests that compare against PyTorch (see :func:`import_torch`)."""
    return import_torch()


def graph_refs(root: Any) -> list[weakref.ref]:
    """Weak references to every tensor the root was computed from (leaves excluded), and to
    their arrays: exactly what one step allocates."""
    refs, seen, stack = [], set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in seen or t.is_leaf:
            continue
        seen.add(id(t))
        refs += [weakref.ref(t), weakref.ref(t.data)]
        stack.extend(t.parents)
    return refs

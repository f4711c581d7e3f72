"""Shared test fixtures: PyTorch for the comparisons, required in CI and optional elsewhere."""

from __future__ import annotations

import os
from types import ModuleType

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

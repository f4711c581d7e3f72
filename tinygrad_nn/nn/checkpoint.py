"""Rebuilding a saved Module from its checkpoint file (the file format lives in tinygrad_nn.io)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nn import _checks
from tinygrad_nn.io import ArrayArchive, open_arrays
from tinygrad_nn.nn.layers import MLP, Linear
from tinygrad_nn.nn.module import Module

__all__ = ["CHECKPOINT_CLASSES", "load"]

#: Module classes that :func:`load` can rebuild from a checkpoint's metadata.
CHECKPOINT_CLASSES: dict[str, type[Module]] = {"MLP": MLP, "Linear": Linear}

Shapes = dict[str, tuple[int, ...]]


def _mlp_shapes(config: dict[str, Any]) -> Shapes:
    dims = _checks.layer_dims(config.get("layer_dims"), "MLP")
    shapes: Shapes = {}
    for l in range(1, len(dims)):  # noqa: E741 -- the article's layer index
        shapes[f"W{l}"], shapes[f"b{l}"] = (dims[l], dims[l - 1]), (dims[l], 1)
    return shapes


def _linear_shapes(config: dict[str, Any]) -> Shapes:
    n_in = _checks.positive_int(config.get("n_in"), "n_in", "Linear")
    n_out = _checks.positive_int(config.get("n_out"), "n_out", "Linear")
    return {"W": (n_out, n_in), "b": (n_out, 1)}


# The parameter shapes a configuration implies, worked out without building the model, so that a
# checkpoint whose config asks for a huge network is refused before anything is allocated.
_SHAPES: dict[str, Callable[[dict[str, Any]], Shapes]] = {
    "MLP": _mlp_shapes,
    "Linear": _linear_shapes,
}


def _check_declared_shapes(
    archive: ArrayArchive, class_name: str, config: dict[str, Any]
) -> None:
    path = archive.path
    try:
        expected = _SHAPES[class_name](config)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path!r}: the stored configuration does not build a {class_name} ({error})"
        ) from None
    declared = {name: shape for name, (shape, _) in archive.declared.items()}
    mismatched = [
        f"{name}: shape {declared[name]}, expected {shape}"
        for name, shape in expected.items()
        if name in declared and declared[name] != shape
    ]
    missing = [name for name in expected if name not in declared]
    unexpected = [name for name in declared if name not in expected]
    problems = _checks.mismatches(missing, unexpected, mismatched)
    if problems:
        raise ValueError(
            f"{path!r}: the stored parameters do not fit the stored configuration "
            f"({problems}); nothing was built or read"
        )


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved by :meth:`Module.save`, with its exact parameters.

    Checked in an order that keeps hostile files cheap: the archive's members against its
    metadata (before any member is inflated, see :func:`tinygrad_nn.nn.open_arrays`), then the
    stored configuration against the arrays' *declared* shapes (before the model is built),
    then the model is built, the arrays are read, and every one is checked (names, shapes,
    dtypes) before any is copied in. The result is either the saved model bit for bit or a
    ``ValueError`` — never a half-loaded model, a ``MemoryError`` or a ``RecursionError``.

    Raises
    ------
    ValueError
        A file that is not a checkpoint (it says what the file looks like and what ``load``
        expects), everything :func:`tinygrad_nn.nn.open_arrays` refuses (truncated, corrupted,
        foreign, future-version files, zip bombs, deep metadata), a file that is not a model
        checkpoint, an unknown class, or parameters that do not fit the stored configuration.
    OSError
        The file cannot be opened.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> model = MLP([2, 4, 1], activation="relu", seed=0)
    >>> model.save(path)
    >>> restored = load(path)
    >>> restored.activation, bool((restored.W1.data == model.W1.data).all())
    ('relu', True)
    """
    path = os.fspath(path)
    with open_arrays(path) as archive:
        metadata = archive.metadata
        if metadata.get("kind") != "model":
            raise ValueError(f"{path!r} is a tinygrad_nn file but not a model checkpoint")
        class_name = metadata.get("class")
        config = metadata.get("config")
        cls = CHECKPOINT_CLASSES.get(class_name) if isinstance(class_name, str) else None
        if cls is None:
            raise ValueError(
                f"{path!r} holds a {class_name!r}, which load() cannot rebuild (it rebuilds "
                f"{', '.join(CHECKPOINT_CLASSES)}); build the model yourself and call "
                f"model.load_state_dict(tinygrad_nn.nn.load_arrays(path)[0])"
            )
        if not isinstance(config, dict):
            raise ValueError(f"{path!r}: the checkpoint's config is missing or not an object")
        assert isinstance(class_name, str)
        if class_name in _SHAPES:
            _check_declared_shapes(archive, class_name, config)
        try:
            model = cls(**config)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{path!r}: the stored configuration does not build a {class_name} ({error})"
            ) from None
        arrays: dict[str, np.ndarray] = {name: archive.read(name) for name in archive.names}
    try:
        model.load_state_dict(arrays)
    except ValueError as error:
        raise ValueError(f"{path!r}: the stored parameters do not fit the model: {error}") from None
    return model

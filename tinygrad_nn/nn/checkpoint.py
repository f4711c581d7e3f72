"""Rebuilding a saved Module from its checkpoint file (the file format lives in tinygrad_nn.io)."""

from __future__ import annotations

import os

from tinygrad_nn.io import load_arrays
from tinygrad_nn.nn.layers import MLP, Linear
from tinygrad_nn.nn.module import Module

__all__ = ["CHECKPOINT_CLASSES", "load"]

#: Module classes that :func:`load` can rebuild from a checkpoint's metadata.
CHECKPOINT_CLASSES: dict[str, type[Module]] = {"MLP": MLP, "Linear": Linear}


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved by :meth:`Module.save`, with its exact parameters.

    The model is built from the stored class and configuration, then every parameter is
    checked (names, shapes, dtypes) before any is copied in, so the result is either the
    saved model bit for bit or an error — never a half-loaded model.

    Raises
    ------
    ValueError
        Everything :func:`load_arrays` refuses (truncated, corrupted, foreign, future-version
        files), a file that is not a model checkpoint, an unknown class, or parameters that do
        not fit the stored configuration.
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
    arrays, metadata = load_arrays(path)
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
    try:
        model = cls(**config)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{path!r}: the stored configuration does not build a {class_name} ({error})"
        ) from None
    try:
        model.load_state_dict(arrays)
    except ValueError as error:
        raise ValueError(f"{path!r}: the stored parameters do not fit the model: {error}") from None
    return model

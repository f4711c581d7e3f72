"""File I/O: atomic writes and the checkpoint format (.npz arrays + JSON metadata, read without
pickle)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import numpy as np

from tinygrad_nn._version import __version__
from tinygrad_nn.tensor import Tensor

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "atomic_write",
    "load_arrays",
    "save_arrays",
]



#: Name of the format, stored in every file's metadata.
FORMAT_NAME = "tinygrad_nn"
#: The format version this code writes, and the newest it reads.
FORMAT_VERSION = 1
#: The archive member holding the metadata (UTF-8 JSON as a uint8 array: no pickle needed).
METADATA_KEY = "__metadata__"


def _new_file_mode(path: str) -> int:
    """The permissions the file would get from open(): the old file's, else 0o666 minus umask
    (mkstemp's temporary file is 0o600)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(
    path: str | os.PathLike[str], content: bytes | str | Callable[[BinaryIO], None]
) -> None:
    """Write a file so that it is either entirely the new content or untouched.

    The content goes to a temporary file in the same directory, is flushed and fsync'ed, and
    then ``os.replace`` puts it at ``path`` in one step. If anything fails — writing, a full
    disk, a read-only directory — the temporary file is removed, a previous file at ``path``
    is left as it was, and the error reaches the caller.

    Parameters
    ----------
    path : str or path-like
        The file to write (used as given).
    content : bytes, str or callable
        The bytes (str is written as UTF-8), or a function that writes to the binary file
        object it receives.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write(path, "epoch 1: cost 0.69\\n")
    >>> open(path).read()
    'epoch 1: cost 0.69\\n'
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if not (callable(content) or isinstance(content, (bytes, bytearray, memoryview))):
        raise TypeError(
            f"atomic_write: content must be bytes, str or a function of a binary file; got "
            f"{type(content).__name__}"
        )
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            if callable(content):
                content(file)
            else:
                file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # Make the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


def save_arrays(
    path: str | os.PathLike[str], arrays: Mapping[str, Any], metadata: Mapping[str, Any]
) -> None:
    """Write named arrays and JSON metadata to an ``.npz`` file, atomically.

    The metadata is stored as UTF-8 JSON in a uint8 array, so that ``np.load(path,
    allow_pickle=False)`` reads everything; ``"format"`` and ``"format_version"`` are added.
    :meth:`Module.save` and the command line's ``--out`` files use this writer; read the
    files back with :func:`load_arrays`.

    Parameters
    ----------
    path : str or path-like
        The file to write (used as given; no ``.npz`` is appended).
    arrays : mapping of str to array_like
        Numeric (or string) arrays; object arrays would need pickle and are refused.
    metadata : mapping
        JSON-serialisable; may not use the keys ``"format"`` and ``"format_version"``.

    Raises
    ------
    TypeError
        An object array, or metadata that is not JSON-serialisable.
    ValueError
        A reserved name or key.
    OSError
        From the file system; a previous file at ``path`` is then untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "history.npz")
    >>> save_arrays(path, {"cost": np.array([0.7, 0.5])}, {"epochs": 2})
    >>> arrays, metadata = load_arrays(path)
    >>> arrays["cost"], metadata["epochs"], metadata["format_version"]
    (array([0.7, 0.5]), 2, 1)
    """
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save_arrays: metadata must be a mapping; got {type(metadata).__name__}")
    reserved = {"format", "format_version"} & set(metadata)
    if reserved:
        raise ValueError(f"save_arrays: metadata keys {sorted(reserved)} are reserved")
    if not isinstance(arrays, Mapping):
        raise TypeError(f"save_arrays: arrays must be a mapping; got {type(arrays).__name__}")
    payload: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == METADATA_KEY:
            raise ValueError(
                f"save_arrays: array names must be non-empty strings other than "
                f"{METADATA_KEY!r}; got {name!r}"
            )
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject:
            raise TypeError(
                f"save_arrays: array {name!r} has dtype {array.dtype}, which needs pickle; only "
                f"numeric and string arrays can be saved"
            )
        payload[name] = array
    try:
        text = json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata})
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_arrays: metadata must be JSON-serialisable ({error})") from None
    payload[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda file: np.savez(file, **payload))


class _ForeignFile(Exception):
    """A readable file that is not an archive of named arrays."""


def _read_archive(path: str) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Every array in the file, and the metadata array if there is one. Raises ValueError for
    anything that is not a readable .npz archive of plain arrays."""
    with open(path, "rb") as file:  # a missing or unreadable file is an OSError, as usual
        try:
            loaded = np.load(file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise _ForeignFile(f"it holds a single {type(loaded).__name__}")
            with loaded:
                arrays = {}
                for name in loaded.files:
                    value = loaded[name]
                    if not isinstance(value, np.ndarray):
                        raise _ForeignFile(f"its member {name!r} is not a numpy array")
                    arrays[name] = value
        except _ForeignFile as error:
            raise ValueError(
                f"{path!r} is not a tinygrad_nn file: {error}, not an .npz archive of named "
                f"arrays"
            ) from None
        # A damaged archive can make zipfile and numpy raise almost anything (ValueError,
        # BadZipFile, EOFError, zlib.error, MemoryError for a garbled header...): all of them
        # mean "cannot read". numpy's refusal to unpickle is a ValueError too.
        except Exception as error:
            raise ValueError(
                f"{path!r} is not a readable tinygrad_nn file (truncated, corrupted, or not an "
                f".npz archive of plain arrays; nothing is ever unpickled): "
                f"{type(error).__name__}: {error}"
            ) from error
    return arrays, arrays.pop(METADATA_KEY, None)


def load_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_arrays`: ``(arrays, metadata)``.

    Loaded with ``allow_pickle=False``: reading a file never runs code, and an archive holding
    an object array is refused.

    Raises
    ------
    ValueError
        A truncated or corrupted file, a file that is not an ``.npz`` archive, an archive
        without tinygrad_nn metadata (foreign), or one written by a newer format version.
    OSError
        The file cannot be opened (e.g. ``FileNotFoundError``).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> save_arrays(path, {"x": np.arange(3)}, {"note": "three"})
    >>> load_arrays(path)[1]["note"]
    'three'
    """
    path = os.fspath(path)
    arrays, raw = _read_archive(path)
    if raw is None:
        raise ValueError(
            f"{path!r} is an .npz archive without tinygrad_nn metadata (a foreign file; its "
            f"arrays: {', '.join(sorted(arrays)) or 'none'})"
        )
    try:
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ValueError(f"metadata array has dtype {raw.dtype} and shape {raw.shape}")
        metadata = json.loads(raw.tobytes().decode("utf-8"))
        if not isinstance(metadata, dict):
            raise ValueError(f"metadata is a JSON {type(metadata).__name__}, not an object")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r}: the tinygrad_nn metadata is corrupted ({error})") from None
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{path!r} is not a tinygrad_nn file: its metadata names the format "
            f"{metadata.get('format')!r}"
        )
    version = metadata.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path!r}: invalid format_version {version!r} in its metadata")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written in format version {version} by a newer tinygrad_nn; this "
            f"version ({__version__}) reads up to version {FORMAT_VERSION}: upgrade tinygrad_nn"
        )
    return arrays, metadata


"""File I/O: atomic writes and the checkpoint format (.npz arrays + JSON metadata, read without
pickle, in bounded time and memory)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, BinaryIO

import numpy as np

from tinygrad_nn import _checks
from tinygrad_nn._version import __version__
from tinygrad_nn.tensor import Tensor

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "ArrayArchive",
    "atomic_write",
    "load_arrays",
    "open_arrays",
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

    A symbolic link at ``path`` is *replaced* by the new file (``os.replace`` renames over the
    link itself): the file it pointed to is left as it was, and ``path`` is then a regular file.
    To write through a link, pass ``os.path.realpath(path)``.

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
    >>> with open(path) as file:
    ...     file.read()
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

    Every array becomes the member ``<name>.npy`` of an uncompressed zip (what ``np.savez``
    writes, but written member by member, so that any name round-trips, including ``file``,
    ``allow_pickle`` or ``args``, which ``np.savez(**arrays)`` would take as its own arguments).
    The metadata is stored as UTF-8 JSON in a uint8 array, so that ``np.load(path,
    allow_pickle=False)`` reads everything; ``"format"``, ``"format_version"`` and ``"arrays"``
    (the names, which the reader checks before inflating anything) are added. A symbolic link
    at ``path`` is replaced, not written through (see :func:`atomic_write`).
    :meth:`Module.save` and the command line's ``--out`` files use this writer; read the files
    back with :func:`load_arrays`.

    Parameters
    ----------
    path : str or path-like
        The file to write (used as given; no ``.npz`` is appended).
    arrays : mapping of str to array_like
        Numeric (or string) arrays; object arrays would need pickle and are refused.
    metadata : mapping
        JSON-serialisable; may not use the keys ``"format"``, ``"format_version"`` and
        ``"arrays"``.

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
    >>> save_arrays(path, {"file": np.ones(2), "allow_pickle": np.zeros(1)}, {})
    >>> sorted(load_arrays(path)[0])
    ['allow_pickle', 'file']
    """
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save_arrays: metadata must be a mapping; got {type(metadata).__name__}")
    reserved = {"format", "format_version", "arrays"} & set(metadata)
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
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "arrays": list(payload)}
    try:
        text = json.dumps({**header, **metadata})
    except (TypeError, ValueError) as error:
        raise TypeError(f"save_arrays: metadata must be JSON-serialisable ({error})") from None
    payload[METADATA_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda file: _write_npz(file, payload))


def _write_npz(file: BinaryIO, payload: Mapping[str, np.ndarray]) -> None:
    """The arrays as members ``<name>.npy`` of an uncompressed zip, as np.savez lays them out."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in payload.items():
            with zf.open(f"{name}.npy", mode="w", force_zip64=array.nbytes > 2**30) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


# --------------------------------------------------------------------------------------------
# reading, in bounded time and memory
# --------------------------------------------------------------------------------------------

#: The largest metadata member read (JSON text); a checkpoint's is a few hundred bytes.
MAX_METADATA_BYTES = 1 << 20
#: The deepest nesting of JSON arrays/objects accepted in the metadata (a checkpoint's is 3).
MAX_METADATA_DEPTH = 32
#: A deflated member may inflate to at most this many times its stored size (once it is
#: over 1 MiB): a zip bomb is refused before it is inflated. Uncompressed members (what
#: :func:`save_arrays` writes) are bounded by the file's size.
MAX_INFLATION = 100
_EXPECTS = (
    "an .npz archive of arrays with tinygrad_nn metadata, as Module.save and "
    "tinygrad_nn.nn.save_arrays write it"
)


def _what_it_is(head: bytes) -> str:
    """A few words on what a file that is not a zip archive looks like, from its first bytes."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array (np.save)"
    if head[:1] == b"\x80":
        return "a Python pickle (never loaded: it could run code)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return f"a binary file starting with {head[:8]!r}"
    first_line = text.splitlines()[0] if text.splitlines() else text
    return f"a text file (its first line: {first_line[:60]!r})"


def _json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text, strings skipped; linear time, no
    recursion (json.loads recurses and raises RecursionError on deep input)."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


class ArrayArchive:
    """An open file written by :func:`save_arrays`: its metadata and every array's declared
    shape and dtype, read from the zip directory and the ``.npy`` headers **before** any array
    is inflated; then :meth:`read` inflates one array.

    Made by :func:`open_arrays` (use it as a context manager). On opening, every member's name
    is checked against the metadata's list, every header against the member's size, and every
    deflated member against :data:`MAX_INFLATION`, so that a hostile file is a ``ValueError``
    before any large allocation.

    Attributes
    ----------
    path : str
    metadata : dict
        The JSON metadata (with ``format``, ``format_version``).
    declared : dict of str to (tuple of int, numpy.dtype)
        Every array's shape and dtype, as its ``.npy`` header declares them.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> save_arrays(path, {"W": np.ones((2, 3))}, {"note": "ones"})
    >>> with open_arrays(path) as archive:
    ...     archive.declared["W"], archive.read("W").sum()
    (((2, 3), dtype('float64')), np.float64(6.0))
    """

    def __init__(self, path: str, zf: zipfile.ZipFile) -> None:
        self.path = path
        self._zip = zf
        members = {info.filename: info for info in zf.infolist()}
        self._members: dict[str, zipfile.ZipInfo] = {}
        for filename, info in members.items():
            if not filename.endswith(".npy"):
                raise self._error(f"its member {filename!r} is not an .npy array")
            self._members[filename[: -len(".npy")]] = info
        for info in members.values():
            self._check_inflation(info)
        self.metadata = self._read_metadata()
        self._check_names()
        self.declared: dict[str, tuple[tuple[int, ...], np.dtype]] = {
            name: self._header(name)[:2] for name in self.names
        }

    # ---- opening checks ---------------------------------------------------------------------

    def _error(self, problem: str) -> ValueError:
        return ValueError(f"{self.path!r} is not a readable tinygrad_nn file: {problem}")

    def _check_inflation(self, info: zipfile.ZipInfo) -> None:
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise self._error(f"its member {info.filename!r} declares inconsistent sizes")
            return
        if info.file_size > 1 << 20 and info.file_size > MAX_INFLATION * info.compress_size:
            raise self._error(
                f"its member {info.filename!r} would inflate {info.compress_size} bytes to "
                f"{info.file_size} (over {MAX_INFLATION}x: refused unread, as a zip bomb)"
            )

    def _read_metadata(self) -> dict[str, Any]:
        if METADATA_KEY not in self._members:
            names = ", ".join(sorted(self._members)) or "none"
            raise ValueError(
                f"{self.path!r} is an .npz archive without tinygrad_nn metadata (a foreign file; "
                f"its arrays: {names}); load expects {_EXPECTS}"
            )
        info = self._members[METADATA_KEY]
        if info.file_size > MAX_METADATA_BYTES:
            raise self._error(
                f"its metadata member holds {info.file_size} bytes (at most "
                f"{MAX_METADATA_BYTES} are read)"
            )
        shape, dtype, _ = self._header(METADATA_KEY)
        try:
            if dtype != np.uint8 or len(shape) != 1:
                raise ValueError(f"metadata array has dtype {dtype} and shape {shape}")
            text = self.read(METADATA_KEY).tobytes().decode("utf-8")
            depth = _json_depth(text)
            if depth > MAX_METADATA_DEPTH:
                raise ValueError(f"it nests {depth} deep (at most {MAX_METADATA_DEPTH})")
            metadata = json.loads(text)
            if not isinstance(metadata, dict):
                raise ValueError(f"metadata is a JSON {type(metadata).__name__}, not an object")
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError(
                f"{self.path!r}: the tinygrad_nn metadata is corrupted ({error})"
            ) from None
        if metadata.get("format") != FORMAT_NAME:
            raise ValueError(
                f"{self.path!r} is not a tinygrad_nn file: its metadata names the format "
                f"{metadata.get('format')!r}"
            )
        version = metadata.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"{self.path!r}: invalid format_version {version!r} in its metadata")
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{self.path!r} was written in format version {version} by a newer tinygrad_nn; "
                f"this version ({__version__}) reads up to version {FORMAT_VERSION}: upgrade "
                f"tinygrad_nn"
            )
        return metadata

    def _check_names(self) -> None:
        """The members must be exactly the arrays the metadata lists (``arrays``, or for older
        model checkpoints ``parameters``), checked before any array is read."""
        listed = self.metadata.get("arrays", self.metadata.get("parameters"))
        if listed is None:
            return
        if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
            raise ValueError(f"{self.path!r}: the metadata's list of arrays is not a list of names")
        present = set(self._members) - {METADATA_KEY}
        missing = [name for name in listed if name not in present]
        unexpected = sorted(present - set(listed))
        problems = _checks.mismatches(missing, unexpected)
        if problems:
            raise ValueError(
                f"{self.path!r}: its arrays do not match its metadata ({problems}); "
                f"nothing was read"
            )

    @contextlib.contextmanager
    def _member(self, name: str) -> Iterator[IO[bytes]]:
        try:
            with self._zip.open(self._members[name]) as member:
                yield member
        except ValueError:
            raise
        # A damaged archive can make zipfile and numpy raise almost anything (BadZipFile,
        # EOFError, zlib.error, OSError...): all of them mean "cannot read".
        except Exception as error:
            raise self._error(
                f"its member {name!r} cannot be read (truncated or corrupted): "
                f"{type(error).__name__}: {error}"
            ) from error

    def _header(self, name: str) -> tuple[tuple[int, ...], np.dtype, bool]:
        """``(shape, dtype, fortran_order)`` from the member's .npy header, checked against
        the member's size (so that no array is bigger than what the file holds)."""
        fmt = np.lib.format
        with self._member(name) as member:
            try:
                version = fmt.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = fmt.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, fortran, dtype = fmt.read_array_header_2_0(member)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                offset = member.tell()
            except ValueError as error:
                raise self._error(f"its member {name!r} has a bad .npy header ({error})") from None
        if dtype.hasobject:
            raise self._error(
                f"its member {name!r} is an object array, which needs pickle (files are read "
                f"with allow_pickle=False; nothing is ever unpickled)"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        size = self._members[name].file_size
        if offset + nbytes != size:
            raise self._error(
                f"its member {name!r} declares shape {shape} of {dtype} ({nbytes} bytes) but "
                f"holds {size - offset} bytes of data (truncated or garbled)"
            )
        return tuple(int(n) for n in shape), dtype, bool(fortran)

    # ---- reading ------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """The arrays' names, in the file's order (the metadata not included).

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
        >>> save_arrays(path, {"b": np.zeros(1), "a": np.ones(1)}, {})
        >>> with open_arrays(path) as archive:
        ...     archive.names
        ['b', 'a']
        """
        return [name for name in self._members if name != METADATA_KEY]

    def read(self, name: str) -> np.ndarray:
        """Inflate and return the array ``name`` (its declared size was checked on opening).

        Examples
        --------
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
        >>> save_arrays(path, {"x": np.arange(3)}, {})
        >>> with open_arrays(path) as archive:
        ...     archive.read("x")
        array([0, 1, 2])
        """
        with self._member(name) as member:
            try:
                array = np.lib.format.read_array(member, allow_pickle=False)
            except ValueError as error:
                raise self._error(f"its member {name!r} cannot be read ({error})") from None
        if not isinstance(array, np.ndarray):
            raise self._error(f"its member {name!r} is not a numpy array")
        return array


@contextlib.contextmanager
def open_arrays(path: str | os.PathLike[str]) -> Iterator[ArrayArchive]:
    """Open a file written by :func:`save_arrays` for checked, bounded reading (see
    :class:`ArrayArchive`): names, metadata and declared shapes first, arrays on request.

    Raises
    ------
    ValueError
        A file that is not a zip archive (saying what it looks like, and what is expected),
        a truncated or corrupted one, a foreign or future-version file, a zip bomb, metadata
        too large or nested too deep, members that the metadata does not list.
    OSError
        The file cannot be opened (e.g. ``FileNotFoundError``).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npz")
    >>> save_arrays(path, {"x": np.arange(3)}, {"note": "three"})
    >>> with open_arrays(path) as archive:
    ...     archive.metadata["note"], archive.names
    ('three', ['x'])
    """
    path = os.fspath(path)
    with open(path, "rb") as file:  # a missing or unreadable file is an OSError, as usual
        head = file.read(64)
        file.seek(0)
        try:
            zf = zipfile.ZipFile(file)
        except zipfile.BadZipFile:
            if head.startswith(b"PK"):
                raise ValueError(
                    f"{path!r} is not a readable tinygrad_nn file: a damaged zip archive "
                    f"(truncated or corrupted)"
                ) from None
            raise ValueError(
                f"{path!r} is not a tinygrad_nn file: it is {_what_it_is(head)}, not an .npz "
                f"archive; load expects {_EXPECTS}"
            ) from None
        except Exception as error:  # a garbled directory can raise almost anything
            raise ValueError(
                f"{path!r} is not a readable tinygrad_nn file (truncated or corrupted): "
                f"{type(error).__name__}: {error}"
            ) from error
        with zf:
            yield ArrayArchive(path, zf)


def load_arrays(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_arrays`: ``(arrays, metadata)``.

    Read member by member with ``allow_pickle=False``: reading a file never runs code, and an
    archive holding an object array is refused. Everything :func:`open_arrays` checks is
    checked before any array is inflated.

    Raises
    ------
    ValueError
        A truncated or corrupted file, a file that is not an ``.npz`` archive, an archive
        without tinygrad_nn metadata (foreign), one written by a newer format version, or one
        whose members or sizes do not match what it declares.
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
    with open_arrays(path) as archive:
        return {name: archive.read(name) for name in archive.names}, archive.metadata

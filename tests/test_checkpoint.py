"""Specification of checkpoints: Module.save, nn.load, and the writer/reader under them.

A checkpoint is a plain .npz (parameters + JSON metadata in a uint8 array), written atomically
and read with allow_pickle=False. The round trip is bit-identical; a failed save leaves the
previous file intact and raises; a truncated, corrupted, foreign or future-version file is a
ValueError, never a crash or a half-loaded model.
"""

import builtins
import contextlib
import json
import os
import pickle
import stat
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import Tensor, nn
from tinygrad_nn.nn import MLP, Linear, Module, atomic_write, load, load_arrays, save_arrays


@pytest.fixture
def saved(tmp_path):
    """A trained-looking model (weights not the init's) saved at tmp_path/model.npz."""
    model = MLP([3, 5, 2], activation="tanh", seed=11, output_activation="none")
    for p in model.parameters():
        p.data[...] = np.random.default_rng(0).standard_normal(p.shape)
    path = tmp_path / "model.npz"
    model.save(path)
    return model, path


def write_npz(path, arrays, metadata=None):
    """An .npz written by hand, with optional raw metadata (for foreign and future files)."""
    if metadata is not None:
        text = json.dumps(metadata).encode()
        arrays = {**arrays, nn.METADATA_KEY: np.frombuffer(text, dtype=np.uint8)}
    with open(path, "wb") as file:
        np.savez(file, **arrays)


@contextlib.contextmanager
def edited_checkpoint(path):
    """The checkpoint's arrays and metadata, to change in place; saved again on leaving."""
    arrays, metadata = load_arrays(path)
    for key in ("format", "format_version", "arrays"):  # save_arrays writes them itself
        del metadata[key]
    yield arrays, metadata
    save_arrays(path, arrays, metadata)


def files_in(directory):
    return sorted(os.listdir(directory))


# ---------------------------------------------------------------------------------------------
# round trip
# ---------------------------------------------------------------------------------------------


def test_round_trip_is_bit_identical(saved):
    model, path = saved
    restored = load(path)
    assert type(restored) is MLP
    assert [n for n, _ in restored.named_parameters()] == [n for n, _ in model.named_parameters()]
    pairs = zip(model.named_parameters(), restored.named_parameters(), strict=True)
    for (name, a), (_, b) in pairs:
        assert a.data.dtype == b.data.dtype
        assert a.data.tobytes() == b.data.tobytes(), name


def test_load_rebuilds_the_configuration(saved):
    model, path = saved
    restored = load(path)
    assert restored.config() == model.config()
    assert (restored.layer_dims, restored.activation) == ([3, 5, 2], "tanh")
    assert restored.output_activation == "none"


@settings(max_examples=20, deadline=None)
@given(
    layer_dims=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    activation=st.sampled_from(["sigmoid", "relu", "tanh"]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_round_trip_is_exact_for_any_mlp(layer_dims, activation, dtype):
    model = MLP(layer_dims, activation=activation, dtype=dtype, seed=5)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "m.npz")
        model.save(path)
        restored = load(path)
    assert restored.dtype == dtype
    for name, value in model.state_dict().items():
        assert restored.state_dict()[name].tobytes() == value.tobytes()


def test_linear_round_trips(tmp_path):
    layer = Linear(4, 3, init="he", seed=1, dtype=np.float32)
    layer.save(tmp_path / "linear.npz")
    restored = load(tmp_path / "linear.npz")
    assert type(restored) is Linear and restored.W.dtype == np.float32
    np.testing.assert_array_equal(restored.W.data, layer.W.data)


def test_restored_model_computes_the_same_outputs(saved):
    model, path = saved
    X = np.random.default_rng(3).standard_normal((3, 7))
    np.testing.assert_array_equal(load(path)(X).data, model(X).data)


def test_a_checkpoint_is_a_plain_npz_readable_without_pickle(saved):
    model, path = saved
    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"W1", "b1", "W2", "b2", nn.METADATA_KEY}
        np.testing.assert_array_equal(archive["W2"], model.W2.data)
        metadata = json.loads(archive[nn.METADATA_KEY].tobytes().decode("utf-8"))
    assert metadata["format"] == "tinygrad_nn" and metadata["format_version"] == 1
    assert metadata["class"] == "MLP" and metadata["dtype"] == "float64"
    assert metadata["config"]["layer_dims"] == [3, 5, 2]
    assert metadata["config"]["activation"] == "tanh"
    assert metadata["config"]["output_activation"] == "none"
    assert metadata["config"]["init"] == "xavier"
    assert metadata["parameters"] == ["W1", "b1", "W2", "b2"]


def test_save_writes_exactly_the_path_given(tmp_path):
    MLP([2, 1]).save(tmp_path / "model")
    assert files_in(tmp_path) == ["model"]
    assert type(load(tmp_path / "model")) is MLP


def test_saving_again_replaces_the_file(tmp_path):
    path = tmp_path / "model.npz"
    MLP([2, 3, 1], seed=0).save(path)
    MLP([2, 3, 1], seed=1).save(path)
    assert load(path).seed == 1
    assert files_in(tmp_path) == ["model.npz"]


# ---------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------


def test_a_failure_while_writing_keeps_the_old_checkpoint_and_raises(saved, monkeypatch):
    _, path = saved
    before = path.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write)
    with pytest.raises(OSError, match="No space left"):
        MLP([3, 5, 2], seed=0).save(path)
    assert path.read_bytes() == before
    assert files_in(path.parent) == ["model.npz"]  # the temporary file is gone


def test_a_failure_at_the_final_rename_keeps_the_old_checkpoint_and_raises(saved, monkeypatch):
    _, path = saved
    before = path.read_bytes()

    def broken_replace(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        MLP([3, 5, 2], seed=0).save(path)
    assert path.read_bytes() == before
    assert files_in(path.parent) == ["model.npz"]


def test_an_interrupt_while_writing_leaves_no_temporary_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        MLP([2, 1]).save(tmp_path / "m.npz")
    assert files_in(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions that apply (root ignores them)")
def test_saving_into_a_read_only_directory_raises_and_keeps_the_old_file(saved):
    _, path = saved
    before = path.read_bytes()
    path.parent.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            MLP([3, 5, 2], seed=0).save(path)
    finally:
        path.parent.chmod(0o700)
    assert path.read_bytes() == before
    assert files_in(path.parent) == ["model.npz"]


def test_when_no_temporary_file_can_be_made_the_error_reaches_the_caller(saved, monkeypatch):
    # What a read-only directory does, simulated (the tests may run as root, which ignores it).
    _, path = saved
    before = path.read_bytes()

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path.parent))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(PermissionError):
        MLP([3, 5, 2], seed=0).save(path)
    assert path.read_bytes() == before


def test_saving_into_a_missing_directory_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP([2, 1]).save(tmp_path / "missing" / "m.npz")


def test_a_new_file_gets_the_usual_permissions_not_the_temporary_files(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o644


def test_replacing_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "old.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_atomic_write_takes_bytes_text_or_a_writer(tmp_path):
    atomic_write(tmp_path / "a", b"\x00\x01")
    atomic_write(tmp_path / "b", "héllo")
    atomic_write(tmp_path / "c", lambda file: file.write(b"written"))
    assert (tmp_path / "a").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "c").read_bytes() == b"written"


def test_atomic_write_rejects_other_content_before_touching_anything(tmp_path):
    with pytest.raises(TypeError, match="bytes, str or a function"):
        atomic_write(tmp_path / "a", 42)
    assert files_in(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# save_arrays / load_arrays (the command line's --out files use them too)
# ---------------------------------------------------------------------------------------------


def test_save_arrays_round_trip(tmp_path):
    arrays = {"cost": np.array([0.69, 0.5, 0.3]), "labels": np.arange(4, dtype=np.int64)}
    save_arrays(tmp_path / "run.npz", arrays, {"epochs": 3, "lr": 0.1})
    loaded, metadata = load_arrays(tmp_path / "run.npz")
    assert loaded.keys() == arrays.keys()
    for name in arrays:
        assert loaded[name].dtype == arrays[name].dtype
        np.testing.assert_array_equal(loaded[name], arrays[name])
    assert metadata == {"format": "tinygrad_nn", "format_version": 1,
                        "arrays": ["cost", "labels"], "epochs": 3, "lr": 0.1}


def test_save_arrays_refuses_object_arrays_and_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="needs pickle"):
        save_arrays(tmp_path / "x.npz", {"x": np.array([{}, []], dtype=object)}, {})
    assert files_in(tmp_path) == []


def test_save_arrays_refuses_metadata_that_is_not_json(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_arrays(tmp_path / "x.npz", {}, {"when": object()})
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("arrays", "metadata"),
    [({}, {"format_version": 9}), ({nn.METADATA_KEY: np.zeros(1)}, {}), ({"": np.zeros(1)}, {})],
    ids=["reserved-metadata-key", "reserved-array-name", "empty-name"],
)
def test_save_arrays_refuses_reserved_names(tmp_path, arrays, metadata):
    with pytest.raises(ValueError, match=r"reserved|names"):
        save_arrays(tmp_path / "x.npz", arrays, metadata)


def test_load_of_an_arrays_file_that_is_not_a_model_says_so(tmp_path):
    save_arrays(tmp_path / "run.npz", {"cost": np.zeros(3)}, {"epochs": 3})
    with pytest.raises(ValueError, match="not a model checkpoint"):
        load(tmp_path / "run.npz")


# ---------------------------------------------------------------------------------------------
# bad files: always a ValueError (or OSError when the file cannot be opened)
# ---------------------------------------------------------------------------------------------


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_a_truncated_file_is_a_value_error(saved, fraction):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match=r"not a (readable )?tinygrad_nn file.*(empty|trunc)"):
        load(path)


def test_every_truncation_is_a_value_error(saved):
    _, path = saved
    data = path.read_bytes()
    for length in range(0, len(data), 7):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError):
            load(path)


def test_a_corrupted_byte_never_gives_a_different_model(saved):
    # Flip every byte in turn: each file is refused with ValueError, or (a byte zip ignores,
    # like a timestamp) loads the very same parameters. Never other values, never a crash.
    model, path = saved
    data = path.read_bytes()
    expected = model.state_dict()
    refused = 0
    for position in range(0, len(data), 3):
        corrupted = bytearray(data)
        corrupted[position] ^= 0xFF
        path.write_bytes(bytes(corrupted))
        try:
            restored = load(path).state_dict()
        except ValueError:
            refused += 1
            continue
        for name, value in expected.items():
            assert restored[name].tobytes() == value.tobytes(), (position, name)
    assert refused > len(data) // 3 // 2


def test_a_text_file_is_a_value_error(tmp_path):
    path = tmp_path / "model.npz"
    path.write_text("W1 = [[0.1, 0.2]]\n")
    with pytest.raises(ValueError, match=r"not a tinygrad_nn file.*text file.*'W1 = .*expects"):
        load(path)


def test_the_demos_cost_csv_is_refused_saying_what_it_is_and_what_load_expects(tmp_path):
    # Issue 14 item 10: the CSV the demo writes, given to load by mistake.
    path = tmp_path / "cost_history.csv"
    path.write_text("epoch,cost\n1,0.6931\n2,0.6929\n")
    with pytest.raises(ValueError) as error:
        load(path)
    message = str(error.value)
    assert "text file" in message and "'epoch,cost'" in message
    assert "not an .npz archive" in message and "Module.save" in message
    assert "allow_pickle" not in message


def test_a_single_npy_array_is_a_value_error(tmp_path):
    path = tmp_path / "model.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=r"single \.npy array.*expects"):
        load(path)


def test_a_foreign_npz_without_our_metadata_is_a_value_error(tmp_path):
    path = tmp_path / "foreign.npz"
    write_npz(path, {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1))})
    with pytest.raises(ValueError, match=r"without tinygrad_nn metadata.*W1, b1"):
        load(path)


def test_an_npz_whose_metadata_names_another_format_is_a_value_error(tmp_path):
    path = tmp_path / "other.npz"
    write_npz(path, {"x": np.zeros(2)}, {"format": "something-else", "format_version": 1})
    with pytest.raises(ValueError, match="not a tinygrad_nn file"):
        load(path)


def test_garbled_metadata_is_a_value_error(tmp_path):
    path = tmp_path / "garbled.npz"
    write_npz(path, {nn.METADATA_KEY: np.frombuffer(b"{not json", dtype=np.uint8)})
    with pytest.raises(ValueError, match="metadata is corrupted"):
        load(path)


def test_a_future_format_version_is_a_value_error(saved):
    _, path = saved
    arrays, metadata = load_arrays(path)
    write_npz(path, arrays, {**metadata, "format_version": nn.FORMAT_VERSION + 1})
    with pytest.raises(ValueError, match=r"format version 2 by a newer tinygrad_nn.*upgrade"):
        load(path)


def test_an_npz_holding_an_object_array_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "object.npz"
    metadata = {"format": "tinygrad_nn", "format_version": 1, "arrays": ["W1"]}
    write_npz(path, {"W1": np.array([{"a": 1}, None], dtype=object)}, metadata)
    with pytest.raises(ValueError, match=r"'W1' is an object array.*allow_pickle=False"):
        load(path)


def test_a_pickle_file_is_refused_and_never_run(tmp_path):
    class Payload:
        def __reduce__(self):
            return (exec, ("import builtins; builtins._tinygrad_nn_was_unpickled = True",))

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError):
        load(path)
    assert not hasattr(builtins, "_tinygrad_nn_was_unpickled")


def test_an_unknown_class_is_a_value_error_that_says_what_to_do(saved):
    _, path = saved
    with edited_checkpoint(path) as (_, metadata):
        metadata["class"] = "Transformer"
    with pytest.raises(ValueError, match=r"'Transformer'.*load_state_dict"):
        load(path)


def test_a_configuration_that_does_not_build_is_a_value_error(saved):
    _, path = saved
    with edited_checkpoint(path) as (_, metadata):
        metadata["config"]["activation"] = "swish"
    with pytest.raises(ValueError, match=r"does not build a MLP.*swish"):
        load(path)


def test_parameters_that_do_not_fit_the_configuration_are_a_value_error(saved):
    _, path = saved
    with edited_checkpoint(path) as (arrays, _):
        arrays["W2"] = arrays["W2"][:, :4]
    with pytest.raises(ValueError, match=r"do not fit.*configuration.*W2: shape \(2, 4\)"):
        load(path)


def test_a_custom_module_saves_and_reloads_through_load_state_dict(tmp_path):
    class Pair(Module):
        def __init__(self):
            super().__init__()
            self.first = Linear(2, 3, seed=0)
            self.second = Linear(3, 1, seed=1)

    source = Pair()
    source.save(tmp_path / "pair.npz")
    with pytest.raises(ValueError, match="'Pair', which load\\(\\) cannot rebuild"):
        load(tmp_path / "pair.npz")
    target = Pair()
    target.second.W.data[...] = 0.0
    target.load_state_dict(load_arrays(tmp_path / "pair.npz")[0])
    np.testing.assert_array_equal(target.second.W.data, source.second.W.data)


# ---------------------------------------------------------------------------------------------
# every valid name round-trips (issue 12 item 5)
# ---------------------------------------------------------------------------------------------

# np.savez(file, *args, allow_pickle=True, **kwds): names that np.savez(**arrays) would take as its
# own arguments, and names that look like paths or members.
AWKWARD_NAMES = ["file", "allow_pickle", "args", "kwds", "a/b", "W1.npy", "café", " ", "__init__"]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_save_arrays_round_trips_any_name(tmp_path, name):
    save_arrays(tmp_path / "x.npz", {name: np.arange(3.0), "other": np.ones(2)}, {})
    arrays, _ = load_arrays(tmp_path / "x.npz")
    assert sorted(arrays) == sorted([name, "other"])
    np.testing.assert_array_equal(arrays[name], np.arange(3.0))


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               min_size=1, max_size=20).filter(lambda n: n != nn.METADATA_KEY))
def test_save_arrays_round_trips_every_valid_name(name):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "x.npz")
        save_arrays(path, {name: np.array([1.5])}, {})
        assert load_arrays(path)[0] == {name: np.array([1.5])}


def test_a_module_whose_parameters_are_named_like_savez_arguments_saves_and_reloads(tmp_path):
    class Odd(Module):
        def __init__(self):
            super().__init__()
            self.file = Tensor(np.ones((2, 1)), requires_grad=True)
            self.allow_pickle = Tensor(np.zeros((1,)), requires_grad=True)
            self.args = Tensor(np.full((3,), 2.0), requires_grad=True)

    saved_model = Odd()
    saved_model.save(tmp_path / "odd.npz")
    restored = Odd()
    for p in restored.parameters():
        p.data[...] = -1.0
    restored.load_state_dict(load_arrays(tmp_path / "odd.npz")[0])
    for (name, a), (_, b) in zip(saved_model.named_parameters(), restored.named_parameters(),
                                 strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


# ---------------------------------------------------------------------------------------------
# hostile files: a ValueError in bounded time and memory (issue 12 item 6)
# ---------------------------------------------------------------------------------------------


def add_deflated_zeros(path, name, gib):
    """Append a member that inflates to ``gib`` GiB of zeros (a zip bomb of a few MB), made
    without compressing gigabytes: one deflate block of 16 MiB of zeros, fully flushed so it
    stands alone, repeated."""
    import zipfile
    import zlib

    chunk = bytes(1 << 24)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)

    class Repeat:
        def compress(self, data):
            assert data is chunk
            return block

        def flush(self):
            return end

    original = zipfile._get_compressor
    zipfile._get_compressor = lambda *args, **kwargs: Repeat()
    try:
        with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open(name, "w", force_zip64=True) as member:
                for _ in range(gib * 64):
                    member.write(chunk)
    finally:
        zipfile._get_compressor = original


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The hostile files of issue 12 item 6, made once: {kind: path}."""
    directory = tmp_path_factory.mktemp("hostile")
    files = {}
    files["bomb"] = directory / "bomb.npz"
    MLP([2, 3, 1]).save(files["bomb"])
    add_deflated_zeros(files["bomb"], "extra.npy", gib=3)

    files["huge_config"] = directory / "huge_config.npz"
    MLP([2, 3, 1]).save(files["huge_config"])
    with edited_checkpoint(files["huge_config"]) as (arrays, metadata):
        metadata["config"]["layer_dims"] = [20000, 20000]
        arrays.clear()
        arrays.update(W1=np.zeros((3, 2)), b1=np.zeros((3, 1)))
        metadata["parameters"] = ["W1", "b1"]

    files["deep"] = directory / "deep.npz"
    depth = 100_000
    text = ('{"format": "tinygrad_nn", "format_version": 1, "x": ' + "[" * depth + "]" * depth
            + "}").encode()
    with open(files["deep"], "wb") as file:
        np.savez(file, **{nn.METADATA_KEY: np.frombuffer(text, dtype=np.uint8)})

    files["lying_header"] = directory / "lying_header.npz"
    MLP([2, 3, 1]).save(files["lying_header"])
    # W1's header claims (30000, 20000) but the member holds W1's real 48 bytes (CRC correct).
    import io
    import zipfile

    with zipfile.ZipFile(files["lying_header"]) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (30000, 20000)}
    )
    members["W1.npy"] = header.getvalue() + np.zeros((3, 2)).tobytes()
    with zipfile.ZipFile(files["lying_header"], "w") as archive:
        for filename, content in members.items():
            archive.writestr(filename, content)
    return files


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("bomb", r"'extra\.npy' would inflate .* refused unread"),
        ("huge_config", r"do not fit the stored configuration.*W1: shape \(3, 2\), expected "
                        r"\(20000, 20000\).*nothing was built"),
        ("deep", r"metadata is corrupted.*nests 100001 deep"),
        ("lying_header", r"'W1' declares shape \(30000, 20000\).*holds 48 bytes"),
    ],
)
def test_a_hostile_file_is_a_value_error_before_anything_large_is_read(hostile, kind, message):
    with pytest.raises(ValueError, match=message):
        load(hostile[kind])


def test_the_bomb_is_refused_by_load_arrays_too(hostile):
    with pytest.raises(ValueError, match="extra"):
        load_arrays(hostile["bomb"])


def test_an_extra_member_is_named_before_any_member_is_read(tmp_path):
    path = tmp_path / "extra.npz"
    MLP([2, 3, 1]).save(path)
    import zipfile

    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("stowaway.npy", b"\x93NUMPY")  # not even a valid array
    with pytest.raises(ValueError, match=r"unexpected: stowaway.*nothing was read"):
        load(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_hostile_files_under_a_memory_limit_are_value_errors_not_memory_errors(hostile):
    # In a child whose address space may grow by at most 256 MiB past what it has after
    # importing: inflating the bomb (3 GiB) or building the huge model (3.2 GB) would raise
    # MemoryError; checking first raises ValueError.
    code = f"""
import resource, numpy as np
from tinygrad_nn import nn
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (256 << 20), resource.RLIM_INFINITY))
try:
    np.ones(64 << 20)  # 512 MiB: the limit is real
    print("no limit")
except MemoryError:
    pass
for path in {[str(p) for p in hostile.values()]!r}:
    try:
        nn.load(path)
        print("loaded", path)
    except ValueError:
        print("ValueError")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ValueError"] * len(hostile)


# ---------------------------------------------------------------------------------------------
# symbolic links (documented in atomic_write)
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_saving_to_a_symlink_replaces_the_link_and_leaves_its_target_alone(tmp_path):
    target = tmp_path / "run3.npz"
    MLP([2, 3, 1], seed=1).save(target)
    before = target.read_bytes()
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    MLP([2, 3, 1], seed=2).save(link)
    assert not link.is_symlink() and link.is_file()
    assert target.read_bytes() == before
    assert load(link).seed == 2 and load(target).seed == 1

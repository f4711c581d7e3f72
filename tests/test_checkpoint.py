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
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_nn import nn
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
    del metadata["format"], metadata["format_version"]  # save_arrays writes them itself
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

    def broken_savez(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
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

    monkeypatch.setattr(np, "savez", interrupted)
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
    assert metadata == {"format": "tinygrad_nn", "format_version": 1, "epochs": 3, "lr": 0.1}


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
    with pytest.raises(ValueError, match="not a readable tinygrad_nn file"):
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
    with pytest.raises(ValueError, match="not a readable tinygrad_nn file"):
        load(path)


def test_a_single_npy_array_is_a_value_error(tmp_path):
    path = tmp_path / "model.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="single ndarray"):
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
    with open(path, "wb") as file:
        np.savez(file, W1=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle=False"):
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
    with pytest.raises(ValueError, match=r"do not fit the model.*W2: shape \(2, 4\)"):
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

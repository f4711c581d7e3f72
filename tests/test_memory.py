"""Training for many steps keeps nothing it does not need.

Written the way users write the loop — ``loss = ...; loss.backward(); update`` — these tests hold
only *weak* references to a step's intermediate tensors and their arrays and check when they die.
Garbage collection is switched off while they run, so "freed" means freed by reference counting
alone, the moment the last reference goes: the engine must not build reference cycles, which
would keep a whole graph of arrays alive until the collector happens to run.
"""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
import tracemalloc
import weakref

import numpy as np
import pytest
from conftest import graph_refs

import tinygrad_nn as tg
from tinygrad_nn import Tensor

LAYER_DIMS = (2, 8, 8, 1)  # the article's small network
M = 256
LR = 0.1


@pytest.fixture(autouse=True)
def _no_garbage_collector():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def article_problem() -> tuple[dict[str, Tensor], Tensor, Tensor]:
    rng = np.random.default_rng(0)
    params = {}
    for layer in range(1, len(LAYER_DIMS)):
        params[f"W{layer}"] = Tensor(
            rng.standard_normal((LAYER_DIMS[layer], LAYER_DIMS[layer - 1])) * 0.5,
            requires_grad=True,
            name=f"W{layer}",
        )
        params[f"b{layer}"] = Tensor(np.zeros((LAYER_DIMS[layer], 1)), requires_grad=True)
    X = rng.standard_normal((LAYER_DIMS[0], M))
    Y = (X[0:1] * X[1:2] > 0).astype(np.float64)
    return params, Tensor(X, name="X"), Tensor(Y, name="Y")


def article_loss(params: dict[str, Tensor], X: Tensor, Y: Tensor) -> Tensor:
    """The article's forward pass and cost, op by op."""
    A = X
    for layer in range(1, len(LAYER_DIMS)):
        A = (params[f"W{layer}"] @ A + params[f"b{layer}"]).sigmoid()
    return -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()


def sgd_update(params: dict[str, Tensor]) -> None:
    with tg.no_grad():
        for p in params.values():
            p -= LR * p.grad
            p.grad = None



def graph_bytes(root: Tensor) -> int:
    """Bytes of the arrays one forward pass made (each tensor's data, leaves excluded)."""
    return sum(ref().nbytes for ref in graph_refs(root)[1::2])


def alive(refs: list[weakref.ref]) -> int:
    return sum(ref() is not None for ref in refs)


# --------------------------------------------------------------------------------------------


def test_a_steps_graph_is_freed_once_the_next_step_starts():
    params, X, Y = article_problem()
    previous: list[weakref.ref] = []
    for _ in range(4):
        loss = article_loss(params, X, Y)
        assert alive(previous) == 0, "the last step's graph outlived its loss"
        previous = graph_refs(loss)
        assert len(previous) > 20
        loss.backward()
        sgd_update(params)


def test_backward_frees_the_graph_even_when_the_user_keeps_every_loss():
    params, X, Y = article_problem()
    losses = []
    for _ in range(4):
        loss = article_loss(params, X, Y)
        refs = graph_refs(loss)
        losses.append(loss)
        loss.backward()
        sgd_update(params)
        # Only the loss itself and its 0-d value survive: 2 of the references.
        assert alive(refs) == 2
        assert loss.parents == () and loss.graph_released
    assert all(loss.size == 1 for loss in losses)


def test_a_graph_kept_with_retain_graph_lives_exactly_as_long_as_its_loss():
    params, X, Y = article_problem()
    loss = article_loss(params, X, Y)
    refs = graph_refs(loss)
    loss.backward(retain_graph=True)
    assert alive(refs) == len(refs)
    loss.backward()  # the second backward releases it
    assert alive(refs) == 2
    del loss
    assert alive(refs) == 0


def test_dropping_an_unused_graph_without_backward_frees_it():
    params, X, Y = article_problem()
    loss = article_loss(params, X, Y)
    refs = graph_refs(loss)
    del loss
    assert alive(refs) == 0


def test_training_steps_create_no_reference_cycles():
    params, X, Y = article_problem()
    gc.collect()
    for _ in range(5):
        loss = article_loss(params, X, Y)
        loss.backward()
        sgd_update(params)
    assert gc.collect() == 0


def test_anomaly_mode_steps_create_no_reference_cycles():
    params, X, Y = article_problem()
    gc.collect()
    with tg.detect_anomaly():
        for _ in range(3):
            loss = article_loss(params, X, Y)
            loss.backward()
            sgd_update(params)
    assert gc.collect() == 0


def numpy_bytes_after_steps(step, n_steps: int) -> int:
    """Bytes of numpy array data alive after ``n_steps`` more steps.

    numpy reports its data buffers to tracemalloc in a domain of their own; counting only those
    leaves out Python's free lists (tuples, floats), which fill up over the first few thousand
    steps and are not a leak.
    """
    for _ in range(n_steps):
        step()
    arrays_only = tracemalloc.DomainFilter(inclusive=True, domain=np.lib.tracemalloc_domain)
    snapshot = tracemalloc.take_snapshot().filter_traces([arrays_only])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def numpy_bytes_added_by_200_steps(step) -> int:
    """Bytes of numpy array data that 200 steps add after 20 warm-up steps (tracemalloc on)."""
    tracemalloc.start()
    try:
        warm = numpy_bytes_after_steps(step, 20)
        later = numpy_bytes_after_steps(step, 200)
    finally:
        tracemalloc.stop()
    return later - warm


def test_gradients_cleared_each_step_do_not_accumulate_memory():
    """200 more steps must not add even a quarter of one step's graph of arrays."""
    params, X, Y = article_problem()

    def step():
        loss = article_loss(params, X, Y)
        loss.backward()
        sgd_update(params)

    one_step_graph = graph_bytes(article_loss(params, X, Y))
    assert numpy_bytes_added_by_200_steps(step) < one_step_graph / 4


def test_mlp_and_sgd_steps_free_the_graph_and_keep_one_gradient_per_parameter():
    nn = pytest.importorskip("tinygrad_nn.nn")
    optim = pytest.importorskip("tinygrad_nn.optim")
    _, X, Y = article_problem()
    model = nn.MLP(list(LAYER_DIMS))
    optimizer = optim.SGD(model.parameters(), lr=LR)
    previous: list[weakref.ref] = []
    grads_seen: list[weakref.ref] = []
    for _ in range(4):
        optimizer.zero_grad()
        assert alive(grads_seen) == 0, "zero_grad() must drop the last step's gradients"
        loss = nn.binary_cross_entropy(model(X), Y)
        assert alive(previous) == 0
        previous = graph_refs(loss)
        loss.backward()
        optimizer.step()
        grads_seen = [weakref.ref(p.grad) for p in model.parameters()]
        assert all(p.grad.shape == p.shape for p in model.parameters())


def test_mlp_and_sgd_steps_do_not_accumulate_memory():
    nn = pytest.importorskip("tinygrad_nn.nn")
    optim = pytest.importorskip("tinygrad_nn.optim")
    _, X, Y = article_problem()
    model = nn.MLP(list(LAYER_DIMS))
    optimizer = optim.SGD(model.parameters(), lr=LR)

    def step():
        optimizer.zero_grad()
        loss = nn.binary_cross_entropy(model(X), Y)
        loss.backward()
        optimizer.step()

    one_step_graph = graph_bytes(nn.binary_cross_entropy(model(X), Y))
    assert numpy_bytes_added_by_200_steps(step) < one_step_graph / 4


def test_an_evaluation_loss_kept_under_no_grad_holds_no_intermediates():
    params, X, Y = article_problem()
    val_losses = []
    with tg.no_grad():
        loss = article_loss(params, X, Y)
    refs = [r for r in graph_refs(loss) if r() is not loss and r() is not loss.data]
    val_losses.append(loss)
    del loss
    assert alive(refs) == 0


# ---- the allocator setting is opt-in ------------------------------------------------------

# Whether a 48 MiB malloc is served by mmap: glibc's mmap threshold is 128 KiB by default and its
# dynamic adjustment never raises it above 32 MiB, so with glibc's own settings the block is
# always mmapped; after keep_freed_memory() (threshold 64 MiB) it comes from the heap. mallinfo2's
# hblkhd is the number of bytes in mmapped blocks. The script prints "mmap" or "heap".
_PROBE_MALLOC = """
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc.mallinfo2.restype = Mallinfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
before = libc.mallinfo2().hblkhd
block = libc.malloc(48 * 2**20)
after = libc.mallinfo2().hblkhd
libc.free(block)
print("mmap" if after - before >= 48 * 2**20 else "heap")
"""


def _where_48_mib_comes_from(setup: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", setup + _PROBE_MALLOC], capture_output=True, text=True,
        check=True, timeout=120,
    )
    return done.stdout.split()[-1]


_needs_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt and mallinfo2 are glibc's",
)


@_needs_glibc
def test_importing_the_package_leaves_the_c_allocator_as_glibc_set_it() -> None:
    setup = "import numpy, tinygrad_nn, tinygrad_nn.cli, tinygrad_nn.viz\n"
    assert _where_48_mib_comes_from(setup) == "mmap"


@_needs_glibc
def test_keep_freed_memory_serves_large_blocks_from_the_heap() -> None:
    # The probe's other answer: without it, the test above could not fail.
    setup = "import tinygrad_nn\nassert tinygrad_nn.keep_freed_memory()\n"
    assert _where_48_mib_comes_from(setup) == "heap"


@_needs_glibc
def test_the_command_keeps_freed_memory_unless_the_environment_variable_says_0(
    monkeypatch,
) -> None:
    setup = "import tinygrad_nn.cli as cli\ncli.main(['--version'])\n"
    assert _where_48_mib_comes_from(setup) == "heap"
    monkeypatch.setenv("TINYGRAD_NN_KEEP_FREED_MEMORY", "0")
    assert _where_48_mib_comes_from(setup) == "mmap"


def test_keep_freed_memory_refuses_a_threshold_mallopt_cannot_take() -> None:
    with pytest.raises(ValueError, match=r"keep_freed_memory: mmap_threshold .*2\*\*31.*-1"):
        tg.keep_freed_memory(mmap_threshold=-1)


# ---- importing the package is light --------------------------------------------------------

_IMPORTED_AFTER = """
import sys
import tinygrad_nn
heavy = ("matplotlib", "graphviz", "tqdm", "sklearn", "PIL", "torch", "tinygrad_nn.viz")
print(" ".join(name for name in heavy if name in sys.modules) or "none")
print(tinygrad_nn.viz.draw_graph.__module__)
print(" ".join(name for name in ("matplotlib", "graphviz") if name in sys.modules) or "none")
"""


def test_importing_the_package_loads_numpy_only_and_viz_on_first_use() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_AFTER], capture_output=True, text=True, check=True,
        timeout=120,
    )
    before, viz_module, after_viz = done.stdout.splitlines()
    assert before == "none"
    # tn.viz works without `from tinygrad_nn import viz`:
    assert viz_module.startswith("tinygrad_nn.viz.")
    assert after_viz == "none"  # the pictures' libraries load only when a picture is drawn


def test_the_package_names_viz_as_an_attribute() -> None:
    assert "viz" in dir(tg) and "viz" in tg.__all__
    with pytest.raises(AttributeError, match="no attribute 'vis'"):
        tg.vis  # noqa: B018


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_compile_gives_back_the_memory_the_eager_calls_left_when_freed_memory_is_kept() -> None:
    script = (
        "import numpy as np, tinygrad_nn as tg\n"
        "from tinygrad_nn import nn, optim\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) // 1024\n"
        "tg.keep_freed_memory()\n"
        "model = nn.MLP([256, 1024, 1024, 1], seed=0)\n"
        "opt = optim.SGD(model.parameters(), lr=0.1)\n"
        "@tg.compile\n"
        "def step(X, Y):\n"
        "    loss = nn.binary_cross_entropy(model(X), Y)\n"
        "    opt.zero_grad(); loss.backward(); opt.step()\n"
        "    return loss\n"
        "rng = np.random.default_rng(0)\n"
        "X, Y = rng.standard_normal((256, 1024)), (rng.random((1, 1024)) > 0.5) * 1.0\n"
        "step(X, Y)\n"
        "eager = rss()\n"
        "step(X, Y)  # traced: the plan is built, then the kept memory is given back\n"
        "print(eager, rss(), tg._allocator.release_kept_memory())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    eager, compiled, released = done.stdout.split()
    # the eager step's temporaries (two 8 MiB activations and their gradients, ...) are gone
    assert int(compiled) < int(eager) and released == "True"

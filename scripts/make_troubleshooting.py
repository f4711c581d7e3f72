"""Write docs/troubleshooting.md: every example is run for real and its output pasted below it.

Usage (from the repository root)::

    python scripts/make_troubleshooting.py            # runs the examples, measures, writes
    python scripts/make_troubleshooting.py --quick    # fewer timing rounds
    python scripts/make_troubleshooting.py --no-measure   # examples only, keep the figures

Each example is a complete program: it is saved as ``example.py`` in an empty temporary folder
and run with this Python, and its standard output becomes the ``text`` block under it (numpy's
RuntimeWarnings go to standard error and are left out). So the reports in the page are exactly
what a user sees, file name and line number included.

The script also measures what anomaly mode costs on the article's training step, at the
benchmark's ``tiny`` and ``medium`` sizes, written both ways (ops by hand; MLP + SGD), in one
process: blocks of steps with the mode off and on alternate, and the fastest block of each mode
is kept (the least disturbed by other processes).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from workloads import LEARNING_RATE, WORKLOADS, make_problem  # noqa: E402

import tinygrad_nn as tg  # noqa: E402
from tinygrad_nn import Tensor  # noqa: E402

# --------------------------------------------------------------------------------------------
# the examples
# --------------------------------------------------------------------------------------------

EXAMPLES: dict[str, str] = {
    "compile_untraced_change": '''
        import numpy as np
        import tinygrad_nn as tg
        from tinygrad_nn import Tensor

        w = Tensor([1.0, 2.0], requires_grad=True, name="w")

        @tg.compile
        def step(x):
            loss = (w * x).sum()
            loss.backward()
            w.data *= 0.99  # weight decay in plain numpy on .data...
            w.mark_modified()
            w.data -= 0.1 * w.grad
            w.grad = None
            return loss

        try:
            for _ in range(3):  # eager, then traced
                step(np.ones(2))
        except tg.CompileError as error:
            print(error)
        ''',
    "compile_untraced_fix": '''
        import numpy as np
        import tinygrad_nn as tg
        from tinygrad_nn import Tensor

        w = Tensor([1.0, 2.0], requires_grad=True, name="w")

        @tg.compile
        def step(x):
            loss = (w * x).sum()
            loss.backward()
            with tg.no_grad():
                for p in [w]:
                    p *= 0.99  # the Tensor's in-place operators: traced, so replays repeat them
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss

        for _ in range(5):
            step(np.ones(2))
        print(w.data, "traced", step.traces, "time, replayed", step.replays, "times")
        ''',
    "compile_backward_after": '''
        import numpy as np
        import tinygrad_nn as tg
        from tinygrad_nn import Tensor

        w = Tensor([1.0, 2.0], requires_grad=True, name="w")
        forward = tg.compile(lambda x: (w * x).sum())  # only the forward pass compiled

        for _ in range(3):
            loss = forward(np.ones(2))
        try:
            loss.backward()
        except tg.CompileError as error:
            print(error)
        ''',
    "forward_nan": '''
        import tinygrad_nn as tg
        from tinygrad_nn import Tensor

        # The article's cost, written by hand, after a weight has grown so large that the last
        # sigmoid rounds to exactly 1.0: ln(1 - A) is ln 0.
        W = Tensor([[40.0]], requires_grad=True, name="W")
        X = Tensor([[1.0, 2.0]], name="X")
        Y = Tensor([[1.0, 0.0]], name="Y")

        A = (W @ X).sigmoid()
        cost = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
        print("cost:", cost.item())

        with tg.detect_anomaly():
            try:
                A = (W @ X).sigmoid()
                cost = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
            except FloatingPointError as error:
                print(error)
        ''',
    "forward_fix": '''
        from tinygrad_nn import Tensor, nn

        W = Tensor([[40.0]], requires_grad=True, name="W")
        X = Tensor([[1.0, 2.0]], name="X")
        Y = Tensor([[1.0, 0.0]], name="Y")

        A = (W @ X).sigmoid()
        cost = nn.binary_cross_entropy(A, Y)  # each log clamped at -100, as torch's BCELoss
        cost.backward()
        print("clamped:", cost.item(), " dJ/dW:", W.grad)

        W.grad = None
        cost = nn.binary_cross_entropy_with_logits(W @ X, Y)  # from the logits: exact
        cost.backward()
        print("logits: ", cost.item(), " dJ/dW:", W.grad)
        ''',
    "backward_nan": '''
        import numpy as np
        import tinygrad_nn as tg
        from tinygrad_nn import Tensor

        # Squared lengths of a padded batch: the last two entries are padding, masked out.
        squared = Tensor([4.0, 9.0, 0.0, 0.0], requires_grad=True, name="squared")
        mask = np.array([1.0, 1.0, 0.0, 0.0])

        loss = (squared.sqrt() * mask).sum()
        loss.backward()
        print("loss:", loss.item(), " gradient:", squared.grad)

        squared.grad = None
        with tg.detect_anomaly():
            loss = (squared.sqrt() * mask).sum()
            try:
                loss.backward()
            except FloatingPointError as error:
                print(error)
        ''',
    "backward_fix": '''
        import numpy as np
        from tinygrad_nn import Tensor

        squared = Tensor([4.0, 9.0, 0.0, 0.0], requires_grad=True, name="squared")
        mask = np.array([1.0, 1.0, 0.0, 0.0])

        safe = squared * mask + (1 - mask)  # padding becomes 1: sqrt and its slope are finite
        loss = (safe.sqrt() * mask).sum()
        loss.backward()
        print("loss:", loss.item(), " gradient:", squared.grad)
        ''',
    "label_shape": '''
        import numpy as np
        from tinygrad_nn import nn

        X = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, 0.3, -0.7, 0.9]])  # (n_features, m) = (2, 4)
        y = np.array([[1.0], [0.0], [1.0], [0.0]])  # one label per row: (m, 1), not (1, m)
        model = nn.MLP([2, 3, 1])
        A = model(X)  # (1, m)

        # Plain numpy broadcasts (1, 4) against (4, 1) to (4, 4) and averages 16 numbers:
        a = A.numpy()
        wrong = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
        right = -np.mean(y.T * np.log(a) + (1 - y.T) * np.log(1 - a))
        print(f"numpy with labels (m, 1): {wrong:.6f}, with labels (1, m): {right:.6f}")

        try:
            nn.binary_cross_entropy(A, y)
        except ValueError as error:
            print(error)
        ''',
    "matmul_shape": '''
        import numpy as np
        from tinygrad_nn import Tensor

        W1 = Tensor(np.zeros((8, 2)), requires_grad=True, name="W1")  # (n_1, n_0)
        X = np.random.default_rng(0).standard_normal((256, 2))  # examples as rows: (m, n_0)

        try:
            Z1 = W1 @ X
        except ValueError as error:
            print(error)

        Z1 = W1 @ X.T  # the article's layout: examples are columns, X is (n_0, m)
        print(Z1.shape)
        ''',
    "second_backward": '''
        from tinygrad_nn import Tensor

        w = Tensor([1.0, 2.0], requires_grad=True, name="w")
        loss = (w * w).sum()
        loss.backward()
        try:
            loss.backward()
        except RuntimeError as error:
            print(error)

        w.grad = None
        loss = (w * w).sum()
        loss.backward(retain_graph=True)  # keep the saved arrays for one more pass
        loss.backward()  # gradients add up: 2w + 2w
        print(w.grad)
        ''',
    "bad_data": '''
        import numpy as np
        from tinygrad_nn.training import train

        X = np.array([[0.5, -1.0, 2.0, 0.1], [1.5, np.nan, -0.7, 0.9]])
        Y = np.array([[1.0, 0.0, 1.0, 0.0]])
        try:
            train(X, Y, [2, 3, 1], epochs=500, lr=0.1)
        except ValueError as error:
            print(error)
        ''',
    "checkpoint": '''
        import os
        import tempfile

        import numpy as np
        from tinygrad_nn import nn

        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "model.npz")
        model = nn.MLP([2, 3, 1])
        model.save(path)

        def crash_half_way(file):  # a save that dies half way, as on a full disk
            file.write(b"half a checkpoint")
            raise OSError(28, "No space left on device")

        try:
            nn.atomic_write(path, crash_half_way)  # what Module.save uses
        except OSError as error:
            print("save failed:", error)
        restored = nn.load(path)  # the previous checkpoint, intact
        same = all(
            np.array_equal(a, b)
            for a, b in zip(model.state_dict().values(), restored.state_dict().values())
        )
        print("previous checkpoint intact:", same)

        with open(path, "rb") as file:
            data = file.read()
        with open(path, "wb") as file:  # a copy cut short, e.g. by an interrupted download
            file.write(data[: len(data) // 2])
        try:
            nn.load(path)
        except ValueError as error:
            print(str(error).replace(folder, "<folder>"))
        ''',
    "not_a_checkpoint": '''
        import os
        import tempfile

        from tinygrad_nn import nn

        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "cost_history.csv")  # what the demo writes beside model.npz
        with open(path, "w") as file:
            file.write("epoch,cost\\n1,0.6931\\n")
        try:
            nn.load(path)
        except ValueError as error:
            print(str(error).replace(folder, "<folder>"))
        ''',
    "cli_folder": '''
        import contextlib
        import io
        import os
        import tempfile

        from tinygrad_nn.cli import main

        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "notes.txt"), "w") as file:
            file.write("my notes, not a run's\\n")
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            status = main(["demo", "--epochs", "1", "--quiet", "--out", folder])
        print("exit status", status)
        print(stderr.getvalue().replace(folder, "<folder>").strip())
        ''',
    "hostile_checkpoint": '''
        import os
        import tempfile
        import zipfile

        from tinygrad_nn import nn

        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "model.npz")
        nn.MLP([2, 3, 1]).save(path)
        with zipfile.ZipFile(path, "a") as archive:  # a member the metadata does not list
            archive.writestr("extra.npy", b"...")
        try:
            nn.load(path)
        except ValueError as error:
            print(str(error).replace(folder, "<folder>"))
        ''',
    "modified_constant": '''
        from tinygrad_nn import Tensor

        W = Tensor([[0.5, -1.0, 2.0]], requires_grad=True, name="W")
        X = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], name="X")
        L = (W @ X).sum()   # matmul saved X: dW = g @ Xᵀ
        X += 10             # ...then X changes before backward()
        try:
            L.backward()
        except RuntimeError as error:
            print(error)
        ''',
    "modified_output": '''
        from tinygrad_nn import Tensor

        x = Tensor([0.5, 1.0], requires_grad=True, name="x")
        y = x.sigmoid()     # sigmoid's rule reads its output: dx = g·y·(1−y)
        shown = y.detach()  # shares y's memory (and its version count)
        shown *= 100        # e.g. rescaling for a plot, in place
        try:
            y.sum().backward()
        except RuntimeError as error:
            print(error)
        ''',
    "bool_of_tensor": '''
        from tinygrad_nn import Tensor

        loss = Tensor([0.25, 0.75])
        try:
            if loss < 0.5:  # a comparison gives a tensor of booleans, one per element
                print("small")
        except ValueError as error:
            print(error)
        ''',
}


def run_example(code: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "example.py"
        script.write_text(code)
        result = subprocess.run(
            [sys.executable, "example.py"], cwd=folder, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"example failed:\n{code}\n{result.stderr}")
        # Python reports the script by its absolute path: show it as the user named it.
        output = result.stdout.rstrip()
        for prefix in {folder, os.path.realpath(folder)}:
            output = output.replace(prefix + os.sep, "")
    return output


# Reports that quote the user's file and line differ between a script (shown here) and the docs
# test, which runs the blocks from the Markdown file: their output is shown as plain ``text``.
# Every other output is a ``text output`` block, which tests/test_docs.py checks is still true.
OUTPUT_WITH_A_FILE_NAME = {"forward_nan", "backward_nan"}


def example_markdown(name: str) -> str:
    code = textwrap.dedent(EXAMPLES[name]).strip() + "\n"
    output = run_example(code)
    fence = "text" if name in OUTPUT_WITH_A_FILE_NAME else "text output"
    return f"```python\n{code}```\n\n```{fence}\n{output}\n```"


# --------------------------------------------------------------------------------------------
# the overhead of anomaly mode
# --------------------------------------------------------------------------------------------


def ops_step(workload: str) -> Callable[[], None]:
    problem = make_problem(WORKLOADS[workload])
    params = {k: Tensor(v, requires_grad=True, name=k) for k, v in problem.params.items()}
    X, Y = Tensor(problem.X), Tensor(problem.Y)

    def step() -> None:
        A = X
        for layer in range(1, problem.n_layers + 1):
            A = (params[f"W{layer}"] @ A + params[f"b{layer}"]).sigmoid()
        loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
        loss.backward()
        with tg.no_grad():
            for p in params.values():
                p -= LEARNING_RATE * p.grad
                p.grad = None

    return step


def mlp_step(workload: str) -> Callable[[], None]:
    from tinygrad_nn import nn, optim

    problem = make_problem(WORKLOADS[workload])
    model = nn.MLP(list(problem.workload.layer_dims))
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X, Y = Tensor(problem.X), Tensor(problem.Y)

    def step() -> None:
        optimizer.zero_grad()
        nn.binary_cross_entropy(model(X), Y).backward()
        optimizer.step()

    return step


def deeper(step: Callable[[], None], frames: int) -> Callable[[], None]:
    """The same step called from ``frames`` more stack frames, as in a notebook or a test."""

    def nested(depth: int) -> None:
        if depth:
            nested(depth - 1)
        else:
            step()

    return lambda: nested(frames)


def seconds_per_step(step: Callable[[], None], anomaly: bool, n_steps: int) -> float:
    tg.set_detect_anomaly(anomaly)
    try:
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        return (time.perf_counter() - start) / n_steps
    finally:
        tg.set_detect_anomaly(False)


def overhead(step: Callable[[], None], n_steps: int, rounds: int) -> tuple[float, float, float]:
    """Fastest seconds per step with the mode off and on, and the median of the slowdowns
    measured in each round (an off block and an on block back to back, so both see the same
    machine)."""
    for anomaly in (False, True):  # warm up both paths
        seconds_per_step(step, anomaly, max(1, n_steps // 5))
    best = {False: float("inf"), True: float("inf")}
    ratios = []
    for r in range(rounds):
        times = {}
        for anomaly in (False, True) if r % 2 == 0 else (True, False):
            times[anomaly] = seconds_per_step(step, anomaly, n_steps)
            best[anomaly] = min(best[anomaly], times[anomaly])
        ratios.append(times[True] / times[False])
    return best[False], best[True], statistics.median(ratios)


def measure(rounds: int) -> list[tuple[str, str, float, float]]:
    configs = [
        ("tiny", "ops by hand", lambda: ops_step("tiny"), 200),
        ("tiny", "MLP + SGD", lambda: mlp_step("tiny"), 200),
        ("tiny", "ops by hand, 30 frames deeper", lambda: deeper(ops_step("tiny"), 30), 200),
        ("medium", "ops by hand", lambda: ops_step("medium"), 3),
        ("medium", "MLP + SGD", lambda: mlp_step("medium"), 3),
    ]
    rows = []
    for workload, loop, make, n_steps in configs:
        off, on, slowdown = overhead(make(), n_steps, rounds)
        rows.append((WORKLOADS[workload].label, loop, off, on, slowdown))
        print(f"{rows[-1][0]:<40} {loop:<32} off {off * 1e3:8.3f} ms  on {on * 1e3:8.3f} ms  "
              f"x{slowdown:.2f}", flush=True)
    return rows


def overhead_markdown(rows: list[tuple[str, str, float, float, float]]) -> str:
    lines = [
        "| network | training loop | off (ms/step) | on (ms/step) | slowdown |",
        "|---|---|---:|---:|---:|",
    ]
    for label, loop, off, on, slowdown in rows:
        lines.append(f"| {label} | {loop} | {off * 1e3:.3f} | {on * 1e3:.3f} | {slowdown:.2f}x |")
    lines.append("")
    lines.append(
        f"Measured by `python scripts/make_troubleshooting.py` (Python "
        f"{platform.python_version()}, numpy {np.__version__}, {platform.machine()}): the two "
        "modes alternate in blocks of steps in one process; the times are each mode's fastest "
        "block, the slowdown is the median over rounds of an on block against the off block "
        "next to it."
    )
    ratios = {(label.split()[0], loop): ratio for label, loop, _, _, ratio in rows}
    tiny = [r for (size, loop), r in ratios.items() if size == "tiny" and "deeper" not in loop]
    medium = [r for (size, _), r in ratios.items() if size == "medium"]
    deep = ratios[("tiny", "ops by hand, 30 frames deeper")]
    lines += [
        "",
        f"On the article's small network a step is about 20 ops on arrays of a few hundred "
        f"numbers, so the fixed cost per op dominates: anomaly mode makes the step "
        f"{min(tiny):.1f}–{max(tiny):.1f}x slower. On the medium network the arithmetic "
        f"dominates and the cost is {min(medium):.2f}–{max(medium):.2f}x. "
        + (
            "Both are under the 2x the project aims for."
            if max(tiny + medium + [deep]) < 2
            else "The project aims for under 2x; the small network is not there yet."
        ),
    ]
    lines.append("")
    if deep > 1.25 * ratios[("tiny", "ops by hand")]:
        lines.append(
            "Recording the line of user code walks the whole call stack, so the cost also "
            "grows with the stack's depth: the \"30 frames deeper\" row is the same step called "
            "from where a notebook or a test runner would call it."
        )
    else:
        lines.append(
            "The \"30 frames deeper\" row (the same step called from where a notebook or a "
            "test runner would call it) shows that the cost does not grow with the stack's depth."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------------

PAGE = """# When things go wrong

tinygrad_nn tries to either compute the right thing or say clearly what is wrong. This page
shows what you see when something goes wrong, what it means, and the fix. Every report below
was produced by running the code above it (`python scripts/make_troubleshooting.py` regenerates
the page).

## A NaN appeared: switch on anomaly mode

A NaN or an infinity in one op spreads to everything computed from it, so by the time the cost
prints `nan` the place where it started is long gone. In **anomaly mode** every op's output and
every gradient is checked as it is made, and the first non-finite value raises
`FloatingPointError` saying

* which op made it, and whether in the **forward** or the **backward** pass,
* the shapes involved and how many values went bad,
* in the forward pass, whether an input was *already* bad (then look further up) or the op
  itself made the bad value from finite inputs (then this is the place);
  in the backward pass, which input of the op received the bad gradient,
* the line of *your* code that created the op.

Use it as a context manager around the forward pass *and* `backward()` (the line is recorded when
the op is created), or switch it on for a whole script with `tg.set_detect_anomaly(True)`. It is
off by default.

### In the forward pass

{forward_nan}

Without anomaly mode the cost is just `nan`. The report points at `(1 - A).log()`: `A` is
exactly 1.0, so `1 - A` is 0 and its logarithm is `-inf` (then `0 · -inf` in the sum makes the
NaN). This is the article's defect 6: its cost divides by, and takes the log of, a sigmoid that
saturates. **Fixes:** `nn.binary_cross_entropy` records the article's formula as written but
passes each log's argument through a `clip` op at `e^−100` (the picture shows it), so each log is
at least −100, as in PyTorch's `BCELoss`: the cost stays finite (50 here: one example clamped at
100), but a clamped log passes no gradient, so a saturated network learns nothing from that
example. The exact fix is to compute the cost from the logits with
`nn.binary_cross_entropy_with_logits`, whose gradient into the logits is the article's
`dZ = A − Y` (divided by m) at any logit:

{forward_fix}

### In the backward pass: finite forward, NaN gradient

{backward_nan}

The forward pass is fine: the padding gives `√0 · 0 = 0`. But the backward pass of `sqrt` divides
the incoming gradient by `2√x`; for the padding the incoming gradient is 0 (the mask) and `√x` is
0, and `0 / 0` is NaN. The same trap hides behind every "compute everything, then mask" pattern
(`where(mask, f(x), 0)` in other libraries): masking *after* an op does not protect the op's
own derivative. Without anomaly mode the NaN just lands in `squared.grad` and, after one update,
in the weights. **Fix:** make the masked-out inputs harmless *before* the op:

{backward_fix}

### What anomaly mode costs

The checks (one `isfinite` per op output and per gradient) and the recorded line make every op
slower; the cost is a fixed amount per op, so it matters most for small arrays:

<!-- overhead:start -->
{overhead}
<!-- overhead:end -->

Anomaly mode is for finding a bug, not for long training runs: switch it on, reproduce the NaN,
read the report, switch it off.

## Shapes that do not fit

### Labels of the wrong shape

{label_shape}

The article's layout has one example per column: predictions `A` are `(1, m)` and so must the
labels be. Labels of shape `(m, 1)` (or `(m,)`, a flat array) are the classic mistake: numpy
broadcasts `(1, m)` against `(m, 1)` to `(m, m)` and averages all m² pairs — a number that looks
plausible (above, it even matches to many digits, because an untrained network predicts about
0.5 everywhere) while the gradient is wrong. The losses refuse any shape but the prediction's.
**Fix:** `Y.reshape(1, -1)`.

### Inner dimensions of `@`

{matmul_shape}

`W1 @ X` needs `W1`'s columns (n_0 = 2) to match `X`'s rows. Here `X` has one example per *row*,
as most datasets on disk do. **Fix:** transpose the data once, when you load it:
examples are columns, `X` is `(n_features, m)`.

## "backward() … a second time"

{second_backward}

`backward()` frees each op's saved arrays as soon as it has used them, so that a training loop
does not keep every step's graph in memory (see [memory_soak.md](memory_soak.md): flat over
10,000 steps), even if you keep every loss in a list. Going through the same graph again would
need those arrays. If you really need two passes (say, to look at the graph after backward, or
two losses sharing a forward pass), pass `retain_graph=True` to every `backward()` but the last.
Note that the gradients of the two passes add up in `.grad`; set `w.grad = None` (or call the
optimizer's `zero_grad()`) between training steps.

## "… was modified in place after … used it"

{modified_constant}

An op keeps the arrays its backward rule reads (here `matmul` keeps `X`, for `dW = g @ Xᵀ`).
Changing one of them in place between the forward pass and `backward()` would make the gradient
silently wrong, so `backward()` refuses and names the op, the input and its shape. Every in-place
change counts (`+= -= *= /=`, `mark_modified()`), also through an alias that shares the memory: a
view (`reshape`, `.T`, basic slicing such as `X[1:]`) or `detach()`, as in PyTorch. Changes
`backward()` does not need pass (an input of `add`, which keeps nothing). A numpy array used as
an operand (`W @ X_array`) is copied, so changing the array later is harmless; changing a
tensor's `.data` directly is not seen unless you call `mark_modified()`. **Fix:** make the change
after `backward()` (the usual place for a parameter update), or make a new tensor: `X = X + 10`.

{modified_output}

`exp`, `sigmoid`, `tanh` and `sqrt` keep their *output*, so changing the output (through
`detach()`, which shares the memory) is refused too, also for the tensor `backward()` is called
on. **Fix:** change a copy, `Tensor(y.data)`.

## A compiled step refuses to trace something

`tinygrad_nn.compile` runs a step eagerly once, records it on the second call and from then on
replays the record as one generated function of numpy calls (`step.plan.source`). A replay can
repeat only what the record holds: ops, `backward()`, an optimizer's `step()`/`zero_grad()`,
the Tensors' in-place operators, assignments to `.grad` and numpy work on gradients. Where a
step does something the tracer cannot see and a replay would silently skip it, the trace stops
with a `CompileError` that says what and how to write it instead:

{compile_untraced_change}

Plain numpy on a tensor's `.data` is invisible to the tracer (the array is not a traced one),
so a replay would train without the weight decay: a wrong number on every call after the
second. `mark_modified()` after such a change is where the tracer notices. **Fix:** write the
change with the Tensor's own in-place operators under `no_grad()` (or use an optimizer):

{compile_untraced_fix}

A replay returns *copies* of what the step returned, without the graph the step built (the
step's own `backward()` already ran inside it). So compile a whole training step, not a
forward pass you want to differentiate afterwards:

{compile_backward_after}

What is *traced again* rather than refused — new argument shapes or dtypes, a parameter whose
`.data` was replaced, a module switched between `train()` and `eval()`, a rebound global — and
what a trace freezes (Python branches on a tensor's value, `np.random` calls) is listed in
[architecture.md](architecture.md), section 9.

## "bool() of a Tensor needs exactly one element"

{bool_of_tensor}

`if t:` and `while t:` use the truth of a one-element tensor's value, as in PyTorch; for more
elements the truth is ambiguous. **Fix:** say which you mean: `bool(t.data.any())`,
`bool(t.data.all())`, or compare one value (`t.data[0] < 0.5`).

## Bad training data is reported at the start

{bad_data}

A NaN or an infinity in `X` or `Y` would make the cost NaN at the first step and stay so;
`train` checks the data before the first epoch and names the first bad entry.

## Checkpoints are written atomically

`Module.save(path)` writes the whole file to a temporary file in the same folder, flushes it to
disk, and only then renames it over `path` (`os.replace`, one step). A save that fails — full
disk, no permission, the process killed — leaves the previous checkpoint as it was, and the
error reaches you. `nn.load` reads with `allow_pickle=False` (a checkpoint can never run code)
and refuses a truncated, corrupted, foreign or newer-format file with a `ValueError`, never a
half-loaded model:

{checkpoint}

### "… is not a tinygrad_nn file: it is a text file …"

`nn.load` takes only what `Module.save` writes: an `.npz` archive of arrays with tinygrad_nn
metadata. Given anything else (the demo's CSV or JSON, a `.npy` from `np.save`, a pickle), it
says what the file looks like and what it expects. **Fix:** pass the `model.npz` of the run.

{not_a_checkpoint}

### "… its arrays do not match its metadata …", "… would inflate …", "… nests … deep"

A checkpoint from somewhere you do not trust is read in bounded time and memory: before any array
is inflated, `nn.load` checks the archive's members against the names its metadata lists, every
compressed member against an inflation limit (100×: a small file that would inflate to gigabytes
is a zip bomb), the metadata's size and nesting depth, and every array's declared shape against
its member's size and against the stored configuration (so that a 1 KB file asking for
`layer_dims [20000, 20000]` never builds the 3 GB model). Each is a `ValueError` naming what is
wrong; nothing was built or read. **Fix:** the file is damaged or was not written by
`Module.save`; save the model again from its source.

{hostile_checkpoint}

## The command's output folder, and running out of memory

`tinygrad-nn demo` and `train` write a run into a hidden folder beside `--out` and, once every
file is written, put it in place of `--out` whole (the previous run's folder is removed only
then). So an interrupted or failed run leaves `--out` as it was, and a folder never holds the
pictures of one run beside the model of another. Each command has its own default folder
(`out/demo`, `out/train`, `out/graph`). A folder that holds files no run writes is refused
rather than replaced (exit status 2, nothing touched); `graph` refuses a folder holding a
training run. **Fix:** give a new or empty folder.

{cli_folder}

A network or a dataset too large for the machine's memory (`--layers 2,100000,100000,1`, a huge
`--samples`) ends in one line, `tinygrad-nn: error: out of memory (--layers
2,100000,100000,1): try smaller --layers or fewer --samples`, exit status 1, before any file is
written. **Fix:** smaller layers or fewer samples.
"""


def _section(page: str, name: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
    if start not in page or end not in page:
        raise SystemExit(f"--no-measure: no '{name}' section in the existing page; measure once")
    return page.split(start, 1)[1].split(end, 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing rounds")
    parser.add_argument(
        "--no-measure",
        action="store_true",
        help="rerun the examples but keep the overhead figures already in the page",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "troubleshooting.md")
    args = parser.parse_args(argv)
    blocks = {name: example_markdown(name) for name in EXAMPLES}
    if args.no_measure:
        overhead = _section(args.out.read_text(), "overhead")
    else:
        overhead = overhead_markdown(measure(rounds=3 if args.quick else 9))
    page = PAGE.format(overhead=overhead, **blocks)
    args.out.write_text(page)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""conv2d and max_pool2d, forward + backward, against PyTorch eager on the digits CNN's shapes.

Usage (from the repository root)::

    python benchmarks/bench_conv.py [--repeats 7] [--number 100] [--threads 1]

Each case builds its inputs once, then times one call = make leaf tensors, run the op, call
``backward`` with an all-ones upstream gradient (the gradients of every input are computed).
Before timing, each case checks that tinygrad_nn's output and gradients equal PyTorch's in
float64 (relative 1e-10). The figure is the best of ``--repeats`` runs of ``--number`` calls,
engines interleaved; the ratio is tinygrad_nn's time over PyTorch's (the target for a CNN step
is <= 2.0). ``--threads`` limits BLAS (through threadpoolctl, if installed) and PyTorch.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone

from tinygrad_nn import Tensor

# (name, input shape, weight shape or None, our op, PyTorch's op)
CASES: list[tuple[str, tuple[int, ...], tuple[int, ...] | None, str, dict]] = [
    ("conv2d 3x3 pad 1: (64,1,8,8) * 16", (64, 1, 8, 8), (16, 1, 3, 3), "conv2d", {"padding": 1}),
    ("conv2d 3x3 pad 1: (64,16,4,4) * 32", (64, 16, 4, 4), (32, 16, 3, 3), "conv2d",
     {"padding": 1}),
    ("conv2d 3x3 stride 2: (64,8,16,16) * 16", (64, 8, 16, 16), (16, 8, 3, 3), "conv2d",
     {"stride": 2}),
    ("max_pool2d 2x2: (64,16,8,8)", (64, 16, 8, 8), None, "max_pool2d", {"kernel_size": 2}),
]


def _calls(torch, shape, wshape, name, kwargs, dtype) -> tuple[Callable, Callable]:
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=shape).astype(dtype)]
    if wshape is not None:
        arrays.append((rng.normal(size=wshape) * 0.3).astype(dtype))
    functional = getattr(torch.nn.functional, name)

    def ours():
        inputs = [Tensor(a, requires_grad=True) for a in arrays]
        y = getattr(inputs[0], name)(*inputs[1:], **kwargs)
        y.backward(np.ones(y.shape, dtype=dtype))
        return y.data, [t.grad for t in inputs]

    def theirs():
        inputs = [torch.from_numpy(a).requires_grad_() for a in arrays]
        y = functional(*inputs, **kwargs)
        y.backward(torch.ones_like(y))
        return y.detach().numpy(), [t.grad.numpy() for t in inputs]

    return ours, theirs


def _check(ours: Callable, theirs: Callable, label: str) -> None:
    (y, grads), (y_ref, grads_ref) = ours(), theirs()
    np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-12, err_msg=label)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12, err_msg=label)


def main(argv: list[str] | None = None) -> None:
    """Check, time and print the table.

    Examples
    --------
    >>> main(["--repeats", "1", "--number", "1"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(args.threads)
        except ImportError:
            print("threadpoolctl not installed: numpy's BLAS threads are not limited")
    print(f"| case ({args.dtype}) | tinygrad_nn µs | PyTorch µs | ratio |")
    print("|---|---:|---:|---:|")
    for label, shape, wshape, name, kwargs in CASES:
        ours, theirs = _calls(torch, shape, wshape, name, kwargs, np.float64)
        _check(ours, theirs, label)
        if args.dtype == "float32":
            ours, theirs = _calls(torch, shape, wshape, name, kwargs, np.float32)
        best = {"ours": float("inf"), "theirs": float("inf")}
        for _ in range(args.repeats):  # interleaved, so both see the same machine load
            for key, fn in (("ours", ours), ("theirs", theirs)):
                seconds = timeit.timeit(fn, number=args.number) / args.number
                best[key] = min(best[key], seconds)
        print(f"| {label} | {best['ours'] * 1e6:.0f} | {best['theirs'] * 1e6:.0f} | "
              f"{best['ours'] / best['theirs']:.2f} |")


if __name__ == "__main__":
    main()

"""The implementations of one training step that the benchmark compares.

Each engine is built from a :class:`~workloads.Problem` and offers two methods:

- ``step() -> float``: one full training step (forward, cost, backward, SGD update), returning the
  cost it computed on the parameters it started from;
- ``params() -> dict[str, np.ndarray]``: the current parameters as numpy arrays (for checking).

An engine whose library is missing (or lacks the API the benchmark needs) raises
:class:`EngineUnavailable` when built; the harness reports it as "not available" and goes on.

Examples
--------
>>> from workloads import WORKLOADS, make_problem
>>> problem = make_problem(WORKLOADS["tiny"])
>>> costs = [ENGINES[name].build(problem).step() for name in ("numpy_optimal", "numpy_article")]
>>> abs(costs[0] - costs[1]) < 1e-15
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
from workloads import Problem


class EngineUnavailable(Exception):
    """The engine cannot run here: its library is not installed or lacks a needed API."""


class Engine(Protocol):
    def step(self) -> float: ...

    def params(self) -> dict[str, np.ndarray]: ...


def _import(module: str, what: str) -> Any:
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        raise EngineUnavailable(f"{what} not available ({error})") from error
    if module.split(".")[0] == "tinygrad_nn":
        keep_freed_memory()
    return imported


def keep_freed_memory() -> bool:
    """Turn on the library's opt-in allocator setting in this child, as the ``tinygrad-nn``
    command does (``TINYGRAD_NN_KEEP_FREED_MEMORY=0`` keeps glibc's defaults). Every child that
    runs tinygrad_nn code gets it, as every one did when importing the library turned it on, so
    the tables stay comparable with earlier runs.

    Examples
    --------
    >>> isinstance(keep_freed_memory(), bool)
    True
    """
    try:
        allocator = importlib.import_module("tinygrad_nn._allocator")
    except ImportError:
        return False
    return bool(allocator.keep_freed_memory_unless_disabled())


def _layer_params(problem: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fresh copies of ``(W_l, b_l)`` for l = 1..L, so no engine changes the problem's arrays."""
    return [
        (problem.params[f"W{layer}"].copy(), problem.params[f"b{layer}"].copy())
        for layer in range(1, problem.n_layers + 1)
    ]


def _params_dict(layers: list[tuple[Any, Any]], to_numpy: Callable[[Any], np.ndarray]) -> dict:
    out = {}
    for layer, (W, b) in enumerate(layers, start=1):
        out[f"W{layer}"], out[f"b{layer}"] = to_numpy(W), to_numpy(b)
    return out


# --------------------------------------------------------------------------------------------
# numpy_optimal: the fastest step we can write by hand in numpy.
# --------------------------------------------------------------------------------------------
class NumpyOptimal:
    """The best hand-written numpy step: every buffer allocated once, every update in place.

    - Each layer keeps ``[W_l | b_l]`` as one array and each activation carries a last row of
      ones, so a single GEMM computes ``W_l @ A + b_l`` in the forward pass and ``[dW_l | db_l]``
      in the backward pass. That removes the bias broadcast and the row sum (two passes over
      memory and two numpy calls per layer: it is what makes the tiny workload fast).
    - ``dZ_L = (A_L - Y) * lr / m`` is the fused sigmoid + cross-entropy gradient, scaled once, so
      every later product already holds ``lr`` times the true gradient and the update is a
      single in-place subtraction.
    - No gradient is computed for the input data, and no scratch memory is needed: once
      ``[dW_l | db_l]`` is computed, ``A_{l-1}`` has no other use in this step, so the sigmoid's
      slope ``1 - A_{l-1}`` overwrites it.
    """

    def __init__(self, problem: Problem) -> None:
        m, dtype = problem.workload.m, problem.dtype
        self.Y = problem.Y
        self.Wb = [np.concatenate([W, b], axis=1) for W, b in _layer_params(problem)]
        self.W = [Wb[:, :-1] for Wb in self.Wb]  # views: dA_prev needs W without the bias
        self.X1 = np.concatenate([problem.X, np.ones((1, m), dtype)])
        self.A1 = [np.ones((W.shape[0] + 1, m), dtype) for W in self.W]
        self.A = [A1[:-1] for A1 in self.A1]  # views on the activations without the ones row
        self.dZ = [np.empty_like(A) for A in self.A]
        self.dWb = [np.empty_like(Wb) for Wb in self.Wb]
        self.scale = dtype.type(problem.lr / m)

    def step(self) -> float:
        inputs = [self.X1, *self.A1[:-1]]
        for Wb, A, A_prev in zip(self.Wb, self.A, inputs, strict=True):
            np.matmul(Wb, A_prev, out=A)
            np.negative(A, out=A)
            np.exp(A, out=A)
            np.add(A, 1, out=A)
            np.reciprocal(A, out=A)
        A_L, Y = self.A[-1], self.Y
        cost = -float(np.mean(Y * np.log(A_L) + (1 - Y) * np.log1p(-A_L)))

        dZ = np.subtract(A_L, Y, out=self.dZ[-1])
        np.multiply(dZ, self.scale, out=dZ)
        for layer in reversed(range(len(self.Wb))):
            np.matmul(dZ, inputs[layer].T, out=self.dWb[layer])
            if layer > 0:
                # dZ_{l-1} = (W_l.T @ dZ_l) * A_{l-1} * (1 - A_{l-1}), with W_l before its update.
                A_prev = self.A[layer - 1]
                dZ = np.matmul(self.W[layer].T, dZ, out=self.dZ[layer - 1])
                np.multiply(dZ, A_prev, out=dZ)
                np.subtract(1, A_prev, out=A_prev)
                np.multiply(dZ, A_prev, out=dZ)
            np.subtract(self.Wb[layer], self.dWb[layer], out=self.Wb[layer])
        return cost

    def params(self) -> dict[str, np.ndarray]:
        return _params_dict([(Wb[:, :-1], Wb[:, -1:]) for Wb in self.Wb], np.array)


# --------------------------------------------------------------------------------------------
# gemms_only: the step's matrix products and nothing else — the ceiling of any BLAS-based step.
# --------------------------------------------------------------------------------------------
class GemmsOnly:
    """Only the matrix products a step must do, into buffers allocated once: no bias, no
    sigmoid, no cost, no update. No engine that multiplies with the same BLAS can be faster, so
    its fraction of the GEMM peak is the most any step can reach on this machine.

    The products run on the activations and gradients of the first step (real values, so no
    zeros or denormals flatter the timing), and the parameters never change.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        layers = _layer_params(problem)
        self.W = [W for W, _ in layers]
        self.A = [problem.X]
        for W, b in layers:
            self.A.append(1.0 / (1.0 + np.exp(-(W @ self.A[-1] + b))))
        self.Z = [np.empty_like(A) for A in self.A[1:]]
        # dZ_l has the shape of A_l; A_l * (1 - A_l) gives it realistic magnitudes.
        self.dZ = [A * (1 - A) for A in self.A[1:]]
        self.dW = [np.empty_like(W) for W in self.W]
        self.dA = [np.empty_like(A) for A in self.A[:-1]]

    def step(self) -> float:
        for W, A_prev, Z in zip(self.W, self.A[:-1], self.Z, strict=True):
            np.matmul(W, A_prev, out=Z)
        for layer in reversed(range(len(self.W))):
            np.matmul(self.dZ[layer], self.A[layer].T, out=self.dW[layer])
            if layer > 0:
                np.matmul(self.W[layer].T, self.dZ[layer], out=self.dA[layer])
        return float("nan")

    def params(self) -> dict[str, np.ndarray]:
        return dict(self.problem.params)


# --------------------------------------------------------------------------------------------
# numpy_article: the article's code, transcribed with its defects 1-5 fixed (see the seed README).
# --------------------------------------------------------------------------------------------
def _article_sigmoid(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The article writes np.dot(-1, Z); -Z is the same number and keeps float32 as float32.
    return 1 / (1 + np.exp(-Z)), Z


def _article_forward_prop(X: np.ndarray, params: dict) -> tuple[np.ndarray, list]:
    A = X
    caches = []
    L = len(params) // 2
    for layer in range(1, L + 1):
        A_prev = A
        Z = np.dot(params[f"W{layer}"], A_prev) + params[f"b{layer}"]
        linear_cache = (A_prev, params[f"W{layer}"], params[f"b{layer}"])
        A, activation_cache = _article_sigmoid(Z)
        caches.append((linear_cache, activation_cache))
    return A, caches


def _article_cost_function(A: np.ndarray, Y: np.ndarray) -> float:
    m = Y.shape[1]
    cost = (-1 / m) * (np.dot(np.log(A), Y.T) + np.dot(np.log(1 - A), 1 - Y.T))
    return float(np.squeeze(cost))


def _article_one_layer_backward(dA: np.ndarray, cache: tuple) -> tuple:
    linear_cache, Z = cache
    # The article evaluates the sigmoid twice here; the transcription keeps that cost.
    dZ = dA * _article_sigmoid(Z)[0] * (1 - _article_sigmoid(Z)[0])
    A_prev, W, _ = linear_cache
    m = A_prev.shape[1]
    dW = (1 / m) * np.dot(dZ, A_prev.T)
    db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def _article_backprop(AL: np.ndarray, Y: np.ndarray, caches: list) -> dict:
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA = dAL
    for layer in reversed(range(L)):
        dA, grads[f"dW{layer + 1}"], grads[f"db{layer + 1}"] = _article_one_layer_backward(
            dA, caches[layer]
        )
        grads[f"dA{layer}"] = dA
    return grads


def _article_update_parameters(params: dict, grads: dict, learning_rate: float) -> dict:
    for layer in range(1, len(params) // 2 + 1):
        params[f"W{layer}"] = params[f"W{layer}"] - learning_rate * grads[f"dW{layer}"]
        params[f"b{layer}"] = params[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return params


ARTICLE = SimpleNamespace(
    forward_prop=_article_forward_prop,
    cost_function=_article_cost_function,
    backprop=_article_backprop,
    update_parameters=_article_update_parameters,
)


class ArticleStyleStep:
    """One epoch of the article's ``train`` loop, with the functions of a given module.

    ``functions`` provides ``forward_prop``, ``cost_function``, ``backprop`` and
    ``update_parameters`` with the article's contracts: the transcription above, or
    ``tinygrad_nn.reference``.
    """

    def __init__(self, problem: Problem, functions: Any) -> None:
        self.X, self.Y, self.lr = problem.X, problem.Y, problem.lr
        self.f = functions
        self.parameters = _params_dict(_layer_params(problem), lambda a: a)

    def step(self) -> float:
        AL, caches = self.f.forward_prop(self.X, self.parameters)
        cost = float(np.squeeze(self.f.cost_function(AL, self.Y)))
        grads = self.f.backprop(AL, self.Y, caches)
        updated = self.f.update_parameters(self.parameters, grads, self.lr)
        if updated is not None:  # the article returns the dict; an in-place variant may not
            self.parameters = updated
        return cost

    def params(self) -> dict[str, np.ndarray]:
        return {k: np.array(v) for k, v in self.parameters.items()}


def build_reference(problem: Problem) -> ArticleStyleStep:
    reference = _import("tinygrad_nn.reference", "tinygrad_nn.reference")
    needed = ("forward_prop", "cost_function", "backprop", "update_parameters")
    missing = [name for name in needed if not hasattr(reference, name)]
    if missing:
        raise EngineUnavailable(f"tinygrad_nn.reference lacks {', '.join(missing)}")
    return ArticleStyleStep(problem, reference)


# --------------------------------------------------------------------------------------------
# Autograd libraries: the same math written with each library's tensors.
# --------------------------------------------------------------------------------------------
class TorchStep:
    """PyTorch eager on the CPU: the ops of the step, ``backward()``, an in-place SGD update."""

    def __init__(self, problem: Problem) -> None:
        self.torch = torch = _import("torch", "torch")
        self.lr = problem.lr
        self.X, self.Y = torch.from_numpy(problem.X), torch.from_numpy(problem.Y)
        self.layers = [
            (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
            for W, b in _layer_params(problem)
        ]

    def step(self) -> float:
        torch = self.torch
        A, Y = self.X, self.Y
        for W, b in self.layers:
            A = torch.sigmoid(W @ A + b)
        loss = -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A)).mean()
        loss.backward()
        with torch.no_grad():
            for p in (p for layer in self.layers for p in layer):
                p.add_(p.grad, alpha=-self.lr)  # what torch.optim.SGD does, without its checks
                p.grad = None
        return loss.item()

    def params(self) -> dict[str, np.ndarray]:
        return _params_dict(self.layers, lambda t: t.detach().numpy().copy())


class MyGradStep:
    """MyGrad: numpy-backed autograd; its update writes the parameters' arrays in place."""

    def __init__(self, problem: Problem) -> None:
        self.mg = mg = _import("mygrad", "mygrad")
        self.sigmoid = _import("mygrad.nnet.activations", "mygrad").sigmoid
        self.lr = problem.dtype.type(problem.lr)
        # MyGrad turns Python floats into float64 arrays: typed scalars keep float32 as float32.
        self.one = problem.dtype.type(1)
        self.X, self.Y = problem.X, problem.Y
        self.layers = [(mg.tensor(W), mg.tensor(b)) for W, b in _layer_params(problem)]

    def step(self) -> float:
        mg, one = self.mg, self.one
        A, Y = self.X, self.Y
        for W, b in self.layers:
            A = self.sigmoid(W @ A + b)
        loss = -mg.mean(Y * mg.log(A) + (one - Y) * mg.log(one - A))
        loss.backward()
        for p in (p for layer in self.layers for p in layer):
            p.data -= self.lr * p.grad
        return loss.item()

    def params(self) -> dict[str, np.ndarray]:
        return _params_dict(self.layers, lambda t: np.array(t.data))


# --------------------------------------------------------------------------------------------
# The project's engine, both ways of writing the step (issue 5).
# --------------------------------------------------------------------------------------------
class EngineOpsStep:
    """``tinygrad_nn`` with the step's ops written by hand on Tensors: the raw engine overhead."""

    def __init__(self, problem: Problem) -> None:
        engine = _import("tinygrad_nn", "tinygrad_nn")
        if not hasattr(engine, "Tensor") or not hasattr(engine, "no_grad"):
            raise EngineUnavailable("tinygrad_nn.Tensor / no_grad not available yet")
        self.no_grad = engine.no_grad
        self.lr = problem.dtype.type(problem.lr)
        self.X, self.Y = engine.Tensor(problem.X, name="X"), engine.Tensor(problem.Y, name="Y")
        self.layers = [
            (
                engine.Tensor(W, requires_grad=True, name=f"W{layer}"),
                engine.Tensor(b, requires_grad=True, name=f"b{layer}"),
            )
            for layer, (W, b) in enumerate(_layer_params(problem), start=1)
        ]

    def step(self) -> float:
        A, Y = self.X, self.Y
        for W, b in self.layers:
            A = (W @ A + b).sigmoid()
        loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
        loss.backward()
        with self.no_grad():
            for p in (p for layer in self.layers for p in layer):
                p -= self.lr * p.grad
                p.grad = None
        return loss.item()

    def params(self) -> dict[str, np.ndarray]:
        return _params_dict(self.layers, lambda t: np.array(t.data))


class EngineMLPStep:
    """``tinygrad_nn.nn.MLP`` + ``binary_cross_entropy`` + ``optim.SGD``: the kit's way."""

    def __init__(self, problem: Problem) -> None:
        engine = _import("tinygrad_nn", "tinygrad_nn")
        nn = _import("tinygrad_nn.nn", "tinygrad_nn.nn")
        optim = _import("tinygrad_nn.optim", "tinygrad_nn.optim")
        try:
            self.model = nn.MLP(list(problem.workload.layer_dims), dtype=problem.dtype)
            # The article's weights exactly, whatever the kit's own init does with float32.
            self.model.load_state_dict(problem.params)
            self.loss_fn = nn.binary_cross_entropy
            self.optimizer = optim.SGD(self.model.parameters(), lr=problem.lr)
        except (AttributeError, TypeError) as error:
            raise EngineUnavailable(f"tinygrad_nn MLP kit not usable yet ({error})") from error
        self.X, self.Y = engine.Tensor(problem.X, name="X"), engine.Tensor(problem.Y, name="Y")

    def step(self) -> float:
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.X), self.Y)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def params(self) -> dict[str, np.ndarray]:
        return {name: np.array(value) for name, value in self.model.state_dict().items()}


class EngineCompiledStep(EngineMLPStep):
    """The kit's step (``MLP`` + ``binary_cross_entropy`` + ``optim.SGD``) through
    ``tinygrad_nn.compile``: traced once, then replayed with planned buffers and fused kernels."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        engine = _import("tinygrad_nn", "tinygrad_nn")
        if not hasattr(engine, "compile"):
            raise EngineUnavailable("tinygrad_nn.compile not available yet")
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer

        def step(X: Any, Y: Any) -> Any:
            optimizer.zero_grad()
            loss = loss_fn(model(X), Y)
            loss.backward()
            optimizer.step()
            return loss

        # as the tinygrad-nn command compiles: two cores where a kernel is big enough
        self.compiled = engine.compile(step, threads=2)

    def step(self) -> float:
        return self.compiled(self.X, self.Y).item()


@dataclass(frozen=True)
class EngineSpec:
    """An engine's name, how to build it, what it is, and the modules it imports.

    The harness imports ``modules`` before it reads the process's baseline memory, so that
    "memory above imports" compares the engines' steps and not the size of their libraries.
    """

    name: str
    build: Callable[[Problem], Engine]
    description: str
    modules: tuple[str, ...] = ()
    checked: bool = True  # False: computes no cost, so there is nothing to check


ENGINES: dict[str, EngineSpec] = {
    spec.name: spec
    for spec in (
        EngineSpec(
            "numpy_article",
            lambda problem: ArticleStyleStep(problem, ARTICLE),
            "the article's step transcribed to numpy (defects 1-5 fixed; dAL by division, "
            "sigmoid evaluated again in backward, dA0 computed, fresh arrays every step)",
        ),
        EngineSpec(
            "numpy_optimal",
            NumpyOptimal,
            "hand-optimised numpy: fused dZ_L = A_L - Y, bias folded into the GEMMs, "
            "no dA0, buffers reused across steps, in-place updates",
        ),
        EngineSpec(
            "gemms_only",
            GemmsOnly,
            "not a training step: only its matrix products (forward Z_l, backward dW_l and "
            "dA_{l-1}) into preallocated buffers — the fastest any step using numpy's BLAS can "
            "be, so its % GEMM peak is the ceiling for every engine",
            checked=False,
        ),
        EngineSpec(
            "reference",
            build_reference,
            "tinygrad_nn.reference (the corrected article code) driven like the article's train",
            ("tinygrad_nn.reference",),
        ),
        EngineSpec(
            "engine_ops",
            EngineOpsStep,
            "tinygrad_nn Tensors, ops written by hand, loss.backward(), SGD by hand under no_grad",
            ("tinygrad_nn",),
        ),
        EngineSpec(
            "engine_mlp",
            EngineMLPStep,
            "tinygrad_nn.nn.MLP + binary_cross_entropy + optim.SGD",
            ("tinygrad_nn.nn", "tinygrad_nn.optim"),
        ),
        EngineSpec(
            "engine_compiled",
            EngineCompiledStep,
            "the engine_mlp step through tinygrad_nn.compile(step, threads=2) (traced once, "
            "replayed: buffers planned once, bias folded into the product, the sigmoid cost in "
            "logits form; big kernels in row halves on two threads with OpenBLAS on one)",
            ("tinygrad_nn.nn", "tinygrad_nn.optim"),
        ),
        EngineSpec(
            "torch",
            TorchStep,
            "PyTorch eager CPU, same ops, autograd, in-place SGD update",
            ("torch",),
        ),
        EngineSpec(
            "mygrad",
            MyGradStep,
            "MyGrad, same ops, autograd, in-place SGD update",
            ("mygrad", "mygrad.nnet.activations"),
        ),
    )
}

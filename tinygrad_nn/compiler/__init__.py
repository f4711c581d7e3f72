"""The compiler: ``tinygrad_nn.compile`` turns a recorded training step into a fast replay.

The graph records exactly what the user wrote (matmul, add, sigmoid, log, mean…); the compiler
traces one step (:mod:`~tinygrad_nn.compiler._trace`), rewrites groups of recorded ops into
kernels (:mod:`~tinygrad_nn.compiler.passes`, :mod:`~tinygrad_nn.compiler._kernels`), writes
the replay as one Python function of numpy calls into buffers planned once
(:mod:`~tinygrad_nn.compiler.codegen`; ``step.plan.source`` shows it), and runs it on every
later call (:mod:`~tinygrad_nn.compiler.plan`, :mod:`~tinygrad_nn.compiler.jit`, which also
states the rules: signatures, re-tracing, what a trace cannot see).

>>> import numpy as np
>>> import tinygrad_nn
>>> from tinygrad_nn import Tensor
>>> w = Tensor([0.5], requires_grad=True)
>>> @tinygrad_nn.compile
... def step(x):
...     loss = (w * x).sum()
...     loss.backward()
...     with tinygrad_nn.no_grad():
...         for p in [w]:
...             p -= 0.1 * p.grad      # a hand-written update: replayed too
...             p.grad = None
...     return loss
>>> [round(step(np.array([1.0])).item(), 2) for _ in range(4)]
[0.5, 0.4, 0.3, 0.2]
"""

from tinygrad_nn.compiler._trace import CompileError
from tinygrad_nn.compiler.jit import CompiledFunction, compile
from tinygrad_nn.compiler.plan import ExecutedStep, Plan

__all__ = ["CompileError", "CompiledFunction", "ExecutedStep", "Plan", "compile"]

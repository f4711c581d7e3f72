"""Every op, defined once: its forward, and right beside it its backward written as the math.

How to read an op
-----------------
Each op is a function decorated with :func:`op`. It receives the input *arrays* and returns the
output array together with one backward rule per input. A rule maps ``g`` — the gradient flowing
into the op's output, dL/dy — to the gradient for that input, dL/dx. The first line of the
docstring is the op's formula, ``y = ...`` then one ``dx = ...`` per input, separated by wide
gaps; the graph pictures (:mod:`tinygrad_nn.viz`), ``explain`` and ``docs/ops.md`` show it.

What an op never does: undo broadcasting, add up gradients from several consumers, cast dtypes,
or skip inputs that need no gradient. The engine (:mod:`tinygrad_nn.tensor`) does each of these
in one place. A rule may return ``g`` itself or a view of it; the engine copies before writing.

Adding an op: write one decorated function in the module of its family (``arithmetic``,
``unary``, ``reduce``, ``shape``, ``softmax``, ``fused``), and add one row to ``tests/test_ops.py``.
"""

# The import order is the registry's order, which docs/ops.md and the pictures follow.
# isort: off
from tinygrad_nn.ops.registry import REGISTRY, OpInfo, TensorIndexError, activations, op
from tinygrad_nn.ops.arithmetic import add, div, matmul, mul, pow_, sub
from tinygrad_nn.ops.unary import abs_, exp, log, neg, relu, sigmoid, sqrt, tanh
from tinygrad_nn.ops.reduce import max_, mean, min_, sum_
from tinygrad_nn.ops.shape import concatenate, getitem, reshape, stack, transpose
from tinygrad_nn.ops.softmax import log_softmax, softmax
from tinygrad_nn.ops.fused import bce_with_logits, linear
from tinygrad_nn.ops.compare import (
    argmax, argmin, clip, eq, ge, gt, le, lt, masked_fill, maximum, minimum, ne, tril, triu, where,
)
from tinygrad_nn.ops.conv import conv1d, conv2d
from tinygrad_nn.ops.pool import avg_pool2d, max_pool2d
from tinygrad_nn.ops.dropout import dropout
from tinygrad_nn.ops.maths import (
    cos, cumsum, expm1, log1p, logsumexp, prod, rsqrt, sign, sin, std, var,
)
from tinygrad_nn.ops.nonlinear import elu, gelu, leaky_relu, silu, softplus
from tinygrad_nn.ops.layout import (
    broadcast_to, chunk, expand, flatten, flip, gather, pad, permute, repeat, split, squeeze,
    take_along_axis, tile, unsqueeze,
)
# isort: on

__all__ = [
    "REGISTRY", "OpInfo", "TensorIndexError", "abs_", "activations", "add", "bce_with_logits",
    "concatenate", "div", "exp", "getitem", "linear", "log", "log_softmax", "matmul", "max_",
    "mean", "min_", "mul", "neg", "op", "pow_", "relu", "reshape", "sigmoid", "softmax", "sqrt",
    "stack", "sub", "sum_", "tanh", "transpose",
]
__all__ += [  # the families added for issue 15
    "argmax", "argmin", "avg_pool2d", "broadcast_to", "chunk", "clip", "conv1d", "conv2d", "cos",
    "cumsum", "dropout", "elu", "eq", "expand", "expm1", "flatten", "flip", "gather", "ge", "gelu",
    "gt", "le", "leaky_relu", "log1p", "logsumexp", "lt", "masked_fill", "max_pool2d", "maximum",
    "minimum", "ne", "pad", "permute", "prod", "repeat", "rsqrt", "sign", "silu", "sin",
    "softplus", "split", "squeeze", "std", "take_along_axis", "tile", "tril", "triu", "unsqueeze",
    "var", "where",
]

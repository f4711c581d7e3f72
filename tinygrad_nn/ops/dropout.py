"""Dropout: during training, zero each element with probability p and scale the rest by
1/(1−p) (inverted dropout, as PyTorch); the identity when not training."""

from __future__ import annotations

import numpy as np

from tinygrad_nn.ops.registry import op


@op(1, method="dropout")
def dropout(x, p=0.5, training=True, rng=None):
    """y = x·m/(1−p), m ~ Bernoulli(1−p)   dx = g·m/(1−p)

    ``training=False`` (what ``nn.Dropout`` passes in ``eval()``) or ``p=0`` gives y = x and
    dx = g. ``rng`` is a ``numpy.random.Generator`` for reproducible masks; by default a fresh
    one per call (the library never seeds or draws from numpy's global generator).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor
    >>> x = Tensor(np.ones(8), requires_grad=True)
    >>> y = x.dropout(0.5, rng=np.random.default_rng(0))
    >>> y.data                        # kept elements scaled by 1/(1−p) = 2
    array([0., 2., 2., 2., 0., 0., 0., 0.])
    >>> y.sum().backward()
    >>> x.grad
    array([0., 2., 2., 2., 0., 0., 0., 0.])
    >>> x.dropout(0.5, training=False).data
    array([1., 1., 1., 1., 1., 1., 1., 1.])
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a probability in [0, 1); got {p!r}")
    if not training or p == 0.0:
        return x.copy(), lambda g: g
    if rng is None:
        rng = np.random.default_rng()
    elif not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    kept = (rng.random(x.shape, dtype=np.float64) >= p) * scale  # m/(1−p), in x's dtype
    kept = kept.astype(x.dtype, copy=False)
    return x * kept, lambda g: g * kept

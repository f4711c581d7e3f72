"""Check ``backward()`` against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_nn.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when an analytic gradient disagrees with the numeric one.

    An ``AssertionError``, so a test that calls ``gradcheck`` fails with the message.

    Examples
    --------
    >>> from tinygrad_nn import GradcheckError, Tensor, gradcheck
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> hides_a_factor = lambda t: t.detach() * t   # d(t²)/dt = 2t; backward() sees only t
    >>> try:
    ...     gradcheck(hides_a_factor, [x])
    ... except GradcheckError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    gradcheck: input 0 of shape (2,), element (0,): analytic gradient ... (2 of 2 elements differ)
    """


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    upstream: Any = None,
    seed: int | None = 0,
) -> bool:
    """Compare the gradients ``backward()`` gives with central differences, in float64.

    The output ``fn(*inputs)`` is reduced to a scalar as ``Σ u·fn(*inputs)`` with a random
    upstream gradient ``u`` (so a rule that is only right for all-ones ``g`` is caught), unless
    ``upstream`` is given. Every element of every input that requires grad is perturbed by
    ``±eps``.

    Parameters
    ----------
    fn : callable
        Takes the input tensors, returns a Tensor.
    inputs : sequence of Tensor
        float64 tensors; those with ``requires_grad=True`` are checked.
    eps, atol, rtol : float
        Central-difference step; elements agree when
        ``|analytic − numeric| <= atol + rtol·|numeric|``.
    upstream : array_like, optional
        The gradient fed into the output; random normal (seeded by ``seed``) when omitted.

    Returns
    -------
    bool
        True when every element agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the element index and both values.

    Examples
    --------
    >>> from tinygrad_nn import Tensor, gradcheck
    >>> x = Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    >>> gradcheck(lambda t: t.sigmoid(), [x])
    True
    """
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradcheck: input {i} must be a Tensor; got {type(t).__name__}")
        if t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} must be float64 for finite differences; got {t.dtype}"
            )
    checked = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")

    output = fn(*inputs)
    if upstream is None:
        upstream = np.random.default_rng(seed).standard_normal(output.shape)
    upstream = np.asarray(upstream, dtype=np.float64)
    if upstream.shape != output.shape:
        raise ValueError(
            f"gradcheck: upstream shape {upstream.shape} != output shape {output.shape}"
        )

    saved_grads = [t.grad for t in inputs]
    for t in inputs:
        t.grad = None
    try:
        output.backward(upstream)
        analytic = [inputs[i].grad for i in checked]
    finally:
        for t, g in zip(inputs, saved_grads, strict=True):
            t.grad = g

    def value() -> float:
        return float((np.asarray(fn(*inputs).data, dtype=np.float64) * upstream).sum())

    for position, i in enumerate(checked):
        x = inputs[i].data
        numeric = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            original = x[index]
            try:
                x[index] = original + eps
                plus = value()
                x[index] = original - eps
                minus = value()
            finally:  # fn may raise part-way: the input must not keep a perturbed element
                x[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        got = analytic[position]
        if got is None:
            got = np.zeros_like(x)
        bad = ~(np.abs(got - numeric) <= atol + rtol * np.abs(numeric))
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            name = f" ({inputs[i].name})" if inputs[i].name else ""
            raise GradcheckError(
                f"gradcheck: input {i}{name} of shape {x.shape}, element {index}: analytic "
                f"gradient {got[index]!r} but numeric {numeric[index]!r} "
                f"({int(bad.sum())} of {x.size} elements differ)"
            )
    return True

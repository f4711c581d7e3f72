"""The plan: a traced tape, rewritten by the passes and lowered to one Python function.

A :class:`Plan` is built once per traced signature: :mod:`tinygrad_nn.compiler.passes` rewrites
the tape (kernels in place of groups of recorded ops), :mod:`tinygrad_nn.compiler.codegen` turns
it into the source of a replay function (straight-line numpy into buffers allocated once), and
:meth:`Plan.replay` calls that function. Its guards (:meth:`Plan.still_valid`) say when the
plan no longer holds. Each executed step knows which recorded ops it stands for and its lines
of the source, so :attr:`Plan.steps` (and the picture in :mod:`tinygrad_nn.viz.plan`) show
which recorded ops became which executed step.
"""

from __future__ import annotations

from typing import Any

from tinygrad_nn.compiler import _parallel
from tinygrad_nn.compiler._tape import Tape
from tinygrad_nn.compiler.codegen import ExecutedStep, lower
from tinygrad_nn.compiler.passes import optimize as run_passes

__all__ = ["ExecutedStep", "Plan", "same_items"]


class Plan:
    """A tape made executable. Built by :func:`tinygrad_nn.compile`; run with :meth:`replay`.

    Attributes
    ----------
    steps : list of ExecutedStep
        What a replay runs, in order, each with the recorded ops it stands for.
    source : str
        The replay function's source: what runs, line for line.
    threads : int
        1, or 2 when big kernels run in row halves on two cores.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygrad_nn
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> @tinygrad_nn.compile
    ... def step(x):
    ...     return (w * x).sum()
    >>> for _ in range(3):
    ...     loss = step(np.array([3.0, 4.0]))
    >>> [s.name for s in step.plan.steps]
    ['op:mul', 'op:sum']
    """

    def __init__(self, tape: Tape, optimize: bool = True, threads: int = 1,
                 arg_names: list[str] | None = None) -> None:
        self.tape = tape
        #: The step's argument names (``["X", "Y"]``), or empty where they cannot be read.
        self.arg_names = list(arg_names or [])
        if optimize:
            run_passes(tape)  # may pack a weight and its bias into one array (pack_bias)
        else:
            tape.recorded = list(tape.events)
        # the parameters' arrays as the plan binds them: replaced ones invalidate it
        self.expected = [(s.tensor, s.tensor.data, s.tensor.requires_grad)
                         for s in tape.slots if s.kind == "leaf" and s.tensor is not None]
        # Two cores only where a kernel is big enough to split (compiler._parallel); else the
        # replay touches no process-wide setting.
        big = any(s.kind == "value" and _size(s.shape) >= _parallel.MIN_ELEMENTS
                  for s in tape.slots)
        self.threads = 2 if threads >= 2 and big and _parallel.available() else 1
        lowered = lower(tape, self.threads, arg_names)
        self._replay = lowered.replay
        self.source: str = lowered.source
        self.steps: list[ExecutedStep] = lowered.steps
        self.buffers = lowered.buffers
        self.namespace = lowered.namespace
        #: The guard :func:`tinygrad_nn.compile` generates for this plan (``args -> bool``).
        self.accepts: Any = lambda args: False

    def to_dot(self) -> str:
        """DOT text of this plan beside the recorded step (see :func:`tinygrad_nn.viz.plan_to_dot`).

        Examples
        --------
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([2.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * w).sum())
        >>> _ = step(); _ = step()
        >>> step.plan.to_dot().splitlines()[0]
        'digraph plan {'
        """
        from tinygrad_nn.viz.plan import plan_to_dot

        return plan_to_dot(self)

    # ---- guards ---------------------------------------------------------------------------

    def still_valid(self) -> bool:
        """False when a parameter's data was replaced, an optimizer's list changed or a module
        the step called switched between train() and eval().

        Examples
        --------
        >>> import numpy as np
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda: (w * 2).sum())
        >>> _ = step(); _ = step()
        >>> step.plan.still_valid()
        True
        >>> w.data = np.array([5.0])
        >>> step.plan.still_valid()
        False
        """
        for t, data, requires_grad in self.expected:
            if t.data is not data or t._requires_grad is not requires_grad:
                return False
        for module, training in self.tape.modules:  # train()/eval() changes Python branches
            if module.training != training:
                return False
        return all(same_items(owner.params, params) for owner, params in self.tape.optimizers)

    # ---- replay ---------------------------------------------------------------------------

    def replay(self, args: tuple[Any, ...]) -> Any:
        """Run the plan on new arguments of the traced shapes; return the step's result.

        Examples
        --------
        >>> import numpy as np
        >>> import tinygrad_nn
        >>> from tinygrad_nn import Tensor
        >>> w = Tensor([1.0, 2.0], requires_grad=True)
        >>> step = tinygrad_nn.compile(lambda x: (w * x).sum())
        >>> _ = step(np.ones(2)); _ = step(np.ones(2))
        >>> step.plan.replay((np.array([1.0, 10.0]),)).item()
        21.0
        """
        return self._replay(args)


def same_items(current: list[Any], traced: tuple[Any, ...]) -> bool:
    """Whether a list holds the same objects as when traced (by identity: a Tensor's ``==``
    compares values).

    Examples
    --------
    >>> a, b = object(), object()
    >>> same_items([a, b], (a, b)), same_items([a], (a, b))
    (True, False)
    """
    if len(current) != len(traced):
        return False
    for a, b in zip(current, traced):  # noqa: B905
        if a is not b:
            return False
    return True


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for k in shape:
        n *= k
    return n

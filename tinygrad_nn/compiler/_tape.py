"""The tape a trace writes: slots (where each array of a step comes from) and the events.

:mod:`tinygrad_nn.compiler._trace` fills it while a step runs; :mod:`~tinygrad_nn.compiler.passes`
rewrites it; :class:`~tinygrad_nn.compiler.plan.Plan` replays it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_nn.compiler._kernels import Kernel
from tinygrad_nn.tensor import Tensor

__all__ = [
    "BackwardEvent", "BackwardNode", "CopyEvent", "GradRef", "HostEvent", "OpEvent",
    "SetGradEvent",
    "SetItemEvent", "Slot", "Tape", "UfuncEvent",
]


# --------------------------------------------------------------------------------------------
# slots: where a value of the tape comes from at replay time
# --------------------------------------------------------------------------------------------


@dataclass
class Slot:
    """One array of the tape. ``kind`` is how it is filled at replay time.

    - ``"input"``: argument ``arg`` of the step (its ``.data`` if a Tensor), cast to ``dtype``
      when ``cast`` is set (a Tensor made in the step from a numpy argument of another dtype);
    - ``"leaf"``: ``tensor.data`` of a tensor made before the step (a parameter);
    - ``"value"``: computed by the tape (``producer`` is the event index);
    - ``"const"``: ``array``, frozen at tracing time.
    """

    index: int
    kind: str
    shape: tuple[int, ...]
    dtype: np.dtype
    array: np.ndarray | None = None
    tensor: Tensor | None = None
    arg: int = -1
    cast: bool = False
    producer: int = -1
    from_tensor: bool = False  # an input given as a Tensor (its .data is loaded)
    name: str | None = None  # the tensor's name, if any: the replay's source uses it


@dataclass
class GradRef:
    """``target.grad`` read at replay time (target: a leaf Tensor, or argument ``arg``)."""

    tensor: Tensor | None
    arg: int = -1


@dataclass
class OpEvent:
    name: str
    forward: Callable[..., Any] | Kernel  # the op's forward, or the kernel a pass put there
    inputs: list[Any]  # Slot indices (a list of them for sequence ops)
    sequence: bool
    rest: tuple[Any, ...]
    static: dict[str, Any]
    out: int
    requires_grad: bool
    input_requires_grad: tuple[bool, ...]
    label: str | None = None  # what a fused kernel is called in the plan ("gemm_bias(out=Z1)")
    recorded: list[int] | None = None  # the recorded events a fused kernel stands for
    fused_parents: dict[int, Any] | None = None  # slots of recorded ops folded into this one


@dataclass
class BackwardNode:
    slot: int
    leaf_target: GradRef | None  # set for leaves
    parents: list[tuple[int, int]]  # (parent slot, rule index) for parents that need grad
    op: str | None


@dataclass
class BackwardEvent:
    root: int
    seed: int  # slot of the seed gradient
    nodes: list[BackwardNode]
    assign: dict[int, bool]  # node position -> True: the leaf's grad is always overwritten


@dataclass
class UfuncEvent:
    ufunc: np.ufunc
    method: str
    inputs: list[Any]  # Slot index, GradRef, or ("py", value)
    kwargs: dict[str, Any]
    out: list[Any]  # Slot index or GradRef per output given with out=; None: fresh (see outs)
    outs: list[int]  # result slots


@dataclass
class SetItemEvent:
    target: Any  # Slot index or GradRef
    key: Any
    value: Any  # Slot index, GradRef or ("py", value)


@dataclass
class CopyEvent:
    """A Tensor made in the step from an array the step computed (``Tensor(X / 255)``): its
    data is a copy of that value, made again at every replay."""

    source: Any  # Slot index or GradRef
    out: int


@dataclass
class SetGradEvent:
    """``target.grad = value`` written in the step (``p.grad = None`` by hand, say)."""

    target: GradRef
    value: Any  # Slot index, GradRef or ("py", value)


@dataclass
class HostEvent:
    method: Callable[..., Any]
    owner: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass
class Tape:
    slots: list[Slot] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    output: Any = None  # structure with ("slot", i) leaves
    optimizers: list[tuple[Any, tuple[Tensor, ...]]] = field(default_factory=list)
    # (module, its training flag) for every nn.Module called while tracing: the plan holds
    # only while each is in the same mode (Dropout and BatchNorm branch on it in Python)
    modules: list[tuple[Any, bool]] = field(default_factory=list)
    buffers: list[np.ndarray] = field(default_factory=list)  # planned by the passes
    recorded: list[Any] = field(default_factory=list)  # the events as traced (before passes)

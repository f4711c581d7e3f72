"""Module: a container of named parameters and buffers, with state dicts, checkpoints and a
scope for pictures."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_nn import _checks, modes
from tinygrad_nn._version import __version__
from tinygrad_nn.io import save_arrays
from tinygrad_nn.tensor import Tensor, scope

__all__ = ["Module"]


class Module:
    """Base class of layers and networks: holds parameters and sub-modules, in order.

    Assigning a leaf Tensor with ``requires_grad=True`` to an attribute registers it as a
    parameter under the attribute's name; assigning a Module registers it as a sub-module (and
    names its scope after the attribute unless it already has a name). State that is not trained
    but belongs to the model (BatchNorm's running statistics) is a *buffer*:
    :meth:`register_buffer`; ``state_dict``, ``load_state_dict`` and ``save`` hold buffers too.
    Subclasses call ``super().__init__()`` first and define ``forward``.

    Attributes
    ----------
    scope_name : str or None
        The scope tensors made by ``forward`` are tagged with (``t.scope``); ``None`` (the
        default for a top-level module) adds no scope.
    training : bool
        True (the default) in training mode, False after :meth:`eval`; layers such as
        ``Dropout`` and ``BatchNorm2d`` behave differently in the two modes.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.k = Tensor([[2.0]], requires_grad=True)
    ...     def forward(self, x):
    ...         return self.k * x
    >>> net = Scale()
    >>> [name for name, _ in net.named_parameters()]
    ['k']
    >>> net(Tensor([[1.0, 3.0]])).data
    array([[2., 6.]])
    """

    # Set by __init__ (through object.__setattr__, past the registration below); declared for
    # type checkers.
    _parameters: dict[str, Tensor]
    _buffers: dict[str, np.ndarray | None]
    _modules: dict[str, Module]
    scope_name: str | None
    training: bool  # set by __init__ and train(); declared for type checkers

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "scope_name", None)
        object.__setattr__(self, "training", True)

    # ---- registration ---------------------------------------------------------------------

    def __setattr__(self, key: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before it sets "
                f"attributes (setting {key!r})"
            )
        parameters: dict[str, Tensor] = self._parameters
        modules: dict[str, Module] = self._modules
        if key in self._buffers:  # ``self.running_mean *= 0.9`` assigns the buffer again
            self._buffers[key] = self._buffer_value(key, value)
            object.__setattr__(self, key, value)
            return
        if isinstance(value, Tensor) and value.is_leaf and value.requires_grad:
            modules.pop(key, None)
            parameters[key] = value  # reassigning keeps the parameter's place in the order
        elif isinstance(value, Module):
            parameters.pop(key, None)
            modules[key] = value
            if value.scope_name is None:
                value.scope_name = key
        else:
            parameters.pop(key, None)
            modules.pop(key, None)
        object.__setattr__(self, key, value)

    def __delattr__(self, key: str) -> None:
        self._parameters.pop(key, None)
        self._buffers.pop(key, None)
        self._modules.pop(key, None)
        object.__delattr__(self, key)

    def register_buffer(self, name: str, value: np.ndarray | None) -> None:
        """Keep ``value`` as the attribute ``name``: model state that is not trained (no
        gradient, not in :meth:`parameters`) but that :meth:`state_dict`, :meth:`load_state_dict`
        and :meth:`save` hold, such as BatchNorm's ``running_mean``. ``None`` keeps the name
        registered but holds nothing (left out of ``state_dict``).

        Examples
        --------
        >>> import numpy as np
        >>> class Counter(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.register_buffer("seen", np.zeros(1))
        >>> c = Counter()
        >>> c.seen += 3
        >>> c.state_dict(), c.parameters()
        ({'seen': array([3.])}, [])
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: name must be an identifier; got {name!r}")
        if name in self._parameters or name in self._modules:
            raise ValueError(
                f"{type(self).__name__}.register_buffer: {name!r} is already a parameter or a "
                f"sub-module"
            )
        self._buffers[name] = self._buffer_value(name, value)
        object.__setattr__(self, name, value)

    def _buffer_value(self, name: str, value: Any) -> np.ndarray | None:
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(
                f"{type(self).__name__}.{name} is a buffer: it holds an ndarray or None; got "
                f"{type(value).__name__}"
            )
        return value

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` for every buffer that holds an array: this module's own first,
        then each sub-module's as ``"<submodule>.<name>"``, in registration order.

        Examples
        --------
        >>> from tinygrad_nn.nn import BatchNorm1d, Sequential
        >>> [name for name, _ in Sequential(BatchNorm1d(3)).named_buffers()]
        ['0.running_mean', '0.running_var']
        """
        result = [(name, value) for name, value in self._buffers.items() if value is not None]
        for module_name, module in self._modules.items():
            result += [(f"{module_name}.{name}", value) for name, value in module.named_buffers()]
        return result

    # ---- parameters -------------------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """``(name, tensor)`` for every parameter: this module's own first, then each
        sub-module's as ``"<submodule>.<name>"``, in registration order; each tensor once.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> [name for name, _ in Linear(3, 2).named_parameters()]
        ['W', 'b']
        """
        result: list[tuple[str, Tensor]] = []
        seen: set[int] = set()
        for name, parameter in self._parameters.items():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                result.append((name, parameter))
        for module_name, module in self._modules.items():
            for name, parameter in module.named_parameters():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    result.append((f"{module_name}.{name}", parameter))
        return result

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of :meth:`named_parameters` (hand it to an optimizer).

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> [p.name for p in MLP([2, 3, 1]).parameters()]
        ['W1', 'b1', 'W2', 'b2']
        """
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (set ``.grad`` to ``None``).

        ``backward()`` adds into existing gradients, so call this before each new one.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> layer = Linear(2, 1)
        >>> layer(np.ones((2, 3))).sum().backward()
        >>> layer.zero_grad()
        >>> layer.W.grad is None
        True
        """
        for parameter in self.parameters():
            parameter.grad = None

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, ``name -> ndarray``, in parameter order, then of
        every buffer (:meth:`named_buffers`).

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> {name: value.shape for name, value in MLP([2, 3, 1]).state_dict().items()}
        {'W1': (3, 2), 'b1': (3, 1), 'W2': (1, 3), 'b2': (1, 1)}
        """
        state = {name: parameter.data.copy() for name, parameter in self.named_parameters()}
        state.update((name, value.copy()) for name, value in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from ``state`` (as :meth:`state_dict` returns it) into the parameters
        and buffers.

        Every name must be present and no other; every value must have the parameter's exact
        shape and dtype. Otherwise a ``ValueError`` lists every problem and **nothing** is
        loaded. Values are copied in place (the parameter tensors stay the same objects, so an
        optimizer holding them keeps working).

        Examples
        --------
        >>> from tinygrad_nn.nn import MLP
        >>> a, b = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> bool((a.W1.data == b.W1.data).all())
        True
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: state must be a mapping name -> array (as state_dict() "
                f"returns); got {type(state).__name__}"
            )
        own: dict[str, Tensor | np.ndarray] = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [name for name in own if name not in state]
        unexpected = [str(name) for name in state if name not in own]
        mismatched: list[str] = []
        values: dict[str, np.ndarray] = {}
        for name, parameter in own.items():
            if name not in state:
                continue
            value = state[name]
            if isinstance(value, Tensor):
                value = value.data
            try:
                array = np.asarray(value)
            except (ValueError, TypeError):
                mismatched.append(f"{name}: {type(value).__name__} is not an array")
                continue
            if array.shape != parameter.shape:
                mismatched.append(f"{name}: shape {array.shape}, expected {parameter.shape}")
            elif array.dtype != parameter.dtype:
                mismatched.append(f"{name}: dtype {array.dtype}, expected {parameter.dtype}")
            else:
                values[name] = array
        problems = _checks.mismatches(missing, unexpected, mismatched)
        if problems:
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: {problems}. Nothing was loaded."
            )
        for name, array in values.items():
            target = own[name]
            if isinstance(target, Tensor):
                np.copyto(target.data, array)
                target.mark_modified()
            else:
                np.copyto(target, array)

    # ---- training and evaluation mode ------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every
        sub-module, recursively; returns the module, so ``model.train()`` can be chained.

        Examples
        --------
        >>> from tinygrad_nn.nn import Dropout, Sequential
        >>> net = Sequential(Dropout(0.5))
        >>> net.eval().training, net[0].training
        (False, False)
        >>> net.train().training, net[0].training
        (True, True)
        """
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be a bool; got {mode!r}")
        object.__setattr__(self, "training", mode)
        for module in self._modules.values():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode, recursively: the same as ``train(False)``.

        Examples
        --------
        >>> from tinygrad_nn.nn import Dropout
        >>> Dropout(0.5).eval().training
        False
        """
        return self.train(False)

    # ---- running ----------------------------------------------------------------------------

    def _scope(self) -> contextlib.AbstractContextManager[None]:
        if self.scope_name is None:
            return contextlib.nullcontext()
        return scope(self.scope_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tracer = modes.state.tracer
        if tracer is not None:  # compiler hook: a plan replays only in the modes it was traced in
            tracer.on_module(self)
        with self._scope():
            return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it. Call the module, not this method, so that
        the tensors made get the module's scope.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> layer = Linear(2, 1)
        >>> layer.scope_name = "head"
        >>> layer(np.ones((2, 3))).scope
        'head'
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def config(self) -> dict[str, Any] | None:
        """The constructor arguments that rebuild this module (stored in checkpoints), or
        ``None`` when the module cannot be rebuilt from them.

        Examples
        --------
        >>> from tinygrad_nn.nn import Linear
        >>> Linear(3, 2, seed=0).config()
        {'n_in': 3, 'n_out': 2, 'init': 'article', 'seed': 0, 'dtype': 'float64'}
        """
        return None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters, the buffers and the model's description to ``path`` (``.npz``).

        The file holds one array per parameter and buffer (its own dtype, so the round trip is
        bit-identical) and JSON metadata: class name, :meth:`config` (for an MLP: layer_dims,
        activation, output_activation, init, seed, dtype), the parameter dtype and the format
        version. It is written atomically (see :func:`atomic_write`): if anything fails, the
        error reaches the caller and a previous file at ``path`` is untouched. The path is used
        as given (no ``.npz`` is appended). :func:`load` reads it back.

        Examples
        --------
        >>> import os, tempfile
        >>> from tinygrad_nn.nn import MLP, load
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> MLP([2, 3, 1]).save(path)
        >>> load(path)
        MLP(layer_dims=[2, 3, 1], activation='sigmoid', seed=3, init='article', dtype='float64', \
output_activation='sigmoid')
        """
        named = self.named_parameters()
        buffers = self.named_buffers()
        dtypes = sorted({parameter.dtype.name for _, parameter in named})
        metadata = {
            "kind": "model",
            "class": type(self).__name__,
            "config": self.config(),
            "dtype": dtypes[0] if len(dtypes) == 1 else dtypes,
            "parameters": [name for name, _ in named],
            "tinygrad_nn_version": __version__,
        }
        if buffers:  # (a key only when there are any: older readers see the same metadata)
            metadata["buffers"] = [name for name, _ in buffers]
        arrays = {name: parameter.data for name, parameter in named}
        arrays.update(buffers)
        save_arrays(path, arrays, metadata)

    def _repr_html_(self) -> str:  # a notebook's display: layers and parameter counts
        from tinygrad_nn.viz.html import module_html  # viz imports nn's Tensor: no cycle here

        return module_html(self)

    def __repr__(self) -> str:
        config = self.config()
        if config is None:
            return f"{type(self).__name__}()"
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        return f"{type(self).__name__}({arguments})"

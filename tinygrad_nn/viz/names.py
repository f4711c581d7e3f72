"""The names a graph's tensors go by in pictures and formulas: the user's, or the article's.

A tensor with a ``name`` keeps it. Others get the article's names where the graph tells:
``Z{l}`` for what a layer's linear part makes, ``A{l}`` for its activation (an op the registry
marks as an activation), the layer number from the module scope (``layer2``) or a parameter's
name (``W2``); ``J`` for an unnamed scalar loss; the value for a one-element constant. The rest
get their op's name and a counter (``mul3``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from tinygrad_nn import ops as _ops
from tinygrad_nn.viz._common import _number

__all__: list[str] = []

_SIMPLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER_NAME = re.compile(r"-?[0-9.]+(e[-+]?[0-9]+)?|nan|-?inf")
_BRACKETED = re.compile(r"d?\([^()]*\)")  # "(W2@A1)" or its gradient "d(W2@A1)"
_TRAILING_DIGITS = re.compile(r"[A-Za-z_]*?(\d+)$")


def _is_activation(op_name: str | None) -> bool:
    """Whether the registry marks ``op_name`` as an activation (its output is a layer's ``A``)."""
    info = _ops.REGISTRY.get(op_name or "")
    return info is not None and info.activation_init is not None


@functools.lru_cache(maxsize=4096)
def _paren(name: str) -> str:
    """``name`` ready to go into a formula: compound names get parentheses."""
    atomic = (_SIMPLE_NAME.fullmatch(name) or _NUMBER_NAME.fullmatch(name)
              or _BRACKETED.fullmatch(name))
    return name if atomic else f"({name})"


@functools.lru_cache(maxsize=4096)
def _grad_name(name: str) -> str:
    return "d" + name if _SIMPLE_NAME.fullmatch(name) else f"d({name})"


class _Namer:
    """Names for the tensors of one graph, the article's where it can tell: ``Z2`` is what a
    layer's linear part makes, ``A2`` its activation; the layer number comes from the module
    scope (``layer2``) or a parameter's name (``W2``)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.layers: dict[int, int | None] = {}
        self.counters: dict[str, int] = {}

    def layer(self, t: Any) -> int | None:
        """The layer number of ``t``: from its scope, a numbered parameter it uses, or (an
        activation) its input's. Iterative: a chain of 10,000 activations is fine."""
        chain = []
        while id(t) not in self.layers:
            number = self._own_layer(t)
            if number is None and _is_activation(t.op) and len(t.parents) == 1:
                chain.append(t)  # an activation is in its input's layer
                t = t.parents[0]
                continue
            self.layers[id(t)] = number
        number = self.layers[id(t)]
        for link in chain:
            self.layers[id(link)] = number
        return number

    def _own_layer(self, t: Any) -> int | None:
        if t.scope is not None:
            match = _TRAILING_DIGITS.fullmatch(t.scope.rpartition(".")[2])
            if match:
                return int(match.group(1))
        if t.op is not None:
            for p in t.parents:
                if p.is_leaf and p.requires_grad and p.name:
                    match = _TRAILING_DIGITS.fullmatch(p.name)
                    if match:
                        return int(match.group(1))
        return None

    def __call__(self, t: Any) -> str:
        key = id(t)
        if key in self.names:
            return self.names[key]
        if t.name:
            name = t.name
        elif t is self.root and t.size == 1:
            name = "J"
        elif t.is_leaf and not t.requires_grad and t.size == 1:
            name = _number(float(t.data.reshape(-1)[0]))
            self.names[key] = name  # constants may repeat: "1" is "1"
            return name
        else:
            name = self._guess(t)
        if name in self.used:
            k = 2
            while f"{name}_{k}" in self.used:
                k += 1
            name = f"{name}_{k}"
        self.used.add(name)
        self.names[key] = name
        return name

    def input_of(self, consumer: Any, position: int) -> str:
        """Name the input at ``position`` of ``consumer``; unnamed data gets its role's name:
        ``X`` for the first layer's input, ``Y`` for the labels of the fused cost."""
        t = consumer.parents[position]
        if id(t) in self.names or t.name or not t.is_leaf or t.requires_grad or t.size == 1:
            return self(t)
        role = None
        if consumer.op in ("linear", "matmul") and position == 1:
            number = self.layer(consumer)
            if number is not None:
                role = "X" if number <= 1 else f"A{number - 1}"
        elif consumer.op == "bce_with_logits" and position == 1:
            role = "Y"
        if role is None or role in self.used:
            return self(t)
        self.used.add(role)
        self.names[id(t)] = role
        return role

    def article_name(self, t: Any) -> str | None:
        """``Z{l}`` or ``A{l}`` for an unnamed tensor that layer ``l`` made, else None."""
        if t.name or t.is_leaf:
            return None
        number = self.layer(t)
        if number is None:
            return None
        if _is_activation(t.op):
            return self(t) if self._guess(t) == f"A{number}" else None
        if t.op == "linear" or (t.op == "add" and any(p.op == "matmul" for p in t.parents)):
            return self(t)
        return None

    def _guess(self, t: Any) -> str:
        if t.is_leaf:
            return self._count("param" if t.requires_grad else "const")
        number = self.layer(t)
        if number is not None:
            if _is_activation(t.op):
                return f"A{number}"
            if t.op == "linear" or (
                t.op == "add" and any(p.op == "matmul" for p in t.parents)
            ):
                return f"Z{number}"
        if t.op == "matmul" and len(t.parents) == 2:
            return f"{_paren(self(t.parents[0]))}@{_paren(self(t.parents[1]))}"
        return self._count(t.op or "t")

    def _count(self, stem: str) -> str:
        self.counters[stem] = self.counters.get(stem, 0) + 1
        return f"{stem}{self.counters[stem]}"


@functools.lru_cache(maxsize=256)
def _variables_pattern(variables: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(variables, key=len, reverse=True))
    return re.compile(r"(?<![A-Za-z0-9_])(" + alternatives + r")(?![A-Za-z0-9_])")


def _substitute(formula: str, names: Mapping[str, str]) -> str:
    """Replace the formula's variable letters by this graph's names, as whole words."""
    if not names:
        return formula
    pattern = _variables_pattern(tuple(sorted(names)))
    return pattern.sub(lambda m: _paren(names[m.group(1)]), formula)

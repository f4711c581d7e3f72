"""viz.plan_to_dot and draw_plan: the compiled plan beside the recorded article step."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Tensor, nn, optim, viz


def _article_step() -> Any:
    model = nn.MLP([2, 4, 3, 1], seed=3)
    opt = optim.SGD(model.parameters(), lr=2.0)

    @tg.compile
    def step(X: Any, Y: Any) -> Tensor:
        loss = nn.binary_cross_entropy(model(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    X, Y = tg.data.load("article", m=40, seed=0)
    for _ in range(3):
        step(X, Y)
    return step


def _labels(dot: str) -> dict[str, str]:
    """Node -> label; an executed step's is its bold name (its code lines follow it)."""
    found = re.findall(r'^\s*(\w+) \[label=(?:"([^"]*)"|<<b>([^<]*)</b>)', dot, flags=re.M)
    return {node: quoted or bold for node, quoted, bold in found}


def _arrows(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(r\d+) -> (e\d+) \[style=dashed", dot, flags=re.M)


def test_the_plan_shows_matmul_and_add_becoming_one_gemm_bias() -> None:
    dot = viz.plan_to_dot(_article_step())
    labels = _labels(dot)
    into = {}
    for r, e in _arrows(dot):
        into.setdefault(labels[e], []).append(labels[r].split("\\n")[0])
    assert sorted(into["gemm_bias(out=Z1)"]) == ["add", "matmul"]


def test_the_plan_shows_the_sigmoid_and_log_cost_becoming_bce_logits() -> None:
    dot = viz.plan_to_dot(_article_step())
    labels = _labels(dot)
    recorded = [labels[r].split("\\n")[0] for r, e in _arrows(dot) if labels[e] == "bce_logits"]
    assert {"sigmoid", "log", "clip", "mean", "neg"} <= set(recorded)


def test_every_recorded_event_points_to_the_step_that_executes_it() -> None:
    dot = viz.plan_to_dot(_article_step())
    recorded_nodes = {n for n in _labels(dot) if n.startswith("r")}
    pointed = {r for r, _ in _arrows(dot)}
    assert recorded_nodes - pointed <= {  # only 1 - Y (a constant's work, dropped) may be unused
        n for n in recorded_nodes if _labels(dot)[n].startswith("sub")
    }


def test_plan_to_dot_of_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"plan_to_dot.*compile"):
        viz.plan_to_dot(lambda: None)


def test_plan_to_dot_before_the_trace_says_when_it_is_traced() -> None:
    step = tg.compile(lambda: Tensor([1.0], requires_grad=True).sum())
    step()
    with pytest.raises(tg.CompileError, match="second call"):
        viz.plan_to_dot(step)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_draws_the_plan(tmp_path: Any) -> None:
    path = tmp_path / "plan.svg"
    subprocess.run(["dot", "-Tsvg", "-o", str(path)], input=viz.plan_to_dot(_article_step()),
                   text=True, check=True)
    assert "gemm_bias" in path.read_text()


def test_draw_plan_wraps_the_same_text() -> None:
    pytest.importorskip("graphviz")
    step = _article_step()
    assert viz.draw_plan(step).source == viz.plan_to_dot(step)


def test_each_executed_step_shows_its_lines_of_the_replays_source() -> None:
    step = _article_step()
    dot = viz.plan_to_dot(step)
    (gemm,) = [line for line in dot.splitlines() if "<b>gemm_bias(out=Z1)</b>" in line]
    assert "matmul(W1_b1, X_ones, out=Z1)" in gemm  # one product: [W1 | b1]·[X; 1]
    assert all(line in step.plan.source for line in step.plan.steps[0].code)


def test_the_plans_picture_matches_its_steps() -> None:
    step = _article_step()
    labels = _labels(step.plan.to_dot())
    executed = [labels[f"e{k}"] for k in range(len(step.plan.steps))]
    assert executed == [s.name for s in step.plan.steps]
    assert np.isfinite(step(*tg.data.load("article", m=40, seed=0)).item())

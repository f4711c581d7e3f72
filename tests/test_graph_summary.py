"""Drawing after backward(): the summary the backward pass leaves, and what it must not keep."""

import gc
import re
import threading
import tracemalloc

import numpy as np
import pytest
from conftest import graph_refs

from tinygrad_nn import Tensor, graph_summary, nn, viz
from tinygrad_nn.optim import SGD

BOX = re.compile(r"^\s*t\d+ \[label=<(.*)>", re.MULTILINE)


def boxes(dot):
    """The label of every tensor box of a DOT text."""
    return BOX.findall(dot)


def small_expression():
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, -1.0], requires_grad=True, name="b")
    c = Tensor(0.5, name="c")
    return a, b, ((a * b).sigmoid() + c).sum()



def test_drawing_after_backward_shows_a_gradient_on_every_tensor():
    kept = small_expression()  # the user keeps a and b, as a script does
    loss = kept[2]
    loss.backward()
    labels = boxes(viz.to_dot(loss))
    with_grad = [label for label in labels if "grad " in label]
    # a, b, a*b, sigmoid, + c, sum: everything but the constant c, which gets no gradient
    assert len(labels) == 7 and len(with_grad) == 6
    assert all("grad" not in label for label in labels if "<B>c</B>" in label)


def test_the_gradients_drawn_after_backward_are_the_ones_backward_computed():
    a, b, loss = small_expression()
    s = (a * b).sigmoid().data
    loss.backward()
    dot = viz.to_dot(loss)
    product = [label for label in boxes(viz.to_dot(loss)) if "[3, -2]" in label]
    expected = ", ".join(viz._common._number(v) for v in s * (1 - s))
    assert len(product) == 1 and f"grad [{expected}]" in product[0]
    assert f"grad [{', '.join(viz._common._number(v) for v in a.grad)}]" in dot


def test_a_parameter_only_the_expression_held_is_still_drawn_with_its_gradient():
    loss = (Tensor([1.0, 2.0], requires_grad=True, name="inline") * 3.0).sum()
    loss.backward()
    inline = [label for label in boxes(viz.to_dot(loss)) if "<B>inline</B>" in label]
    assert len(inline) == 1 and "[1, 2]" in inline[0] and "grad [3, 3]" in inline[0]


def test_explain_and_draw_graph_work_after_backward():
    _, _, loss = small_expression()
    loss.backward()
    assert viz.explain(loss).steps[-1].kind == "leaf"
    assert viz.draw_graph(loss).source == viz.to_dot(loss)


def test_a_tensor_inside_a_released_graph_can_be_drawn_on_its_own():
    a, b, _ = small_expression()
    product = a * b
    (product.sigmoid() + 1.0).sum().backward()
    dot = viz.to_dot(product)
    assert "<B>mul</B>" in dot and "<B>sigmoid</B>" not in dot


def test_tensors_too_big_to_keep_say_that_backward_did_not_keep_their_values():
    x = Tensor(np.ones((10, 10)), requires_grad=True, name="x")
    loss = (x * 2.0).sum()
    loss.backward()
    product = [label for label in boxes(viz.to_dot(loss)) if "(10, 10)" in label and "<B>x</B>"
               not in label]
    assert len(product) == 1
    assert "not kept by backward()" in product[0] and "grad not kept" in product[0]
    # the parameter the user holds is drawn live, values and gradient
    assert "min 1  mean 1  max 1" in viz.to_dot(loss) and "grad min 2" in viz.to_dot(loss)


def test_backward_with_retain_graph_shows_intermediate_gradients_without_retain_grad():
    a, b, loss = small_expression()
    product = a * b
    loss = (product.sigmoid() + 1.0).sum()
    loss.backward(retain_graph=True)
    assert product.grad is None  # the engine's rule: only retain_grad() sets it
    labels = [label for label in boxes(viz.to_dot(loss)) if "[3, -2]" in label]
    assert len(labels) == 1 and "grad [" in labels[0]


def test_only_the_last_backward_of_a_thread_is_summarised():
    _, _, first = small_expression()
    first.backward()
    summary = graph_summary.last_summary()
    _, _, second = small_expression()
    second.backward()
    assert graph_summary.last_summary() is not summary
    assert not graph_summary.last_summary().covers(first)
    with pytest.raises(ValueError, match="last backward"):
        viz.to_dot(first)


def test_each_thread_keeps_its_own_summary():
    _, _, loss = small_expression()
    loss.backward()

    def other_thread():
        small_expression()[2].backward()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert graph_summary.last_summary().covers(loss)


def test_the_summary_holds_no_array_only_copies_of_tensors_up_to_keep_elements():
    X = Tensor(np.random.default_rng(0).normal(size=(2, 256)), name="X")
    Y = Tensor(np.ones((1, 256)), name="Y")
    model = nn.MLP([2, 8, 1])
    nn.binary_cross_entropy(model(X), Y).backward()
    summary = graph_summary.last_summary()
    parts = [part for record in summary._records.values() for part in record]
    assert not any(isinstance(part, np.ndarray) for part in parts)  # copies, as plain lists
    kept = [part for part in parts if isinstance(part, (list, float))]
    assert kept and max(np.size(part) for part in kept) <= graph_summary.KEEP_ELEMENTS


def test_a_kept_loss_keeps_none_of_its_graphs_tensors_or_arrays_after_backward():
    gc.disable()
    try:
        X = Tensor(np.random.default_rng(0).normal(size=(2, 256)), name="X")
        Y = Tensor(np.ones((1, 256)), name="Y")
        model = nn.MLP([2, 8, 1])
        losses = []
        for _ in range(3):
            loss = nn.binary_cross_entropy(model(X), Y)
            refs = graph_refs(loss)
            losses.append(loss)
            loss.backward()
            assert sum(r() is not None for r in refs) == 2  # the loss and its 0-d value
            assert "<B>sigmoid</B>" in viz.to_dot(loss)  # and it still draws
    finally:
        gc.enable()


def test_training_with_every_loss_kept_adds_no_memory_per_step():
    X = Tensor(np.random.default_rng(0).normal(size=(2, 256)), name="X")
    Y = Tensor(np.ones((1, 256)), name="Y")
    model = nn.MLP([2, 8, 8, 1])
    optimizer = SGD(model.parameters(), lr=0.1)
    losses = []

    def steps(n):
        for _ in range(n):
            optimizer.zero_grad()
            loss = nn.binary_cross_entropy(model(X), Y)
            loss.backward()
            optimizer.step()
            losses.append(loss)

    steps(20)
    tracemalloc.start()
    try:
        arrays_only = tracemalloc.DomainFilter(inclusive=True, domain=np.lib.tracemalloc_domain)
        before = tracemalloc.take_snapshot().filter_traces([arrays_only])
        steps(300)
        after = tracemalloc.take_snapshot().filter_traces([arrays_only])
    finally:
        tracemalloc.stop()
    added = sum(s.size_diff for s in after.compare_to(before, "filename"))
    # each kept loss is one 0-d array (~100 bytes); one step's graph is ~100 kB
    assert added < 300 * 400


def test_paused_backward_passes_leave_no_summary_and_keep_the_last_one():
    _, _, drawn = kept = small_expression()
    drawn.backward()
    with graph_summary.paused():
        _, _, hot = small_expression()
        hot.backward()
        assert graph_summary.last_summary().covers(drawn)
    assert "grad " in viz.to_dot(drawn)
    with pytest.raises(ValueError, match="last backward"):
        viz.to_dot(hot)
    assert kept

"""Notebook display: Tensor and Module as rich HTML (tinygrad_nn.viz.html)."""

import numpy as np

from tinygrad_nn import Tensor, nn
from tinygrad_nn.viz.html import module_html, tensor_html


def test_a_tensor_shows_its_name_shape_dtype_and_values():
    html = Tensor(np.array([[1.5, -2.0]], np.float32), name="W")._repr_html_()
    assert "<b>W</b>" in html and "(1, 2)" in html and "float32" in html
    assert "1.5" in html and "-2." in html


def test_a_parameter_shows_its_gradient_after_backward_and_says_how_to_get_it_before():
    w = Tensor([3.0, -1.0], requires_grad=True, name="w")
    assert "None (call backward()" in tensor_html(w)
    (w * w).sum().backward()
    html = tensor_html(w)
    assert "grad" in html and "6." in html and "None" not in html


def test_an_intermediate_says_what_made_it_and_that_backward_released_its_graph():
    w = Tensor([3.0, -1.0], requires_grad=True, name="w")
    loss = (w * w).sum()
    assert "made by sum" in tensor_html(loss) and "released" not in tensor_html(loss)
    loss.backward()
    assert "graph released by backward()" in tensor_html(loss)


def test_a_big_tensor_shows_a_preview_with_the_middle_elided():
    html = tensor_html(Tensor(np.arange(10_000.0).reshape(100, 100)))
    assert "..." in html and len(html) < 3000 and "9999." in html


def test_names_are_escaped_for_html():
    html = tensor_html(Tensor([1.0], name="<a & b>"))
    assert "&lt;a &amp; b&gt;" in html and "<a & b>" not in html


def test_a_module_lists_each_layer_with_its_parameter_shapes_and_counts_and_the_total():
    model = nn.MLP([2, 3, 1])
    html = model._repr_html_()
    assert html == module_html(model)
    assert "layer1" in html and "layer2" in html and "W (3, 2)" in html and "b (1, 1)" in html
    assert ">9</td>" in html and ">4</td>" in html  # 3·2 + 3 and 1·3 + 1
    assert "13 parameters" in html and "MLP(" in html


def test_a_module_without_parameters_shows_zero():
    class Doubler(nn.Module):
        def forward(self, x):
            return x * 2

    assert "0 parameters" in module_html(Doubler())

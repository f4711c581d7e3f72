"""Specification of tinygrad_nn.viz's graph pictures: to_dot, draw_graph, render."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from viz_networks import article_network, chain, deep_net

from tinygrad_nn import Tensor, viz
from tinygrad_nn.tensor import scope

SVG = "{http://www.w3.org/2000/svg}"
NODE_LINE = re.compile(r"^\s*(\w+) \[label=", re.MULTILINE)


def node_names(dot):
    return NODE_LINE.findall(dot)


def node_line(dot, text):
    lines = [line for line in dot.splitlines() if "[label=" in line and text in line]
    assert len(lines) == 1, f"expected one node line containing {text!r}, got {lines}"
    return lines[0]


def fill(line):
    return re.search(r'fillcolor="([^"]+)"', line).group(1)


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


# --- to_dot: what the picture shows -------------------------------------------------------------


def test_to_dot_is_a_digraph_naming_parameters_inputs_shapes_and_dtypes():
    net = article_network()
    dot = viz.to_dot(net["J"])
    assert dot.startswith("digraph tinygrad_nn {\n") and dot.endswith("}\n")
    for name in ("W1", "b1", "W2", "b2", "X", "Y"):
        assert f"<B>{name}</B>" in dot
    assert "(3, 2) float64" in dot and "(1, 4) float64" in dot and "scalar float64" in dot


def test_each_op_is_its_own_node_with_its_name_and_its_backward_rules_from_the_registry():
    net = article_network()
    dot = viz.to_dot(net["J"])
    op_lines = [line for line in dot.splitlines() if "shape=ellipse" in line]
    assert len(op_lines) == 4  # linear, sigmoid, linear, bce_with_logits
    sigmoid = node_line(dot, "<B>sigmoid</B>")
    assert "dZ1 = g·A1·(1−A1)" in sigmoid  # the registry's dx = g·y·(1−y), in this graph's names
    layer1 = [line for line in op_lines if "<B>linear</B>" in line and "W1" in line]
    assert len(layer1) == 1
    for rule in ("dW1 = g @ Xᵀ", "dX = W1ᵀ @ g", "db1 = g (summed over columns"):
        assert rule in layer1[0]


def test_show_formulas_false_keeps_op_names_but_drops_the_rules():
    dot = viz.to_dot(article_network()["J"], show_formulas=False)
    assert "<B>sigmoid</B>" in dot
    assert "g·A1·(1−A1)" not in dot and "g·y·(1−y)" not in dot


def test_rules_use_the_users_names_and_a_key_that_never_reads_as_a_users_tensor():
    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    c = Tensor(1.0, requires_grad=True, name="c")
    dot = viz.to_dot(b * a + c)  # mul's first input is the user's b
    mul = node_line(dot, "<B>mul</B>")
    assert "db = g·a" in mul and "da = g·b" in mul
    # add's unnamed input (b*a) is keyed on its edge, by a name that is not the user's a or b
    assert re.findall(r"-> o\d+ \[label=<(\w+)>", dot) == ["mul1"]
    assert "dmul1 = g" in node_line(dot, "<B>add</B>")


def test_an_unnamed_input_keeps_its_rule_letter_and_its_edge_carries_that_letter_as_a_key():
    x = Tensor(2.0, requires_grad=True, name="x")
    dot = viz.to_dot(x.exp() * x)  # mul's inputs: the unnamed exp(x), then x
    mul = node_line(dot, "<B>mul</B>")
    assert "da = g·x" in mul and "dx = g·a" in mul
    assert re.findall(r"-> o\d+ \[label=<(\w+)>", dot) == ["a"]


def test_an_input_used_twice_keeps_the_letters_with_one_key_per_edge():
    x = Tensor(2.0, requires_grad=True, name="x")
    mul = node_line(viz.to_dot(x * x), "<B>mul</B>")
    assert "da = g·b" in mul and "db = g·a" in mul


def test_intermediates_of_an_mlp_carry_the_articles_names():
    from tinygrad_nn import nn

    model = nn.MLP([2, 3, 1])
    X = Tensor(np.ones((2, 4)), name="X")
    Y = Tensor(np.ones((1, 4)), name="Y")
    dot = viz.to_dot(nn.binary_cross_entropy(model(X), Y))
    for name in ("Z1", "A1", "Z2", "A2"):
        assert len([line for line in dot.splitlines() if f"<B>{name}</B>" in line]) == 1
    assert "dZ2 = g·A2·(1−A2)" in node_line(dot, "dZ2 = g·A2")


def test_small_tensors_show_their_values_and_big_ones_a_min_mean_max_summary():
    small = Tensor([[1.5, -2.0]], requires_grad=True, name="small")
    big = Tensor(np.arange(12.0).reshape(3, 4), name="big")
    dot = viz.to_dot(small.sum() + big.sum())
    assert "[[1.5, -2]]" in node_line(dot, "<B>small</B>")
    assert "min 0  mean 5.5  max 11" in node_line(dot, "<B>big</B>")


def test_a_matrix_is_shown_one_row_per_line():
    W = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="W")
    assert "[[1, 2],<BR/> [3, 4]]" in viz.to_dot(W.sum())


def test_gradients_appear_after_backward_with_retain_graph_and_not_before():
    net = article_network()
    assert "grad " not in viz.to_dot(net["J"])
    net["J"].backward(retain_graph=True)
    w2 = node_line(viz.to_dot(net["J"]), "<B>W2</B>")
    expected = "grad [[" + ", ".join(viz._common._number(v) for v in net["W2"].grad.ravel()) + "]]"
    assert expected in w2


def test_show_values_and_show_grads_false_leave_only_names_shapes_and_dtypes():
    net = article_network()
    net["J"].backward(retain_graph=True)
    line = node_line(viz.to_dot(net["J"], show_values=False, show_grads=False), "<B>b1</B>")
    assert line.split("label=<")[1].split(">,")[0] == "<B>b1</B><BR/>(3, 1) float64"


def test_parameters_inputs_intermediates_and_the_loss_are_styled_apart():
    net = article_network(cost="bce")
    dot = viz.to_dot(net["J"])
    parameter = fill(node_line(dot, "<B>W1</B>"))
    data_input = fill(node_line(dot, "<B>X</B>"))
    loss = fill(node_line(dot, "<B>loss</B>"))
    assert len({parameter, data_input, loss}) == 3
    assert "bold" in node_line(dot, "<B>loss</B>")


def test_inputs_that_receive_no_gradient_are_drawn_with_dashed_edges():
    dot = viz.to_dot(article_network()["J"])
    x_id = node_line(dot, "<B>X</B>").split()[0]
    w_id = node_line(dot, "<B>W1</B>").split()[0]
    x_edge = next(line for line in dot.splitlines() if line.strip().startswith(f"{x_id} ->"))
    w_edge = next(line for line in dot.splitlines() if line.strip().startswith(f"{w_id} ->"))
    assert "dashed" in x_edge and "dashed" not in w_edge


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_marked_in_red(bad):
    w = Tensor([1.0, bad], requires_grad=True, name="w")
    ok = Tensor([1.0, 2.0], requires_grad=True, name="ok")
    dot = viz.to_dot((w * ok).sum())
    assert 'color="#d00000"' in node_line(dot, "<B>w</B>")
    assert "⚠" in node_line(dot, "<B>w</B>")
    assert "#d00000" not in node_line(dot, "<B>ok</B>")


def test_non_finite_gradients_are_marked_in_red():
    w = Tensor([0.0, 1.0], requires_grad=True, name="w")
    with np.errstate(divide="ignore"):
        loss = w.log().sum()
        loss.backward(retain_graph=True)
    line = node_line(viz.to_dot(loss), "<B>w</B>")
    assert "grad [inf, 1]" in line and 'color="#d00000"' in line


def test_names_and_scopes_are_escaped_for_html_labels():
    w = Tensor([1.0], requires_grad=True, name='<W & "b">')
    with scope("a<b>&c"):
        y = w * 2.0
    dot = viz.to_dot(y.sum())
    assert "&lt;W &amp; &quot;b&quot;&gt;" in dot
    assert "a&lt;b&gt;&amp;c" in dot
    assert '<W & "b">' not in dot


def test_legend_adds_one_node_explaining_the_styles_only_when_asked():
    loss = article_network()["J"]
    assert "legend" not in viz.to_dot(loss)
    with_legend = viz.to_dot(loss, legend=True)
    assert len(node_names(with_legend)) == len(node_names(viz.to_dot(loss))) + 1
    assert "parameter (leaf, requires grad)" in with_legend and "non-finite" in with_legend
    assert "g = dL/d(output of the op)" in with_legend  # the letter every rule uses


def test_unknown_rankdir_max_nodes_or_collapse_are_value_errors_and_a_non_tensor_a_type_error():
    loss = article_network()["J"]
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(loss, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        viz.to_dot(loss, max_nodes=0)
    with pytest.raises(ValueError, match="collapse"):
        viz.to_dot(loss, collapse="layers")
    with pytest.raises(TypeError, match="Tensor"):
        viz.to_dot(np.ones(3))


# --- released graphs ----------------------------------------------------------------------------


@pytest.mark.parametrize("function", [viz.to_dot, viz.draw_graph, viz.explain])
def test_the_graph_of_an_older_backward_is_a_value_error_that_says_to_retain_it(function):
    old = article_network()["J"]
    old.backward()
    article_network(seed=1)["J"].backward()  # the thread's last backward is another graph now
    with pytest.raises(ValueError, match=r"backward\(retain_graph=True\)") as caught:
        function(old)
    assert function.__name__ in str(caught.value) and "last backward()" in str(caught.value)


# --- modules: clusters and collapsing -------------------------------------------------------------


def test_tensors_made_in_a_module_scope_are_grouped_in_one_cluster_per_scope():
    dot = viz.to_dot(article_network()["J"])
    clusters = re.findall(r"subgraph (cluster_\w+) \{\n\s*label=<<B>([^<]+)</B>>", dot)
    assert sorted(label for _, label in clusters) == ["layer1", "layer2"]
    layer1 = dot.split("<B>layer1</B>")[1].split("\t}")[0]
    assert "<B>W1</B>" in layer1 and "<B>b1</B>" in layer1 and "<B>sigmoid</B>" in layer1
    assert "<B>X</B>" not in layer1  # a named input stays outside the module


def test_nested_scopes_draw_nested_clusters():
    w = Tensor([1.0, 2.0], requires_grad=True, name="w")
    with scope("mlp"), scope("layer1"):
        y = w.sigmoid()
    dot = viz.to_dot(y.sum())
    outer = dot.index("<B>mlp</B>")
    inner = dot.index("<B>layer1</B>")
    assert outer < inner < dot.index("<B>sigmoid</B>")
    assert dot.count("subgraph cluster_") == 2


def test_collapse_modules_draws_one_node_per_module_listing_its_ops_and_parameters():
    loss = deep_net(20)
    loss.backward(retain_graph=True)
    full = viz.to_dot(loss)
    collapsed = viz.to_dot(loss, collapse="modules")
    assert len(node_names(collapsed)) < len(node_names(full)) // 4
    layer7 = node_line(collapsed, "<B>layer7</B>")
    assert "linear → sigmoid" in layer7 and "W7 (3, 3)" in layer7 and "‖grad‖" in layer7
    assert "subgraph cluster_" not in collapsed


def test_collapse_none_collapses_by_itself_when_the_graph_exceeds_max_nodes():
    loss = deep_net(30)
    assert "box3d" not in viz.to_dot(loss)
    auto = viz.to_dot(loss, max_nodes=100)
    assert auto.count("shape=box3d") == 30
    assert "not drawn" not in auto


def test_max_nodes_draws_at_most_that_many_tensors_and_says_how_many_were_left_out():
    loss = chain(50)  # 101 tensors: x, 50 constants, 50 products
    dot = viz.to_dot(loss, max_nodes=10, collapse=False)
    tensors = [n for n in node_names(dot) if n.startswith("t")]
    assert len(tensors) == 10
    assert "91 more tensors not drawn (max_nodes=10)" in dot
    assert re.search(r"\bmore -> o\d+", dot)


def test_a_10000_op_chain_gives_its_dot_text_without_recursion_errors():
    dot = viz.to_dot(chain(10_000))
    assert dot.count("shape=ellipse") == 10_000
    assert len(node_names(dot)) == 10_000 + 20_001


# --- draw_graph and render ------------------------------------------------------------------------


def test_draw_graph_returns_a_graphviz_digraph_whose_source_is_the_dot_text():
    graphviz = pytest.importorskip("graphviz")
    loss = article_network()["J"]
    graph = viz.draw_graph(loss, rankdir="TB", max_nodes=5)
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == viz.to_dot(loss, rankdir="TB", max_nodes=5)


@pytest.mark.parametrize("layer_dims, m", [([2, 3, 1], 4), ([2, 4, 3, 1], 300)])
def test_the_articles_step_graph_fits_a_screen_at_the_default_size_with_readable_text(
    tmp_path, layer_dims, m
):
    """The README's picture ([2, 3, 1] on 4 examples) and the demo's ([2, 4, 3, 1] on 300):
    one layer under the other, not a staircase as wide as the network is deep."""
    from tinygrad_nn import data, nn

    X_all, Y_all = data.load("article", m=m, seed=0)
    J = nn.binary_cross_entropy(nn.MLP(layer_dims)(Tensor(X_all, name="X")), Tensor(Y_all))
    J.backward(retain_graph=m > 4)
    root = ET.parse(viz.render(J, tmp_path / "step.svg", legend=True)).getroot()
    width_pt = float(root.get("width").removesuffix("pt"))
    assert width_pt * 96 / 72 <= 1600  # CSS pixels at 100 %
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 9


def test_render_svg_shows_op_names_shapes_and_parameter_names_and_writes_the_dot_beside(tmp_path):
    net = article_network()
    net["J"].backward(retain_graph=True)
    path = viz.render(net["J"], tmp_path / "step.svg")
    assert path == tmp_path / "step.svg"
    texts = svg_texts(path)
    for expected in ("linear", "sigmoid", "bce_with_logits", "W1", "b2", "X", "dZ1 = g·A1·(1−A1)"):
        assert expected in texts
    assert any("(3, 2)" in t for t in texts) and any(t.startswith("grad") for t in texts)
    assert (tmp_path / "step.dot").read_text(encoding="utf-8") == viz.to_dot(net["J"])


@pytest.mark.parametrize("fmt, signature", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")])
def test_render_png_and_pdf_write_files_of_that_format(tmp_path, fmt, signature):
    path = viz.render(article_network()["J"], tmp_path / "graph", format=fmt)
    assert path == tmp_path / f"graph.{fmt}"
    content = path.read_bytes()
    assert content.startswith(signature) and len(content) > 2000


def test_render_accepts_a_drawn_digraph_or_dot_text(tmp_path):
    pytest.importorskip("graphviz")
    loss = article_network()["J"]
    from_graph = viz.render(viz.draw_graph(loss), tmp_path / "a.svg")
    from_text = viz.render(viz.to_dot(loss), tmp_path / "b.svg")
    assert "sigmoid" in svg_texts(from_graph) and "sigmoid" in svg_texts(from_text)


def test_render_creates_missing_folders(tmp_path):
    path = viz.render(article_network()["J"], tmp_path / "new" / "dir" / "graph.svg")
    assert path.exists()


def test_render_unknown_format_or_a_suffix_contradicting_format_is_a_value_error(tmp_path):
    loss = article_network()["J"]
    with pytest.raises(ValueError, match="format"):
        viz.render(loss, tmp_path / "graph", format="gif")
    with pytest.raises(ValueError, match=r"\.png"):
        viz.render(loss, tmp_path / "graph.png", format="svg")


def test_without_dot_on_path_render_says_how_to_install_graphviz_and_still_writes_the_dot(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(viz.GraphvizNotFoundError) as caught:
        viz.render(article_network()["J"], tmp_path / "graph.svg")
    error = caught.value
    assert isinstance(error, RuntimeError)
    message = str(error)
    for hint in ("sudo apt-get install graphviz", "brew install graphviz",
                 "conda install -c conda-forge graphviz", str(tmp_path / "graph.dot")):
        assert hint in message
    assert error.dot_path == tmp_path / "graph.dot"
    assert error.dot_path.read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()


def test_without_dot_a_drawn_graph_shows_install_advice_in_notebooks_and_raises_ours(
    tmp_path, monkeypatch
):
    pytest.importorskip("graphviz")
    graph = viz.draw_graph(article_network()["J"])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "brew install graphviz" in bundle["text/plain"]
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        graph.pipe(format="svg")
    with pytest.raises(viz.GraphvizNotFoundError):
        graph.render(tmp_path / "graph", format="svg")


def test_a_drawn_graph_shows_as_svg_in_notebooks_when_dot_is_there():
    pytest.importorskip("graphviz")
    bundle = viz.draw_graph(article_network()["J"])._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"].encode()).tag == f"{SVG}svg"


def test_a_newcomer_draws_their_own_expression_after_backward_with_tn_viz():
    code = (
        "import tinygrad_nn as tn\n"
        "a = tn.Tensor(2.0, requires_grad=True, name='a')\n"
        "b = tn.Tensor(-3.0, requires_grad=True, name='b')\n"
        "loss = a * b + a\n"
        "loss.backward()\n"
        "graph = tn.viz.draw_graph(loss)\n"
        "print(graph.source.count('grad '))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["4"]  # a, b, a*b, loss: a gradient on every node


def test_importing_viz_and_to_dot_need_neither_graphviz_nor_matplotlib():
    code = (
        "import sys; sys.modules['graphviz'] = None; sys.modules['matplotlib'] = None\n"
        "from tinygrad_nn import Tensor, viz\n"
        "w = Tensor([1.0], requires_grad=True)\n"
        "assert viz.to_dot((w * 2).sum()).startswith('digraph')\n"
        "for call in (lambda: viz.draw_graph((w * 2).sum()), lambda: viz.plot_cost_history([1])):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        assert \"pip install 'tinygrad-nn[viz]'\" in str(error), error\n"
        "    else:\n"
        "        raise AssertionError('no ImportError')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

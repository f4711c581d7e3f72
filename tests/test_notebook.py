"""examples/article_notebook.ipynb runs top to bottom and shows what it promises."""

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "article_notebook.ipynb"


@pytest.fixture(scope="module")
def executed():
    if shutil.which("dot") is None:
        pytest.skip("the notebook draws graphs: needs Graphviz's dot")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return notebook


def outputs(notebook, cell_start):
    cells = [c for c in notebook.cells if c.cell_type == "code"
             and c.source.removeprefix("%matplotlib inline\n").startswith(cell_start)]
    assert len(cells) == 1, cell_start
    return cells[0].outputs


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_the_notebook_runs_without_errors(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []


def test_the_model_and_a_parameter_display_as_html_tables(executed):
    model_html = outputs(executed, "model = nn.MLP")[0]["data"]["text/html"]
    assert "layer1" in model_html and "17 parameters" in model_html
    parameter_html = outputs(executed, "W1 = dict")[0]["data"]["text/html"]
    assert "<b>W1</b>" in parameter_html and "grad" in parameter_html


def test_the_graph_after_backward_is_drawn_inline_with_gradients(executed):
    svg = outputs(executed, "J.backward()")[0]["data"]["image/svg+xml"]
    assert "sigmoid" in svg and "grad" in svg and "legend" in svg


def test_the_cross_check_agrees_and_the_plots_are_shown(executed):
    printed = "".join(o.get("text", "") for o in outputs(executed, "report = tn.crosscheck"))
    assert "ok" in printed and "dW1" in printed
    assert "image/png" in outputs(executed, "optimizer = tn.optim.SGD")[0]["data"]
    assert "image/png" in outputs(executed, "fig, _ = tn.viz.plot_decision_boundary")[0]["data"]

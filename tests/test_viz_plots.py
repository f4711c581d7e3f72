"""Specification of tinygrad_nn.viz's training plots: cost, decision boundary, gradient flow."""

import numpy as np
import pytest
from viz_networks import article_network

from tinygrad_nn import Tensor, viz

# --- plots ---------------------------------------------------------------------------------------


def test_plot_cost_history_returns_a_figure_with_one_line_of_the_costs(tmp_path):
    from matplotlib.figure import Figure

    costs = [0.69, 0.6, 0.4, 0.3, 0.25]
    fig, ax = viz.plot_cost_history(costs)
    assert isinstance(fig, Figure) and ax.figure is fig
    assert len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), costs)
    fig.savefig(tmp_path / "cost.png")
    content = (tmp_path / "cost.png").read_bytes()
    assert content.startswith(b"\x89PNG") and len(content) > 5000


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]], ["a", "b"]])
def test_plot_cost_history_rejects_what_is_not_a_list_of_costs(bad):
    with pytest.raises(ValueError, match="cost_history"):
        viz.plot_cost_history(bad)


def test_plots_draw_into_a_given_axes_and_never_register_figures_with_pyplot():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    viz.plot_cost_history([1.0, 0.5])
    viz.plot_gradient_flow([{"W1": 1.0}])
    assert plt.get_fignums() == before
    figure = Figure()
    left, right = figure.subplots(1, 2)
    fig, ax = viz.plot_gradient_flow({"W1": [1.0, 0.5]}, ax=right)
    assert fig is figure and ax is right and len(right.lines) == 1 and not left.lines


def probability_model(points):
    P = np.asarray(points)
    return 1.0 / (1.0 + np.exp(-3.0 * (P[0:1] - P[1:2])))


def test_decision_boundary_of_a_probability_model_draws_regions_the_05_contour_and_the_data():
    X = np.array([[-1.0, 0.0, 1.0, 2.0], [1.0, 2.0, 0.0, -1.0]])
    Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    _, ax = viz.plot_decision_boundary(probability_model, X, Y, resolution=30)
    scatter_labels = [c.get_label() for c in ax.collections if c.get_label().startswith("class")]
    assert scatter_labels == ["class 0", "class 1"]
    assert ax.get_title() == "decision boundary"


def test_decision_boundary_accepts_class_scores_integer_labels_and_models_taking_tensors():
    seen = []

    def scores(points):
        seen.append(type(points))
        return Tensor(np.stack([points.data[0], points.data[1], -points.data[0]]))

    X = Tensor(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    _, ax = viz.plot_decision_boundary(scores, X, np.array([0, 1, 2]), resolution=20)
    assert seen == [Tensor]
    assert len([c for c in ax.collections if c.get_label().startswith("class")]) == 3


def test_with_more_than_two_classes_each_region_and_its_points_share_one_hue():
    from matplotlib.colors import to_rgb

    angles = np.array([0.0, 2.1, 4.2])  # three classes around the origin
    centres = np.stack([np.cos(angles), np.sin(angles)])

    def nearest_centre(points):  # scores: minus the distance to each class's centre
        p = np.asarray(points)
        return -((p[:, None, :] - centres[:, :, None]) ** 2).sum(axis=0)

    X = centres * 0.8
    _, ax = viz.plot_decision_boundary(nearest_centre, X, np.array([0, 1, 2]), resolution=40)
    regions = ax.collections[0].get_facecolor()
    points = {c.get_label(): c.get_facecolor()[0] for c in ax.collections
              if c.get_label().startswith("class")}
    assert len(regions) == 3 and len(points) == 3
    for k in range(3):
        assert to_rgb(regions[k]) == to_rgb(points[f"class {k}"])
    assert len({to_rgb(r) for r in regions}) == 3


def test_decision_boundary_rejects_wrong_shapes_with_messages_naming_them():
    X = np.zeros((2, 4))
    Y = np.zeros((1, 4))
    # each message names the function, the argument, the shape expected and the one given
    with pytest.raises(ValueError, match=r"plot_decision_boundary: X .*\(2, m\).*\(3, 4\)"):
        viz.plot_decision_boundary(probability_model, np.zeros((3, 4)), Y)
    with pytest.raises(ValueError, match=r"plot_decision_boundary: Y .*\(1, 4\).*\(1, 5\)"):
        viz.plot_decision_boundary(probability_model, X, np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"plot_decision_boundary: .*model.*\(1, n\).*\(1, 3\)"):
        viz.plot_decision_boundary(lambda P: np.zeros((1, 3)), X, Y, resolution=5)
    with pytest.raises(TypeError, match=r"plot_decision_boundary: model.*callable.*str"):
        viz.plot_decision_boundary("model", X, Y)


def test_gradient_flow_draws_one_line_per_parameter_on_a_log_scale():
    history = [{"W1": 1e-5, "b1": 1e-6, "W2": 1e-2}, {"W1": 2e-5, "b1": 1e-6, "W2": 5e-3}]
    _, ax = viz.plot_gradient_flow(history)
    assert [line.get_label() for line in ax.lines] == ["W1", "b1", "W2"]
    assert ax.get_yscale() == "log"
    assert ax.lines[1].get_linestyle() == "--"  # biases dashed
    as_dict = viz.plot_gradient_flow({"W1": [1e-5, 2e-5], "W2": [1e-2, 5e-3]})[1]
    np.testing.assert_array_equal(as_dict.lines[0].get_ydata(), [1e-5, 2e-5])


def test_gradient_flow_leaves_a_gap_where_a_step_lacks_a_parameter():
    _, ax = viz.plot_gradient_flow([{"W1": 1.0}, {"W1": 2.0, "W2": 3.0}])
    assert np.isnan(ax.lines[1].get_ydata()[0])


@pytest.mark.parametrize("bad", [[], {}, [1.0, 2.0], {"W1": []}, [{"W1": "big"}], 3.0])
def test_gradient_flow_rejects_what_is_not_a_history_of_norms(bad):
    with pytest.raises(ValueError, match="history"):
        viz.plot_gradient_flow(bad)


def test_gradient_norms_records_each_parameters_gradient_norm_skipping_missing_grads():
    net = article_network()
    net["J"].backward()
    params = [net[k] for k in ("W1", "b1", "W2", "b2")]
    norms = viz.gradient_norms(params)
    assert list(norms) == ["W1", "b1", "W2", "b2"]
    assert norms["W1"] == pytest.approx(np.linalg.norm(net["W1"].grad))
    unused = Tensor([1.0], requires_grad=True, name="unused")
    assert "unused" not in viz.gradient_norms([*params, unused])
    assert viz.gradient_norms({"first": net["W1"]}) == {"first": norms["W1"]}

    class Model:
        def named_parameters(self):
            return [("layer1.W", net["W1"])]

    assert viz.gradient_norms(Model()) == {"layer1.W": norms["W1"]}
    with pytest.raises(TypeError, match="gradient_norms"):
        viz.gradient_norms(net["W1"])

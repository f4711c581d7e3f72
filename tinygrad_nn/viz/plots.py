"""Training plots with matplotlib: cost history, decision boundary, gradient flow."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_nn.tensor import Tensor, no_grad

if TYPE_CHECKING:  # imported lazily at run time: optional dependencies
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from tinygrad_nn.viz._common import _number, _optional

__all__ = ['gradient_norms', 'plot_cost_history', 'plot_decision_boundary', 'plot_gradient_flow']


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------


def _figure_and_axes(
    ax: Axes | None, what: str, figsize: tuple[float, float]
) -> tuple[Figure, Axes]:
    _optional("matplotlib", what)
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(
                f"{what}: ax must be a matplotlib Axes or None; got {type(ax).__name__}"
            )
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    # A bare Figure, not pyplot: nothing global, no GUI backend, nothing to close.
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


def plot_cost_history(
    cost_history: Sequence[float] | np.ndarray, ax: Axes | None = None, *, log_scale: bool = False
) -> tuple[Figure, Axes]:
    """The cost after each epoch, as returned by ``train``.

    Parameters
    ----------
    cost_history : sequence of float
        One cost per epoch (a list, a 1-d array or scalars).
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure`` (not registered with pyplot: show it in a
        notebook with ``display(fig)`` or save it with ``fig.savefig``).
    log_scale : bool
        Logarithmic cost axis.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> fig, ax = plot_cost_history([0.69, 0.5, 0.31, 0.2])
    >>> len(ax.lines)
    1
    """
    try:
        costs = np.asarray(cost_history, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"plot_cost_history: cost_history must be a sequence of numbers (one cost per epoch); "
            f"got {type(cost_history).__name__}"
        ) from None
    if costs.ndim != 1 or costs.size == 0:
        raise ValueError(
            f"plot_cost_history: cost_history must be a non-empty 1-d sequence of costs; got "
            f"shape {costs.shape}"
        )
    figure, ax = _figure_and_axes(ax, "plot_cost_history", (6.0, 3.6))
    epochs = np.arange(1, costs.size + 1)
    ax.plot(epochs, costs, color="#1f5fa8", linewidth=1.8, label="cost J")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost J (cross-entropy)")
    ax.set_title(f"cost history: {_number(costs[0])} → {_number(costs[-1])} in {costs.size} epochs")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    return figure, ax


def _as_numpy(value: Any, name: str, what: str) -> np.ndarray:
    try:
        return np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {name} must be numeric; got {type(value).__name__}") from None


def _check_data(model: Any, X: Any, Y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(X as a (2, m) array, the labels as an (m,) array), or a clear error."""
    if not callable(model):
        raise TypeError(
            f"{what}: model must be callable on a (2, n) array; got {type(model).__name__}"
        )
    X_np = _as_numpy(X, "X", what)
    if X_np.ndim != 2 or X_np.shape[0] != 2 or X_np.shape[1] == 0:
        raise ValueError(
            f"{what}: X must have shape (2, m) (two features, examples as columns); got "
            f"{X_np.shape}"
        )
    m = X_np.shape[1]
    labels = _as_numpy(Y, "Y", what)
    if labels.shape not in ((1, m), (m,)):
        raise ValueError(
            f"{what}: Y must have shape (1, {m}) or ({m},) to match X; got {labels.shape}"
        )
    labels = labels.reshape(m)
    if not np.all(labels == np.round(labels)) or labels.min() < 0:
        raise ValueError(f"{what}: Y must hold class numbers 0, 1, 2, ... (0/1 for two classes)")
    return X_np, labels


def _check_resolution(resolution: Any, what: str) -> None:
    if (isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer))
            or resolution < 2):
        raise ValueError(f"{what}: resolution must be an int >= 2; got {resolution!r}")


def _grid(X_np: np.ndarray, resolution: int) -> tuple[Any, Any, np.ndarray]:
    """((low, high) corners, (grid_x, grid_y), the (2, n) grid points) around the data."""
    pad = 0.1 * np.ptp(X_np, axis=1) + 0.25
    low, high = X_np.min(axis=1) - pad, X_np.max(axis=1) + pad
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return (low, high), (grid_x, grid_y), np.stack([grid_x.ravel(), grid_y.ravel()])


def _scores(model: Callable[[Any], Any], points: np.ndarray, what: str) -> np.ndarray:
    """The model on the (2, n) grid points under no_grad: (1, n) probabilities or (k, n)."""
    with no_grad():
        try:
            output = model(Tensor(points))
        except (TypeError, AttributeError):
            output = model(points)
    scores = _as_numpy(output, "the model's output", what)
    n = points.shape[1]
    if scores.shape == (n,):
        scores = scores.reshape(1, n)
    if scores.ndim != 2 or scores.shape[1] != n:
        raise ValueError(
            f"{what}: the model must return (1, n) probabilities or (k, n) class scores for a "
            f"(2, n) input; for n = {n} it returned shape {scores.shape}"
        )
    return scores


def plot_decision_boundary(
    model: Callable[[Any], Any],
    X: Any,
    Y: Any,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
) -> tuple[Figure, Axes]:
    """The regions a 2-input classifier assigns to each class, with the data on top.

    Parameters
    ----------
    model : callable
        Called on a ``(2, n)`` Tensor of grid points (if it raises ``TypeError`` or
        ``AttributeError``, on the plain array) under ``no_grad()``. Returns probabilities of
        class 1, shape ``(1, n)`` or ``(n,)`` (boundary at 0.5), or class scores ``(k, n)``,
        k ≥ 2 (regions by argmax).
    X : array_like or Tensor, shape (2, m)
        The inputs, examples as columns.
    Y : array_like or Tensor
        Labels: ``(1, m)`` of 0/1 or ``(m,)`` of class numbers.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure``.
    resolution : int
        Grid points per axis.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[-1.0, -0.5, 0.5, 1.0], [0.0, 1.0, -1.0, 0.0]])
    >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> fig, ax = plot_decision_boundary(lambda P: 1 / (1 + np.exp(-5 * np.asarray(P)[:1])), X, Y)
    >>> len(ax.collections) >= 2
    True
    """
    what = "plot_decision_boundary"
    X_np, labels = _check_data(model, X, Y, what)
    _check_resolution(resolution, what)
    (low, high), (grid_x, grid_y), points = _grid(X_np, resolution)
    scores = _scores(model, points, what)

    figure, ax = _figure_and_axes(ax, what, (5.2, 4.4))
    classes = int(max(labels.max() + 1, 2, scores.shape[0]))
    hues = _class_hues(classes)
    if scores.shape[0] == 1:
        surface = scores[0].reshape(grid_x.shape)
        filled = ax.contourf(grid_x, grid_y, surface, levels=np.linspace(0, 1, 11),
                             cmap="RdBu", alpha=0.55)
        ax.contour(grid_x, grid_y, surface, levels=[0.5], colors="k", linewidths=1.5)
        figure.colorbar(filled, ax=ax, label="P(class 1)")
    else:
        # One explicit colour per class band: region k gets class k's hue, as its points do.
        region = scores.argmax(axis=0).reshape(grid_x.shape)
        ax.contourf(grid_x, grid_y, region, levels=np.arange(classes + 1) - 0.5,
                    colors=hues, alpha=0.35)
    for k in np.unique(labels).astype(int):
        chosen = labels == k
        colour = hues[k]
        ax.scatter(X_np[0, chosen], X_np[1, chosen], s=14, color=colour, edgecolors="k",
                   linewidths=0.4, label=f"class {k}")
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("decision boundary")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    return figure, ax


def _class_hues(classes: int) -> list[tuple[float, float, float, float]]:
    """One colour per class: the two ends of RdBu for two classes (matching the probability
    shading), tab10's colours (repeating after ten) for more."""
    import matplotlib as mpl

    if classes == 2:
        cmap = mpl.colormaps["RdBu"]
        return [cmap(0.1), cmap(0.9)]
    cmap = mpl.colormaps["tab10"]
    return [cmap(k % 10) for k in range(classes)]


def gradient_norms(model_or_params: Any) -> dict[str, float]:
    """The L2 norm of each parameter's ``.grad``: one entry of a :func:`plot_gradient_flow` history.

    Parameters
    ----------
    model_or_params : module, dict or iterable of Tensor
        Anything with ``named_parameters()`` (name, tensor pairs or a dict) or ``parameters()``,
        a dict name → Tensor, or Tensors (named by ``.name``, else ``param{i}``).
        Parameters whose ``.grad`` is None are left out.

    Returns
    -------
    dict
        name → float, in the parameters' order.

    Examples
    --------
    >>> from tinygrad_nn import Tensor
    >>> w = Tensor([3.0, 4.0], requires_grad=True, name="W1")
    >>> (w * w).sum().backward()
    >>> gradient_norms([w])
    {'W1': 10.0}
    """
    if hasattr(model_or_params, "named_parameters"):
        named = model_or_params.named_parameters()
        pairs = list(named.items()) if isinstance(named, Mapping) else list(named)
    elif isinstance(model_or_params, Mapping):
        pairs = list(model_or_params.items())
    else:
        if hasattr(model_or_params, "parameters"):
            model_or_params = model_or_params.parameters()
        if isinstance(model_or_params, Tensor) or not isinstance(model_or_params, Iterable):
            raise TypeError(
                "gradient_norms: expected a model, a dict name → Tensor or a list of Tensors; got "
                f"{type(model_or_params).__name__}"
            )
        pairs = [(t.name if isinstance(t, Tensor) and t.name else f"param{i}", t)
                 for i, t in enumerate(model_or_params)]
    norms = {}
    for name, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"gradient_norms: parameter {name!r} is a {type(t).__name__}, not a Tensor"
            )
        if t.grad is not None:
            norms[str(name)] = float(np.linalg.norm(np.asarray(t.grad).ravel()))
    return norms


def _history_table(history: Any) -> dict[str, np.ndarray]:
    what = "plot_gradient_flow"
    if isinstance(history, Mapping):
        if not history:
            raise ValueError(f"{what}: history is empty")
        table = {}
        for name, values in history.items():
            try:
                series = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{what}: history[{name!r}] must be a list of numbers") from None
            if series.ndim != 1 or series.size == 0:
                raise ValueError(
                    f"{what}: history[{name!r}] must be a non-empty 1-d list of gradient norms; "
                    f"got shape {series.shape}"
                )
            table[str(name)] = series
        return table
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise ValueError(
            f"{what}: history must be a list of dicts (name → gradient norm, one per step) or a "
            f"dict name → list of norms; got {type(history).__name__}"
        )
    entries = list(history)
    if not entries:
        raise ValueError(f"{what}: history is empty (record entries with gradient_norms(model))")
    names: dict[str, None] = {}
    for step, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ValueError(
                f"{what}: history[{step}] must be a dict name → gradient norm; got "
                f"{type(entry).__name__}"
            )
        names.update(dict.fromkeys(str(k) for k in entry))
    if not names:
        raise ValueError(f"{what}: history holds no gradient norms (every entry is empty)")
    table = {name: np.full(len(entries), np.nan) for name in names}
    for step, entry in enumerate(entries):
        for name, value in entry.items():
            try:
                table[str(name)][step] = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{what}: history[{step}][{name!r}] must be a number; got {value!r}"
                ) from None
    return table


def plot_gradient_flow(
    history: Sequence[Mapping[str, float]] | Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Each parameter's gradient norm over training, on a log scale: vanishing gradients show.

    In a deep sigmoid net the first layers' lines sit orders of magnitude below the last
    layers': each sigmoid multiplies the gradient by at most 1/4 on its way back.

    Parameters
    ----------
    history : list of dict, or dict of lists
        One dict name → gradient norm per training step (from :func:`gradient_norms`), or
        name → list of norms. Names missing from a step leave a gap.
    ax : matplotlib Axes, optional
        Draw into this Axes; by default a new ``Figure``.
    title : str, optional
        The plot's title.

    Returns
    -------
    (Figure, Axes)
        One line per parameter, labelled with its name; weights solid, biases (names starting
        with ``b``) dashed; colour runs from the first layer to the last.

    Examples
    --------
    >>> history = [{"W1": 1e-4, "W2": 1e-2}, {"W1": 2e-4, "W2": 1e-2}]
    >>> fig, ax = plot_gradient_flow(history)
    >>> [line.get_label() for line in ax.lines], ax.get_yscale()
    (['W1', 'W2'], 'log')
    """
    table = _history_table(history)
    figure, ax = _figure_and_axes(ax, "plot_gradient_flow", (6.4, 4.0))
    import matplotlib as mpl

    colours = mpl.colormaps["viridis"]
    count = len(table)
    for k, (name, series) in enumerate(table.items()):
        # Zero norms (a dead ReLU layer) cannot go on a log axis; they leave a gap, like NaN.
        shown = np.where(series > 0, series, np.nan)
        ax.plot(np.arange(1, series.size + 1), shown, label=name,
                color=colours(0.9 * k / max(count - 1, 1)),
                linestyle="--" if name[:1] == "b" else "-", linewidth=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("‖gradient‖ (L2 norm)")
    ax.set_title(title or "gradient flow: gradient norm per parameter")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, ncol=2 if count > 8 else 1, loc="best", framealpha=0.8)
    return figure, ax

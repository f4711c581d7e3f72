"""Training you can watch: the decision boundary and the cost curve as training goes, as a GIF."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_nn.viz._common import _number, _optional
from tinygrad_nn.viz.plots import _check_data, _check_resolution, _class_hues, _grid, _scores

__all__ = ["TrainingAnimation"]

_WHAT = "TrainingAnimation"


class TrainingAnimation:
    """Record a 2-input classifier while it trains; :meth:`save` writes an animated GIF.

    Each frame shows the model's decision regions with the data on top (left) and the cost
    curve up to that epoch (right). Feed it once per epoch, with :meth:`record` or by passing
    it as ``callback`` to :func:`tinygrad_nn.train` (it is called as ``(epoch, cost, model)``);
    only every ``every``-th call evaluates the model (on a ``resolution``² grid, under
    ``no_grad``), the others store the cost only. The last model fed is drawn as the final
    frame.

    Parameters
    ----------
    X : array_like or Tensor, shape (2, m)
        The inputs, examples as columns.
    Y : array_like or Tensor
        Labels: ``(1, m)`` of 0/1 or ``(m,)`` of class numbers.
    every : int
        Record a frame every this many epochs.
    resolution : int
        Grid points per axis of the decision regions.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from tinygrad_nn import Tensor, nn, optim, viz
    >>> X = np.array([[-1.0, -0.5, 0.5, 1.0], [0.0, 1.0, -1.0, 0.0]])
    >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
    >>> model = nn.MLP([2, 3, 1])
    >>> sgd = optim.SGD(model.parameters(), lr=1.0)
    >>> animation = viz.TrainingAnimation(X, Y, every=5)
    >>> for epoch in range(20):
    ...     sgd.zero_grad()
    ...     cost = nn.binary_cross_entropy(model(Tensor(X)), Tensor(Y))
    ...     cost.backward()
    ...     sgd.step()
    ...     animation.record(model, cost.item())
    >>> animation.frames                   # epochs 1, 6, 11, 16; save() adds epoch 20
    4
    >>> path = animation.save(os.path.join(tempfile.mkdtemp(), "training.gif"))
    >>> path.suffix, path.stat().st_size < 2_000_000
    ('.gif', True)
    """

    def __init__(self, X: Any, Y: Any, *, every: int = 10, resolution: int = 60) -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"{_WHAT}: every must be a positive int; got {every!r}")
        _check_resolution(resolution, _WHAT)
        self._X, self._labels = _check_data(lambda p: p, X, Y, _WHAT)
        self.every = int(every)
        (self._low, self._high), _, self._points = _grid(self._X, int(resolution))
        self._resolution = int(resolution)
        self._costs: list[float] = []
        self._frames: list[tuple[int, np.ndarray]] = []  # (epochs so far, scores on the grid)
        self._last_model: Callable[[Any], Any] | None = None

    @property
    def frames(self) -> int:
        """How many frames are recorded (the final model's frame, added by save, not counted).

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import viz
        >>> X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0]])
        >>> animation = viz.TrainingAnimation(X, Y, every=2)
        >>> for cost in (0.7, 0.6, 0.5):
        ...     animation.record(lambda P: np.asarray(P)[:1] * 0 + 0.5, cost)
        >>> animation.frames
        2
        """
        return len(self._frames)

    def record(self, model: Callable[[Any], Any], cost: float) -> None:
        """Store this epoch's cost; every ``every``-th call also the model's decision regions.

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import viz
        >>> X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0]])
        >>> animation = viz.TrainingAnimation(X, Y, every=1)
        >>> animation.record(lambda P: np.asarray(P)[:1], 0.69)
        >>> animation.frames
        1
        """
        value = float(cost)
        if not math.isfinite(value):
            raise ValueError(f"{_WHAT}.record: the cost must be a finite number; got {cost!r}")
        if not callable(model):
            raise TypeError(f"{_WHAT}.record: model must be callable; got {type(model).__name__}")
        self._costs.append(value)
        self._last_model = model
        if (len(self._costs) - 1) % self.every == 0:
            self._frames.append((len(self._costs), _scores(model, self._points, _WHAT)))

    def __call__(self, epoch: int, cost: float, model: Callable[[Any], Any]) -> None:
        """The callback form of :meth:`record`, as :func:`tinygrad_nn.train` calls it.

        Examples
        --------
        >>> import numpy as np
        >>> from tinygrad_nn import train, viz
        >>> X = np.array([[-1.0, -0.5, 0.5, 1.0], [0.0, 1.0, -1.0, 0.0]])
        >>> Y = np.array([[0.0, 0.0, 1.0, 1.0]])
        >>> animation = viz.TrainingAnimation(X, Y, every=10)
        >>> _ = train(X, Y, [2, 3, 1], epochs=30, lr=1.0, callback=animation)
        >>> animation.frames
        3
        """
        self.record(model, cost)

    def save(self, path: str | Path, *, fps: float = 8.0, max_frames: int = 60,
             max_bytes: int = 2_000_000) -> Path:
        """Write the animation as a GIF (needs Pillow and matplotlib) and return its path.

        At most ``max_frames`` frames, chosen evenly from those recorded (the first and the
        last kept); then frames are dropped evenly until the file is at most ``max_bytes``.
        The last frame, the model as it is now, stays up for 2 seconds. Measured: 60 frames
        of 640×272 px take ~0.5 MB and ~10 s on the project's shared 2-core machine.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from PIL import Image
        >>> from tinygrad_nn import viz
        >>> X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 1.0]])
        >>> animation = viz.TrainingAnimation(X, Y, every=1, resolution=20)
        >>> for k in range(4):
        ...     model = lambda P, k=k: 1 / (1 + np.exp(-k * np.asarray(P)[:1]))
        ...     animation.record(model, 1 / (k + 1))
        >>> path = animation.save(os.path.join(tempfile.mkdtemp(), "t.gif"))
        >>> with Image.open(path) as image:
        ...     image.n_frames
        4
        """
        _optional("PIL.Image", "TrainingAnimation.save")
        _optional("matplotlib", "TrainingAnimation.save")
        if not self._costs or self._last_model is None:
            raise ValueError(f"{_WHAT}.save: nothing recorded yet: call record() every epoch")
        if not (isinstance(fps, (int, float)) and 0 < fps <= 50):
            raise ValueError(f"{_WHAT}.save: fps must be a number in (0, 50]; got {fps!r}")
        path = Path(path)
        if path.suffix.lower() != ".gif":
            raise ValueError(f"{_WHAT}.save: the path must end in .gif; got {str(path)!r}")
        if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 2:
            raise ValueError(f"{_WHAT}.save: max_frames must be an int >= 2; got {max_frames!r}")
        frames = list(self._frames)
        if len(frames) > max_frames - 1:  # room for the final frame
            keep = np.unique(np.linspace(0, len(frames) - 1, max_frames - 1).round().astype(int))
            frames = [frames[i] for i in keep]
        if frames[-1][0] != len(self._costs):
            frames.append((len(self._costs), _scores(self._last_model, self._points, _WHAT)))
        images = self._render(frames)
        while True:
            data = _gif_bytes(images, fps)
            if len(data) <= max_bytes or len(images) <= 2:
                break
            images = [*images[:-1:2], images[-1]]  # every other frame, the last one kept
        if len(data) > max_bytes:
            raise ValueError(
                f"{_WHAT}.save: even 2 frames take {len(data):,} bytes > max_bytes={max_bytes:,}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    # ---- drawing --------------------------------------------------------------------------

    def _render(self, frames: list[tuple[int, np.ndarray]]) -> list[Any]:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from PIL import Image

        figure = Figure(figsize=(8.0, 3.4), dpi=80, layout="constrained")
        canvas = FigureCanvasAgg(figure)
        regions, curve = figure.subplots(1, 2)
        labels = self._labels
        classes = int(max(labels.max() + 1, 2, max(s.shape[0] for _, s in frames)))
        hues = _class_hues(classes)
        extent = (self._low[0], self._high[0], self._low[1], self._high[1])
        first = self._image(frames[0][1], hues)
        shown = regions.imshow(first, origin="lower", extent=extent, aspect="auto",
                               interpolation="bilinear", **self._image_style(first))
        for k in np.unique(labels).astype(int):
            chosen = labels == k
            regions.scatter(self._X[0, chosen], self._X[1, chosen], s=12, color=hues[k],
                            edgecolors="k", linewidths=0.4, label=f"class {k}")
        regions.set_xlim(extent[0], extent[1])
        regions.set_ylim(extent[2], extent[3])
        regions.set_xlabel("x₁")
        regions.set_ylabel("x₂")
        regions.legend(loc="upper right", fontsize=7, framealpha=0.8)
        costs = np.asarray(self._costs)
        epochs = np.arange(1, costs.size + 1)
        curve.plot(epochs, costs, color="#cccccc", linewidth=1.0)  # the whole run, faint
        (line,) = curve.plot([], [], color="#1f5fa8", linewidth=1.8)
        (dot,) = curve.plot([], [], "o", color="#1f5fa8", markersize=4)
        curve.set_xlim(1, max(costs.size, 2))
        curve.set_ylim(0, float(costs.max()) * 1.05 or 1.0)
        curve.set_xlabel("epoch")
        curve.set_ylabel("cost J")
        curve.grid(True, alpha=0.3)
        regions.set_title("decision regions, epoch 1", fontsize=10)
        curve.set_title("cost 0", fontsize=10)
        canvas.draw()
        figure.set_layout_engine("none")  # laid out once: the frames only change data
        images = []
        for epoch, scores in frames:
            shown.set_data(self._image(scores, hues))
            line.set_data(epochs[:epoch], costs[:epoch])
            dot.set_data([epoch], [costs[epoch - 1]])
            regions.set_title(f"decision regions, epoch {epoch}", fontsize=10)
            curve.set_title(f"cost {_number(costs[epoch - 1])}", fontsize=10)
            canvas.draw()
            rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])
            images.append(rgb.quantize(colors=96, method=Image.Quantize.MEDIANCUT))
        return images

    def _image(self, scores: np.ndarray, hues: list[Any]) -> np.ndarray:
        shape = (self._resolution, self._resolution)
        if scores.shape[0] == 1:
            return np.clip(scores[0], 0.0, 1.0).reshape(shape)
        # Class k's hue, lightened: the colour its points have, as in plot_decision_boundary.
        palette = 1.0 - 0.35 * (1.0 - np.array([h[:3] for h in hues]))
        return palette[scores.argmax(axis=0).reshape(shape)]

    @staticmethod
    def _image_style(first: np.ndarray) -> dict[str, Any]:
        if first.ndim == 2:  # probabilities of class 1: the shading of plot_decision_boundary
            return {"cmap": "RdBu", "vmin": 0.0, "vmax": 1.0, "alpha": 0.55}
        return {}


def _gif_bytes(images: list[Any], fps: float) -> bytes:
    buffer = io.BytesIO()
    durations = [int(1000 / fps)] * (len(images) - 1) + [2000]
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0, optimize=True, disposal=1)
    return buffer.getvalue()

"""viz.TrainingAnimation: the decision boundary and the cost curve as training goes, as a GIF."""

import numpy as np
import pytest

from tinygrad_nn import Tensor, nn, optim, train, viz

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

X = np.array([[-1.0, -0.5, 0.5, 1.0, 0.2, -0.3], [0.0, 1.0, -1.0, 0.0, 0.4, -0.8]])
Y = np.array([[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]])


def sharpening(k):
    """A model whose boundary x₁ = 0 gets sharper with k: frames differ."""
    return lambda P: 1 / (1 + np.exp(-0.3 * k * np.asarray(P)[:1]))


def fed(epochs, every, resolution=20):
    animation = viz.TrainingAnimation(X, Y, every=every, resolution=resolution)
    for k in range(epochs):
        animation.record(sharpening(k), 1.0 / (k + 1))
    return animation


def test_one_frame_is_recorded_every_every_epochs():
    assert fed(25, every=5).frames == 5  # epochs 1, 6, 11, 16, 21


def test_the_gif_holds_the_recorded_frames_and_the_final_model_and_pillow_opens_it(tmp_path):
    path = fed(25, every=5).save(tmp_path / "training.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6  # + epoch 25, the final model
        gif.seek(gif.n_frames - 1)
        assert gif.info["duration"] == 2000  # the end stays up


def test_a_long_run_is_thinned_to_max_frames_and_stays_under_2_mb(tmp_path):
    path = fed(400, every=2).save(tmp_path / "long.gif", max_frames=25)
    with Image.open(path) as gif:
        assert gif.n_frames == 25
    assert path.stat().st_size <= 2_000_000


def test_frames_are_dropped_until_the_file_fits_max_bytes(tmp_path):
    animation = fed(12, every=1)
    full = animation.save(tmp_path / "full.gif").stat().st_size
    small = animation.save(tmp_path / "small.gif", max_bytes=full // 3)
    assert small.stat().st_size <= full // 3
    with Image.open(small) as gif:
        assert 2 <= gif.n_frames < 12


def test_it_is_a_callback_for_train_and_records_a_real_model(tmp_path):
    animation = viz.TrainingAnimation(X, Y, every=10)
    train(X, Y, [2, 3, 1], epochs=30, lr=1.0, callback=animation)
    assert animation.frames == 3
    assert animation.save(tmp_path / "t.gif").stat().st_size > 0


def test_it_records_an_mlp_trained_by_hand(tmp_path):
    model = nn.MLP([2, 4, 1])
    animation = viz.TrainingAnimation(Tensor(X), Tensor(Y), every=1)
    sgd = optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        sgd.zero_grad()
        cost = nn.binary_cross_entropy(model(Tensor(X)), Tensor(Y))
        cost.backward()
        sgd.step()
        animation.record(model, cost.item())
    with Image.open(animation.save(tmp_path / "mlp.gif")) as gif:
        assert gif.n_frames == 3


def test_class_scores_of_more_than_two_classes_are_drawn(tmp_path):
    centres = np.array([[1.0, -0.5, -0.5], [0.0, 0.8, -0.8]])

    def nearest(P):  # (3, n) scores: minus the distance to each class's centre
        return -((np.asarray(P)[:, None, :] - centres[:, :, None]) ** 2).sum(axis=0)

    animation = viz.TrainingAnimation(X, np.array([0, 1, 2, 0, 1, 2]), every=1)
    animation.record(nearest, 1.0)
    animation.record(nearest, 0.5)
    with Image.open(animation.save(tmp_path / "k.gif")) as gif:
        assert gif.n_frames == 2


@pytest.mark.parametrize("every", [0, -1, 2.5, True])
def test_every_must_be_a_positive_int(every):
    with pytest.raises(ValueError, match="every"):
        viz.TrainingAnimation(X, Y, every=every)


def test_bad_data_save_arguments_and_costs_are_errors_that_name_them(tmp_path):
    with pytest.raises(ValueError, match=r"X must have shape \(2, m\)"):
        viz.TrainingAnimation(np.ones((3, 4)), np.ones((1, 4)))
    animation = viz.TrainingAnimation(X, Y)
    with pytest.raises(ValueError, match="nothing recorded"):
        animation.save(tmp_path / "a.gif")
    with pytest.raises(ValueError, match="finite"):
        animation.record(sharpening(1), float("nan"))
    animation.record(sharpening(1), 0.5)
    with pytest.raises(ValueError, match=r"\.gif"):
        animation.save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="max_frames"):
        animation.save(tmp_path / "a.gif", max_frames=1)

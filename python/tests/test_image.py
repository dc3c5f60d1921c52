"""textcnn.ImageClassifier and ImageCNNClassifier over NumPy arrays (uint8 and float, with and
without a channel axis)."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

import textcnn
from conftest import TINY_IMAGE_MODEL, bar_images


@pytest.fixture(scope="module")
def bars():
    return bar_images(30)


@pytest.fixture(scope="module")
def trained_image(bars):
    images, labels = bars
    return textcnn.ImageCNNClassifier(**TINY_IMAGE_MODEL).fit(images, labels)


def test_fit_predict_score(trained_image, bars):
    images, labels = bars
    assert list(trained_image.classes_) == [0, 1, 2]
    assert trained_image.score(images, labels) > 0.9
    proba = trained_image.predict_proba(images)
    assert proba.dtype == np.float32 and proba.shape == (len(images), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    fresh, fresh_labels = bar_images(10, seed=99)
    assert np.mean(trained_image.predict(fresh) == fresh_labels) > 0.8


def test_uint8_float_and_channel_axis_agree(trained_image, bars):
    images, _ = bars
    model = trained_image.model_
    reference = model.predict_proba(images)
    np.testing.assert_allclose(model.predict_proba(images.astype(np.float64) / 255.0), reference, atol=1e-6)
    np.testing.assert_array_equal(model.predict_proba(images[..., np.newaxis]), reference)
    # A view that is not C-contiguous is copied, not misread.
    np.testing.assert_array_equal(model.predict_proba(np.asfortranarray(images)), reference)
    assert model.predict(images[:4]) == [str(c) for c in trained_image.predict(images[:4])]


def test_bad_images_are_python_exceptions(trained_image, bars):
    images, _ = bars
    model = trained_image.model_
    with pytest.raises(textcnn.ShapeError, match="8x8|8 x 8|8, 8|height|shape"):
        model.predict(np.zeros((2, 9, 9), dtype=np.uint8))
    with pytest.raises(textcnn.ShapeError):
        model.predict(np.zeros((9, 9), dtype=np.uint8))
    with pytest.raises(TypeError, match="int64"):
        model.predict(images.astype(np.int64))
    with pytest.raises(textcnn.InputError, match=r"\[0, 1\]"):
        model.predict(images.astype(np.float32))  # 0..255 as floats: not scaled
    with pytest.raises(textcnn.ConfigError):
        textcnn.ImageCNNClassifier(**dict(TINY_IMAGE_MODEL, architecture="cnn_99")).fit(images, bars[1])


def test_save_load_and_pickle(trained_image, bars, tmp_path):
    images, _ = bars
    path = tmp_path / "bars.model"
    trained_image.model_.save(str(path))
    loaded = textcnn.ImageClassifier.load(str(path))
    assert loaded.labels == ["0", "1", "2"] and loaded.input_shape == (8, 8, 1)
    assert loaded.architecture == "cnn_1"
    np.testing.assert_array_equal(loaded.predict_proba(images), trained_image.model_.predict_proba(images))
    again = pickle.loads(pickle.dumps(trained_image))
    np.testing.assert_array_equal(again.predict(images), trained_image.predict(images))
    with pytest.raises(textcnn.InputError):  # an image model is not a text model
        textcnn.TextClassifier.load(str(path))


def test_cross_val_score(bars):
    images, labels = bars
    scores = cross_val_score(textcnn.ImageCNNClassifier(**TINY_IMAGE_MODEL), images, labels, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.6

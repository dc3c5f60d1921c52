"""textcnn for Python: convolutional networks for text (Kim 2014) and small images.

Trained models, from model files (``textcnn train``, ``imagecnn train``) or from the estimators::

    TextClassifier.load(path)   .predict(texts) -> labels, .predict_proba(texts) -> float32 array
    ImageClassifier.load(path)  the same for NumPy images (N x H x W or N x H x W x C)

scikit-learn estimators (imported on first use, since they need scikit-learn)::

    TextCNNClassifier(**hyperparameters)   fit(texts, labels), predict, predict_proba, score
    ImageCNNClassifier(**hyperparameters)  fit(images, labels), ...

Errors are textcnn.Error and its subclasses ShapeError, ConfigError, InputError (each also a
ValueError) and IoError (also an OSError). fit() logs through ``logging.getLogger("textcnn")``:
one INFO line per epoch, one DEBUG line per batch.
"""

from ._textcnn import (  # noqa: F401  (the package's public names)
    ConfigError,
    Error,
    ImageClassifier,
    InputError,
    IoError,
    ShapeError,
    TextClassifier,
    __version__,
    build_info,
)

_ESTIMATORS = ("TextCNNClassifier", "ImageCNNClassifier")

__all__ = [
    "TextClassifier",
    "ImageClassifier",
    *_ESTIMATORS,
    "Error",
    "ShapeError",
    "ConfigError",
    "InputError",
    "IoError",
    "build_info",
]


def __getattr__(name):
    # The estimators import scikit-learn: only when asked for (PEP 562).
    if name in _ESTIMATORS:
        from . import _estimators

        return getattr(_estimators, name)
    raise AttributeError(f"module 'textcnn' has no attribute {name!r}")

"""scikit-learn estimators over the library's training runs.

TextCNNClassifier and ImageCNNClassifier take the keyword arguments of the library's training
settings (TextTrainingOptions / ImageTrainingOptions and TrainerSettings): names, defaults and
descriptions come from the compiled module's tables (text_hyperparameters(),
image_hyperparameters()), so they cannot drift from the library. Both follow scikit-learn's
estimator contract (get_params / set_params / clone, classes_, score), so cross_val_score and
GridSearchCV use them unchanged. A fitted estimator pickles as its parameters, classes_ and the
model file's bytes.
"""

import inspect
import logging
import os
import tempfile
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from . import _textcnn

logger = logging.getLogger("textcnn")


def _model_bytes(model):
    """The model file's bytes (the library writes files only: through a temporary one)."""
    with tempfile.TemporaryDirectory(prefix="textcnn-") as folder:
        path = os.path.join(folder, "model")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _model_from_bytes(kind, data):
    with tempfile.TemporaryDirectory(prefix="textcnn-") as folder:
        path = os.path.join(folder, "model")
        with open(path, "wb") as f:
            f.write(data)
        return kind.load(path)


def _log_epoch(epoch):
    line = "epoch %d/%d: loss %.4f, accuracy %.2f%%" % (
        epoch["epoch"], epoch["epochs"], epoch["train_loss"], 100.0 * epoch["train_accuracy"])
    if epoch["has_validation"]:
        line += ", validation loss %.4f, accuracy %.2f%%%s" % (
            epoch["validation_loss"], 100.0 * epoch["validation_accuracy"], " (best)" if epoch["improved"] else "")
    logger.info("%s, %.1fs", line, epoch["seconds"])


def _log_batch(progress):
    logger.debug("epoch %d/%d batch %d/%d: loss %.4f, accuracy %.2f%%, %.0f items/s", progress["epoch"],
                 progress["epochs"], progress["batch"], progress["batches"], progress["loss"],
                 100.0 * progress["accuracy"], progress["items_per_second"])


def _progress_hooks():
    """The callables a training run reports to; the per-batch one only when DEBUG is on (the
    run checks for Ctrl-C after every batch either way)."""
    return {"progress": _log_batch if logger.isEnabledFor(logging.DEBUG) else None, "epoch_end": _log_epoch}


class _CNNClassifier(ClassifierMixin, BaseEstimator):
    """What both estimators share; subclasses set _table (name, default, description rows),
    _model_kind and _train()."""

    _table = ()
    _model_kind = None

    def __init__(self, **hyperparameters):
        known = [name for name, _, _ in self._table]
        unknown = sorted(set(hyperparameters) - set(known))
        if unknown:
            raise TypeError("%s got unknown hyperparameters %s (known: %s)" % (
                type(self).__name__, ", ".join(unknown), ", ".join(known)))
        for name, default, _ in self._table:
            setattr(self, name, hyperparameters.get(name, default))

    def fit(self, X, y):
        """Trains a new model on X labelled y (any labels numpy.unique can sort). Logs each
        epoch (INFO) and batch (DEBUG) to the "textcnn" logger. Ctrl-C stops after the current
        batch and raises KeyboardInterrupt (the estimator keeps its previous state). Returns self."""
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError("y must be one-dimensional, got shape %s" % (y.shape,))
        classes, encoded = np.unique(y, return_inverse=True)
        started = time.perf_counter()
        model, facts, columns = self._train(X, y, classes, encoded)
        logger.info("fit: %d epochs (%s) in %.1fs", facts["epochs_completed"], facts["reason"],
                    time.perf_counter() - started)
        self.model_ = model
        self.classes_ = classes
        self.history_ = facts["history"]
        self.n_epochs_ = facts["epochs_completed"]
        self._columns = columns
        return self

    def predict_proba(self, X):
        """Probabilities, a float32 array of len(X) x len(classes_) (columns in classes_ order)."""
        check_is_fitted(self, "model_")
        inputs = self._inputs(X)
        try:
            proba = self.model_.predict_proba(inputs)
        except TypeError:
            _name_unencodable(("X", inputs if isinstance(inputs, list) else []))
            raise
        return proba[:, self._columns]

    def predict(self, X):
        """The most probable class of each sample, as an array of classes_' type."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __getstate__(self):
        state = {"params": self.get_params(deep=False)}
        if hasattr(self, "model_"):
            state.update(model=_model_bytes(self.model_), classes=self.classes_, columns=self._columns,
                         history=self.history_, n_epochs=self.n_epochs_)
        return state

    def __setstate__(self, state):
        for name, value in state["params"].items():
            setattr(self, name, value)
        if "model" in state:
            self.model_ = _model_from_bytes(self._model_kind, state["model"])
            self.classes_ = state["classes"]
            self._columns = state["columns"]
            self.history_ = state["history"]
            self.n_epochs_ = state["n_epochs"]


def _with_table(table, summary):
    """Class decorator: the table's rows become the keyword-only parameters of __init__'s
    signature (what scikit-learn's get_params, clone and repr read) and its docstring."""

    def decorate(cls):
        cls._table = tuple(table)

        def __init__(self, **hyperparameters):
            _CNNClassifier.__init__(self, **hyperparameters)

        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
                   for name, default, _ in cls._table]
        __init__.__signature__ = inspect.Signature(params)
        __init__.__qualname__ = cls.__name__ + ".__init__"
        cls.__init__ = __init__
        rows = "\n".join("    %s (default %r): %s" % row for row in cls._table)
        cls.__doc__ = "%s\n\nHyperparameters (keyword arguments):\n%s\n" % (summary, rows)
        return cls

    return decorate


def _name_unencodable(*sequences):
    """Raises ValueError naming the first str of `sequences` ((name, list) pairs) that cannot be
    encoded as UTF-8 (a lone surrogate, as errors="surrogateescape" leaves); returns if none.
    Called when the library call raised TypeError: pybind11's message printed every argument
    (36,000 characters for a small data set) and never the bad item."""
    for name, sequence in sequences:
        for i, item in enumerate(sequence):
            if not isinstance(item, str):
                continue
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ValueError("%s[%d] cannot be encoded as UTF-8 (%s at character %d): decode such text with "
                                 "errors='replace'" % (name, i, e.reason, e.start)) from None


def _texts(X):
    if isinstance(X, (str, bytes)):
        raise TypeError("X must be a sequence of texts (str), not a single %s" % type(X).__name__)
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError("X[%d] is a %s, not a str" % (i, type(text).__name__))
    return texts


@_with_table(_textcnn.text_hyperparameters(), """A text classifier: Kim's (2014) CNN trained by textcnn.

X is a sequence of texts (str), y their labels. Defaults are Kim's CNN-rand (300-d random
embeddings, widths 3,4,5 x 100 maps, dropout 0.5, Adadelta, batch 50, 25 epochs); smaller
models (maps, embedding_dim) and fewer epochs train much faster on small data.""")
class TextCNNClassifier(_CNNClassifier):
    _model_kind = _textcnn.TextClassifier

    def _inputs(self, X):
        return _texts(X)

    def _train(self, X, y, classes, encoded):
        texts = _texts(X)
        if len(texts) != len(y):
            raise ValueError("X has %d texts but y %d labels" % (len(texts), len(y)))
        # The library's labels are text, trimmed of white space, in sorted order of their own.
        # (bytes labels by their UTF-8 text: str() made "b'spam'" of b"spam" in the model file).
        names = [(c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c)).strip() for c in classes]
        if len(set(names)) != len(names):
            raise ValueError("classes %r are not distinct as text" % (list(classes),))
        labels = [names[i] for i in encoded]
        try:
            model, facts = _textcnn.train_text(texts, labels, self.get_params(deep=False), message=logger.info,
                                               warning=logger.warning, **_progress_hooks())
        except TypeError:
            _name_unencodable(("X", texts), ("y", labels))
            raise
        return model, facts, np.array([model.labels.index(n) for n in names])


@_with_table(_textcnn.image_hyperparameters(), """An image classifier trained by textcnn.

X is a NumPy array of N x H x W (one channel) or N x H x W x C images, uint8 (0..255) or float
(scaled to [0, 1]); y their labels. Defaults are the article's (cnn_fashion, RMSprop, batch 128,
5 epochs, the last 20 % of the images held out to pick the best epoch).""")
class ImageCNNClassifier(_CNNClassifier):
    _model_kind = _textcnn.ImageClassifier

    def _inputs(self, X):
        return np.asarray(X)

    def _train(self, X, y, classes, encoded):
        images = np.asarray(X)
        if len(images) != len(y):
            raise ValueError("X has %d images but y %d labels" % (len(images), len(y)))
        model, facts = _textcnn.train_image(images, encoded.astype(np.uint32).tolist(), [str(c) for c in classes],
                                            self.get_params(deep=False), **_progress_hooks())
        return model, facts, np.arange(len(classes))

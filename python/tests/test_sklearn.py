"""textcnn.TextCNNClassifier under scikit-learn: the estimator contract, cross_val_score,
GridSearchCV, pickling and logging."""

import inspect
import logging
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

import textcnn
from conftest import TINY_TEXT_MODEL, topic_sentences


def test_hyperparameters_come_from_the_library():
    names = [name for name, _, _ in textcnn._textcnn.text_hyperparameters()]
    signature = inspect.signature(textcnn.TextCNNClassifier.__init__)
    assert list(signature.parameters)[1:] == names
    defaults = textcnn.TextCNNClassifier().get_params()
    # Kim's CNN-rand, as TextTrainingOptions has it.
    assert defaults["widths"] == (3, 4, 5) and defaults["maps"] == 100 and defaults["embedding_dim"] == 300
    assert defaults["epochs"] == 25 and defaults["batch_size"] == 50 and defaults["optimizer"] == "adadelta"
    assert defaults["dropout"] == pytest.approx(0.5) and defaults["max_norm"] == pytest.approx(3.0)
    assert defaults["learning_rate"] is None and defaults["class_weight"] is None and defaults["init"] == "kim"
    assert "epochs" in textcnn.TextCNNClassifier.__doc__


def test_params_set_and_clone():
    model = textcnn.TextCNNClassifier(maps=8, epochs=2)
    assert model.get_params()["maps"] == 8
    model.set_params(dropout=0.25, widths=(2,))
    twin = clone(model)
    assert twin is not model and twin.get_params() == model.get_params()
    assert "maps=8" in repr(model)
    with pytest.raises(TypeError, match="unknown hyperparameters mpas"):
        textcnn.TextCNNClassifier(mpas=8)
    with pytest.raises(ValueError):
        model.set_params(mpas=8)


def test_wrong_values_are_reported_at_fit(topics):
    texts, labels = topics
    with pytest.raises(TypeError, match="hyperparameter 'maps' takes a non-negative int"):
        textcnn.TextCNNClassifier(maps="eight").fit(texts, labels)
    with pytest.raises(TypeError, match="hyperparameter 'epochs'"):
        textcnn.TextCNNClassifier(epochs=-1).fit(texts, labels)
    # True is an int to Python; as a count it is a mistake (ensemble=True trained one network).
    with pytest.raises(TypeError, match=r"hyperparameter 'ensemble' takes a non-negative int, not True"):
        textcnn.TextCNNClassifier(ensemble=True).fit(texts, labels)
    with pytest.raises(textcnn.ConfigError, match="softplus"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, activation="softplus").fit(texts, labels)
    with pytest.raises(textcnn.ConfigError, match=r"hyperparameter 'init': unknown initializer 'xavier' \(known: kim, glorot_uniform, he_uniform, torch, uniform\)"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, init="xavier").fit(texts, labels)
    with pytest.raises(textcnn.InputError):  # one class only
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts[:5], ["garden"] * 5)


def test_text_that_utf8_cannot_encode_is_named(topics, trained_text):
    # A lone surrogate (what errors="surrogateescape" leaves) made pybind11 raise a TypeError
    # printing every training text; the item is named instead.
    texts, labels = topics
    bad_texts = list(texts)
    bad_texts[3] = "a garden \udcff hose"
    with pytest.raises(ValueError, match=r"^X\[3\] cannot be encoded as UTF-8 \(surrogates not allowed at character 9\)") as e:
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(bad_texts, labels)
    assert len(str(e.value)) < 200
    bad_labels = list(labels)
    bad_labels[5] = "garden\udcff"
    with pytest.raises(ValueError, match=r"^y\[5\] cannot be encoded as UTF-8"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts, bad_labels)
    with pytest.raises(ValueError, match=r"^X\[1\] cannot be encoded as UTF-8"):
        trained_text.predict(["fine", "bad \udcff"])


def test_fit_predict_score_with_integer_classes(topics):
    texts, labels = topics
    codes = {"garden": 10, "kitchen": 2, "harbour": 7}  # sorted as numbers, not as text
    y = np.array([codes[label] for label in labels])
    model = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts, y)
    np.testing.assert_array_equal(model.classes_, [2, 7, 10])
    predicted = model.predict(texts)
    assert predicted.dtype == y.dtype
    assert model.score(texts, y) > 0.9
    proba = model.predict_proba(["the ferry dropped anchor at high tide"])
    assert proba.dtype == np.float32 and proba.shape == (1, 3)
    assert model.classes_[np.argmax(proba)] == 7
    assert model.n_epochs_ == TINY_TEXT_MODEL["epochs"] and len(model.history_) == model.n_epochs_


def test_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        textcnn.TextCNNClassifier().predict(["a text"])


def test_cross_val_score_and_grid_search():
    texts, labels = topic_sentences(30, seed=21)
    scores = cross_val_score(textcnn.TextCNNClassifier(**TINY_TEXT_MODEL), texts, labels, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8

    grid = GridSearchCV(textcnn.TextCNNClassifier(**TINY_TEXT_MODEL), {"maps": [2, 8], "epochs": [1, 12]}, cv=2)
    grid.fit(texts, labels)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["epochs"] == 12  # one epoch of Adadelta from a zero output layer learns little
    assert grid.score(texts, labels) > 0.9


def test_pickle_holds_the_model_file(trained_text, topics):
    texts, _ = topics
    data = pickle.dumps(trained_text)
    assert b"TEXTCNN\x1a" in data
    again = pickle.loads(data)
    np.testing.assert_array_equal(again.predict_proba(texts), trained_text.predict_proba(texts))
    np.testing.assert_array_equal(again.classes_, trained_text.classes_)
    assert again.get_params() == trained_text.get_params()
    unfitted = pickle.loads(pickle.dumps(textcnn.TextCNNClassifier(maps=3)))
    assert unfitted.maps == 3 and not hasattr(unfitted, "model_")


def test_fit_logs_epochs_and_batches(topics, caplog):
    texts, labels = topics
    with caplog.at_level(logging.INFO, logger="textcnn"):
        textcnn.TextCNNClassifier(**dict(TINY_TEXT_MODEL, epochs=2)).fit(texts, labels)
    messages = [r.getMessage() for r in caplog.records if r.name == "textcnn"]
    assert sum(m.startswith("epoch ") for m in messages) == 2
    assert any(m.startswith("epoch 2/2: loss ") for m in messages)
    assert any(m.startswith("fit: 2 epochs (completed)") for m in messages)
    assert not any("batch" in m for m in messages)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="textcnn"):
        textcnn.TextCNNClassifier(**dict(TINY_TEXT_MODEL, epochs=1)).fit(texts, labels)
    batches = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(batches) == 6 and batches[-1].startswith("epoch 1/1 batch 6/6: loss ")  # 60 texts, batches of 10


def test_an_exception_in_a_log_handler_stops_fit(topics):
    texts, labels = topics
    seen = []

    class Failing(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
            if "batch 2/" in record.getMessage():
                raise RuntimeError("handler failed")

    handler = Failing(level=logging.DEBUG)
    log = logging.getLogger("textcnn")
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.DEBUG)
    try:
        with pytest.raises(RuntimeError, match="handler failed"):
            textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts, labels)
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    # Stopped after the batch whose report failed: no later batch, no epoch summary.
    assert [m for m in seen if " batch " in m][-1].startswith("epoch 1/12 batch 2/6")


def test_an_ensemble_averages_its_members(topics):
    texts, labels = topics
    ensemble = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=3).fit(texts, labels)
    assert ensemble.score(texts, labels) > 0.9
    assert "Ensemble of 3 networks" in ensemble.model_.summary()
    assert ensemble.model_.metadata["ensemble_seeds"].startswith("%d, " % TINY_TEXT_MODEL.get("seed", 1))
    # Member 1 is the single model of the same seed; the ensemble's probabilities are the mean of
    # three networks, so they differ from it.
    single = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts, labels)
    # The history is member 1's: the single network of the same seed.
    assert [e["train_loss"] for e in ensemble.history_] == [e["train_loss"] for e in single.history_]
    # The model file keeps no member's epoch counts (as textcnn train --ensemble), the single one does.
    assert "epochs_completed" not in ensemble.model_.metadata and "epochs_completed" in single.model_.metadata
    probe = ["the ferry dropped anchor at high tide", "her bread rose nicely"]
    assert not np.allclose(ensemble.predict_proba(probe), single.predict_proba(probe))
    np.testing.assert_allclose(ensemble.predict_proba(probe).sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(textcnn.ConfigError, match="hyperparameter 'ensemble': 0 networks"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=0).fit(texts, labels)


def test_an_ensemble_with_a_naive_bayes_member(topics):
    texts, labels = topics
    mixed = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, nb_members=1, ngram_buckets=1000).fit(texts, labels)
    assert mixed.score(texts, labels) > 0.9
    summary = mixed.model_.summary()
    # Member 1 is a Kim network, member 2 has the wide branch.
    assert "Member 2:" in summary and summary.index("ngram_bag") > summary.index("Member 2:")
    assert mixed.model_.metadata["ensemble_nb_members"] == "1"
    with pytest.raises(textcnn.ConfigError, match="hyperparameter 'nb_members': 3 is more than the 2 networks"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, nb_members=3).fit(texts, labels)


def test_ensemble_members_with_validation_splits_of_their_own(topics):
    texts, labels = topics
    own = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, validation_split=0.2,
                                    member_validation="own").fit(texts, labels)
    assert own.get_params()["member_validation"] == "own"
    assert own.model_.metadata["ensemble_member_validation"] == "own (out-of-bag dev accuracy)"
    assert 0.0 <= float(own.model_.metadata["dev_accuracy"]) <= 1.0  # out of bag, as textcnn train gives it
    shared = textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, validation_split=0.2).fit(texts, labels)
    assert 0.0 <= float(shared.model_.metadata["dev_accuracy"]) <= 1.0
    # Member 2 held out other documents, so it trained on others: the ensembles differ.
    probe = ["the ferry dropped anchor at high tide", "her bread rose nicely"]
    assert not np.allclose(own.predict_proba(probe), shared.predict_proba(probe))
    with pytest.raises(textcnn.ConfigError, match="'own' gives each member .* it needs validation_split > 0"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, member_validation="own").fit(texts, labels)
    with pytest.raises(textcnn.ConfigError, match="it needs ensemble >= 2"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, validation_split=0.2, member_validation="own").fit(texts, labels)
    with pytest.raises(textcnn.ConfigError, match="'bagged' is not one of shared, own"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=2, member_validation="bagged").fit(texts, labels)


def test_every_members_own_split_is_checked_before_training(topics):
    texts, labels = topics
    texts = list(texts) + ["a lone heron", "a lone heron", "a second heron"]
    labels = list(labels) + ["heron"] * 3
    # Some member's split holds out all three (the two identical texts move together).
    with pytest.raises(textcnn.InputError, match=r"nothing trained\): .*label 'heron' has no training document left"):
        textcnn.TextCNNClassifier(**TINY_TEXT_MODEL, ensemble=6, validation_split=0.5,
                                  member_validation="own").fit(texts, labels)

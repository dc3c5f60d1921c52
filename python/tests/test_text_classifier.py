"""textcnn.TextClassifier: a model file loaded, predictions, errors, and the GIL released while
the library predicts."""

import threading
import time

import numpy as np
import pytest

import textcnn
from conftest import topic_sentences


def test_load_predict_and_predict_proba(text_model_file, topics):
    model = textcnn.TextClassifier.load(str(text_model_file))
    assert model.labels == ["garden", "harbour", "kitchen"]
    texts, labels = topics
    proba = model.predict_proba(texts)
    assert proba.dtype == np.float32
    assert proba.shape == (len(texts), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    predicted = model.predict(texts)
    assert predicted == [model.labels[i] for i in np.argmax(proba, axis=1)]
    assert np.mean(np.array(predicted) == np.array(labels)) > 0.9
    # Texts it never saw, of the same topics.
    assert model.predict(["the lighthouse sounded its horn in the fog", "the soup burned on the stove"]) == [
        "harbour", "kitchen"]


def test_any_text_and_no_text(text_model_file):
    model = textcnn.TextClassifier.load(str(text_model_file))
    assert model.predict_proba([]).shape == (0, 3)
    assert len(model.predict(["", "zzz qqq", "\u00e9t\u00e9 \U0001F600"])) == 3


def test_a_single_string_is_refused(text_model_file):
    model = textcnn.TextClassifier.load(str(text_model_file))
    with pytest.raises(TypeError):
        model.predict("the ferry left the pier")


def test_invalid_utf8_is_refused(text_model_file):
    """A bytes text reaches the library as it is: invalid UTF-8 is an error, as in the CLI (it was
    scored with U+FFFD for the bad bytes, without a word)."""
    model = textcnn.TextClassifier.load(str(text_model_file))
    assert model.predict([b"the soup burned"]) == model.predict(["the soup burned"])
    with pytest.raises(textcnn.InputError, match=r"predict\(\): texts\[1\] is not valid UTF-8 \(at byte offset 7\)"):
        model.predict(["fine", b"tulips \xff\xfe"])
    with pytest.raises(textcnn.InputError, match=r"predict_proba\(\): texts\[0\] is not valid UTF-8"):
        model.predict_proba([b"\xc3"])


def test_save_and_metadata(text_model_file, tmp_path):
    model = textcnn.TextClassifier.load(text_model_file)  # a pathlib.Path, as str
    assert model.metadata["training_data"] == "Python fit()"
    copy = tmp_path / "copy.model"
    model.save(copy)
    again = textcnn.TextClassifier.load(str(copy))
    texts = ["our curry tastes of garlic", "the tulips bloomed early"]
    np.testing.assert_array_equal(again.predict_proba(texts), model.predict_proba(texts))


def test_library_errors_are_python_exceptions(tmp_path, text_model_file):
    with pytest.raises(textcnn.IoError) as missing:
        textcnn.TextClassifier.load(str(tmp_path / "no such.model"))
    assert isinstance(missing.value, OSError) and isinstance(missing.value, textcnn.Error)
    assert "no such.model" in str(missing.value)

    garbage = tmp_path / "garbage.model"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(textcnn.InputError) as corrupt:
        textcnn.TextClassifier.load(str(garbage))
    assert isinstance(corrupt.value, ValueError) and "garbage.model" in str(corrupt.value)

    # A text model is not an image model.
    with pytest.raises(textcnn.InputError):
        textcnn.ImageClassifier.load(str(text_model_file))

    for name in ("ShapeError", "ConfigError", "InputError", "IoError"):
        assert issubclass(getattr(textcnn, name), textcnn.Error)
    assert textcnn.Error.__module__ == "textcnn"


def test_predict_releases_the_gil(text_model_file):
    """While one thread is inside predict_proba(), the main thread goes on running Python code:
    were the GIL held for the call, the main thread's loop would stop for about its duration."""
    model = textcnn.TextClassifier.load(str(text_model_file))
    sentences, _ = topic_sentences(40, seed=4)
    texts = [" ".join(sentences[i:i + 30]) for i in range(len(sentences) - 30)]
    # Make the call long enough to tell on any machine: double the input until one call takes 0.3 s.
    while True:
        begin = time.perf_counter()
        model.predict_proba(texts)
        if time.perf_counter() - begin >= 0.3 or len(texts) > 1 << 22:
            break
        texts = texts * 2
    finished = threading.Event()
    call = []

    def predict():
        begin = time.perf_counter()
        model.predict_proba(texts)
        call.extend([begin, time.perf_counter()])
        finished.set()

    ticks = [time.perf_counter()]
    worker = threading.Thread(target=predict)
    worker.start()  # the main thread is already in its loop when the call starts
    while not finished.is_set():
        ticks.append(time.perf_counter())
    worker.join()
    begin, end = call
    assert end - begin > 0.1, "the call is too short to tell: use more texts"
    during = [begin] + [t for t in ticks if begin < t < end] + [end]
    longest_pause = float(np.max(np.diff(during)))
    assert longest_pause < (end - begin) / 3, (longest_pause, end - begin)


@pytest.mark.parametrize("form", ["stored", "refined", "compact", "compact_refined"])
def test_quantize_keeps_the_labels_and_saves(text_model_file, topics, tmp_path, form):
    model = textcnn.TextClassifier.load(str(text_model_file))
    texts, _ = topics
    expected = model.predict(texts)
    assert not model.quantized and model.quantization_error_bound() == []
    model.quantize(form)
    assert model.quantized
    bound = model.quantization_error_bound()
    assert len(bound) == 3 and all(0 < b < 1 for b in bound)
    refined = model.refined_error_bound()
    if form == "refined":
        np.testing.assert_allclose(np.array(refined) * 14, bound, rtol=1e-4)
    elif form == "compact_refined":  # the tables' share a 14th, the embedding's whole
        assert all(b / 14 < r < b for r, b in zip(refined, bound))
    else:
        assert refined == []
    assert model.predict(texts) == expected
    path = tmp_path / f"{form}.model"
    model.save(str(path))
    again = textcnn.TextClassifier.load(str(path))
    assert again.quantized
    np.testing.assert_array_equal(again.predict_proba(texts), model.predict_proba(texts))
    # Quantized already: no float weights left, whatever the form asked for (as textcnn quantize).
    for other in ("stored", "compact_refined"):
        with pytest.raises(textcnn.ConfigError, match=f"already quantized \\({form}\\)"):
            again.quantize(other)


def test_quantize_waits_for_predictions_in_other_threads(text_model_file, topics):
    """quantize() changes the model that predict() reads without the GIL: it waits for the
    predictions under way, and the next ones wait for it (the interpreter crashed or hung)."""
    texts, _ = topics
    for form in ("stored", "compact_refined"):
        model = textcnn.TextClassifier.load(str(text_model_file))
        expected = model.predict(texts)
        done = threading.Event()
        results = []

        def predict_until_done():
            while not done.is_set():
                results.append(model.predict(texts))
                model.summary()

        workers = [threading.Thread(target=predict_until_done) for _ in range(3)]
        for w in workers:
            w.start()
        model.quantize(form)
        done.set()
        for w in workers:
            w.join()
        assert model.quantized and results and all(r == expected for r in results)


def test_quantize_refuses_an_unknown_form(text_model_file):
    model = textcnn.TextClassifier.load(str(text_model_file))
    with pytest.raises(textcnn.ConfigError, match="not one of stored, refined, compact"):
        model.quantize("int4")
    assert not model.quantized

"""Small data sets written for these tests (no outside data) and a tiny trained text model.

The texts are sentences about three topics put together from word lists below, so a tiny
CNN learns them in a few epochs; the images are bars (horizontal, vertical) and crosses with noise.
"""

import random

import numpy as np
import pytest

import textcnn

TOPICS = {
    "garden": (["the roses", "my tomatoes", "our hedge", "the old apple tree", "those tulips", "the lawn"],
               ["need watering", "bloomed early", "were pruned", "grew tall", "got aphids", "want compost"],
               ["after the rain", "by the shed", "near the fence", "this spring", "in the greenhouse"]),
    "kitchen": (["the soup", "her bread", "this sauce", "the pancake batter", "our curry", "the risotto"],
                ["needs more salt", "burned a little", "was simmering", "rose nicely", "tastes of garlic",
                 "went into the oven"],
                ["before dinner", "on the stove", "with fresh butter", "for the guests", "in the big pot"]),
    "harbour": (["the ferry", "a fishing boat", "the lighthouse", "our sailboat", "the tugboat", "that trawler"],
                ["left the pier", "dropped anchor", "sounded its horn", "rocked in the swell",
                 "came back late", "lost a sail"],
                ["at high tide", "in the fog", "past the breakwater", "under grey clouds", "near the docks"]),
}


def topic_sentences(per_topic, seed):
    """`per_topic` sentences of each topic, shuffled: (texts, labels)."""
    rng = random.Random(seed)
    rows = []
    for label, (subjects, verbs, places) in TOPICS.items():
        for _ in range(per_topic):
            rows.append(("%s %s %s" % (rng.choice(subjects), rng.choice(verbs), rng.choice(places)), label))
    rng.shuffle(rows)
    return [t for t, _ in rows], [label for _, label in rows]


# Small and fast: well under a second per fit.
TINY_TEXT_MODEL = dict(maps=8, embedding_dim=16, widths=(2, 3), epochs=12, batch_size=10, seed=3)


@pytest.fixture(scope="session")
def topics():
    return topic_sentences(20, seed=11)


@pytest.fixture(scope="session")
def trained_text(topics):
    texts, labels = topics
    return textcnn.TextCNNClassifier(**TINY_TEXT_MODEL).fit(texts, labels)


@pytest.fixture(scope="session")
def text_model_file(trained_text, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "topics.model"
    trained_text.model_.save(str(path))
    return path


def bar_images(per_class, size=8, seed=5):
    """uint8 images N x size x size of three classes (0: horizontal bar, 1: vertical bar,
    2: both) on noise, shuffled: (images, labels)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label in range(3):
        for _ in range(per_class):
            image = rng.integers(0, 60, size=(size, size))
            row, col = rng.integers(1, size - 1, size=2)
            if label in (0, 2):
                image[row, :] = 255
            if label in (1, 2):
                image[:, col] = 255
            images.append(image)
            labels.append(label)
    order = rng.permutation(len(labels))
    return np.array(images, dtype=np.uint8)[order], np.array(labels)[order]


TINY_IMAGE_MODEL = dict(architecture="cnn_1", epochs=10, learning_rate=0.003, batch_size=16, validation_split=0.0, seed=2)

"""Ctrl-C during fit(): SIGINT arrives while the library trains without the GIL; the run checks
Python's signal handlers after every batch (PyErr_CheckSignals), stops there and fit() raises
KeyboardInterrupt.

The fit runs in a child interpreter, asked for far more epochs than it could finish in the
test's time limit (a fit that ignored the signal fails by the timeout instead of hanging the
run). Its SIGINT handler records the Python frame it ran in: the fit's own frame (_train) when
the run's check called it between two batches; a logging frame had it waited for the next
Python code, the epoch's log line."""

import json
import os
import subprocess
import sys

CHILD = r"""
import json, logging, os, signal, sys, threading, time
import textcnn
sys.path.insert(0, sys.argv[1])
from conftest import topic_sentences

texts, labels = topic_sentences(1000, seed=1)  # 600 batches an epoch, then one Python log call
epochs, kill, caught = [], {}, {}

def press_ctrl_c():
    time.sleep(0.05)  # let the main thread leave the log handler and train on
    kill.update(epochs=len(epochs), time=time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)

class Count(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("epoch "):
            epochs.append(record.getMessage())
            if len(epochs) == 2:  # training is under way: Ctrl-C from another thread, a little later
                threading.Thread(target=press_ctrl_c).start()

def on_sigint(signum, frame):
    caught.update(where=frame.f_code.co_name, epochs=len(epochs), delay=time.perf_counter() - kill["time"])
    raise KeyboardInterrupt

signal.signal(signal.SIGINT, on_sigint)
log = logging.getLogger("textcnn")
log.addHandler(Count())
log.setLevel(logging.INFO)  # epochs only: no Python code runs between two batches
model = textcnn.TextCNNClassifier(maps=8, embedding_dim=16, widths=(2,), epochs=1000000, batch_size=5)
try:
    model.fit(texts, labels)
except KeyboardInterrupt:
    print(json.dumps(dict(caught, epochs_at_kill=kill["epochs"], fitted=hasattr(model, "model_"))))
"""


def test_ctrl_c_stops_fit_after_the_current_batch():
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run([sys.executable, "-c", CHILD, here], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["where"] == "_train", outcome  # called from the run, between two batches
    assert outcome["epochs"] == outcome["epochs_at_kill"] >= 2, outcome  # no epoch ended after the signal
    assert not outcome["fitted"]

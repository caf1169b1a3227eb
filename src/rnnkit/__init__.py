"""rnnkit: recurrent neural networks from their equations.

import rnnkit
lm = rnnkit.load("runs/alice")                        # a language model (a run directory: its best checkpoint)
print(lm.generate("Alice ", length=300, temperature=0.8))   # "Alice " and 300 more characters
clf = rnnkit.load("runs/names")                       # a classifier: predict / top / evaluate
tagger = rnnkit.load("runs/ewt")                      # a tagger: tag / evaluate
tagger.tag("It's not butter!")                        # [("It", "PRON"), ("'s", "AUX"), ...]
"""

__version__ = "0.1.0"


def load(path, device="cpu", expect=None):
    """Load a trained model of any task from a checkpoint (.safetensors) or a run directory (its best).

    Returns the checkpoint's task's loaded model: a ``LoadedLanguageModel`` (generate,
    next_distribution, evaluate_text), a ``LoadedClassifier`` (predict, top, evaluate) or a
    ``LoadedTagger`` (tag, evaluate). ``expect`` ("lm", "classify" or "tag") makes a checkpoint of
    another task an error. No code from the file is run; see ``rnnkit.tasks.load``.
    """
    from rnnkit.tasks import load as _load

    return _load(path, device, expect)

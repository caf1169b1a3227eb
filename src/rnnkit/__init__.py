"""rnnkit: recurrent neural networks from their equations.

import rnnkit
lm = rnnkit.load("runs/alice/best.safetensors")
print(lm.generate("Alice ", length=300, temperature=0.8))
"""

__version__ = "0.1.0"


def load(path, device="cpu"):
    """Load a trained model (language model, classifier, tagger): see ``rnnkit.tasks.load``."""
    from rnnkit.tasks import load as _load

    return _load(path, device)

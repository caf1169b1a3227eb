"""rnnkit: recurrent neural networks from their equations."""
__version__ = "0.1.0"

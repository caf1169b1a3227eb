"""Using trained models, the task-free parts: sampling, metrics, which file a checkpoint path means.
(The loaded-model classes and ``load`` are the tasks': ``rnnkit.tasks``.)"""

from rnnkit.infer.loading import resolve_checkpoint
from rnnkit.infer.sampling import check_sampling, next_token_probs, sample_next

__all__ = [
    "check_sampling",
    "next_token_probs",
    "resolve_checkpoint",
    "sample_next",
]

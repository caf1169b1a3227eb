"""Flags shared by the training commands (``rnnkit train``, ``train classify``, ``train tag``).

Each flag writes ``section.field`` of the run's configuration (see ``rnnkit.cli.options``). The help
texts carry no defaults: ``rnnkit.cli.defaults.show_defaults`` appends each task's own, and the placeholders.
"""

from __future__ import annotations

from rnnkit.cells import CELL_TYPES
from rnnkit.cli.options import add, fractions


def add_recurrent_flags(m, embedding_help: str = "token embedding size") -> None:
    """The recurrent stack ([model.rnn]: cell, sizes, backend and per-cell options), the embedding
    size and the model's dropout ([model])."""
    add(m, "--cell", dest="model.rnn.cell", choices=list(CELL_TYPES), help="recurrent cell")
    add(m, "--embedding-size", dest="model.embedding_size", type=int, help=embedding_help)
    add(m, "--hidden-size", dest="model.rnn.hidden_size", type=int, help="hidden units per layer")
    add(m, "--num-layers", dest="model.rnn.num_layers", type=int, help="stacked recurrent layers")
    add(m, "--dropout", dest="model.dropout", type=float, help="dropout probability on the non-recurrent connections")
    add(
        m,
        "--backend",
        dest="model.rnn.backend",
        choices=["auto", "fused", "autograd", "native"],
        help="recurrent backend",
    )
    add(
        m,
        "--nonlinearity",
        dest="model.rnn.nonlinearity",
        choices=["tanh", "relu"],
        help="Elman RNN (--cell rnn) activation",
    )
    add(
        m,
        "--reset-before",
        dest="model.rnn.reset_after",
        action="store_const",
        const=False,
        help="GRU: apply the reset gate before the recurrent matmul (Cho et al. 2014)",
    )
    add(m, "--forget-bias", dest="model.rnn.forget_bias", type=float, help="LSTM forget-gate bias at init")
    add(
        m,
        "--proj-size",
        dest="model.rnn.proj_size",
        type=int,
        metavar="P",
        help="LSTM: project each h_t to P units (torch.nn's LSTM(proj_size=P); 0: none)",
    )
    add(
        m,
        "--recurrent-max",
        dest="model.rnn.recurrent_max",
        type=float,
        metavar="M",
        help="IndRNN (--cell indrnn): clip each unit's recurrent weight to [-M, M], e.g. 2**(1/T) (0: no bound)",
    )
    # the regularisers inside the recurrence (training only; rnnkit.layers.regularise)
    add(
        m,
        "--variational",
        dest="model.rnn.variational",
        action="store_const",
        const=True,
        help="--dropout with one mask per sequence, the same at every step (Gal & Ghahramani 2016)",
    )
    add(
        m,
        "--recurrent-dropout",
        dest="model.rnn.recurrent_dropout",
        type=float,
        help="dropout on h_(t-1) where it enters the recurrence, one mask per sequence (autograd backend)",
    )
    add(m, "--weight-drop", dest="model.rnn.weight_drop", type=float, help="DropConnect on W_hh, one mask per batch")
    add(m, "--zoneout", dest="model.rnn.zoneout", type=float, help="each unit of h keeps its last value (autograd)")
    add(m, "--zoneout-cell", dest="model.rnn.zoneout_cell", type=float, help="zoneout on the LSTM's cell state c")


def add_training_flags(p) -> None:
    """Optimiser, clipping, schedules, budgets, evaluation, seed and device."""
    t = p.add_argument_group("training")
    add(
        t,
        "--optimizer",
        dest="train.optimizer",
        choices=["adam", "adamw", "sgd", "rmsprop", "adagrad", "ntasgd"],
        help="optimiser (adamw: decoupled --weight-decay on the weight matrices only; ntasgd: SGD, then "
        "averaged from the evaluation that fails to beat the best of all but the last --nonmono)",
    )
    add(t, "--lr", dest="train.lr", type=float, help="learning rate (on --resume: replaces the current value)")
    add(t, "--momentum", dest="train.momentum", type=float, help="SGD momentum (--optimizer sgd)")
    add(t, "--nonmono", dest="train.nonmono", type=int, help="--optimizer ntasgd: evaluations the trigger looks past")
    add(t, "--weight-decay", dest="train.weight_decay", type=float, help="L2 weight decay")
    add(
        t,
        "--clip-mode",
        dest="train.clip_mode",
        choices=["norm", "value", "none"],
        help="gradient clipping: global norm, per-element value (char-rnn) or none",
    )
    add(t, "--clip", dest="train.clip", type=float, help="clipping threshold")
    add(
        t,
        "--lr-schedule",
        dest="train.lr_schedule",
        choices=["none", "step", "epoch", "plateau", "cosine"],
        help="learning-rate decay schedule: none, x --lr-decay every --lr-decay-every steps, each epoch after "
        "--lr-decay-start, when --monitor stops improving (--patience), or cosine: --warmup steps, then a "
        "cosine decay to --lr x --min-lr-factor at the end of the budget (steps, epochs or minutes)",
    )
    add(t, "--warmup", dest="train.warmup", type=int, help="steps of linear lr warm-up (--lr-schedule cosine)")
    add(
        t,
        "--min-lr-factor",
        dest="train.min_lr_factor",
        type=float,
        help="the learning rate at the budget's end, as a multiple of --lr (--lr-schedule cosine)",
    )
    add(t, "--beta2", dest="train.beta2", type=float, help="Adam's second-moment decay (--optimizer adamw)")
    add(t, "--lr-decay", dest="train.lr_decay", type=float, help="multiplier of each learning-rate decay")
    add(t, "--lr-decay-every", dest="train.lr_decay_every", type=int, help="steps between decays (--lr-schedule step)")
    add(
        t,
        "--lr-decay-start",
        dest="train.lr_decay_start",
        type=int,
        help="epochs at the constant lr first (--lr-schedule epoch)",
    )
    add(
        t,
        "--patience",
        dest="train.patience",
        type=int,
        help="evaluations without improvement before a decay (--lr-schedule plateau)",
    )
    add(t, "--max-steps", dest="train.max_steps", type=int, help="stop after N steps (0: no limit)")
    add(
        t,
        "--max-epochs",
        dest="train.max_epochs",
        type=float,
        help="stop after X epochs (0: no limit; 0 when --max-steps or --max-minutes is given)",
    )
    add(
        t, "--max-minutes", dest="train.max_minutes", type=float, help="stop after X minutes of wall time (0: no limit)"
    )
    add(
        t,
        "--eval-every",
        dest="train.eval_every",
        type=int,
        help="steps between evaluations + checkpoints (0: at the end of every epoch)",
    )
    add(t, "--log-every", dest="train.log_every", type=int, help="steps between records in metrics.jsonl")
    add(
        t,
        "--monitor",
        dest="train.monitor",
        help="validation metric that picks the best checkpoint and drives the plateau schedule: val_loss, or "
        "val_acc for classifiers (val_loss for --task regress) and taggers",
    )
    add(t, "--seed", dest="train.seed", type=int, help="random seed (initialisation, batch order, dropout)")
    add(t, "--device", dest="train.device", help="cpu, cuda, cuda:1, ... or auto (a GPU when there is one)")
    add(
        t,
        "--tensorboard",
        dest="train.tensorboard",
        action="store_const",
        const=True,
        help="also log loss, validation metrics, lr and gradient norm to RUN/tensorboard/ "
        "(needs the tensorboard extra)",
    )


def add_labelled_data_flags(d, unit: str) -> None:
    """What classification and tagging share: vocabulary, decoding, held-out data, split, batches.
    ``unit``: "sequences" or "sentences" (for the help)."""
    add(d, "--lowercase", dest="data.lowercase", action="store_const", const=True, help="fold the words' case")
    add(d, "--min-freq", dest="data.min_freq", type=int, help="tokens seen fewer than N times in training become <unk>")
    add(d, "--max-vocab", dest="data.max_vocab", type=int, help="keep the most frequent tokens (0: all)")
    add(d, "--encoding", dest="data.encoding", help="text encoding")
    add(
        d,
        "--errors",
        dest="data.errors",
        choices=["strict", "replace", "ignore"],
        help="undecodable bytes: strict (fail, naming the byte offset), replace or ignore",
    )
    add(d, "--valid", dest="data.valid", metavar="FILE", help="a validation file (same format as the data)")
    add(d, "--test", dest="data.test", metavar="FILE", help="a test file (same format as the data)")
    add(
        d,
        "--split",
        dest="data.split",
        type=fractions,
        metavar="TRAIN,VAL,TEST",
        help="stratified split fractions (ignored with --valid/--test)",
    )
    add(d, "--split-seed", dest="data.split_seed", type=int, help="seed of the split")
    add(d, "--batch-size", dest="data.batch_size", type=int, help=f"{unit} per batch")
    add(d, "--no-bucket", dest="data.bucket", action="store_const", const=False, help="no length bucketing")


def add_run_flags(p) -> None:
    """--config, --run-dir, --resume, --init-from, --no-progress: the run plumbing every `rnnkit train` form has."""
    p.add_argument("--config", metavar="TOML", help="config file with [data], [model], [train] tables; flags override")
    p.add_argument(
        "--run-dir", metavar="DIR", help="where checkpoints, metrics and plots go (default: runs/<name>-<time>)"
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its latest checkpoint; training flags (budgets, lr, clip, ...) may be "
        "changed: --lr replaces the schedule's current value and the schedule continues from it; --optimizer, "
        "--lr-schedule, --monitor and --seed stay the run's own",
    )
    p.add_argument(
        "--init-from",
        metavar="RUN",
        help="fine-tune: a new run (its own --run-dir) starting from the weights of RUN (a run directory: its "
        "best.safetensors; or a .safetensors file), of the same task, with a fresh optimiser, schedule, step count and "
        "budgets; the model and vocabulary are RUN's (of the model flags only --dropout and --backend may be given; "
        "flags that define the vocabulary are refused), other data flags default to RUN's; training text with "
        "characters RUN lacks is refused, words it lacks read as <unk>, labels or tags it lacks are refused",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

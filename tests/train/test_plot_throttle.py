"""curves.png: redrawn at an evaluation at most every PLOT_EVERY_S seconds, always at a session's end."""

from rnnkit.train import trainer as trainer_module
from tests.train._toy import records, toy_trainer


def _count_plots(monkeypatch) -> list:
    drawn = []
    real = trainer_module.plot_curves

    def counting(recs, path, title=""):
        drawn.append(len(recs))
        return real(recs, path, title=title)

    monkeypatch.setattr(trainer_module, "plot_curves", counting)
    return drawn


def test_a_short_session_draws_at_the_first_evaluation_and_at_the_end(tmp_path, monkeypatch):
    drawn = _count_plots(monkeypatch)
    monkeypatch.setattr(trainer_module, "PLOT_EVERY_S", 1e9)
    toy_trainer(tmp_path, max_steps=10, eval_every=2).fit()
    assert len(records(tmp_path, "eval")) == 5
    assert len(drawn) == 2  # the first evaluation, then the end: not five times
    assert drawn[-1] == len(records(tmp_path))  # the last drawing has every record
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_with_no_throttle_every_evaluation_draws(tmp_path, monkeypatch):
    drawn = _count_plots(monkeypatch)
    monkeypatch.setattr(trainer_module, "PLOT_EVERY_S", 0.0)
    toy_trainer(tmp_path, max_steps=10, eval_every=2).fit()
    assert len(drawn) == 5 + 1

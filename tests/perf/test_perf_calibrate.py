"""perf/calibrate.py: which cells it measures, how a run's time becomes a budget, and one
real run end to end."""

from __future__ import annotations

import pytest

from musebench.experiments.tracks import capabilities, load_protocol, members
from musebench.perf import calibrate


def test_every_training_member_of_each_track_is_planned_on_its_first_data_set():
    protocol = load_protocol()
    caps = capabilities(protocol.preset)
    planned = calibrate.plans(0.125)
    assert {(p.track, p.dataset) for p in planned} == {(t.name, t.datasets[0])
                                                       for t in protocol.tracks}
    for track in protocol.tracks:
        names = {p.model for p in planned if p.track == track.name}
        assert names <= set(members(track, caps))
        assert "markov" not in names and "random" not in names  # no budget: they do not train
    melody = {p.model: p for p in planned if p.track == "melody"}
    assert melody["crnngan"].view == "melody" and melody["crnngan"].budget == 8_582_400
    assert melody["crnngan"].measured == 1_072_800  # an eighth
    classical = [p for p in planned if p.track == "classical"]
    assert classical and all(p.max_length == 2048 for p in classical)


def test_a_runs_time_becomes_a_rate_its_budgets_minutes_and_a_proposal_in_whole_epochs():
    plan = calibrate.Plan("melody", "bach", "m", "melody", None, budget=1_000_000,
                          measured=125_000)
    row = {"train_seconds": 50.0, "budget": {"timesteps_per_epoch": 10_000}}
    result = calibrate.figures(plan, row, minutes=9.0)
    assert result["timesteps_per_s"] == 2_500.0                 # 125,000 / 50
    assert result["budget_minutes"] == pytest.approx(1_000_000 / 2_500 / 60)  # 6.67
    assert result["proposed"] == 1_350_000                      # 2,500 x 540 = 135 epochs
    row["budget"]["timesteps_per_epoch"] = 4_000_000            # under one epoch: not rounded
    assert calibrate.figures(plan, row, 9.0)["proposed"] == 1_350_000
    row["budget"]["timesteps_per_epoch"] = 11_000               # 122.7 epochs -> 123
    assert calibrate.figures(plan, row, 9.0)["proposed"] == 123 * 11_000


def test_the_command_trains_the_cells_view_and_length_on_the_measured_share(tmp_path):
    plan = calibrate.Plan("classical", "classical", "m", "full", 2048, 10, 5)
    command = calibrate.bench_command(plan, tmp_path)
    assert command[command.index("--view") + 1] == "full"
    assert command[command.index("--max-length") + 1] == "2048"
    assert "train_timesteps=5" in command and "--no-audio" in command


@pytest.mark.slow  # one standard-size piano-roll LSTM run on the fixture: ~15 s
def test_one_real_run_gives_its_figures():
    plan = calibrate.Plan("t", "fixture", "pianoroll_lstm", "full", None, budget=11_520,
                          measured=1_152)
    [result] = calibrate.run([plan], jobs=1, minutes=9.0)
    assert "error" not in result, result
    assert result["train_seconds"] > 0 and result["timesteps_per_s"] > 0
    assert result["budget_minutes"] == pytest.approx(
        11_520 / result["timesteps_per_s"] / 60)


def test_a_run_that_fails_is_an_error_entry_naming_why():
    plan = calibrate.Plan("t", "no_such_set", "pianoroll_lstm", "full", None, 10, 5)
    [result] = calibrate.run([plan], jobs=1, minutes=9.0)
    assert "no_such_set" in result["error"]

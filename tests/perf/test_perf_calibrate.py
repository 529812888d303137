"""perf/calibrate.py: which cells it measures, how two runs' times become a budget, and
real runs end to end."""

from __future__ import annotations

import pytest

from musebench.experiments.tracks import capabilities, load_protocol, members
from musebench.perf import calibrate


def test_every_training_member_of_each_track_is_planned_on_its_first_data_set():
    protocol = load_protocol()
    caps = capabilities(protocol.preset)
    planned = calibrate.plans()
    assert {(p.track, p.dataset) for p in planned} == {(t.name, t.datasets[0])
                                                       for t in protocol.tracks}
    for track in protocol.tracks:
        names = {p.model for p in planned if p.track == track.name}
        assert names <= set(members(track, caps))
        assert "markov" not in names and "random" not in names  # no budget: they do not train
    crnngan = [p for p in planned if p.track == "melody" and p.model == "crnngan"]
    assert [p.measured for p in crnngan] == [478_290, 956_580]  # 1/16 and 1/8
    assert crnngan[0].view == "melody" and crnngan[0].budget == 7_652_640
    assert crnngan[0].score_beats == 32
    classical = [p for p in planned if p.track == "classical"]
    assert classical and all(p.max_length == 2048 for p in classical)


def test_two_runs_give_a_rate_a_fixed_cost_the_budgets_minutes_and_a_proposal():
    # t = 20 + b / 2,500: 50,000 steps in 40 s, 100,000 in 60 s
    result = calibrate.figures([(100_000, 60.0), (50_000, 40.0)], budget=1_000_000,
                               per_epoch=10_000, minutes=9.0)
    assert result["timesteps_per_s"] == 2_500.0
    assert result["fixed_seconds"] == pytest.approx(20.0)
    assert result["budget_minutes"] == pytest.approx((20 + 400) / 60)  # 7.0
    assert result["proposed"] == 1_300_000  # 2,500 x (540 - 20) = 130 epochs
    # under one epoch: not rounded to epochs; 11,000 an epoch: 118.2 epochs -> 118
    assert calibrate.figures([(50_000, 40.0), (100_000, 60.0)], 1, 4_000_000, 9.0)[
        "proposed"] == 1_300_000
    assert calibrate.figures([(50_000, 40.0), (100_000, 60.0)], 1, 11_000, 9.0)[
        "proposed"] == 118 * 11_000
    # the Music Transformer on classical pieces: 593 s of fixed cost, more than 9 minutes
    assert calibrate.figures([(70_331, 660.0), (140_662, 727.0)], 1, None, 9.0)[
        "proposed"] is None
    assert "not slower" in calibrate.figures([(50_000, 40.0), (100_000, 39.0)], 1, None,
                                             9.0)["error"]


def test_a_rate_resting_on_a_few_seconds_beside_the_fixed_cost_is_flagged():
    """The biaxial LSTM's classical calibration: 8.6 s between runs of 112.4 s and 121.0 s
    (under a quarter of 112.4) is flagged, and the table says so; 20 s beside 40 s is not."""
    weak = calibrate.figures([(13_858, 112.435), (27_716, 120.977)], 221_725, None, 9.0)
    assert "calibrate this cell again" in weak["warning"]
    assert weak["proposed"] > 0  # still proposed, with the flag beside it
    assert "unreliable" in calibrate.table([{"track": "classical", "dataset": "classical",
                                             "model": "biaxial", **weak}])
    assert "warning" not in calibrate.figures([(50_000, 40.0), (100_000, 60.0)], 1, None, 9.0)


def test_the_command_trains_the_cells_view_and_length_on_the_measured_share(tmp_path):
    plan = calibrate.Plan("classical", "classical", "m", "full", 2048, 10, 5, score_beats=16)
    command = calibrate.bench_command(plan, tmp_path)
    assert command[command.index("--view") + 1] == "full"
    assert command[command.index("--max-length") + 1] == "2048"
    assert command[command.index("--score-beats") + 1] == "16"
    assert command[command.index("--track") + 1] == "classical"  # its track_settings apply
    assert "train_timesteps=5" in command and "--no-audio" in command


@pytest.mark.slow  # two standard-size piano-roll LSTM runs on the fixture: ~25 s
def test_two_real_runs_give_the_cells_figures():
    plans = [calibrate.Plan("t", "fixture", "pianoroll_lstm", "full", None, budget=46_080,
                            measured=m) for m in (1_152, 4_608)]
    [result] = calibrate.calibrate(plans, jobs=2, minutes=9.0)
    assert "error" not in result, result
    assert result["timesteps_per_s"] > 0 and result["budget"] == 46_080
    assert result["budget_minutes"] == pytest.approx(
        (result["fixed_seconds"] + 46_080 / result["timesteps_per_s"]) / 60)


def test_a_run_that_fails_is_an_error_entry_naming_why():
    plans = [calibrate.Plan("t", "no_such_set", "pianoroll_lstm", "full", None, 10, m)
             for m in (1, 2)]
    told = []
    [result] = calibrate.calibrate(plans, jobs=1, minutes=9.0, on_cell=told.append)
    assert "no_such_set" in result["error"]
    assert told == [result]  # said as the cell's last run ended


def test_a_calibration_in_parts_keeps_the_other_cells_entries(tmp_path):
    import json

    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"results": [
        {"track": "melody", "dataset": "bach", "model": "a", "proposed": 1},
        {"track": "classical", "dataset": "classical", "model": "a", "proposed": 2}]}))
    new = [{"track": "melody", "dataset": "bach", "model": "a", "proposed": 3}]
    assert calibrate.merged(path, new) == [
        {"track": "classical", "dataset": "classical", "model": "a", "proposed": 2}, *new]
    assert calibrate.merged(tmp_path / "none.json", new) == new

"""The leaderboard report's Performance section, rendered from a small hand-made perf JSON
(the shape ``make perf`` writes: ``perf_models`` with machine peaks and per-model cells)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musebench.cli import main
from musebench.leaderboard.html_report import to_html
from musebench.leaderboard.performance import HEADER, performance_rows
from musebench.leaderboard.render import to_markdown

PERF = {
    "machine": {"processor": "x86_64", "cpus": 2},
    "started": "2026-11-23T14:00:00+0000",
    "perf_models": {
        "machine_peak": {"device": "cpu", "size": 2048, "threads": 2,
                         "peak_fp32": 4.0e11, "peak_bf16": 8.0e11},
        "models": {
            "tinylstm": {"smoke": {
                "dataset": "fixture", "batch_size": 8, "trains": True,
                "train": {
                    "32-true": {"samples_per_s": 100.0, "time_steps_per_s": 3200.0,
                                "achieved_flops_per_s": 2.0e9, "fraction_of_peak": 0.005,
                                "peak_memory_bytes": 500 * 2**20},
                    "bf16-mixed": {"samples_per_s": 150.0, "fraction_of_peak": 0.00375,
                                   "peak_memory_bytes": 520 * 2**20},
                },
                "bf16_over_fp32": 1.5,
                "generate": {"bars_per_s": 42.0, "peak_memory_bytes": 480 * 2**20},
                "ddp": {"samples_per_s": 180.0, "ddp_over_single": 1.8},
            }, "standard": {
                "dataset": "fixture", "batch_size": 8, "trains": True,
                "train": {"32-true": {"samples_per_s": 80.0}},
                "train_busy": {"busy_processes": 1, "samples_per_s": 40.0},
                "busy_over_idle": 0.5, "one_thread_over_idle": 0.75,
                "one_thread_busy_over_idle": 0.7, "bench_threads": 1,
                "bench_fraction_of_peak": 0.29,
                "length_grouped_over_shuffled": 1.38,
                "padding": {"shuffle": 0.7412, "length_grouped": 0.9833},
                "generate_set": {"bars_per_s": 1234.0},
                "profile": {"32-true": {"top": [{"name": "aten::mm", "share": 0.625},
                                                {"name": "aten::add", "share": 0.125}]},
                            "bf16-mixed": {"top": [{"name": "aten::mm", "share": 0.5},
                                                   {"name": "aten::copy_", "share": 0.25}]}},
                "bf16_change": {"base_ms": 8.0, "other_ms": 12.0, "operators": [
                    {"name": "aten::copy_", "base_ms": 0.0, "other_ms": 3.0},
                    {"name": "aten::add", "base_ms": 1.0, "other_ms": 0.4}]},
            }},
            "counts": {"smoke": {"dataset": "fixture", "trains": False, "train": {},
                                 "generate": {"bars_per_s": 9000.0}}},
            "needsdata": {"standard": {"dataset": "jsb", "skipped": "set MUSEBENCH_DATA"}},
        },
    },
}


def test_rows_carry_throughput_ratios_memory_and_reasons() -> None:
    rows = {(r[0], r[1]): dict(zip(HEADER, r, strict=True)) for r in performance_rows(PERF)}
    lstm = rows["tinylstm", "smoke"]
    assert lstm["fp32 samples/s"] == "100" and lstm["bf16 samples/s"] == "150"
    assert lstm["bf16/fp32"] == "1.5" and lstm["DDP 2/1"] == "1.8"
    assert lstm["fp32 GFLOP/s"] == "2" and lstm["fp32 % peak"] == "0.5"
    assert lstm["peak memory MB"] == "520"  # the largest of the measurements
    assert rows["counts", "smoke"]["fp32 samples/s"] == "-"
    assert rows["counts", "smoke"]["generation bars/s"] == "9000"
    assert "skipped: set MUSEBENCH_DATA" in rows["needsdata", "standard"].values()
    assert rows["tinylstm", "standard"]["busy/idle"] == "0.5"
    assert rows["tinylstm", "standard"]["1 thread/idle"] == "0.75"
    assert rows["tinylstm", "standard"]["1 thread busy/idle"] == "0.7"
    assert rows["tinylstm", "smoke"]["1 thread/idle"] == "-"
    assert rows["tinylstm", "standard"]["bench threads"] == "1"
    assert rows["tinylstm", "standard"]["fp32 % peak at bench threads"] == "29"
    assert rows["tinylstm", "standard"]["sample set bars/s"] == "1234"
    assert rows["tinylstm", "standard"]["length-grouped/shuffled steps/s"] == "1.38"
    assert rows["tinylstm", "standard"]["real steps % (shuffled / grouped)"] == "74 / 98"
    assert rows["tinylstm", "smoke"]["real steps % (shuffled / grouped)"] == "-"


def test_the_top_operators_follow_the_table() -> None:
    markdown = to_markdown([], performance=PERF)
    assert "## Performance: operators" in markdown
    assert "| tinylstm | standard | 32-true | aten::mm 62.5%, aten::add 12.5% | - |" in markdown
    assert "<td>aten::mm 62.5%, aten::add 12.5%</td>" in to_html([], performance=PERF)


def test_the_bf16_operator_row_says_where_the_batch_time_moved_from_fp32() -> None:
    """Why bf16 gains or loses, from the two profiles: total self ms, then the operators
    that moved most, signed (casts added, a kernel slower or faster)."""
    markdown = to_markdown([], performance=PERF)
    assert ("| tinylstm | standard | bf16-mixed | aten::mm 50%, aten::copy_ 25% | "
            "total 8 -> 12 ms: aten::copy_ +3.0, aten::add -0.6 |") in markdown


def test_markdown_and_html_reports_end_with_the_performance_section() -> None:
    markdown = to_markdown([], performance=PERF)
    assert "## Performance" in markdown
    assert "fp32 400 GFLOP/s, bf16 800 GFLOP/s" in markdown
    assert "| tinylstm | smoke | fixture | 100 | 3200 | 150 | 1.5 |" in markdown
    page = to_html([], performance=PERF)
    assert page.index("<h2>Performance</h2>") < page.index("</body>")
    assert "<td>tinylstm</td><td>smoke</td>" in page
    assert "Performance" not in to_markdown([]) and "Performance" not in to_html([])


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_leaderboard_command_reads_perf_json_beside_the_results(tmp_path: Path, fmt: str,
                                                                capsys: pytest.CaptureFixture
                                                                ) -> None:
    (tmp_path / "perf.json").write_text(json.dumps(PERF))
    store = tmp_path / "results.jsonl"
    assert main(["leaderboard", "--results", str(store), "--no-reference",
                 "--format", fmt]) == 0
    assert "tinylstm" in capsys.readouterr().out


def test_the_report_says_why_bf16_cannot_pay_off_where_its_peak_is_below_fp32s() -> None:
    from musebench.leaderboard.performance import bf16_note

    assert bf16_note({"peak_fp32": 4.0e11, "peak_bf16": 8.0e11}) == ""
    note = bf16_note({"peak_fp32": 1.14e11, "peak_bf16": 2.0e9})  # this machine, AVX2 only
    assert "bf16 matmul peak is 2% of its fp32 one" in note


def test_the_official_report_falls_back_on_the_kept_perf_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """With no perf.json beside the store, `--official` reads perf/previous.json (the kept
    last run), so official.md renders the same from a fresh clone; a plain report does not."""
    import musebench.perf.previous as previous

    kept = tmp_path / "kept" / "previous.json"
    kept.parent.mkdir()
    kept.write_text(json.dumps(PERF))
    monkeypatch.setattr(previous, "PREVIOUS", kept)
    store = tmp_path / "results.jsonl"
    assert main(["leaderboard", "--results", str(store), "--no-reference", "--format", "md"]) == 0
    assert "tinylstm" not in capsys.readouterr().out
    assert main(["leaderboard", "--official", "--results", str(store), "--no-reference",
                 "--format", "md"]) == 0
    assert "| tinylstm | smoke | fixture |" in capsys.readouterr().out


def test_budget_minutes_are_the_budgets_batches_at_the_measured_rate() -> None:
    """A budget of 2.5 epochs of 1,000 time steps in 40 batches is 100 batches: at 0.5
    batches/s, 200 s = 3.33 min."""
    from musebench.perf.throughput_cell import budget_minutes

    assert budget_minutes(2500, 1000, 40, 0.5) == pytest.approx(200 / 60)


def test_the_table_shows_the_minutes_a_budget_buys() -> None:
    cell = PERF["perf_models"]["models"]["tinylstm"]["standard"]
    perf = json.loads(json.dumps(PERF))
    perf["perf_models"]["models"]["tinylstm"]["standard"] = dict(cell, budget={
        "train_timesteps": 2500, "fp32_minutes": 8.25})
    rows = {(r[0], r[1]): dict(zip(HEADER, r, strict=True)) for r in performance_rows(perf)}
    assert rows["tinylstm", "standard"]["budget min (fp32)"] == "8.25"
    assert rows["tinylstm", "smoke"]["budget min (fp32)"] == "-"

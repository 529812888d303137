"""``musebench dashboard --offline`` writes a workspace definition that builds into a W&B
workspace with the expected panels and filters (no network), and the leaderboard's W&B
table is numeric with its CI in columns of their own, its run under the output folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from musebench.cli.leaderboard import LEADERBOARD_COLUMNS, leaderboard_table_rows, push_wandb
from musebench.experiments.dashboard import build_workspace, check_spec
from musebench.leaderboard.render import aggregate
from musebench.metrics.info import HEADLINE


def test_offline_dashboard_definition_has_the_panels_and_filters(tmp_path):
    out = tmp_path / "dash.json"
    result = subprocess.run([sys.executable, "-m", "musebench", "dashboard", "--offline",
                             "--dataset", "jsb", "--preset", "smoke", "--wandb-entity", "team",
                             "--wandb-project", "proj", "--out", str(out)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert f"--from {out}" in result.stdout
    spec = json.loads(out.read_text())
    assert spec["filters"] == {"job_type": "bench", "dataset": "jsb", "preset": "smoke"}
    assert spec["group_by"] == ["model"]
    sections = {s["name"]: s["panels"] for s in spec["sections"]}
    bars = [p["metric"] for p in sections["headline"] if p["type"] == "bar"]
    assert bars == list(HEADLINE)
    assert all(p["range"] == "stderr" for p in sections["headline"] if p["type"] == "bar")
    assert {"type": "table", "title": "leaderboard", "table": "leaderboard"} in sections["headline"]
    assert sections["training"][0]["type"] == "line" and "val_loss" in sections["training"][0]["y"]
    assert {p.get("table") for p in sections["samples"]} >= {"samples/table"}

    view = json.loads(build_workspace(spec)._to_model().model_dump_json())
    assert (view["entity"], view["project"]) == ("team", "proj")
    text = json.dumps(view)
    assert "jsb" in text and "smoke" in text and "jobType" in text
    panels = [p["view_type"] for s in view["spec"]["section"]["panel_bank_config"]["sections"]
              for p in s["panels"]]
    assert panels.count("Bar Chart") == len(HEADLINE) + 2 and "Run History Line Plot" in panels


def test_a_broken_definition_is_refused_with_its_file_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "entity": "e", "project": "p", "name": "n",
                               "filters": {}, "group_by": [], "sections": [
                                   {"name": "x", "panels": [{"type": "pie"}]}]}))
    with pytest.raises(ValueError, match="bad.json: section 'x' has a panel of type 'pie'"):
        check_spec(json.loads(bad.read_text()), str(bad))
    result = subprocess.run([sys.executable, "-m", "musebench", "dashboard", "--from", str(bad)],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "WANDB_MODE": "online"})
    assert result.returncode == 2 and "bad.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_leaderboard_wandb_table_is_numeric_and_its_run_lives_under_the_output(
        tmp_path, monkeypatch):
    rows = [{"kind": "run", "model": "markov", "dataset": "fixture", "preset": "smoke",
             "seed": s, "metrics": {"oa_mean": 0.5 + s / 10}} for s in range(3)]
    entries = aggregate(rows)
    (line,) = leaderboard_table_rows(entries)
    assert dict(zip(LEADERBOARD_COLUMNS, line, strict=True))["metric"] == "oa_mean"
    assert all(isinstance(v, float) for v in line[-3:]) and line[-2] < line[-3] < line[-1]
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    push_wandb(entries, tmp_path / "report")
    assert list((tmp_path / "report" / "wandb").glob("offline-run-*"))
    assert not (tmp_path / "wandb").exists()

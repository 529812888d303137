"""``musebench arena ranking`` and ``leaderboard --arena`` on a vote table worked out by
hand; ``arena serve`` refusing to start without audio; clear errors for bad databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from arena_study import make_results

from musebench.arena.db import Vote, VoteStore
from musebench.arena.ranking import summarise
from musebench.cli import main


@pytest.fixture
def db(tmp_path):
    """A votes table: ann prefers x to y twice; bob prefers x once and ties once."""
    url = f"sqlite:///{tmp_path / 'votes.sqlite'}"
    store = VoteStore(url)
    for rater, a, b, choice in (("ann", "x", "y", "a"), ("ann", "y", "x", "b"),
                                ("bob", "x", "y", "a"), ("bob", "y", "x", "tie")):
        store.record_vote(store.issue_pair(a, "k1", b, "k2", None, "q?"), choice, rater)
    return url


def test_ranking_json_matches_the_hand_computed_fit(db, capsys):
    assert main(["arena", "ranking", "--db", db, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # x scored 3.5 of 4 against y, plus the prior's virtual tie (½ each way): 4 to 1, so
    # p_x / p_y = 4 and the ratings are 1000 ± 200·log10(4) = 1000 ± 120.4
    assert [(r["system"], r["rating"]) for r in summary["systems"]] == [("x", 1120.4),
                                                                        ("y", 879.6)]
    assert summary["systems"][0]["votes"] == 4 and summary["systems"][0]["ties"] == 1
    assert summary["raters"] == 2 and summary["votes"] == 4
    # cross-rater vote pairs: 2 x 2 = 4, agreeing: ann's two x-wins with bob's x-win = 2
    assert summary["agreement"] == 0.5
    assert summary["date"] == datetime.now(UTC).date().isoformat()


def test_ranking_text_and_leaderboard_section(db, tmp_path, capsys):
    assert main(["arena", "ranking", "--db", db]) == 0
    text = capsys.readouterr().out
    assert "4 votes by 2 raters" in text and "agreement between raters: 50%" in text
    assert text.index("\nx ") < text.index("\ny ")
    store = make_results(tmp_path)
    assert main(["leaderboard", "--results", str(store), "--no-reference", "--arena", db]) == 0
    report = capsys.readouterr().out
    assert "## Listening test" in report and "| x | 1120 |" in report and "2 raters" in report
    assert main(["leaderboard", "--results", str(store), "--no-reference", "--arena", db,
                 "--format", "html"]) == 0
    assert "<h2>Listening test</h2>" in capsys.readouterr().out
    assert main(["leaderboard", "--results", str(store), "--no-reference"]) == 0
    assert "Listening test" not in capsys.readouterr().out  # no votes beside the store
    (tmp_path / "arena.sqlite").write_bytes((tmp_path / "votes.sqlite").read_bytes())
    assert main(["leaderboard", "--results", str(store), "--no-reference"]) == 0
    assert "## Listening test" in capsys.readouterr().out  # found where arena serve puts it


def test_sanity_pairs_flag_raters_who_fail_them():
    now = datetime.now(UTC)
    votes = [Vote("real data", "random", "a", "ann", "real data", now),
             Vote("random", "real data", "b", "ann", "real data", now),
             Vote("real data", "random", "b", "bob", "real data", now),
             Vote("random", "real data", "tie", "bob", "real data", now)]
    summary = summarise(votes, n_boot=10)
    assert summary["sanity"] == {"pairs": 4, "passed": 0.5, "flagged_raters": ["bob"]}
    assert summary["votes"] == 4 and summary["excluded_raters"] == []
    strict = summarise(votes, n_boot=10, exclude_flagged=True)
    assert strict["votes"] == 2 and strict["raters"] == 1 and strict["excluded_raters"] == ["bob"]
    assert strict["sanity"] == summary["sanity"]


def test_errors_name_the_problem(tmp_path, capsys, monkeypatch):
    assert main(["arena", "ranking", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"]) == 2
    assert "no such database" in capsys.readouterr().err
    assert main(["arena", "ranking", "--db", "not a url"]) == 2
    assert "not a database URL" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth on the PATH
    store = make_results(tmp_path)
    assert main(["arena", "serve", "--results", str(store),
                 "--db", f"sqlite:///{tmp_path / 'v.sqlite'}"]) == 2
    assert "fluidsynth program is not installed" in capsys.readouterr().err
    assert main(["arena", "serve", "--results", str(store), "--dataset", "jsb"]) == 2
    assert "no runs to listen to on jsb" in capsys.readouterr().err

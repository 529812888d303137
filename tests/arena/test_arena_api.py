"""The arena's JSON API through Flask's test client: pairs, votes, ranking; bad requests
get a 4xx with a message and write nothing to the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from arena_study import fake_study

from musebench.arena.app import create_app
from musebench.arena.systems import REAL


@pytest.fixture
def client_and_store(tmp_path):
    study = fake_study(tmp_path, f"sqlite:///{tmp_path / 'votes.sqlite'}")
    return create_app(study).test_client(), study.store


def writes(store):
    """A list that collects every INSERT/UPDATE/DELETE the store's engine runs."""
    seen = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen.append(statement)
    return seen


def test_pair_vote_ranking_round_trip(client_and_store):
    client, store = client_and_store
    page = client.get("/")
    assert page.status_code == 200 and b"Which is more musical?" in page.data
    pair = client.get("/api/pair").get_json()
    assert set(pair) == {"pair_id", "question", "a", "b"}
    audio = client.get(pair["a"]["audio"])
    assert audio.status_code == 200 and audio.data[:4] == b"RIFF"
    response = client.post("/api/vote", json={"pair_id": pair["pair_id"], "choice": "a",
                                              "rater": "ann"})
    assert response.status_code == 200 and response.get_json() == {"ok": True, "votes": 1}
    ranking = client.get("/api/ranking").get_json()
    assert ranking["votes"] == 1 and ranking["raters"] == 1
    rows = {row["system"]: row for row in ranking["systems"]}
    assert set(rows) == {REAL, "midinet", "random"}
    assert set(rows[REAL]) >= {"system", "rating", "ci_low", "ci_high", "votes"}
    assert sum(row["votes"] for row in rows.values()) == 2


@pytest.mark.parametrize("body, status, message", [
    ("not json", 400, "JSON object"),
    ({"pair_id": "x", "choice": "a"}, 400, "missing rater"),
    ({"pair_id": "x", "choice": "a", "rater": "r", "system": "midinet"}, 400, "unexpected system"),
    ({"pair_id": "x", "choice": 1, "rater": "r"}, 400, "choice must be a string"),
    ({"pair_id": "VALID", "choice": "c", "rater": "r"}, 400, "choice must be one of"),
    ({"pair_id": "VALID", "choice": "a", "rater": ""}, 400, "rater must be"),
    ({"pair_id": "0" * 32, "choice": "a", "rater": "r"}, 404, "unknown pair_id"),
    ({"pair_id": "REPLAY", "choice": "b", "rater": "r"}, 409, "already been voted"),
])
def test_bad_votes_are_refused_without_writing(client_and_store, body, status, message):
    client, store = client_and_store
    pair_id = client.get("/api/pair").get_json()["pair_id"]
    if body == "not json":
        kwargs = {"data": "{oops", "content_type": "application/json"}
    else:
        if body["pair_id"] == "REPLAY":
            assert client.post("/api/vote", json={"pair_id": pair_id, "choice": "a",
                                                  "rater": "r"}).status_code == 200
        kwargs = {"json": {**body, "pair_id": pair_id} if body["pair_id"] in ("VALID", "REPLAY")
                  else body}
    before = store.count_votes()
    seen = writes(store)
    response = client.post("/api/vote", **kwargs)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert seen == [] and store.count_votes() == before


def test_unknown_audio_and_static_files_are_404(client_and_store):
    client, _ = client_and_store
    assert client.get("/audio/deadbeef").status_code == 404
    assert client.get("/static/../db.py").status_code == 404
    assert client.get("/static/arena.js").status_code == 200

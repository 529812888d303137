"""The vote store on SQLite and, when ``MUSEBENCH_ARENA_TEST_DB`` names one (e.g.
``postgresql+psycopg://user:pw@localhost/arena_test``), on another database: votes
round-trip, a replay or unknown pair is refused without a write, and concurrent votes
from many threads are all kept."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from musebench.arena.db import METADATA, VoteError, VoteStore

OTHER_DB = os.environ.get("MUSEBENCH_ARENA_TEST_DB")


@pytest.fixture(params=["sqlite", "other"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
        return
    if not OTHER_DB:
        pytest.skip("set MUSEBENCH_ARENA_TEST_DB to a database URL (e.g. PostgreSQL) to run")
    store = VoteStore(OTHER_DB)
    yield store
    METADATA.drop_all(store.engine)


def test_votes_round_trip_and_refusals_write_nothing(store):
    pair = store.issue_pair("x", "k1", "y", "k2", "x", "q?")
    store.record_vote(pair, "tie", "ann")
    [vote] = store.votes()
    assert (vote.a_system, vote.b_system, vote.choice, vote.rater, vote.sanity_winner) == (
        "x", "y", "tie", "ann", "x")
    writes = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda c, cur, statement, *a: writes.append(statement)
                    if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                    else None)
    for pair_id, status in ((pair, 409), ("f" * 32, 404)):
        with pytest.raises(VoteError) as refused:
            store.record_vote(pair_id, "a", "bob")
        assert refused.value.status == status
    assert writes == [] and store.count_votes() == 1


def test_concurrent_votes_are_all_kept(store):
    pairs = [store.issue_pair("x", "k1", "y", "k2", None, "q?") for _ in range(40)]
    errors = []

    def vote(chunk: list[str], rater: str) -> None:
        try:
            for pair_id in chunk:
                store.record_vote(pair_id, "a", rater)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=vote, args=(pairs[i::8], f"r{i}")) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.count_votes() == 40 and store.count_votes("r3") == 5

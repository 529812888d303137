"""A real arena server is killed (SIGKILL) in the middle of a stream of votes from
several listeners, then restarted on the same database: every vote it acknowledged is
there, and a pair served before the kill can still be voted on after it. On SQLite, and
also on the database named by ``MUSEBENCH_ARENA_TEST_DB`` (e.g. PostgreSQL) when set."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from musebench.arena.db import METADATA, VoteStore

HELPER = Path(__file__).parent / "arena_study.py"
OTHER_DB = os.environ.get("MUSEBENCH_ARENA_TEST_DB")


@pytest.fixture(params=["sqlite", "other"])
def db(request, tmp_path):
    """The database URL of the study (the other one's tables dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'votes.sqlite'}"
        return
    if not OTHER_DB:
        pytest.skip("set MUSEBENCH_ARENA_TEST_DB to a database URL (e.g. PostgreSQL) to run")
    METADATA.drop_all(VoteStore(OTHER_DB).engine)
    yield OTHER_DB
    METADATA.drop_all(VoteStore(OTHER_DB).engine)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(tmp_path: Path, db: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, str(HELPER), str(tmp_path), db, str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/ranking", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("server did not start in 120 s")


def call(port: int, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.slow  # starts a server twice (~10 s)
def test_killed_server_keeps_every_acknowledged_vote(tmp_path, db):
    port = free_port()
    server = start(tmp_path, db, port)
    pending = call(port, "/api/pair")["pair_id"]  # served now, voted on after the restart
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def listener(name: str) -> None:
        while not stop.is_set():
            try:
                pair = call(port, "/api/pair")
                call(port, "/api/vote", {"pair_id": pair["pair_id"], "choice": "a",
                                         "rater": name})
            except (OSError, urllib.error.URLError):
                continue  # not acknowledged: the server is gone
            with lock:
                acknowledged.append(pair["pair_id"])

    threads = [threading.Thread(target=listener, args=(f"r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        while len(acknowledged) < 40:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)  # mid-stream: the listeners keep sending
        server.wait()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    kept = set(acknowledged)
    assert len(kept) == len(acknowledged) >= 40

    server = start(tmp_path, db, port)
    try:
        ranking = call(port, "/api/ranking")
        with VoteStore(db).engine.connect() as connection:
            stored = {row[0] for row in connection.exec_driver_sql(
                "SELECT pair_id FROM arena_votes")}
        assert kept <= stored, f"lost {len(kept - stored)} acknowledged votes"
        assert ranking["votes"] == len(stored) and ranking["raters"] == 4
        # the restarted server goes on taking votes, and still refuses a replay
        assert call(port, "/api/vote", {"pair_id": pending, "choice": "tie",
                                        "rater": "late"})["ok"]
        with pytest.raises(urllib.error.HTTPError) as replay:
            call(port, "/api/vote", {"pair_id": acknowledged[0], "choice": "b", "rater": "r0"})
        assert replay.value.code == 409
    finally:
        server.kill()
        server.wait()

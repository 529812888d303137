"""The listening page in real headless Chromium (Playwright driving the system's
Chromium): open it, play both clips, vote 30 times by a scripted preference (keyboard
and buttons), reload, and find the ranking ordered as scripted, with intervals.

The server is the real ``musebench arena serve`` on runs made from the committed fixture,
with audio rendered by fluidsynth. Skips, saying why, without Chromium, Playwright or
fluidsynth."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from arena_study import make_results

from musebench.arena.audio import audio_problem
from musebench.arena.systems import REAL

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)
try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

PREFERENCE = (REAL, "midinet", "random")  # the scripted listener's order, best first

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BROWSER is None, reason="chromium is not installed "
                       "(apt-get install -y chromium) — cannot run the listening page"),
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed "
                       "(pip install playwright; the system's chromium is used)"),
    pytest.mark.skipif(audio_problem() is not None, reason=f"no audio: {audio_problem()}"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    store = make_results(tmp_path)
    db = tmp_path / "votes.sqlite"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "musebench", "arena", "serve", "--results",
         str(store), "--db", f"sqlite:///{db}", "--port", str(port), "--bars", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"arena serve exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(url + "/api/ranking", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    yield url, db
    process.kill()
    process.wait()


def systems_of(db, pair_id: str) -> tuple[str, str]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT a_system, b_system FROM arena_pairs WHERE pair_id=?",
                                  (pair_id,)).fetchone()


def test_listening_page_votes_and_ranking_in_headless_chromium(server):
    url, db = server
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=BROWSER,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.on("request", lambda r: None if r.url.startswith(url) else outside.append(r.url))
        page.goto(url)
        pair_id = ""
        for n in range(30):
            page.wait_for_function(f"(document.body.dataset.pair || '') !== '{pair_id}'")
            pair_id = page.evaluate("document.body.dataset.pair")
            if n == 0:  # nothing to vote on before both clips are heard
                assert page.is_disabled("#vote-a") and page.is_disabled("#vote-b")
            # as a listener does: clip B only once clip A is heard (playing B pauses A; a
            # second click before A's first time update, on a loaded machine, left A unheard)
            page.click("#play-a")
            page.wait_for_function("document.getElementById('audio-a').currentTime > 0",
                                   timeout=20000)
            page.click("#play-b")
            page.wait_for_function("!document.getElementById('vote-a').disabled", timeout=20000)
            assert page.evaluate("[...document.querySelectorAll('audio')]"
                                 ".every(a => a.played.length > 0)")
            a, b = systems_of(db, pair_id)
            a_wins = PREFERENCE.index(a) < PREFERENCE.index(b)
            if n % 2:  # keyboard shortcuts half of the time
                page.keyboard.press("1" if a_wins else "3")
            else:
                page.click("#vote-a" if a_wins else "#vote-b")
            page.wait_for_function(f"document.getElementById('progress').textContent === "
                                   f"'{n + 1}'")
        page.reload()
        assert page.text_content("#progress") == "30"
        page.goto(url + "/ranking")
        page.wait_for_selector("#ranking tbody tr")
        table = [[cell.text_content() for cell in row.query_selector_all("td")]
                 for row in page.query_selector_all("#ranking tbody tr")]
        ranking = page.evaluate("fetch('/api/ranking').then(r => r.json())")
        browser.close()
    assert outside == []  # the page fetched nothing from anywhere else
    assert [row[0] for row in table] == list(PREFERENCE)
    assert all("–" in row[2] for row in table)  # an interval per system
    assert ranking["votes"] == 30 and ranking["raters"] == 1
    rows = ranking["systems"]
    assert [row["system"] for row in rows] == list(PREFERENCE)
    assert all(row["ci_low"] <= row["rating"] <= row["ci_high"] for row in rows)
    assert rows[0]["ci_low"] > rows[-1]["ci_high"]  # best and worst told apart

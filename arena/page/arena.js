// The listening page: fetch a blind pair, let the listener play both clips, send the vote.
"use strict";
(function () {
  const RATER_KEY = "musebench-arena-rater";
  const COUNT_KEY = "musebench-arena-votes";
  let rater = localStorage.getItem(RATER_KEY);
  if (!rater) {  // crypto.randomUUID needs https; a LAN study is plain http
    rater = "r-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    localStorage.setItem(RATER_KEY, rater);
  }
  const $ = (id) => document.getElementById(id);
  const audio = { a: $("audio-a"), b: $("audio-b") };
  const votes = [$("vote-a"), $("vote-tie"), $("vote-b")];
  const status = $("status");
  let pair = null;
  let played = { a: false, b: false };
  let sending = false;

  function showProgress(count) {
    localStorage.setItem(COUNT_KEY, String(count));
    $("progress").textContent = String(count);
  }
  showProgress(Number(localStorage.getItem(COUNT_KEY) || 0));

  function updateButtons() {
    const ready = pair !== null && played.a && played.b && !sending;
    votes.forEach((button) => { button.disabled = !ready; });
    if (pair !== null && !ready && !sending) {
      status.textContent = "Play both clips to vote.";
    } else if (ready) {
      status.textContent = "Which do you choose?";
    }
  }

  async function loadPair() {
    pair = null;
    played = { a: false, b: false };
    updateButtons();
    status.textContent = "Loading the next pair…";
    const response = await fetch("/api/pair", { cache: "no-store" });
    if (!response.ok) { status.textContent = "Could not load a pair (" + response.status + ")."; return; }
    pair = await response.json();
    $("question").textContent = pair.question;
    audio.a.src = pair.a.audio;
    audio.b.src = pair.b.audio;
    document.body.dataset.pair = pair.pair_id;  // opaque: for scripts driving the page
    updateButtons();
  }

  function play(side) {
    const other = side === "a" ? "b" : "a";
    audio[other].pause();
    audio[side].currentTime = 0;
    audio[side].play().catch(() => { status.textContent = "Press play on clip " + side.toUpperCase() + "."; });
  }

  ["a", "b"].forEach((side) => {
    audio[side].addEventListener("timeupdate", () => {  // heard, not just started
      if (!played[side] && audio[side].currentTime > 0) { played[side] = true; updateButtons(); }
    });
    $("play-" + side).addEventListener("click", () => play(side));
  });

  async function vote(choice) {
    if (pair === null || !played.a || !played.b || sending) return;
    sending = true;
    updateButtons();
    audio.a.pause();
    audio.b.pause();
    const response = await fetch("/api/vote", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pair_id: pair.pair_id, choice: choice, rater: rater }),
    });
    sending = false;
    if (!response.ok) {
      const body = await response.json().catch(() => ({ error: response.statusText }));
      status.textContent = "Vote not recorded: " + body.error;
      updateButtons();
      return;
    }
    const body = await response.json();
    showProgress(body.votes);
    await loadPair();
  }
  votes.forEach((button) => button.addEventListener("click", () => vote(button.dataset.choice)));

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.toLowerCase();
    const actions = { a: () => play("a"), b: () => play("b"), "1": () => vote("a"),
                      "2": () => vote("tie"), "3": () => vote("b") };
    if (actions[key]) { event.preventDefault(); actions[key](); }
  });

  loadPair();
})();

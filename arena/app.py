"""The arena's web app: the listening page, the clips' audio and the JSON API.

Flask, served by waitress (see :mod:`musebench.arena.serve`). Routes:

- ``GET /``: the listening page; ``GET /ranking``: the current ranking (for the host);
  ``GET /static/<file>``: the page's script and style. Nothing is fetched from elsewhere.
- ``GET /audio/<key>``: a clip's audio, named by its content hash (it tells nothing
  about the system).
- ``GET /api/pair``: ``{"pair_id", "question", "a": {"audio"}, "b": {"audio"}}``, a new
  blind pair, recorded so that its vote can be checked.
- ``POST /api/vote``: ``{"pair_id", "choice": "a"|"b"|"tie", "rater"}``; ``{"ok": true,
  "votes": <this rater's votes>}``. A malformed body is 400, an unknown pair 404, a pair
  already voted on 409, each with ``{"error": message}``; nothing is written for them.
- ``GET /api/ranking``: :func:`musebench.arena.ranking.summarise` of the votes so far.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request, send_file

from musebench.arena.audio import MIME
from musebench.arena.db import VoteError, VoteStore
from musebench.arena.pairs import PairSampler
from musebench.arena.ranking import summarise
from musebench.arena.systems import System

DEFAULT_QUESTION = "Which is more musical?"
STATIC = {"arena.js": "text/javascript", "arena.css": "text/css", "ranking.js": "text/javascript"}
VOTE_KEYS = {"pair_id", "choice", "rater"}


@dataclass
class Study:
    """What the app serves: the systems, how pairs are drawn, each clip's audio file, the
    question, and where the votes go."""

    systems: list[System]
    sampler: PairSampler
    audio: dict[str, Path]
    store: VoteStore
    question: str = DEFAULT_QUESTION


def page(name: str) -> str:
    """A file of the page (``musebench/arena/page/``)."""
    return resources.files("musebench.arena").joinpath("page", name).read_text()


def vote_body(body: Any) -> dict[str, str]:
    """The vote's fields, checked without touching the database.

    Raises:
        VoteError: (400) the body is not an object of exactly the three string fields.
    """
    if not isinstance(body, dict):
        raise VoteError('the body must be a JSON object {"pair_id", "choice", "rater"}', 400)
    missing, extra = VOTE_KEYS - body.keys(), body.keys() - VOTE_KEYS
    if missing or extra:
        raise VoteError("the vote must have exactly the fields pair_id, choice, rater"
                        + (f"; missing {', '.join(sorted(missing))}" if missing else "")
                        + (f"; unexpected {', '.join(sorted(extra))}" if extra else ""), 400)
    wrong = sorted(k for k in VOTE_KEYS if not isinstance(body[k], str))
    if wrong:
        raise VoteError(f"{', '.join(wrong)} must be a string", 400)
    return body


def create_app(study: Study) -> Flask:
    """The Flask app serving ``study``."""
    app = Flask("musebench.arena")
    app.json.sort_keys = False

    @app.errorhandler(VoteError)
    def refused(error: VoteError) -> tuple[Response, int]:
        return jsonify(error=str(error)), error.status

    @app.get("/")
    def index() -> Response:
        return Response(page("index.html").replace("{{question}}", html.escape(study.question)),
                        mimetype="text/html")

    @app.get("/ranking")
    def ranking_page() -> Response:
        return Response(page("ranking.html"), mimetype="text/html")

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        if name not in STATIC:
            abort(404)
        return Response(page(name), mimetype=STATIC[name])

    @app.get("/audio/<key>")
    def audio(key: str) -> Response:
        if key not in study.audio:
            abort(404)
        path = study.audio[key]
        return send_file(path, mimetype=MIME.get(path.suffix, "application/octet-stream"),
                         max_age=86400)

    @app.get("/api/pair")
    def pair() -> Response:
        drawn = study.sampler.draw()
        pair_id = study.store.issue_pair(drawn.a.system, drawn.a.key, drawn.b.system,
                                         drawn.b.key, drawn.sanity_winner, study.question)
        return jsonify(pair_id=pair_id, question=study.question,
                       a={"audio": f"/audio/{drawn.a.key}"},
                       b={"audio": f"/audio/{drawn.b.key}"})

    @app.post("/api/vote")
    def vote() -> Response:
        body = vote_body(request.get_json(silent=True))
        study.store.record_vote(body["pair_id"], body["choice"], body["rater"])
        return jsonify(ok=True, votes=study.store.count_votes(body["rater"]))

    @app.get("/api/ranking")
    def ranking() -> Response:
        return jsonify(summarise(study.store.votes(), [s.name for s in study.systems]))

    return app

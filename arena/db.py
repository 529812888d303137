"""The votes of a listening study, in a real database through SQLAlchemy.

Two tables: ``arena_pairs`` (every pair served: its two clips, which system each is, for
a sanity pair the system an attentive listener prefers, the question) and ``arena_votes``
(at most one vote per pair,
enforced by a unique key, so a replayed vote is refused by the database itself). Any
SQLAlchemy URL works: ``sqlite:///arena.sqlite`` for a study on one machine,
``postgresql+psycopg://user:pw@host/db`` when several servers share one study. Each vote
is one transaction, committed before the server answers, so a vote that was acknowledged
survives the server being killed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, IntegrityError

METADATA = sa.MetaData()
PAIRS = sa.Table(
    "arena_pairs", METADATA,
    sa.Column("pair_id", sa.String(32), primary_key=True),
    sa.Column("a_system", sa.String(200), nullable=False),
    sa.Column("a_clip", sa.String(200), nullable=False),
    sa.Column("b_system", sa.String(200), nullable=False),
    sa.Column("b_clip", sa.String(200), nullable=False),
    # a sanity pair names the system any attentive listener prefers (the real data)
    sa.Column("sanity_winner", sa.String(200), nullable=True),
    sa.Column("question", sa.String(500), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
)
VOTES = sa.Table(
    "arena_votes", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pair_id", sa.String(32), sa.ForeignKey("arena_pairs.pair_id"), nullable=False,
              unique=True),
    sa.Column("choice", sa.String(3), nullable=False),
    sa.Column("rater", sa.String(100), nullable=False),
    sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
)
CHOICES: tuple[str, ...] = ("a", "b", "tie")


class VoteError(ValueError):
    """A vote the study refuses; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Vote:
    """One vote joined with its pair: the two systems and the choice."""

    a_system: str
    b_system: str
    choice: str
    rater: str
    sanity_winner: str | None
    voted_at: datetime


def parse_url(url: str) -> sa.engine.URL:
    """``url`` parsed.

    Raises:
        ValueError: ``url`` is not a database URL.
    """
    try:
        return sa.engine.make_url(url)
    except ArgumentError as error:
        raise ValueError(f"--db {url!r}: not a database URL ({error})") from None


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; SQLite files wait for each other's locks (several threads
    of one server write to them).

    Raises:
        ValueError: ``url`` is not a database URL SQLAlchemy can use.
    """
    parsed = parse_url(url)
    try:
        args: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            args = {"connect_args": {"timeout": 30, "check_same_thread": False}}
            if parsed.database in (None, "", ":memory:"):
                args["poolclass"] = sa.pool.StaticPool
        return sa.create_engine(url, **args)
    except (ArgumentError, ImportError, ModuleNotFoundError) as error:
        raise ValueError(f"--db {url!r}: not a usable database URL ({error})") from None


class VoteStore:
    """The study's pairs and votes in the database at ``url`` (tables created if missing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            METADATA.create_all(self.engine)
        except sa.exc.OperationalError as error:
            raise ValueError(f"--db {url!r}: cannot open the database ({error.orig})") from None

    def issue_pair(self, a_system: str, a_clip: str, b_system: str, b_clip: str,
                   sanity_winner: str | None, question: str) -> str:
        """Record a pair served to a listener; returns its new ``pair_id``."""
        pair_id = uuid.uuid4().hex
        with self.engine.begin() as connection:
            connection.execute(PAIRS.insert().values(
                pair_id=pair_id, a_system=a_system, a_clip=a_clip, b_system=b_system,
                b_clip=b_clip, sanity_winner=sanity_winner, question=question,
                issued_at=datetime.now(UTC)))
        return pair_id

    def record_vote(self, pair_id: str, choice: str, rater: str) -> None:
        """Store one vote in one transaction (committed on return).

        Raises:
            VoteError: 400 for a bad choice or rater, 404 for an unknown pair, 409 for a
                pair already voted on; nothing is written then.
        """
        if choice not in CHOICES:
            raise VoteError(f"choice must be one of {', '.join(CHOICES)}, not {choice!r}", 400)
        if not rater or len(rater) > 100:
            raise VoteError("rater must be a non-empty string of at most 100 characters", 400)
        with self.engine.connect() as connection:
            known = connection.execute(sa.select(PAIRS.c.pair_id, VOTES.c.id).select_from(
                PAIRS.outerjoin(VOTES)).where(PAIRS.c.pair_id == pair_id)).first()
        if known is None:
            raise VoteError(f"unknown pair_id {pair_id!r}", 404)
        if known.id is not None:
            raise VoteError(f"pair {pair_id} has already been voted on", 409)
        try:
            with self.engine.begin() as connection:
                connection.execute(VOTES.insert().values(
                    pair_id=pair_id, choice=choice, rater=rater, voted_at=datetime.now(UTC)))
        except IntegrityError:  # a replay that raced the check above
            raise VoteError(f"pair {pair_id} has already been voted on", 409) from None

    def votes(self) -> list[Vote]:
        """Every vote with its pair, oldest first."""
        query = sa.select(PAIRS.c.a_system, PAIRS.c.b_system, VOTES.c.choice, VOTES.c.rater,
                          PAIRS.c.sanity_winner, VOTES.c.voted_at).select_from(
            VOTES.join(PAIRS)).order_by(VOTES.c.id)
        with self.engine.connect() as connection:
            return [Vote(*row) for row in connection.execute(query)]

    def count_votes(self, rater: str | None = None) -> int:
        """Number of votes (of ``rater`` when given)."""
        query = sa.select(sa.func.count()).select_from(VOTES)
        if rater is not None:
            query = query.where(VOTES.c.rater == rater)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

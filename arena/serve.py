"""Set up a study from a results store and serve it.

:func:`build_study` refuses to start without audio (no fluidsynth or soundfont: it says
which and how to install it), cuts every system's clips (:mod:`musebench.arena.systems`),
renders them once into the cache (:mod:`musebench.arena.audio`, a few in parallel) and
opens the vote database. :func:`serve` runs the app under waitress, a pure-Python
multi-threaded WSGI server that runs the same on Linux, macOS and Windows.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from musebench.arena.app import DEFAULT_QUESTION, Study, create_app
from musebench.arena.audio import audio_problem, render_clip
from musebench.arena.db import VoteStore
from musebench.arena.pairs import PairSampler
from musebench.arena.systems import study_systems


def build_study(rows: list[dict[str, Any]], db_url: str, workdir: Path,
                data_root: Path | None = None, question: str = DEFAULT_QUESTION,
                bars: int = 8, clips_per_system: int = 24, sanity_system: str | None = None,
                sanity_rate: float = 0.1, seed: int | None = None) -> Study:
    """A ready study: clips cut and rendered, the database open.

    Args:
        rows: results-store rows of one dataset and view.
        db_url: SQLAlchemy URL of the vote database.
        workdir: cut clips and their audio go here (kept between studies: a cache).
        data_root: folder of the real data sets.
        question: what the listener is asked.
        bars: clip length in bars.
        clips_per_system: at most this many clips per model.
        sanity_system: the baseline that sanity pairs set against the real data.
        sanity_rate: share of pairs that are sanity pairs.
        seed: the pair drawing's seed (None: fresh each start).

    Raises:
        RuntimeError: no audio can be rendered here.
        ValueError: bad rows (see :func:`study_systems`) or a bad database URL.
    """
    problem = audio_problem()
    if problem:
        raise RuntimeError(f"no audio for the listening test: {problem}")
    systems = study_systems(rows, workdir, data_root, bars, clips_per_system)
    clips = [clip for system in systems for clip in system.clips]
    print(f"arena: rendering {len(clips)} clips of {len(systems)} systems "
          f"({', '.join(s.name for s in systems)})", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=4) as pool:
        files = list(pool.map(lambda clip: render_clip(clip.midi, workdir / "audio"), clips))
    audio = {clip.key: path for clip, path in zip(clips, files, strict=True)}
    sampler = PairSampler(systems, sanity_system, sanity_rate, seed)
    return Study(systems, sampler, audio, VoteStore(db_url), question)


def serve(study: Study, host: str = "127.0.0.1", port: int = 8000, threads: int = 8) -> None:
    """Serve ``study`` until interrupted (every acknowledged vote is already committed)."""
    from waitress import serve as waitress_serve

    print(f"arena: listening test on http://{host}:{port}/ (ranking: /ranking), "
          f"votes in {study.store.url}", file=sys.stderr, flush=True)
    waitress_serve(create_app(study), host=host, port=port, threads=threads)

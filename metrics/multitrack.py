"""Multi-track metrics of MuseGAN: per track EB, UPC, QN and, between tracks, TD.

Dong, Hsiao, Yang & Yang, "MuseGAN: Multi-track sequential generative adversarial
networks for symbolic music generation and accompaniment", AAAI 2018, Sec. "Objective
metrics". Each figure is computed per piece and per track (TD per pair of tracks), so a
row can show, say, the bass's empty-bar rate beside the real bass's. A piece's tracks are
its notes' ``track`` values. A set is multi-track when one of its pieces sounds in two
tracks at once; its track count is then the largest track index plus one, or the length
of a piece's ``meta["track_names"]`` when that is larger (a model that never writes its
bass still has a bass, every bar of it empty). Other sets (single-track codecs and
sources, and the melody view, whatever their ``track_names``: a skyline melody keeps each
note's track but never sounds two at once) get none of
these figures (:func:`multitrack_metrics` returns ``{}``), so their rows are unchanged.

Definitions (``B`` bars of ``Q`` steps; a note *sounds* in every step it covers, as on
MuseGAN's piano rolls):

    - EB, empty bars: share of a track's bars in which it sounds no note,
      :math:`EB_k = \\#\\{b : \\text{track } k \\text{ silent in bar } b\\} / B`.
      The authors' later code (``src/musegan/metrics.py``, ``empty_bar_rate``) takes
      ``tf.reduce_any(tensor > 0.5)`` over each bar, i.e. the *non-empty* rate, under
      this name; ours counts the empty bars, as the paper defines EB and as their AAAI
      code's ``metric_is_empty_bar`` (``v1/musegan/eval/metrics.py``) does.
    - UPC, used pitch classes per bar: the number of pitch classes sounding in a bar,
      averaged over the track's non-empty bars (v1 code: ``metric_num_chroma_used``,
      skipped on empty bars), :math:`UPC_k = \\frac{1}{|B_k|}\\sum_{b \\in B_k}
      |\\{c : \\text{class } c \\text{ sounds in bar } b\\}|`; NaN for a silent track.
    - QN, qualified notes: share of a track's notes lasting at least ``min_steps`` grid
      steps, :math:`QN_k = \\#\\{d_i \\ge 3\\} / \\#\\text{notes}`; NaN for a silent track.
      The paper calls notes shorter than three time steps noise; its grid has 24 steps
      per beat (three steps = a 32nd note). Ours counts three steps of the piece's own
      grid (on jsb16's 16th-note grid: a dotted eighth), because on a 16th grid every
      note is at least a 32nd and the paper's threshold would read 1 everywhere
      (``rhythm.qualified_note_rate`` keeps the paper's 32nd-note threshold).
    - TD, tonal distance between tracks ``a`` and ``b`` (Harte, Sandler & Gasser 2006):
      per beat (the window of the authors' ``metrics_harmonicity``), each track's chroma
      ``c`` (sounding steps per pitch class) gives the tonal centroid
      :math:`\\zeta = \\Phi c / \\lVert c \\rVert_1`; :math:`TD_{ab}` is the mean of
      :math:`\\lVert \\zeta_a - \\zeta_b \\rVert_2` over the beats where both sound, NaN
      where they never do.

Names in the scored row: ``eb_track<k>``, ``upc_track<k>``, ``qn_track<k>``,
``td_track<a>_<b>`` (a < b) and their means over tracks / pairs for each piece,
``eb_tracks``, ``upc_tracks``, ``qn_tracks``, ``td_tracks`` (NaN-skipping).
"""

from __future__ import annotations

import warnings

import numpy as np

from musebench.datasets.piece import Piece
from musebench.metrics.batch import NoteBatch, safe_divide
from musebench.metrics.harmony import TONAL_CENTROID

#: A qualified note lasts at least this many grid steps (the paper's "three time steps").
MIN_QUALIFIED_STEPS = 3


def sounds_in_two_tracks(piece: Piece) -> bool:
    """Whether two of the piece's tracks sound at one step (vectorised over its notes)."""
    track = piece.notes["track"].astype(np.int64)
    if len(np.unique(track)) < 2:
        return False
    start = piece.notes["start"].astype(np.int64)
    end = start + piece.notes["duration"]
    delta = np.zeros((int(track.max()) + 1, int(end.max()) + 1), dtype=np.int64)
    np.add.at(delta, (track, start), 1)
    np.add.at(delta, (track, end), -1)
    return bool(((np.cumsum(delta, axis=1) > 0).sum(axis=0) >= 2).any())


def n_tracks(pieces: list[Piece]) -> int:
    """Tracks of a set: 1 unless a piece sounds in two tracks at once, then the largest
    track index plus one or the longest ``meta["track_names"]``, whichever is larger."""
    if not any(sounds_in_two_tracks(p) for p in pieces):
        return 1
    most = max((int(p.notes["track"].max()) + 1 for p in pieces if len(p.notes)), default=0)
    named = max((len(p.meta.get("track_names") or ()) for p in pieces), default=0)
    return max(most, named)


def _unit_segments(batch: NoteBatch, unit: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Notes cut at the boundaries of ``unit``-step spans (bars or beats), vectorised.

    Returns (note index, global span index, steps of the note in that span, the ``(n +
    1,)`` offsets of each piece's spans on the concatenated span axis).
    """
    n_units = -(-batch.n_steps // unit)
    offset = np.r_[0, np.cumsum(n_units)]
    size = unit[batch.piece]
    end = batch.start + batch.duration
    first, last = batch.start // size, (end - 1) // size
    count = np.maximum(last - first + 1, 0)
    note = np.repeat(np.arange(len(batch.start)), count)
    span = first[note] + np.arange(len(note)) - np.repeat(np.cumsum(count) - count, count)
    steps = (np.minimum(end[note], (span + 1) * size[note])
             - np.maximum(batch.start[note], span * size[note]))
    return note, offset[batch.piece[note]] + span, steps, offset


def _per_piece_mean(values: np.ndarray, weight: np.ndarray, span_piece: np.ndarray,
                    n: int) -> np.ndarray:
    """``(n, K)`` weighted mean over each piece's spans of ``values`` ``(S, K)``."""
    k = values.shape[1]
    index = (span_piece[:, None] * k + np.arange(k)).ravel()
    sums = np.bincount(index, weights=(values * weight).ravel(), minlength=n * k)
    counts = np.bincount(index, weights=weight.ravel().astype(float), minlength=n * k)
    return safe_divide(sums, counts).reshape(n, k)


def chroma(batch: NoteBatch, n_tracks: int, unit: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(S, K, 12)`` sounding steps per pitch class of each track in each ``unit``-step
    span, and the ``(S,)`` piece index of each span."""
    note, span, steps, offset = _unit_segments(batch, unit)
    total = int(offset[-1])
    index = (span * n_tracks + batch.track[note]) * 12 + batch.pitch[note] % 12
    flat = np.bincount(index, weights=steps, minlength=total * n_tracks * 12)
    span_piece = np.repeat(np.arange(batch.n), np.diff(offset))
    return flat.reshape(total, n_tracks, 12), span_piece


def empty_bars(batch: NoteBatch, n_tracks: int) -> np.ndarray:
    """``(n, K)`` share of each track's bars in which it sounds no note (EB, the empty
    rate, not MuseGAN code's non-empty rate). NaN for a piece of length 0."""
    bars, bar_piece = chroma(batch, n_tracks, batch.steps_per_bar)
    empty = (bars.sum(axis=2) == 0).astype(float)
    return _per_piece_mean(empty, np.ones_like(empty), bar_piece, batch.n)


def used_pitch_classes(batch: NoteBatch, n_tracks: int) -> np.ndarray:
    """``(n, K)`` pitch classes sounding per bar, averaged over the track's non-empty bars
    (UPC). NaN for a track silent throughout the piece."""
    bars, bar_piece = chroma(batch, n_tracks, batch.steps_per_bar)
    used = (bars > 0).sum(axis=2).astype(float)
    return _per_piece_mean(used, (used > 0).astype(float), bar_piece, batch.n)


def qualified_notes(batch: NoteBatch, n_tracks: int,
                    min_steps: int = MIN_QUALIFIED_STEPS) -> np.ndarray:
    """``(n, K)`` share of each track's notes lasting at least ``min_steps`` grid steps
    (QN). NaN for a track without notes."""
    index = batch.piece * n_tracks + batch.track
    size = batch.n * n_tracks
    qualified = np.bincount(index, weights=batch.duration >= min_steps, minlength=size)
    return safe_divide(qualified, np.bincount(index, minlength=size)).reshape(batch.n, n_tracks)


def track_pairs(n_tracks: int) -> list[tuple[int, int]]:
    """Every pair of tracks ``(a, b)``, ``a < b``, in row-major order."""
    a, b = np.triu_indices(n_tracks, k=1)
    return list(zip(a.tolist(), b.tolist(), strict=True))


def tonal_distances(batch: NoteBatch, n_tracks: int) -> np.ndarray:
    """``(n, pairs)`` mean tonal-centroid distance of each pair of tracks over the beats
    where both sound (TD, Harte et al. 2006). NaN where a pair never sounds together."""
    beats, beat_piece = chroma(batch, n_tracks, batch.steps_per_beat)
    mass = beats.sum(axis=2)
    centroid = safe_divide(beats @ TONAL_CENTROID.T, mass[:, :, None])
    pairs = np.array(track_pairs(n_tracks), dtype=np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    both = (mass[:, a] > 0) & (mass[:, b] > 0)
    distance = np.linalg.norm(np.nan_to_num(centroid[:, a] - centroid[:, b]), axis=2)
    return _per_piece_mean(distance, both.astype(float), beat_piece, batch.n)


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Mean of each row over its defined entries (NaN for a row with none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=1) if values.shape[1] else np.full(len(values), np.nan)


def multitrack_metrics(batch: NoteBatch, n_tracks: int) -> dict[str, np.ndarray]:
    """Every multi-track figure of each piece, by row name (see the module docstring);
    ``{}`` for fewer than two tracks."""
    if n_tracks < 2:
        return {}
    out: dict[str, np.ndarray] = {}
    for name, values in (("eb", empty_bars(batch, n_tracks)),
                         ("upc", used_pitch_classes(batch, n_tracks)),
                         ("qn", qualified_notes(batch, n_tracks))):
        out.update({f"{name}_track{k}": values[:, k] for k in range(n_tracks)})
        out[f"{name}_tracks"] = _nanmean_rows(values)
    td = tonal_distances(batch, n_tracks)
    out.update({f"td_track{a}_{b}": td[:, i] for i, (a, b) in enumerate(track_pairs(n_tracks))})
    out["td_tracks"] = _nanmean_rows(td)
    return out

"""What each scored figure means: family, direction, formula and source, in one place.

The leaderboard's glossary, its headline tables and its best-row marking read this
registry. A per-piece metric's meaning is the first sentence of its function's docstring
(:data:`musebench.metrics.METRICS`); a set-level figure, which has no function of its own,
has its meaning written here. A Yang & Lerch feature ``f`` yields ``oa_f`` and ``kl_f``,
whose meaning names the feature.

Directions: ``higher`` (↑) and ``lower`` (↓) are better in themselves; ``real`` means
closer to the real data's value is better (an entropy or a density is neither good nor bad
on its own); ``none`` is bookkeeping (sample counts), never ranked or charted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher", "lower", "real", "none"]

#: Families in the order the report shows them.
FAMILIES: tuple[str, ...] = ("distribution match", "pitch", "rhythm", "harmony",
                             "diversity and memorisation", "likelihood", "bookkeeping")

ARROWS: dict[str, str] = {"higher": "↑", "lower": "↓", "real": "≈ real", "none": ""}

#: The headline metrics, in table order (a table shows those its rows have).
HEADLINE: tuple[str, ...] = ("oa_mean", "kl_mean", "pitch_class_entropy", "scale_consistency",
                             "chord_tone_ratio", "groove_consistency", "diversity_pairwise_ratio",
                             "copy_rate_bars", "nll_per_step")

#: The overall closeness to the real data: its metric and its stated definition.
CLOSENESS = "oa_mean"
CLOSENESS_DEFINITION = (
    "Closeness to real data = the mean overlapping area (OA) over the eight Yang & Lerch "
    "features (pitches used, pitch range, pitch-class histogram, pitch-class transitions, "
    "average pitch interval, note count, mean inter-onset interval, note-length histogram): "
    "for each feature, the area shared by the distribution of distances within the samples "
    "and the distribution of distances from samples to real test pieces; 1 means the samples "
    "cannot be told from the real data by these features, 0 that they share nothing.")


@dataclass(frozen=True)
class MetricInfo:
    """One figure's family, direction, formula and source (meaning: :func:`meaning`)."""

    family: str
    direction: Direction
    source: str = "musebench"
    formula: str = ""
    text: str = ""  # meaning of a set-level figure (per-piece ones: their docstring)


_PER_PIECE: dict[str, tuple[str, Direction, str]] = {
    "pitch_entropy": ("pitch", "real", "Yang & Lerch 2018"),
    "pitch_class_entropy": ("pitch", "real", "Yang & Lerch 2018"),
    "pitch_entropy_weighted": ("pitch", "real", "musebench"),
    "pitch_class_entropy_weighted": ("pitch", "real", "musebench"),
    "pitch_range": ("pitch", "real", "Mogren 2016 (C-RNN-GAN)"),
    "pitches_used": ("pitch", "real", "muspy (Dong et al. 2020)"),
    "pitch_classes_used": ("pitch", "real", "muspy (Dong et al. 2020)"),
    "pitch_classes_used_per_bar": ("pitch", "real", "Yang & Lerch 2018"),
    "average_pitch_interval": ("pitch", "real", "Yang & Lerch 2018"),
    "scale_consistency": ("harmony", "real", "Mogren 2016; muspy"),
    "scale_consistency_36": ("harmony", "real", "musebench"),
    "in_scale_rate": ("harmony", "real", "musebench"),
    "tonal_distance": ("harmony", "real", "Harte et al. 2006; MuseGAN"),
    "chord_conformance_notes": ("harmony", "higher", "musebench"),
    "chord_conformance_duration": ("harmony", "higher", "musebench"),
    "chord_tone_ratio": ("harmony", "higher", "Yeh et al. 2021"),
    "empty_bar_rate": ("rhythm", "real", "Dong et al. 2018 (MuseGAN)"),
    "empty_beat_rate": ("rhythm", "real", "muspy (Dong et al. 2020)"),
    "groove_consistency": ("rhythm", "real", "Wu & Yang 2020; muspy"),
    "qualified_note_rate": ("rhythm", "real", "Dong et al. 2018 (MuseGAN)"),
    "note_density": ("rhythm", "real", "musebench"),
    "ioi_mean": ("rhythm", "real", "Yang & Lerch 2018"),
    "ioi_std": ("rhythm", "real", "Yang & Lerch 2018"),
    "polyphony": ("rhythm", "real", "muspy (Dong et al. 2020)"),
    "polyphony_rate": ("rhythm", "real", "muspy (Dong et al. 2020)"),
}

_SET: dict[str, MetricInfo] = {
    "oa_mean": MetricInfo("distribution match", "higher", "Yang & Lerch 2018",
                          "mean over features f of OA_f", CLOSENESS_DEFINITION),
    "kl_mean": MetricInfo("distribution match", "lower", "Yang & Lerch 2018",
                          "mean over features f of KL_f",
                          "Mean KL divergence, over the features, from the distances within "
                          "the samples to the distances from samples to real pieces."),
    "diversity_pairwise": MetricInfo(
        "diversity and memorisation", "real", "musebench", "mean ‖d_i − d_j‖ over pairs i < j",
        "Mean Euclidean distance between the samples' descriptors (pitch histogram and onset "
        "positions)."),
    "diversity_pairwise_reference": MetricInfo(
        "diversity and memorisation", "none", "musebench", "mean ‖d_i − d_j‖ over real pairs",
        "The same mean pairwise distance over the real test pieces (the yardstick)."),
    "diversity_pairwise_ratio": MetricInfo(
        "diversity and memorisation", "real", "musebench",
        "diversity_pairwise / diversity_pairwise_reference",
        "Spread of the samples relative to the real data's: 1 is as varied as real music, "
        "below 1 mode collapse."),
    "unique_share": MetricInfo("diversity and memorisation", "higher", "musebench",
                               "distinct samples / samples",
                               "Share of samples whose notes no other sample repeats exactly."),
    "ndb": MetricInfo("diversity and memorisation", "lower", "Richardson & Weiss 2018",
                      "bins with a significantly different share (two-proportion z-test)",
                      "Number of statistically different bins: k-means bins of the real "
                      "pieces whose share of samples differs from their share of real pieces."),
    "ndb_ratio": MetricInfo("diversity and memorisation", "lower", "Richardson & Weiss 2018",
                            "ndb / bins", "NDB as a share of the bins."),
    "copy_rate_bars": MetricInfo("diversity and memorisation", "lower", "musebench",
                                 "copied non-empty bars / non-empty bars",
                                 "Share of the samples' non-empty bars found verbatim in the "
                                 "training split (memorisation)."),
    "nn_distance_train": MetricInfo("diversity and memorisation", "real", "musebench",
                                    "mean over samples of min_t ‖d_s − d_t‖",
                                    "Mean distance from each sample to its nearest training "
                                    "piece; near 0 means copying."),
    "nll_per_step": MetricInfo("likelihood", "lower", "Boulanger-Lewandowski et al. 2012",
                               "−(1/T) Σ_t log p(x_t | x_<t)",
                               "Negative log-likelihood of the test split per time step (nats)."),
    "log_likelihood_per_step": MetricInfo("likelihood", "higher",
                                          "Boulanger-Lewandowski et al. 2012",
                                          "(1/T) Σ_t log p(x_t | x_<t)",
                                          "Log-likelihood of the test split per time step."),
    "frame_accuracy": MetricInfo("likelihood", "higher", "Bay et al. 2009",
                                 "TP / (TP + FP + FN) over frames",
                                 "Expected frame-level accuracy of next-step prediction."),
}

_BOOKKEEPING = ("n_samples", "n_reference", "n_pairwise", "n_pairwise_reference")


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    return text.replace("``", "")


def _function_doc(name: str) -> str:
    from musebench.metrics import METRICS

    if name not in METRICS:
        return ""
    function = METRICS[name].function
    return _first_sentence(getattr(function, "func", function).__doc__)


def info(name: str) -> MetricInfo:
    """The registry entry of ``name`` (unknown names: family ``other``, direction ``real``)."""
    if name in _SET:
        return _SET[name]
    if name in _PER_PIECE:
        family, direction, source = _PER_PIECE[name]
        return MetricInfo(family, direction, source)
    if name in _BOOKKEEPING:
        return MetricInfo("bookkeeping", "none", text="How many pieces the figures rest on.")
    if match := re.fullmatch(r"repetitions_(\d+)", name):
        return MetricInfo("rhythm", "real", "musebench",
                          f"count of {match[1]}-note pitch n-grams seen earlier in the piece")
    if match := re.fullmatch(r"(eb|upc|qn|td)_track(s|\d+|\d+_\d+)", name):
        return _multitrack_info(match[1], match[2])
    if match := re.fullmatch(r"(oa|kl)_(\w+)", name):
        feature = match[2]
        if match[1] == "oa":
            return MetricInfo("distribution match", "higher", "Yang & Lerch 2018",
                              "∫ min(p_intra(x), p_inter(x)) dx",
                              f"Overlapping area of the intra-set and sample-to-real distance "
                              f"distributions of feature '{feature}'.")
        return MetricInfo("distribution match", "lower", "Yang & Lerch 2018",
                          "KL(p_intra ‖ p_inter)",
                          f"KL divergence between the intra-set and sample-to-real distance "
                          f"distributions of feature '{feature}'.")
    return MetricInfo("other", "real")


#: MuseGAN's multi-track figures (metrics/multitrack.py): family, formula, what it says.
_MULTITRACK: dict[str, tuple[str, str, str]] = {
    "eb": ("rhythm", "#{bars where the track is silent} / #bars",
           "Empty bars (EB): share of bars in which {who} sounds no note (the empty rate, not "
           "MuseGAN code's non-empty rate)."),
    "upc": ("pitch", "mean over non-empty bars of #{pitch classes sounding}",
            "Used pitch classes (UPC): pitch classes sounding per non-empty bar of {who}."),
    "qn": ("rhythm", "#{notes of >= 3 grid steps} / #notes",
           "Qualified notes (QN): share of {who}'s notes lasting at least three grid steps."),
    "td": ("harmony", "mean over beats of ‖Φc_a/‖c_a‖₁ − Φc_b/‖c_b‖₁‖₂",
           "Tonal distance (TD): distance between the tonal centroids of {who}, per beat where "
           "both sound."),
}


def _multitrack_info(figure: str, which: str) -> MetricInfo:
    """A multi-track figure's entry; ``which`` is ``s`` (the mean over tracks or pairs), a
    track index or a pair ``a_b``."""
    family, formula, text = _MULTITRACK[figure]
    if which == "s":
        who = "every pair of tracks (mean)" if figure == "td" else "a track (mean over tracks)"
    elif "_" in which:
        who = "tracks {} and {}".format(*which.split("_"))
    else:
        who = f"track {which}"
    source = ("Dong et al. 2018 (MuseGAN); Harte et al. 2006" if figure == "td"
              else "Dong et al. 2018 (MuseGAN)")
    return MetricInfo(family, "real", source, formula, text.format(who=who))


def meaning(name: str) -> str:
    """One sentence saying what ``name`` measures (its docstring, or the registry's text)."""
    return info(name).text or _function_doc(name) or name.replace("_", " ")


def heading(name: str) -> str:
    """``name`` with its direction, e.g. ``kl_mean ↓`` or ``pitch_entropy (≈ real)``."""
    arrow = ARROWS[info(name).direction]
    return f"{name} ({arrow})" if arrow.startswith("≈") else f"{name} {arrow}".rstrip()

"""``musebench score``: score any folder of MIDI files against a data set.

``musebench score --samples FOLDER --dataset SOURCE [--view V | --model M] [--json]
[--out FILE]`` reads every ``.mid``/``.midi`` file under ``FOLDER`` (ours or any other
system's), quantised to the data set's own grid, and scores it
(:func:`musebench.experiments.scoring.score_in_view`) against the source's test
split (distribution, NDB) and training split (memorisation), in a view: ``--view``, else
the view the bench uses for ``--model`` at ``--preset`` (with that config's data set and
``max_pieces``), else ``full``. So a bench run's samples score the same through ``score``.
A file that cannot be read is skipped with its reason on stderr and counted in
``n_skipped_files``. Scoring the real test split written as MIDI gives every table's
reference row.

The JSON (``--json``, ``--out``) says what was scored against what, like a results row:
``{"musebench": version, "samples": folder, "n_files", "dataset", "split": "test",
"memorisation_split": "train", "view", "steps_per_beat", "max_pieces", "bootstrap",
"model", "preset", "metrics": {…}}``, so its numbers can be matched with the leaderboard
row of the same samples (same dataset, view and grid).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from musebench import __version__
from musebench.cli import arg_types
from musebench.cli.names import choice
from musebench.datasets.midi_files import list_midi_files, read_one
from musebench.datasets.piece import Piece
from musebench.datasets.views import VIEWS
from musebench.experiments.config import PRESETS
from musebench.util import progress, strict_json, write_atomically


def register(subparsers: Any) -> None:
    """Add the ``score`` command."""
    parser = subparsers.add_parser("score", help="score a folder of MIDI files against a data set")
    parser.add_argument("--samples", type=Path, required=True, help="folder of MIDI files")
    parser.add_argument("--dataset", default=None, help="source whose test/train splits "
                        "are the reference (default: --model's config's, else bach)")
    parser.add_argument("--view", choices=VIEWS, default=None,
                        help="score melody lines or full pieces (default: --model's view, "
                             "else full)")
    parser.add_argument("--model", default=None,
                        help="score as the bench of this model does (its view, data set "
                             "and max_pieces at --preset)")
    parser.add_argument("--preset", type=choice("preset", PRESETS), default="standard",
                        metavar="{" + ",".join(PRESETS) + "}",
                        help="the --model config's preset (default: standard)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="--model config override, e.g. "
                                                  "data.max_pieces=4")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--steps-per-beat", type=arg_types.positive_int, default=None,
                        help="quantisation grid (default: the data set's own)")
    parser.add_argument("--score-beats", type=arg_types.positive_int, default=None,
                        help="score the first this many beats of every sample and test "
                             "piece, as an official track does (its score_beats; default: "
                             "whole pieces)")
    parser.add_argument("--bootstrap", type=arg_types.positive_int, default=1000,
                        help="bootstrap resamples (>= 1)")
    parser.set_defaults(func=run_score)


def read_folder(folder: Path, steps_per_beat: int) -> tuple[list[Piece], list[str]]:
    """Every readable MIDI file under ``folder`` (sorted) and the reasons for the others,
    read as ``data`` reads ``midi:<folder>`` (:mod:`musebench.datasets.midi_files`)."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of MIDI files")
    paths, skipped = list_midi_files(folder)
    if not paths:
        raise ValueError(f"{folder}: no .mid or .midi files found")
    pieces = []
    for path in progress(paths, "read samples"):  # one at a time: a broken file skips only it
        result, warning = read_one((str(path), path.relative_to(folder).as_posix(),
                                    steps_per_beat, f"score:{folder}"), keep_empty=True)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        if isinstance(result, Piece):
            pieces.append(result)
        else:
            skipped.append(result)
    return pieces, [str(s) for s in skipped]


def run_score(args: argparse.Namespace) -> int:
    """Load the data set, read the samples, score, print (and write) the result."""
    from musebench.datasets.views import first_beats
    from musebench.experiments.scoring import bench_settings, reference_splits, score_in_view

    settings = {"dataset": "bach", "view": "full", "max_pieces": None}
    if args.model is not None:
        settings = bench_settings(args.model, args.preset, args.overrides)
    dataset = args.dataset or settings["dataset"]
    view = args.view or settings["view"]
    test, train = reference_splits(dataset, args.data_root, settings["max_pieces"])
    grid = args.steps_per_beat or Counter(p.steps_per_beat for p in test).most_common(1)[0][0]
    samples, skipped = read_folder(args.samples, grid)
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if not samples:
        raise ValueError(f"{args.samples}: none of the MIDI files could be read")
    samples = first_beats(samples, args.score_beats)
    result = score_in_view(samples, test, train, view, n_boot=args.bootstrap,
                           beats=args.score_beats)
    result["n_skipped_files"] = float(len(skipped))
    text = strict_json({"musebench": __version__, "samples": str(args.samples),
                        "n_files": len(samples) + len(skipped), "dataset": dataset,
                        "split": "test", "memorisation_split": "train", "view": view,
                        "steps_per_beat": grid, "max_pieces": settings["max_pieces"],
                        "score_beats": args.score_beats,
                        "bootstrap": args.bootstrap, "model": args.model,
                        "preset": args.preset if args.model else None,
                        "metrics": result}, indent=1)
    if args.out is not None:
        write_atomically(args.out, text)
    if args.json:
        print(text)
    else:
        print(format_table(result, args.samples, dataset, view))
    return 0


def format_table(result: dict[str, float], samples: Path, dataset: str, view: str) -> str:
    """Aligned text: each metric with its 95 % interval where it has one."""
    lines = [f"{samples} scored against {dataset}, {view} view "
             "(test split; train for memorisation)"]
    suffixes = ("_ci_low", "_ci_high", "_undefined")
    for key, value in result.items():
        if key.endswith(suffixes):
            continue
        row = f"  {key:<34} {value:10.4f}"
        if f"{key}_ci_low" in result:
            row += f"   [{result[f'{key}_ci_low']:.4f}, {result[f'{key}_ci_high']:.4f}]"
        if result.get(f"{key}_undefined"):
            row += f"   ({result[f'{key}_undefined']:.0f} undefined)"
        lines.append(row)
    return "\n".join(lines)

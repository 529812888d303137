"""``musebench score``: score any folder of MIDI files against a data set.

``musebench score --samples FOLDER --dataset SOURCE [--json] [--out FILE]`` reads every
``.mid``/``.midi`` file under ``FOLDER`` (ours or any other system's), quantised to the
data set's own grid, and scores it with :func:`musebench.metrics.score` against the
source's test split (distribution, NDB) and training split (memorisation). A file that
cannot be read is skipped with its reason on stderr and counted in ``n_skipped_files``.
Scoring the real test split written as MIDI gives every table's reference row.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from musebench.datasets.midi_files import list_midi_files, read_one
from musebench.datasets.piece import Piece
from musebench.experiments import arg_types


def register(subparsers: Any) -> None:
    """Add the ``score`` command."""
    parser = subparsers.add_parser("score", help="score a folder of MIDI files against a data set")
    parser.add_argument("--samples", type=Path, required=True, help="folder of MIDI files")
    parser.add_argument("--dataset", default="bach", help="source whose test/train splits "
                        "are the reference (default: bach)")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--steps-per-beat", type=arg_types.positive_int, default=None,
                        help="quantisation grid (default: the data set's own)")
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
    for path in paths:  # one file at a time: a broken file skips that file only
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
    from musebench.datasets import load
    from musebench.metrics import score

    data = load(args.dataset, data_root=args.data_root)
    test, train = data.split("test"), data.split("train")
    if not test:
        raise ValueError(f"{args.dataset}: the test split is empty")
    grid = args.steps_per_beat or Counter(p.steps_per_beat for p in test).most_common(1)[0][0]
    samples, skipped = read_folder(args.samples, grid)
    for reason in skipped:
        print(f"skipped {reason}", file=sys.stderr)
    if not samples:
        raise ValueError(f"{args.samples}: none of the MIDI files could be read")
    result = score(samples, test, train=train, n_boot=args.bootstrap)
    result["n_skipped_files"] = float(len(skipped))
    text = json.dumps({k: (v if math.isfinite(v) else None) for k, v in result.items()},
                      indent=1)
    if args.out is not None:
        from musebench.datasets.cache import write_atomically

        write_atomically(args.out, text)
    if args.json:
        print(text)
    else:
        print(format_table(result, args.samples, args.dataset))
    return 0


def format_table(result: dict[str, float], samples: Path, dataset: str) -> str:
    """Aligned text: each metric with its 95 % interval where it has one."""
    lines = [f"{samples} scored against {dataset} (test split; train for memorisation)"]
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

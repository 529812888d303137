"""``musebench compare BASE NEW``: two results stores side by side (for example main's
runs against a branch's), per model, dataset, preset and metric: the difference of the
means over seeds, its 95% interval (Welch t over seeds, or the runs' bootstrap intervals
with one seed) and whether it is significant (:mod:`musebench.leaderboard.compare`).

``--fail-on`` makes it a gate: exit 1 when a named metric changed significantly the
wrong way (``nll_per_step:lower`` means lower is better). ``--format md`` writes a
Markdown table, e.g. for a CI job summary.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musebench.leaderboard.compare import Difference

COLUMNS: tuple[str, ...] = ("model", "dataset", "preset", "metric", "base (n)", "new (n)",
                            "diff", "95% CI", "p", "significant", "method")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare``."""
    parser = subparsers.add_parser(
        "compare", help="compare two results stores: differences, intervals, significance")
    parser.add_argument("base", type=Path, help="results store of the baseline (JSON lines)")
    parser.add_argument("new", type=Path, help="results store to compare with it")
    parser.add_argument("--metrics", nargs="+", default=None,
                        help="metrics to compare (default: every metric both report)")
    parser.add_argument("--fail-on", nargs="+", default=[], metavar="RULE",
                        help="exit 1 on a significant regression: METRIC:higher / "
                             "METRIC:lower (the better direction), METRIC (either way), "
                             "or any")
    parser.add_argument("--significant-only", action="store_true",
                        help="list the significant differences only")
    parser.add_argument("--level", type=float, default=0.95, help="interval level")
    parser.add_argument("--format", choices=("text", "md"), default="text",
                        help="aligned text or a Markdown table")
    parser.set_defaults(func=run)


def _number(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.4g}"


def _cells(d: Difference) -> list[str]:
    interval = ("–" if d.method == "-" else f"[{_number(d.low)}, {_number(d.high)}]")
    return [d.model, d.dataset, d.preset, d.metric, f"{_number(d.base)} ({d.n_base})",
            f"{_number(d.new)} ({d.n_new})", f"{d.diff:+.4g}", interval, _number(d.p),
            "yes" if d.significant else "no", d.method]


def render(rows: list[list[str]], markdown: bool) -> str:
    """``rows`` under :data:`COLUMNS`, as a Markdown table or fixed-width text."""
    table = [list(COLUMNS), *rows]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in table]
        return "\n".join([lines[0], "|" + "---|" * len(COLUMNS), *lines[1:]])
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _rows(path: Path) -> list[dict]:
    """The rows of the store at ``path``; a row without the keys a comparison groups by is
    an error naming the store and the row."""
    from musebench.leaderboard.store import read_rows

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such results store")
    rows = read_rows(path)
    for number, row in enumerate(rows, start=1):
        missing = [key for key in ("model", "dataset", "metrics") if key not in row]
        if missing:
            raise ValueError(f"{path}: row {number} lacks {', '.join(missing)}")
    return rows


def run(args: argparse.Namespace) -> int:
    from musebench.leaderboard.compare import compare_stores, parse_rule, regressions

    for rule in args.fail_on:
        parse_rule(rule)  # a bad rule is an error before anything is read
    if not 0 < args.level < 1:
        raise ValueError(f"--level {args.level}: must be between 0 and 1")
    differences, only_base, only_new = compare_stores(
        _rows(args.base), _rows(args.new), args.metrics, args.level)
    shown = [d for d in differences if d.significant or not args.significant_only]
    print(render([_cells(d) for d in shown], args.format == "md"))
    for label, keys in ((args.base, only_base), (args.new, only_new)):
        if keys:
            print(f"\nonly in {label}: " + ", ".join("/".join(key) for key in keys))
    bad = regressions(differences, args.fail_on)
    if bad:
        print(f"\ncompare: {len(bad)} significant regression(s): "
              + ", ".join(f"{d.model}/{d.dataset} {d.metric} {d.diff:+.4g}" for d in bad),
              file=sys.stderr)
        return 1
    return 0

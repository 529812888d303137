"""``musebench regress``: the CI regression gate on the fixture (``make regress``), and
``--update`` to re-bless the golden files (``make regress-update``).

Every registered model (or those named by ``--models``) and the fixture's data side and
scorer are run and compared with ``tests/regression/*.json``
(:mod:`musebench.experiments.regress`), each with the file of this machine's CPU kind
where there is one. The output is the table of what moved (model,
check, value, expected, tolerance) and nothing else; exit 1 if anything moved. With
``--update`` the files are rewritten and the table lists what changed in them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``regress``."""
    parser = subparsers.add_parser(
        "regress", help="compare every model's smoke run on the fixture with its golden file")
    parser.add_argument("--models", nargs="+", default=None,
                        help="default: every registered model (the fixture is always checked)")
    parser.add_argument("--golden", type=Path, default=None,
                        help="folder of the golden files (default: tests/regression)")
    parser.add_argument("--update", action="store_true",
                        help="re-bless the golden files and list what changed in them")
    parser.add_argument("--this-cpu", action="store_true",
                        help="--update: bless into the folder of this machine's CPU kind "
                             "(tests/regression/<vendor>-<ISA>/), read in place of the common "
                             "file on such CPUs only")
    parser.add_argument("--seed", type=int, default=0, help="--update: the seed recorded")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="--update: a regress-specific override of the smoke preset, "
                             "recorded in the golden file (e.g. trainer.max_epochs=1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from musebench.experiments import regress
    from musebench.experiments.regress_run import fresh_cache, outcome, quiet
    from musebench.models import MODELS, get_model

    golden_dir = args.golden or regress.GOLDEN_DIR
    if regress.FIXTURE in MODELS:
        raise ValueError(f"a model is registered as {regress.FIXTURE!r}, the name of the "
                         "fixture's golden file; rename it")
    models = args.models or sorted(MODELS)
    for name in models:
        get_model(name)  # an unknown name is a clear error before anything runs
    names = [regress.FIXTURE, *models]
    kind = regress.cpu_kind()
    with fresh_cache(), quiet():
        if args.update:
            changed, failed = regress.bless_all(names, outcome, golden_dir, args.seed,
                                                args.overrides,
                                                kind if args.this_cpu else None)
        else:
            failed = regress.check_all(
                names, lambda name, settings: outcome(name, settings, regress.PINNED_THREADS),
                golden_dir, kind)
    stale = regress.stale_files(names, golden_dir) if args.models is None else []
    if args.update:
        for path in stale:
            path.unlink()
        changed += [regress.Moved(p.stem, "(golden file)", "removed", "-", "-") for p in stale]
        print(regress.table(changed) if changed else "regress --update: no golden value changed")
        for path in regress.other_kinds(names, golden_dir, kind if args.this_cpu else None):
            print(f"kept {path}: blessed on another CPU kind; re-bless it there "
                  "(musebench regress --update --this-cpu) or delete it")
    else:
        failed += [regress.Moved(p.stem, "(golden file)", "not a registered model",
                                 "-", "-") for p in stale]
    if failed:  # with --update: the models whose runs failed, after the table of changes
        print(regress.table(failed), file=sys.stderr if args.update else sys.stdout)
        if not args.update:  # stdout stays the table
            for note in regress.kind_notes(failed, golden_dir, kind):
                print(note, file=sys.stderr)
        return 1
    if not args.update:
        print(f"regress: {len(models)} model(s) and the fixture within tolerance "
              f"({golden_dir}, CPU kind {kind})")
    return 0

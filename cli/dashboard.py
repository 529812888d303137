"""``musebench dashboard``: the W&B workspace that compares bench runs.

``musebench dashboard [--dataset D] [--preset P] [--wandb-entity E] [--wandb-project P]
[--offline] [--out FILE] [--from FILE]`` defines the workspace of
:mod:`musebench.experiments.dashboard` (runs grouped by model, filtered by dataset and
preset; headline bar panels, training curves, the samples table, costs). With
``--offline`` (or ``WANDB_MODE`` offline/disabled) it writes the definition as JSON to
``--out`` and prints how to publish it; otherwise it saves the workspace to W&B and prints
its URL. ``--from FILE`` publishes a definition written before.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_OUT = Path("runs/dashboard.json")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dashboard``."""
    from musebench.experiments.tracking import PROJECT

    parser = subparsers.add_parser(
        "dashboard", help="define the W&B workspace comparing bench runs",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", default="bach", help="show the runs on this dataset")
    parser.add_argument("--preset", default="standard", help="show the runs of this preset")
    parser.add_argument("--wandb-project", default=PROJECT, help="W&B project of the runs")
    parser.add_argument("--wandb-entity", default=os.environ.get("WANDB_ENTITY", ""),
                        help="W&B entity (user or team; default: $WANDB_ENTITY)")
    parser.add_argument("--offline", action="store_true",
                        help="write the definition to --out instead of publishing it")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where --offline writes the definition")
    parser.add_argument("--from", dest="source", type=Path, default=None, metavar="FILE",
                        help="publish a definition that --offline wrote")
    parser.set_defaults(func=run)


def read_spec(path: Path) -> dict:
    """A definition file, checked.

    Raises:
        ValueError: the file is not JSON or not a workspace definition (file named).
    """
    from musebench.experiments.dashboard import check_spec

    try:
        spec = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: a workspace definition is a JSON object")
    check_spec(spec, str(path))
    return spec


def run(args: argparse.Namespace) -> int:
    from musebench.experiments.dashboard import publish, workspace_spec
    from musebench.util import write_atomically

    if args.source is not None:
        spec = read_spec(args.source)
    else:
        spec = workspace_spec(args.wandb_entity or "ENTITY", args.wandb_project,
                              args.dataset, args.preset)
    offline = args.offline or os.environ.get("WANDB_MODE") in ("offline", "disabled")
    if offline:
        if args.source is not None:
            raise ValueError("--from publishes a definition; it cannot be used offline")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(args.out, json.dumps(spec, indent=1) + "\n")
        entity = "" if args.wandb_entity else " (replace ENTITY: pass --wandb-entity)"
        print(f"wrote the workspace definition to {args.out}{entity}\n"
              "to publish it, with network and a W&B API key (`wandb login`):\n"
              f"  WANDB_MODE=online python -m musebench dashboard --from {args.out}")
        return 0
    if spec["entity"] == "ENTITY":
        raise ValueError("publishing needs --wandb-entity (or $WANDB_ENTITY)")
    print(f"published the workspace: {publish(spec)}")
    return 0

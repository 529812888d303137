"""The regression gate: outcomes on the fixture against committed golden files.

``tests/regression/<model>.json`` holds one registered model's golden values, and
``tests/regression/_fixture.json`` the data side and the scorer
(:mod:`musebench.experiments.regress_run` says what is measured). Each file records how
its values were obtained (preset, seed, torch threads, overrides, library versions,
machine) and, per check, the expected value, its tolerance and why the tolerance is
what it is.

:func:`bless` (``make regress-update``) runs every outcome :data:`PINNED_RUNS` times at the
pinned thread count and once more with :data:`OTHER_THREADS` threads:

- a hash or a count must be identical over the pinned runs (otherwise blessing fails:
  a check that is not reproducible cannot gate anything); it is then checked exactly.
  Whether the other thread count gave the same value is written into its ``why``;
- a float gets ``max(floor, MARGIN x spread)``, the spread being the largest difference
  between any two of the runs (the other thread count included, so the tolerance also
  holds on a machine that rounds like it). The floor is relative: :data:`FLOAT32_FLOOR`
  for values computed in float32 by torch (losses, likelihoods), :data:`FLOAT64_FLOOR`
  for the scorer's float64 NumPy figures.

:func:`compare` gives one :class:`Moved` row per check outside its tolerance; a model
without golden file, a check missing on either side or a run that raised is a row too.

Goldens per CPU kind: a GAN's smoke run is chaotic, so where two CPUs round one float32
sum differently its notes part from the first training step on (MidiNet models 1 and 2:
an AMD EPYC with AVX2 and an Intel Xeon with AVX-512 give other notes, and no setting of
``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA`` and ``MKL_CBWR`` made the Xeon give the
EPYC's). ``<golden_dir>/<kind>/<name>.json``, where it exists for this machine's
:func:`cpu_kind`, is read in place of ``<golden_dir>/<name>.json``; ``--update
--this-cpu`` blesses there. Each file records the kind it was blessed on.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musebench.util import cpu_name, cpuinfo_field, write_atomically

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "tests" / "regression"
#: Name of the data-side and scorer golden file (no model may be registered under it).
FIXTURE = "_fixture"
PINNED_THREADS = 1
PINNED_RUNS = 2
OTHER_THREADS = 2
MARGIN = 3.0
FLOAT32_FLOOR = 1e-5
FLOAT64_FLOOR = 1e-9
#: Check groups computed by torch in float32 (the others are float64 NumPy or exact).
FLOAT32_GROUPS: tuple[str, ...] = ("train.", "likelihood.")

Outcome = dict[str, Any]
#: ``runner(name, threads) -> outcome``; ``name`` is a model or :data:`FIXTURE`.
Runner = Callable[[str, int], Outcome]


@dataclass(frozen=True)
class Moved:
    """One check outside its tolerance (or missing, or a failed run)."""

    model: str
    check: str
    value: str
    expected: str
    tolerance: str


def cpu_kind() -> str:
    """``<vendor>-<ISA>`` of this machine, e.g. ``GenuineIntel-AVX512``: the CPU vendor
    (``/proc/cpuinfo``; the architecture elsewhere) and the widest vector instructions
    torch's kernels use here (``torch.backends.cpu.get_cpu_capability``)."""
    import torch

    vendor = cpuinfo_field("vendor_id") or platform.machine()
    return f"{vendor}-{torch.backends.cpu.get_cpu_capability()}"


def golden_path(name: str, golden_dir: Path = GOLDEN_DIR, kind: str | None = None) -> Path:
    """``<golden_dir>/<name>.json``, or with ``kind`` ``<golden_dir>/<kind>/<name>.json``."""
    return Path(golden_dir) / (kind or "") / f"{name}.json"


def read_golden(name: str, golden_dir: Path = GOLDEN_DIR,
                kind: str | None = None) -> dict[str, Any] | None:
    """The golden file of ``name`` for CPU ``kind``: its file in the kind's folder where
    there is one, else the common file (None if there is neither).

    Raises:
        ValueError: the file is not a golden file; the message names it and the problem.
    """
    path = golden_path(name, golden_dir, kind)
    if kind is None or not path.exists():
        path = golden_path(name, golden_dir)
    if not path.exists():
        return None
    try:
        golden = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(golden, dict) or not isinstance(golden.get("checks"), dict):
        raise ValueError(f"{path}: no 'checks' object; regenerate it with make regress-update")
    for check, entry in golden["checks"].items():
        if not isinstance(entry, dict) or "expected" not in entry or "tolerance" not in entry:
            raise ValueError(f"{path}: check {check!r} lacks 'expected' or 'tolerance'")
    return golden


def show(value: Any) -> str:
    """A value as the table shows it: hashes shortened, floats to 6 significant digits."""
    if isinstance(value, str):
        return value[:12] if len(value) == 64 else value
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def clean(value: Any) -> Any:
    """NaN (an undefined metric) as None, so golden files are strict JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def within(value: Any, expected: Any, tolerance: Any) -> bool:
    """``value`` matches ``expected``: equal for ``"exact"``, else ``|diff| <= tolerance``;
    an undefined value (None or NaN) matches an undefined one only."""
    value, expected = clean(value), clean(expected)
    if tolerance == "exact" or isinstance(expected, str) or isinstance(value, str):
        return value == expected
    if value is None or expected is None:
        return value is expected
    return abs(float(value) - float(expected)) <= float(tolerance)


def compare(name: str, outcome: Outcome, golden: dict[str, Any] | None) -> list[Moved]:
    """The checks of ``name`` whose ``outcome`` left the ``golden`` values."""
    if golden is None:
        return [Moved(name, "(golden file)", "missing", "present", "run make regress-update")]
    moved = []
    checks = golden["checks"]
    for check in sorted(set(checks) | set(outcome)):
        if check not in checks:
            moved.append(Moved(name, check, show(outcome[check]), "(not in golden)", "-"))
        elif check not in outcome:
            moved.append(Moved(name, check, "(not produced)", show(checks[check]["expected"]),
                               show(checks[check]["tolerance"])))
        elif not within(outcome[check], checks[check]["expected"], checks[check]["tolerance"]):
            moved.append(Moved(name, check, show(outcome[check]),
                               show(checks[check]["expected"]), show(checks[check]["tolerance"])))
    return moved


def table(rows: list[Moved]) -> str:
    """The rows as a fixed-width table with a header (model, check, value, expected,
    tolerance)."""
    header = Moved("model", "check", "value", "expected", "tolerance")
    cells = [[getattr(row, field) for field in Moved.__dataclass_fields__]
             for row in [header, *rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
             .rstrip() for line in cells]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def tolerance(check: str, pinned: list[Any], other: Any) -> tuple[Any, Any, str]:
    """``(expected, tolerance, why)`` of ``check`` from its pinned runs and the run at
    :data:`OTHER_THREADS` threads.

    Raises:
        RuntimeError: an exact check (hash, count) differs between the pinned runs.
    """
    expected = pinned[0]
    threads = f"{OTHER_THREADS} threads"
    if isinstance(expected, float) and math.isnan(expected):
        if not all(isinstance(v, float) and math.isnan(v) for v in pinned):
            raise RuntimeError(f"{check}: undefined (NaN) in some runs only")
        return expected, "exact", "undefined on the fixture (NaN, stored as null) in every run"
    if not isinstance(expected, float):
        if any(value != expected for value in pinned):
            raise RuntimeError(f"{check}: differs between {PINNED_RUNS} identical runs "
                               f"({', '.join(map(show, pinned))}); it cannot be a check")
        same = ("the same" if other == expected else
                f"another value ({show(other)}): float32 sums grouped another way flip some "
                "of its outputs, so on a CPU that rounds differently this check fails and "
                "the file must be re-blessed there (the float checks hold)")
        return expected, "exact", (
            f"hash/count of a deterministic computation: any change is a real change. "
            f"{PINNED_RUNS} runs at {PINNED_THREADS} thread(s) agreed; {threads} gave {same}")
    runs = [*pinned, other] if isinstance(other, float) else pinned
    spread = max(runs) - min(runs) if all(map(math.isfinite, runs)) else 0.0
    repeat = max(pinned) - min(pinned) if all(map(math.isfinite, pinned)) else 0.0
    differs = abs(other - expected) if isinstance(other, float) else math.nan
    relative = FLOAT32_FLOOR if check.startswith(FLOAT32_GROUPS) else FLOAT64_FLOOR
    floor = relative * max(1.0, abs(expected)) if math.isfinite(expected) else 0.0
    kind = ("training/likelihood value (float32 in torch models)" if relative == FLOAT32_FLOOR
            else "scorer value (float64 NumPy)")
    why = (f"{kind}; the {PINNED_RUNS} runs at {PINNED_THREADS} thread(s) differ by "
           f"{repeat:.3g}, the run at {threads} by {differs:.3g}: spread {spread:.3g}; "
           f"tolerance = max({relative:g} x max(1, |value|), {MARGIN:g} x spread)")
    return expected, max(floor, MARGIN * spread), why


def environment() -> dict[str, str]:
    """The library versions and machine the golden values were obtained with."""
    import numpy
    import pytorch_lightning
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "pytorch_lightning": pytorch_lightning.__version__,
            "machine": f"{platform.machine()} {cpu_name()}", "cpu_kind": cpu_kind()}


def bless(name: str, runner: Runner, settings: dict[str, Any]) -> dict[str, Any]:
    """A golden file for ``name``: its outcome :data:`PINNED_RUNS` times at
    :data:`PINNED_THREADS` thread(s) and once at :data:`OTHER_THREADS`, with tolerances."""
    pinned = [runner(name, PINNED_THREADS) for _ in range(PINNED_RUNS)]
    other = runner(name, OTHER_THREADS)
    checks = {}
    for check in sorted(pinned[0]):
        expected, tol, why = tolerance(check, [run.get(check) for run in pinned],
                                       other.get(check))
        checks[check] = {"expected": clean(expected), "tolerance": tol, "why": why}
    how = (f"make regress-update: {name if name != FIXTURE else 'the fixture data and scorer'}"
           f" {'' if name == FIXTURE else 'smoke preset '}on the committed fixture, seed "
           f"{settings['seed']}, CPU, torch.use_deterministic_algorithms(True), "
           f"{PINNED_THREADS} torch thread(s) pinned (the same summation order every run, and "
           "the cheapest setting for models this small); overrides of the smoke preset: "
           f"{settings['overrides'] or 'none'}")
    return {"name": name, "how": how, "settings": settings, "environment": environment(),
            "checks": checks}


def changes(name: str, new: dict[str, Any], old: dict[str, Any] | None) -> list[Moved]:
    """What re-blessing changed: every check whose expected value is not the old one."""
    if old is None:
        return [Moved(name, "(golden file)", "created", "-", "-")]
    rows = []
    for check in sorted(set(new["checks"]) | set(old["checks"])):
        was, now = old["checks"].get(check), new["checks"].get(check)
        if was is None or now is None or not within(now["expected"], was["expected"], "exact"):
            rows.append(Moved(name, check, show(now["expected"]) if now else "(removed)",
                              show(was["expected"]) if was else "(new)",
                              show((now or was)["tolerance"])))
    return rows


def write_golden(golden: dict[str, Any], golden_dir: Path = GOLDEN_DIR,
                 kind: str | None = None) -> Path:
    """Write ``golden`` (atomically: an interrupted update leaves the old file whole), into
    ``kind``'s folder when given."""
    path = golden_path(golden["name"], golden_dir, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(golden, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def settings_of(golden: dict[str, Any] | None, seed: int = 0,
                overrides: list[str] | None = None) -> dict[str, Any]:
    """The run settings a golden file recorded (the defaults where there is none)."""
    recorded = (golden or {}).get("settings", {})
    return {"preset": "smoke", "dataset": "fixture", "seed": int(recorded.get("seed", seed)),
            "threads": PINNED_THREADS,
            "overrides": list(recorded.get("overrides", overrides or []))}


def check_all(names: list[str], runner: Callable[[str, dict[str, Any]], Outcome],
              golden_dir: Path = GOLDEN_DIR, kind: str | None = None) -> list[Moved]:
    """Run every one of ``names`` with its golden file's settings (that of CPU ``kind``
    where there is one, :func:`read_golden`); the rows that moved.

    A run that raises is a row naming the error (the other names still run)."""
    moved = []
    for name in names:
        golden = read_golden(name, golden_dir, kind)
        try:
            outcome = runner(name, settings_of(golden))
        except Exception as error:  # noqa: BLE001 - every model is reported, whatever broke
            moved.append(Moved(name, "(run)", f"{type(error).__name__}: {error}"[:160],
                               "completes", "-"))
            continue
        moved += compare(name, outcome, golden)
    return moved


def bless_all(names: list[str], runner: Callable[[str, dict[str, Any], int], Outcome],
              golden_dir: Path = GOLDEN_DIR, seed: int = 0,
              overrides: list[str] | None = None,
              kind: str | None = None) -> tuple[list[Moved], list[Moved]]:
    """Re-bless every one of ``names`` (in CPU ``kind``'s folder when given):
    ``(changes, failures)``. A name whose runs raise, or whose exact checks are not
    reproducible, keeps its old file and is a failure row."""
    changed, failed = [], []
    settings = settings_of(None, seed, overrides)
    for name in names:
        try:
            golden = bless(name, lambda n, threads: runner(n, settings, threads), settings)
        except Exception as error:  # noqa: BLE001 - the other names are still blessed
            failed.append(Moved(name, "(run)", f"{type(error).__name__}: {error}"[:160],
                                "completes", "-"))
            continue
        changed += changes(name, golden, read_golden(name, golden_dir, kind))
        write_golden(golden, golden_dir, kind)
    return changed, failed


def stale_files(names: list[str], golden_dir: Path = GOLDEN_DIR) -> list[Path]:
    """Golden files in ``golden_dir`` or its CPU kinds' folders of no name in ``names``
    (an unregistered model)."""
    files = [*Path(golden_dir).glob("*.json"), *Path(golden_dir).glob("*/*.json")]
    return sorted(p for p in files if p.stem not in names)


def other_kinds(names: list[str], golden_dir: Path = GOLDEN_DIR,
                kind: str | None = None) -> list[Path]:
    """Golden files of ``names`` blessed for CPU kinds other than ``kind``: a re-bless here
    cannot update them."""
    return sorted(p for p in Path(golden_dir).glob("*/*.json")
                  if p.stem in names and p.parent.name != kind)


def kind_notes(moved: list[Moved], golden_dir: Path = GOLDEN_DIR,
               kind: str | None = None) -> list[str]:
    """For each model in ``moved`` whose golden file was blessed on another CPU (kind or
    machine), a line saying so and how to bless one for this CPU kind."""
    notes = []
    for name in sorted({row.model for row in moved}):
        try:
            golden = read_golden(name, golden_dir, kind)
        except ValueError:
            continue
        env = (golden or {}).get("environment", {})
        blessed = env.get("cpu_kind") or env.get("machine")
        if golden is not None and blessed and env.get("cpu_kind") != kind:
            notes.append(f"{name}: golden blessed on {blessed}, this CPU is {kind}; where "
                         f"only the CPU differs: musebench regress --update --this-cpu "
                         f"--models {name}")
    return notes

"""The "Performance" section of the leaderboard report, from ``make perf``'s JSON.

``make perf`` writes ``runs/perf.json`` (:mod:`musebench.perf`); its
``perf_models`` section (:mod:`musebench.perf.models`) holds, per model and
preset, training throughput at each precision, FLOP/s as a fraction of the machine's matmul
peak, peak memory, generation bars/s (also of the preset's own sample set), the DDP ratio,
the busy/idle ratio (training beside one competing busy process) and the same two windows
at one thread over the idle one (does the model train better on fewer threads, alone or on
a shared machine?), for models trained on padded batches the real time steps/s on
length-grouped batches over shuffled ones with each order's share of real steps in an
epoch, the minutes of training
steps the standard budget buys at the fp32 rate (equal budgets read equal minutes) and the
top operators by self time of a profiled training step. This module turns it into a table
(Markdown or HTML) with the machine and its measured matmul peaks above it, and a table of
the top operators (on each bf16-mixed row, where the profiled batch's time moved from
fp32: why bf16 gains or loses there), so the report shows what each model costs next to
what it scores, and where the time goes.
"""

from __future__ import annotations

from typing import Any

from musebench.leaderboard.sections import section_html, section_markdown

HEADER: tuple[str, ...] = (
    "model", "preset", "data", "fp32 samples/s", "fp32 steps/s", "bf16 samples/s",
    "bf16/fp32", "fp32 GFLOP/s", "fp32 % peak", "bf16 % peak", "peak memory MB",
    "generation bars/s", "DDP 2/1", "sample set bars/s", "busy/idle", "1 thread/idle",
    "1 thread busy/idle", "bench threads", "fp32 % peak at bench threads",
    "length-grouped/shuffled steps/s", "real steps % (shuffled / grouped)", "budget min (fp32)",
)
OPERATOR_HEADER: tuple[str, ...] = ("model", "preset", "precision", "top operators by self time",
                                     "vs fp32 (self ms of one batch)")
#: Operators shown per profiled cell.
OPERATORS_SHOWN = 4


def _format(value: Any, scale: float = 1.0, digits: int = 3) -> str:
    """``value / scale`` to ``digits`` significant figures (whole numbers from 1000 up, no
    exponent); ``-`` if absent."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    scaled = value / scale
    return f"{scaled:.0f}" if abs(scaled) >= 10 ** digits else f"{scaled:.{digits}g}"


def _padding(padding: dict[str, float] | None) -> str:
    """``shuffled / grouped`` real steps per computed step of an epoch, in percent."""
    if not padding:
        return "-"
    return f"{_format(padding.get('shuffle'), 0.01, 2)} / {_format(padding.get('length_grouped'), 0.01, 2)}"


def _cell_row(model: str, preset: str, cell: dict[str, Any]) -> list[str]:
    if "error" in cell or "skipped" in cell:
        reason = cell.get("error") or f"skipped: {cell['skipped']}"
        return [model, preset, str(cell.get("dataset", "-")), reason] + ["-"] * (len(HEADER) - 4)
    train = cell.get("train", {})
    fp32, bf16 = train.get("32-true", {}), train.get("bf16-mixed", {})
    memories = [f.get("peak_memory_bytes") for f in train.values()]
    memories.append(cell.get("generate", {}).get("peak_memory_bytes"))
    memory = max((m for m in memories if isinstance(m, int | float)), default=None)
    ddp = cell.get("ddp", {})
    return [
        model, preset, str(cell.get("dataset", "-")),
        _format(fp32.get("samples_per_s")),
        _format(fp32.get("time_steps_per_s")),
        _format(bf16.get("samples_per_s")),
        _format(cell.get("bf16_over_fp32")),
        _format(fp32.get("achieved_flops_per_s"), 1e9),
        _format(fp32.get("fraction_of_peak"), 0.01),
        _format(bf16.get("fraction_of_peak"), 0.01),
        _format(memory, 2**20),
        _format(cell.get("generate", {}).get("bars_per_s")),
        "error" if "error" in ddp else _format(ddp.get("ddp_over_single")),
        _format(cell.get("generate_set", {}).get("bars_per_s")),
        _format(cell.get("busy_over_idle")),
        _format(cell.get("one_thread_over_idle")),
        _format(cell.get("one_thread_busy_over_idle")),
        _format(cell.get("bench_threads")),
        _format(cell.get("bench_fraction_of_peak"), 0.01),
        _format(cell.get("length_grouped_over_shuffled")),
        _padding(cell.get("padding")),
        _format(cell.get("budget", {}).get("fp32_minutes")),
    ]


def change_text(change: dict[str, Any]) -> str:
    """A :func:`~musebench.perf.operators.precision_change` in words: ``total 284 -> 310 ms:
    aten::copy_ +40.0, aten::mm -15.0`` (self ms of one profiled batch)."""
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    moved = ", ".join(f"{op['name']} {op['other_ms'] - op['base_ms']:+.1f}"
                      for op in change["operators"])
    return f"total {ms(change['base_ms'])} -> {ms(change['other_ms'])} ms: {moved}"


def models_section(perf: dict[str, Any]) -> dict[str, Any]:
    """The ``perf_models`` section of a whole perf JSON (or ``perf`` itself if it is one)."""
    return perf if "models" in perf else perf.get("perf_models", {})


def performance_rows(perf: dict[str, Any]) -> list[list[str]]:
    """One row of :data:`HEADER` cells per (model, preset) of the perf JSON."""
    section = models_section(perf)
    return [_cell_row(model, preset, cell)
            for model, presets in section.get("models", {}).items()
            for preset, cell in presets.items()]


def operator_rows(perf: dict[str, Any]) -> list[list[str]]:
    """One row of :data:`OPERATOR_HEADER` per profiled (model, preset, precision): the top
    :data:`OPERATORS_SHOWN` operators with their share of the profiled self time and, on a
    bf16-mixed row, where the batch's time moved from fp32: why bf16 gains or loses."""
    return [[model, preset, precision,
             ", ".join(f"{op['name']} {_format(100 * op['share'])}%"
                       for op in profiled.get("top", [])[:OPERATORS_SHOWN]),
             change_text(cell["bf16_change"])
             if precision == "bf16-mixed" and "bf16_change" in cell else "-"]
            for model, presets in models_section(perf).get("models", {}).items()
            for preset, cell in presets.items()
            for precision, profiled in cell.get("profile", {}).items()]


OPERATOR_CAPTION = ("where a training step's time goes: torch.profiler over a few batches, "
                    "operators by self time (the profiler inflates small operators a little)")


def machine_line(perf: dict[str, Any]) -> str:
    """Where and when it was measured, and the matmul peaks the fractions refer to."""
    section = models_section(perf)
    peak = section.get("machine_peak", {})
    machine = perf.get("machine", {})
    parts = [f"measured {perf['started']}" if "started" in perf else "",
             f"on {machine.get('processor') or machine.get('platform')}" if machine else "",
             f"({machine['cpus']} CPUs)" if "cpus" in machine else ""]
    if peak:
        parts.append(f"; matmul peak on {peak.get('device', '?')} "
                     f"({peak.get('size')}x{peak.get('size')}, {peak.get('threads')} threads): "
                     f"fp32 {_format(peak.get('peak_fp32'), 1e9)} GFLOP/s, "
                     f"bf16 {_format(peak.get('peak_bf16'), 1e9)} GFLOP/s")
    return " ".join(p for p in parts if p).replace(" ;", ";") + bf16_note(peak)


def bf16_note(peak: dict[str, Any]) -> str:
    """Why bf16-mixed cannot beat fp32 here, when the measured peaks say so: a bf16 matmul
    peak under the fp32 one (a CPU without bf16 instructions, such as AVX2 only, runs bf16
    products in slow emulation, and bf16-mixed adds casts to fp32 kernels); else nothing."""
    fp32, bf16 = peak.get("peak_fp32"), peak.get("peak_bf16")
    if not fp32 or not bf16 or bf16 >= fp32:
        return ""
    return (f". bf16-mixed cannot pay off on this machine: its bf16 matmul peak is "
            f"{bf16 / fp32:.0%} of its fp32 one (no bf16 instructions), so bf16/fp32 below 1 "
            "measures the casts and emulation, not the models")


def performance_markdown(perf: dict[str, Any]) -> str:
    """The Performance section as Markdown: a heading, the machine line and the table, then
    the operator table where cells were profiled."""
    text = section_markdown("Performance", machine_line(perf), HEADER, performance_rows(perf))
    operators = operator_rows(perf)
    if operators:
        text += "\n" + section_markdown("Performance: operators", OPERATOR_CAPTION,
                                         OPERATOR_HEADER, operators)
    return text


def performance_html(perf: dict[str, Any]) -> str:
    """The Performance section as an HTML fragment (heading, machine line, table; the
    operator table where cells were profiled)."""
    fragment = section_html("Performance", machine_line(perf), HEADER, performance_rows(perf),
                            "performance")
    operators = operator_rows(perf)
    if operators:
        fragment += section_html("Performance: operators", OPERATOR_CAPTION, OPERATOR_HEADER,
                                 operators, "performance")
    return fragment

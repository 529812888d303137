"""The console tables of ``make perf``'s model section (:mod:`musebench.perf.models`): one
line of figures per (model, preset), and the top operators of every profiled cell."""

from __future__ import annotations

from typing import Any

from musebench.leaderboard.performance import change_text


def _number(value: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "-" if value is None else f"{value / scale:.{digits}f}"


def table(result: dict[str, Any]) -> str:
    """The section's figures as a fixed-width text table, one line per (model, preset)."""
    header = (f"{'model':<15} {'preset':<8} {'data':<8} {'fp32 smp/s':>10} {'steps/s':>9} "
              f"{'bf16 smp/s':>10} {'bf16/fp32':>9} {'GFLOP/s':>8} {'%peak':>6} "
              f"{'bf16 %pk':>8} {'peak MB':>8} {'gen bar/s':>9} {'set bar/s':>9} {'ddp2/1':>7} "
              f"{'busy/idle':>9} {'1thr/idle':>9} {'1thr busy':>9} {'bench thr':>9} {'%pk there':>9} "
              f"{'cell s':>6}")
    lines = [header, "-" * len(header)]
    for model, presets in result["models"].items():
        for preset, cell in presets.items():
            if "error" in cell or "skipped" in cell:
                reason = cell.get("error") or f"skipped: {cell['skipped']}"
                lines.append(f"{model:<15} {preset:<8} {reason[:100]}")
                continue
            fp32 = cell.get("train", {}).get("32-true", {})
            bf16 = cell.get("train", {}).get("bf16-mixed", {})
            memory = max([f.get("peak_memory_bytes") or 0 for f in cell.get("train", {}).values()]
                         + [cell.get("generate", {}).get("peak_memory_bytes") or 0])
            ddp = cell.get("ddp", {})
            lines.append(
                f"{model:<15} {preset:<8} {cell['dataset'][:8]:<8} "
                f"{_number(fp32.get('samples_per_s')):>10} "
                f"{_number(fp32.get('time_steps_per_s'), digits=0):>9} "
                f"{_number(bf16.get('samples_per_s')):>10} "
                f"{_number(cell.get('bf16_over_fp32'), digits=2):>9} "
                f"{_number(fp32.get('achieved_flops_per_s'), 1e9, 2):>8} "
                f"{_number(fp32.get('fraction_of_peak'), 0.01, 2):>6} "
                f"{_number(bf16.get('fraction_of_peak'), 0.01, 2):>8} "
                f"{_number(memory or None, 2**20, 0):>8} "
                f"{_number(cell.get('generate', {}).get('bars_per_s')):>9} "
                f"{_number(cell.get('generate_set', {}).get('bars_per_s')):>9} "
                f"{_number(ddp.get('ddp_over_single')) if 'error' not in ddp else 'error':>7} "
                f"{_number(cell.get('busy_over_idle'), digits=2):>9} "
                f"{_number(cell.get('one_thread_over_idle'), digits=2):>9} "
                f"{_number(cell.get('one_thread_busy_over_idle'), digits=2):>9} "
                f"{_number(cell.get('bench_threads'), digits=0):>9} "
                f"{_number(cell.get('bench_fraction_of_peak'), 0.01, 2):>9} "
                f"{_number(cell.get('length_grouped_over_shuffled'), digits=2):>9} "
                f"{_number(cell.get('cell_seconds'), digits=0):>6}")
    return "\n".join(lines)


def operators_table(result: dict[str, Any], top: int = 4) -> str:
    """The ``top`` operators by self time of every profiled cell and precision, one line
    each: model, preset, precision, then ``name share%`` pairs; a bf16-mixed line ends with
    where the batch's time moved from fp32 (:func:`change_text`)."""
    lines = ["top operators by self time (share of the profiled batches' self time):"]
    for model, presets in result["models"].items():
        for preset, cell in presets.items():
            for precision, profiled in cell.get("profile", {}).items():
                operators = ", ".join(f"{op['name']} {100 * op['share']:.0f}%"
                                      for op in profiled.get("top", [])[:top])
                if precision == "bf16-mixed" and "bf16_change" in cell:
                    operators += f"; vs fp32: {change_text(cell['bf16_change'])}"
                lines.append(f"{model:<15} {preset:<8} {precision:<10} {operators}")
    return "\n".join(lines)

"""The hardware a row records: the CPU's model name, not only its architecture."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from musebench.experiments.bench import hardware
from musebench.util import cpu_name


def test_the_cpu_model_name_comes_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
                       "model name\t: AMD EPYC 9B14\nflags\t\t: fpu avx2\n\n"
                       "processor\t: 1\nmodel name\t: AMD EPYC 9B14\n")
    assert cpu_name(cpuinfo) == "AMD EPYC 9B14"


def test_without_cpuinfo_the_architecture_is_named(tmp_path: Path) -> None:
    assert cpu_name(tmp_path / "missing") not in ("", None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU run names its GPU")
def test_a_cpu_row_names_the_cpu_and_its_threads() -> None:
    assert hardware() == f"CPU {cpu_name()} ({torch.get_num_threads()} threads)"

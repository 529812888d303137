"""The DDP set-up of experiments/trainer.py, in one process: the strategy follows the model's
contract, each rank gets its own seed, CPU threads are shared, diverged replicas are named,
and 16-mixed on CPU is a clear error."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import torch

from musebench.experiments.trainer import (
    RankSeed,
    check_precision,
    diverged_parameters,
    parameter_checksums,
    resolve_strategy,
    threads_per_process,
)
from musebench.models import MODELS, get_model


def test_manual_optimisation_models_get_ddp_unused_parameter_detection():
    for name in MODELS:
        model = get_model(name)()
        resolved = resolve_strategy("ddp", model)
        if model.automatic_optimization:
            assert resolved == "ddp", name
        else:
            assert resolved == "ddp_find_unused_parameters_true", name
    gan = get_model("midinet")()
    assert resolve_strategy("ddp_spawn", gan) == "ddp_spawn_find_unused_parameters_true"
    assert resolve_strategy("auto", gan) == "auto"
    assert resolve_strategy("auto", gan, devices=1) == "auto"
    # Lightning turns "auto" over several devices or nodes into plain DDP
    assert resolve_strategy("auto", gan, devices=2) == "ddp_find_unused_parameters_true"
    assert resolve_strategy(None, gan, devices=[0, 1]) == "ddp_find_unused_parameters_true"
    assert resolve_strategy("auto", gan, devices=1, num_nodes=2) == (
        "ddp_find_unused_parameters_true")


def test_rank_seed_gives_rank_k_the_stream_of_seed_plus_k(monkeypatch):
    monkeypatch.setenv("PL_GLOBAL_SEED", "5")
    draws = {}
    for rank in (0, 1):
        RankSeed().setup(SimpleNamespace(global_rank=rank), None, "fit")
        draws[rank] = torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(draws[0], torch.rand(3))
    torch.manual_seed(6)
    assert torch.equal(draws[1], torch.rand(3))
    assert os.environ["PL_GLOBAL_SEED"] == "5"  # the distributed sampler's seed: shared


def test_threads_are_shared_between_the_processes_of_a_node():
    assert threads_per_process(cores=2, processes=2, current=2) == 1
    assert threads_per_process(cores=16, processes=4, current=16) == 4
    assert threads_per_process(cores=2, processes=4, current=2) == 1
    assert threads_per_process(cores=16, processes=1, current=3) == 3  # the user's limit wins


def test_diverged_parameters_names_only_the_parameters_that_differ_between_ranks():
    module = torch.nn.Linear(3, 2)
    same = parameter_checksums(module)
    assert same.shape == (2, 2) and same.dtype == torch.float64
    with torch.no_grad():
        module.bias[0] += 1e-6
    gathered = torch.stack([same, parameter_checksums(module)])
    assert diverged_parameters(gathered, ["weight", "bias"]) == ["bias"]
    assert diverged_parameters(torch.stack([same, same]), ["weight", "bias"]) == []


def test_float16_autocast_on_cpu_is_refused_naming_the_flag_and_bf16():
    with pytest.raises(ValueError, match=r"--precision 16-mixed .* bf16-mixed"):
        check_precision("16-mixed", "cpu")
    check_precision("bf16-mixed", "cpu")
    check_precision("32-true", "cpu")

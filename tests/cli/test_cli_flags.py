"""Bad command-line flag values are usage errors before any work starts: exit code 2 and
one line naming the flag, the value and what is allowed, no traceback."""

from __future__ import annotations

import pytest

import musebench.experiments.bench as bench_module
from musebench import cli

BAD = [
    (["bench", "--model", "markov", "--devices", "0"], "--devices", "0 is not allowed"),
    (["bench", "--model", "markov", "--precision", "64"], "--precision",
     "64 is not allowed: expected one of 32-true, bf16-mixed, 16-mixed"),
    (["bench", "--model", "markov", "--seed", "-1"], "--seed", "-1 is not allowed"),
    (["bench", "--model", "markov", "--num-nodes", "x"], "--num-nodes",
     "x is not a whole number"),
    (["bench-all", "--models", "markov", "--seeds", "0", "-5"], "--seeds", "-5 is not"),
    (["bench-all", "--models", "markov", "--jobs", "0"], "--jobs", "0 is not allowed"),
    (["bench", "--model", "markov", "--view", "melodie"], "--view",
     "melodie is not a view; did you mean melody?"),
    (["score", "--samples", ".", "--bootstrap", "0"], "--bootstrap", "0 is not allowed"),
    (["score", "--samples", ".", "--steps-per-beat", "-4"], "--steps-per-beat",
     "-4 is not allowed"),
]


@pytest.mark.parametrize(("argv", "flag", "message"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_a_bad_flag_is_a_usage_error_before_any_work(argv, flag, message, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("work started with a bad flag")

    monkeypatch.setattr(bench_module, "bench", no_work)
    monkeypatch.setattr("musebench.datasets.load", no_work)
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"argument {flag}" in err and message in err
    assert "Traceback" not in err


def test_good_values_still_parse():
    args = cli.build_parser().parse_args(["bench", "--model", "markov", "--devices", "2",
                                          "--precision", "bf16-mixed", "--seed", "0"])
    assert (args.devices, args.precision, args.seed) == (2, "bf16-mixed", 0)


def test_view_reaches_the_bench_as_an_official_cell_passes_it(monkeypatch):
    seen = {}

    def record(*args, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(bench_module, "bench", record)
    assert cli.main(["bench", "--model", "crnngan", "--view", "melody"]) == 0
    assert seen["view"] == "melody"
    cli.main(["bench", "--model", "crnngan"])
    assert seen["view"] is None

"""The finished command line (issue #17): ``--version``, ``models``, ``datasets``, help
with defaults on every option, "did you mean" for names, errors without stray quotes."""

from __future__ import annotations

import argparse
import json
import logging
import warnings

import pytest

import musebench
from musebench.cli import build_parser, main
from musebench.cli.main import error_text
from musebench.cli.noise import silence_known_noise
from musebench.models import MODELS


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"musebench {musebench.__version__}"


def test_models_lists_every_model_with_view_and_likelihood(capsys):
    assert main(["models", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert set(entries) == set(MODELS)
    assert entries["midinet"]["view"] == "melody" and entries["midinet"]["conditional"]
    assert "Yang" in entries["midinet"]["model"]
    assert entries["crnngan"]["likelihood"] is False      # a GAN: no likelihood
    assert entries["pianoroll_lstm"]["likelihood"] is True
    assert entries["biaxial"]["view"] == "full"
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "model", "view"] and len(lines) == len(MODELS) + 1


def test_datasets_lists_the_sources(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "fixture" in out and "embedded" in out and "midi:<folder>" in out


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, subsub in _subparsers(sub):
                    yield f"{name} {inner}", subsub


def test_every_option_of_every_command_has_help():
    for command, parser in _subparsers(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.help != argparse.SUPPRESS:
                assert action.help, f"musebench {command} {action.option_strings[0]}: no help"


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: standard)" in out and "(default: runs)" in out
    assert "(default: 0)" in out                       # --seed
    assert "(default: True)" not in out                # on/off flags say nothing


@pytest.mark.parametrize(("argv", "expected"), [
    (["bench", "--model", "midnet", "--preset", "smoke"], "did you mean midinet?"),
    (["data", "info", "jsbb"], "did you mean jsb?"),
])
def test_a_mistyped_name_gets_a_suggestion_without_quotes(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "'" not in err and "Traceback" not in err


def test_a_mistyped_preset_is_a_usage_error_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--model", "markov", "--preset", "standrd"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "standrd is not a preset; did you mean standard?" in err


def test_key_errors_are_printed_without_quotes():
    assert error_text(KeyError("unknown dataset x")) == "unknown dataset x"
    assert error_text(ValueError("v")) == "v"


def test_known_noise_is_silenced_and_nothing_else(caplog):
    silence_known_noise()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        silence_known_noise()  # after simplefilter, as in a real run: filters on top
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use x", stacklevel=1)
        warnings.warn("some other deprecation", DeprecationWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["some other deprecation"]
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("💡 Tip: For seamless cloud logging, try installing litlogger")
        logger.info("GPU available: False, used: False")
        logger.info("`Trainer.fit` stopped: `max_epochs=2` reached.")
    assert [r.getMessage() for r in caplog.records] == ["`Trainer.fit` stopped: "
                                                        "`max_epochs=2` reached."]

"""The official results in the model cards: equal to the store, every model in one card,
and the block's figures and staleness worked out by hand."""

from __future__ import annotations

from pathlib import Path

from musebench.experiments.config import config_hash
from musebench.experiments.model_cards import CARDS, card_models, results_block, update_cards
from musebench.experiments.official import cell_config
from musebench.experiments.tracks import Cell, load_protocol
from musebench.leaderboard.store import OFFICIAL_RESULTS, read_rows
from musebench.models import MODELS, get_model
from musebench.models.count_baseline import CountBaseline


def test_committed_cards_show_the_committed_store() -> None:
    changed = update_cards(read_rows(OFFICIAL_RESULTS), load_protocol(), write=False)
    assert changed == [], (f"model cards out of date with the official store: "
                           f"{[c.name for c in changed]}; run `musebench leaderboard --cards`")


def test_every_learned_model_is_in_exactly_one_card() -> None:
    listed = [m for card in CARDS.glob("*.md") for block in card_models(card.read_text())
              for m in block]
    learned = [m for m in MODELS if not issubclass(get_model(m), CountBaseline)]
    assert sorted(listed) == sorted(learned)


def _row(seed: int, value: float, code: str, commit: str, config: str) -> dict:
    return {"track": "melody", "dataset": "bach", "model": "midinet", "seed": seed,
            "git_commit": commit * 5, "code_hash": code, "config_hash": config,
            "budget": {"max_epochs": 4, "timesteps_per_epoch": 40368, "epoch_share": 1.0,
                       "minutes": 10.0 + seed},
            "metrics": {"pitch_range": value}, "ceiling": {"pitch_range": 12.0},
            "score_beats": 32, "sample_beats": 32.0 + seed}


def test_block_by_hand(tmp_path: Path) -> None:
    protocol = load_protocol()
    current = config_hash(cell_config(Cell("melody", "bach", "midinet", 0), protocol))
    rows = [_row(0, 1.0, "now", "aaaaaaaa", current), _row(1, 3.0, "now", "bbbbbbbb", current),
            _row(2, 9.0, "old", "cccccccc", current)]
    text = results_block(rows, ["midinet"], protocol, hasher=lambda *_: "now")
    # current seeds 0 and 1: mean 2, sd sqrt(2), t(0.975, 1 dof) = 12.706: half-width
    # 12.706 * sqrt(2) / sqrt(2); the stale seed 2 stands apart, never in that mean
    assert "| pitch_range | 2.000 [-10.706, 14.706] | 12.000 [12.000, 12.000] | 9.000 |" in text
    assert "seeds 0, 1, 2 at commits `aaaaaaa`, `bbbbbbb`, `ccccccc`" in text
    assert ("4 epochs of 40,368 time steps; 10.0-12.0 min a run; scored over their first 32 "
            "beats of samples of 32-34 beats") in text
    assert "**Stale**" in text and text.rstrip().endswith("seed 2.")
    fresh = results_block(rows[:1], ["midinet"], protocol, hasher=lambda *_: "now")
    assert "Stale" not in fresh and "| pitch_range | 1.000 |" in fresh
    assert "first 32 beats of samples of 32 beats." in fresh
    assert "No official row yet for `rnn_nade`" in results_block(rows, ["rnn_nade"], protocol)

    card = tmp_path / "midinet.md"
    card.write_text("# MidiNet\n\n<!-- official-results: midinet -->\nold\n"
                    "<!-- /official-results -->\n\n## How to cite\n")
    assert update_cards(rows, protocol, tmp_path, hasher=lambda *_: "now") == [card]
    assert card.read_text() == ("# MidiNet\n\n<!-- official-results: midinet -->\n" + text
                                + "<!-- /official-results -->\n\n## How to cite\n")
    assert update_cards(rows, protocol, tmp_path, hasher=lambda *_: "now") == []

"""MidiNet: codec preprocessing and round trip, losses by hand, training, generation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.datasets.cache import load
from musebench.datasets.datamodule import MusicDataModule
from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.models.midinet import (
    MidiNet,
    MidiNetCodec,
    discriminator_loss,
    fold_into_range,
    generator_loss,
    one_note_per_step,
)

TINY = {"g_channels": 8, "d_channels": 4, "cond_channels": 4}


def test_fold_into_range_moves_by_octaves_into_c4_b5() -> None:
    pitch = np.array([36, 59, 60, 83, 84, 100])
    assert fold_into_range(pitch).tolist() == [60, 71, 60, 83, 72, 76]


def test_codec_folds_the_melody_and_skips_non_4_4_pieces() -> None:
    notes = make_notes([0, 4, 16], 4, [40, 96, 62])
    piece = Piece(notes, chords=make_chords([(0, 16, 9, "min"), (16, 16, 5, "maj")]))
    encoded = MidiNetCodec().encode(piece)
    assert encoded["bar"].shape == (2, 1, 16, 128)
    assert np.flatnonzero(encoded["bar"][0, 0].max(0)).tolist() == [64, 72]
    assert encoded["previous"][1].tolist() == encoded["bar"][0].tolist()
    assert encoded["chord"][0].tolist() == [0] * 9 + [1, 0, 0, 1]
    waltz = Piece(notes, beats_per_bar=3)
    assert MidiNetCodec().encode(waltz)["bar"].shape == (0, 1, 16, 128)


def test_an_eighth_note_piece_is_encoded_stretched_and_its_ceiling_keeps_beats() -> None:
    # Nottingham's grid: 2 steps a beat, 8 a bar. Notes at beats 0, 1 and 4 (a bar later),
    # a beat, half a beat and two beats long; chords a bar each.
    notes = make_notes([0, 2, 8], [2, 1, 4], [64, 67, 72])
    piece = Piece(notes, chords=make_chords([(0, 8, 9, "min"), (8, 8, 5, "maj")]),
                  steps_per_beat=2, length=16, meta={"id": "eighths"})
    encoded = MidiNetCodec().encode(piece)
    assert encoded["bar"].shape == (2, 1, 16, 128)          # two bars of 16 sixteenths
    first = encoded["bar"][0, 0]
    assert first[0:4, 64].all() and first[4:6, 67].all() and not first[6:, :].any()
    assert encoded["bar"][1, 0, 0:8, 72].all()
    assert encoded["chord"][1].tolist() == [0] * 5 + [1] + [0] * 6 + [0]   # F major
    (ceiling,) = MidiNet(**TINY).ceiling([piece])
    assert (ceiling.steps_per_beat, ceiling.beats_per_bar) == (4, 4)
    assert ceiling.notes[["start", "duration", "pitch"]].tolist() == [(0, 4, 64), (4, 2, 67),
                                                                      (16, 8, 72)]
    sixteenths_per_bar_of_6 = Piece(notes, steps_per_beat=6)   # 24 a bar: not exact
    assert MidiNetCodec().encode(sixteenths_per_bar_of_6)["bar"].shape[0] == 0


def test_codec_round_trip_on_real_pieces_keeps_the_folded_melody_and_bar_chords() -> None:
    codec = MidiNetCodec()
    for piece in load("fixture").pieces:
        encoded = codec.encode(piece)
        decoded = codec.decode(encoded)
        melody = piece.melody()
        onsets = np.unique(melody.notes["start"])
        assert set(decoded.notes["start"]) <= set(onsets)  # repeated pitches may merge
        roll = decoded.pianoroll()
        expected = np.zeros_like(roll)
        folded = fold_into_range(melody.notes["pitch"])
        for start, duration, pitch in zip(melody.notes["start"], melody.notes["duration"],
                                          folded, strict=True):
            expected[start:start + duration, pitch] = True
        np.testing.assert_array_equal(roll, expected[: len(roll)])
        assert decoded.notes["pitch"].min() >= 60 and decoded.notes["pitch"].max() <= 83
        np.testing.assert_array_equal(codec.encode(decoded)["chord"], encoded["chord"])


def test_losses_equal_hand_computed_values() -> None:
    real = torch.tensor([0.0, math.log(3)])
    fake = torch.tensor([0.0, 0.0])
    d = discriminator_loss(real, fake, 0.9)
    expected_real = (math.log(2) - (0.9 * math.log(0.75) + 0.1 * math.log(0.25))) / 2
    assert d.item() == pytest.approx(expected_real + math.log(2), rel=1e-6)

    real_features = torch.tensor([[1.0], [3.0]])
    fake_features = torch.zeros(2, 1)
    real_bars = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    g = generator_loss(fake, real_features, fake_features, real_bars, torch.zeros(2, 2),
                       lambda1=0.01, lambda2=0.1)
    # BCE(0, 1) = log 2; the paper's λ1 weighs l2(mean bar) = 1^2 / 2 = 0.5, its λ2
    # l2(mean f) = 2^2 / 2 = 2
    assert g.item() == pytest.approx(math.log(2) + 0.01 * 0.5 + 0.1 * 2, rel=1e-6)
    m = MidiNet(g_channels=8, d_channels=4, cond_channels=2).hparams
    assert (m.lr, m.lambda1, m.lambda2) == (5e-5, 0.01, 0.1)  # the authors' code's values


@pytest.mark.parametrize("variant", [{"use_chord": False}, {"condition_layers": 2}, {}])
def test_generate_is_deterministic_under_a_seed_and_keeps_conditioning_chords(
        variant: dict) -> None:
    torch.manual_seed(0)
    model = MidiNet(**TINY, **variant)
    conditions = load("fixture").test
    first = model.generate(3, conditions=conditions, seed=7)
    again = model.generate(3, conditions=conditions, seed=7)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.notes, b.notes)
    assert all(p.n_steps == 8 * 16 for p in first)
    codec_chords = MidiNetCodec().encode(conditions[0])["chord"]
    expected = codec_chords[np.arange(8) % len(codec_chords)]
    np.testing.assert_array_equal(MidiNetCodec().encode(first[0])["chord"], expected)
    notes = first[0].notes
    assert len(np.unique(notes["start"])) == len(notes)  # monophonic


def test_training_logs_both_losses_and_changes_the_generator() -> None:
    pl.seed_everything(0)
    model = MidiNet(**TINY)
    before = [p.detach().clone() for p in model.generator_net.parameters()]
    data = MusicDataModule("fixture", model.codec, batch_size=16, window=1)
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, datamodule=data)
    assert {"d_loss", "g_loss", "val_loss"} <= set(trainer.logged_metrics)
    assert all(math.isfinite(float(trainer.logged_metrics[k])) for k in ("d_loss", "g_loss"))
    after = list(model.generator_net.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_one_note_per_step_keeps_the_most_probable_pitch_above_the_threshold() -> None:
    bar = torch.zeros(1, 1, 2, 4)
    bar[0, 0, 0] = torch.tensor([0.1, 0.3, 0.2, 0.0])
    bar[0, 0, 1] = torch.tensor([0.9, 0.1, 0.6, 0.0])
    assert one_note_per_step(bar, 0.0)[0, 0].tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert one_note_per_step(bar, 0.5)[0, 0].tolist() == [[0, 0, 0, 0], [1, 0, 0, 0]]

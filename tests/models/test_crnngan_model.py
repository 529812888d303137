"""C-RNN-GAN: codec round trip, step-wise == fused generator, losses by hand, training rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from musebench.datasets.cache import load
from musebench.datasets.codecs.note_events import NoteEventCodec, write_unquantised_midi
from musebench.datasets.datamodule import MusicDataModule
from musebench.datasets.piece import Piece, make_notes
from musebench.datasets.sources.music21_corpus import chorale_files, parse_chorale
from musebench.models.crnngan import CRNNGAN, PRETRAINING_VAL_LOSS
from musebench.models.crnngan_layers import (
    EventDiscriminator,
    EventGenerator,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
    l2_penalty,
    shift_right,
)


def _without_unisons(notes: np.ndarray) -> np.ndarray:
    """Two voices on one pitch at one onset sound as one note: keep one of them."""
    _, unique = np.unique(np.stack([notes["start"], notes["pitch"]]), axis=1,
                          return_index=True)
    return notes[np.sort(unique)]


def _assert_every_note_kept(piece: Piece, tones: int) -> None:
    codec = NoteEventCodec(tones=tones)
    notes = _without_unisons(piece.notes)
    decoded = codec.decode(codec.encode(piece.with_notes(notes)))
    kept = ["start", "duration", "pitch", "velocity"]
    np.testing.assert_array_equal(np.sort(decoded.notes[kept], order=["start", "pitch"]),
                                  np.sort(notes[kept], order=["start", "pitch"]))


@pytest.mark.parametrize("tones", [1, 3])
def test_codec_keeps_every_note_of_the_fixture(tones: int) -> None:
    for piece in load("fixture").pieces:
        assert len(np.unique(piece.notes["track"])) == 4  # four-part chorale excerpts
        _assert_every_note_kept(piece, tones)


@pytest.mark.parametrize("tones", [1, 3])
def test_codec_keeps_every_note_of_a_four_part_chorale(tones: int) -> None:
    """The issue's acceptance test: a whole SATB chorale from music21's corpus (the old
    codec kept 25% of its notes with ``tones: 1``)."""
    path = next(p for p in chorale_files() if p.name == "bwv269.mxl")
    piece = parse_chorale(str(path))
    assert isinstance(piece, Piece) and len(np.unique(piece.notes["track"])) == 4
    _assert_every_note_kept(piece, tones)


def test_simultaneous_notes_are_events_with_zero_time_gap() -> None:
    # a C major triad at 0 (E and G held 8 steps), then one D at 8
    piece = Piece(make_notes([0, 0, 0, 8], [4, 8, 8, 4], [60, 64, 67, 62], 127))
    events = NoteEventCodec(tones=1).encode(piece)["events"]
    np.testing.assert_allclose(events[:, 0], [0, 0, 0, 8 / 16])  # dt: zero gaps in a chord
    np.testing.assert_allclose(events[:, 2] * 127, [67, 64, 60, 62], rtol=1e-6)  # high first
    events3 = NoteEventCodec(tones=2).encode(piece)["events"]
    assert events3.shape == (3, 7)  # the triad needs two events of two tones
    np.testing.assert_allclose(events3[:, 0], [0, 0, 8 / 16])
    np.testing.assert_allclose(events3[1, 4:], 0)  # the second event's spare slot is silent


def test_codec_features_are_normalised_times_pitch_and_velocity() -> None:
    piece = Piece(make_notes([0, 0, 4], [4, 2, 8], [64, 60, 67], [127, 64, 100]))
    events = NoteEventCodec(tones=2).encode(piece)["events"]
    np.testing.assert_allclose(events, [[0, 4 / 16, 64 / 127, 1, 2 / 16, 60 / 127, 64 / 127],
                                        [4 / 16, 8 / 16, 67 / 127, 100 / 127, 0, 0, 0]],
                               rtol=1e-6)


def test_stepwise_generation_equals_the_fused_teacher_forced_pass() -> None:
    torch.manual_seed(0)
    net = EventGenerator(n_features=4, noise_dim=4, hidden=12, layers=2, dropout=0.5).eval()
    noise, first = torch.rand(3, 9, 4), torch.rand(3, 4)
    free = net(noise, first)
    torch.testing.assert_close(net.teacher_forced(noise, shift_right(free, first)), free)
    assert free.shape == (3, 9, 4)
    assert not torch.allclose(net(noise), free)  # the first previous output matters


def test_dropout_acts_in_training_only_in_both_networks() -> None:
    torch.manual_seed(0)
    gen = EventGenerator(n_features=4, noise_dim=4, hidden=12, layers=2, dropout=0.5)
    disc = EventDiscriminator(n_features=4, hidden=6, dropout=0.5)
    noise, events = torch.rand(2, 5, 4), torch.rand(2, 5, 4)
    assert not torch.equal(gen(noise), gen(noise))
    assert not torch.equal(gen.teacher_forced(noise, events), gen.teacher_forced(noise, events))
    assert not torch.equal(disc(events)[1], disc(events)[1])
    # about half of the discriminator's last-layer features are zeroed (kept ones scaled x2)
    assert 0.35 < (disc(events)[1] == 0).float().mean().item() < 0.65
    gen.eval(), disc.eval()
    assert torch.equal(gen(noise), gen(noise)) and torch.equal(disc(events)[1], disc(events)[1])
    assert gen.lstm.dropout == 0.5 and disc.lstm.dropout == 0.5  # between the LSTM layers


def test_default_recipe_is_the_papers_sgd_with_a_slower_discriminator() -> None:
    model = CRNNGAN(hidden=8)
    opt_d, opt_g = model.configure_optimizers()
    assert isinstance(opt_d, torch.optim.SGD) and isinstance(opt_g, torch.optim.SGD)
    assert opt_g.param_groups[0]["lr"] == 0.1 and opt_d.param_groups[0]["lr"] == 0.05
    h = model.hparams
    assert (h.l2, h.dropout, h.pretrain_growth, h.feature_matching_form) == (0.1, 0.5, 4, "code")
    with pytest.raises(ValueError, match="feature_matching_form"):
        CRNNGAN(hidden=8, feature_matching_form="mean")


def test_first_previous_output_is_uniform_noise_not_zeros() -> None:
    model = CRNNGAN(hidden=8)
    noise, first = model._noise(64, 5, torch.Generator().manual_seed(0))
    assert noise.shape == (64, 5, model.noise_dim) and first.shape == (64, 4)
    assert 0 < first.min() and first.max() < 1 and abs(first.mean().item() - 0.5) < 0.05
    events = torch.zeros(64, 5, 4)
    torch.testing.assert_close(shift_right(events, first)[:, 0], first)


def test_pretraining_sequence_length_grows_by_four_events_per_epoch() -> None:
    model = CRNNGAN(hidden=8)
    assert [model.pretrain_length(e, 64) for e in (0, 1, 5, 15, 16, 40)] == \
        [4, 8, 24, 64, 64, 64]
    assert CRNNGAN(hidden=8, pretrain_growth=0).pretrain_length(0, 64) == 64


def test_l2_penalty_is_half_the_weight_times_the_sum_of_squares() -> None:

    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0]]))
        layer.bias.fill_(3.0)
    assert l2_penalty(layer, 0.1).item() == pytest.approx(0.05 * (1 + 4 + 9))


def test_discriminator_averages_per_step_sigmoids() -> None:
    torch.manual_seed(0)
    net = EventDiscriminator(n_features=4, hidden=5)
    events = torch.rand(2, 7, 4)
    prob, features = net(events)
    assert features.shape == (2, 7, 10)
    torch.testing.assert_close(prob, torch.sigmoid(net.out(features)).squeeze(-1).mean(1))


def test_losses_equal_hand_computed_values() -> None:
    d_real, d_fake = torch.tensor([0.5, 0.8]), torch.tensor([0.5, 0.2])
    expected = -(math.log(0.5) + math.log(0.5) + math.log(0.8) + math.log(0.8)) / 2
    assert discriminator_loss(d_real, d_fake).item() == pytest.approx(expected, rel=1e-5)
    assert generator_adversarial_loss(d_fake).item() == pytest.approx(
        -(math.log(0.5) + math.log(0.2)) / 2, rel=1e-5)
    real = torch.tensor([[[1.0, 0.0], [2.0, 2.0]], [[3.0, 0.0], [2.0, 0.0]]])  # (B=2, T=2, H=2)
    fake = torch.zeros(2, 2, 2)
    # batch means: t0 = (2, 0), t1 = (2, 1); squared norms 4 and 5, mean over t = 4.5
    assert feature_matching_loss(real, fake).item() == pytest.approx(4.5)
    # the code's form: the sum of all squared differences, 1 + 4 + 4 + 9 + 4 = 22
    assert feature_matching_loss(real, fake, "code").item() == pytest.approx(22.0)


def test_generate_is_deterministic_under_a_seed_and_writes_unquantised_midi(tmp_path) -> None:
    torch.manual_seed(0)
    model = CRNNGAN(hidden=8, sample_events=12, tones=3)
    first = model.generate(2, seed=5)
    again = model.generate(2, seed=5)
    for i, piece in enumerate(first):  # the model writes no files; its events can be
        write_unquantised_midi(model.codec, piece.meta["events"],
                               tmp_path / f"crnngan-{i}-unquantised.mid")
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.meta["events"], b.meta["events"])
        np.testing.assert_array_equal(a.notes, b.notes)
    assert first[0].meta["events"].shape == (12, 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "crnngan-0-unquantised.mid", "crnngan-1-unquantised.mid"]


def test_unquantised_midi_keeps_off_grid_onsets(tmp_path) -> None:
    import pretty_midi

    codec = NoteEventCodec()
    events = np.array([[0.0, 0.25, 60 / 127, 0.5], [0.03, 0.25, 64 / 127, 0.5]])
    write_unquantised_midi(codec, events, tmp_path / "x.mid", tempo=120)
    notes = pretty_midi.PrettyMIDI(str(tmp_path / "x.mid")).instruments[0].notes
    assert [n.pitch for n in notes] == [60, 64]
    assert notes[1].start == pytest.approx(0.03 * 2.0, abs=1e-3)  # one bar = 2 s at 120 bpm


def _fit(model: CRNNGAN, epochs: int) -> pl.Trainer:
    data = MusicDataModule("fixture", model.codec, batch_size=8, window=8)
    trainer = pl.Trainer(max_epochs=epochs, limit_train_batches=2, limit_val_batches=1,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, datamodule=data)
    return trainer


def test_pretraining_epochs_train_only_the_generator_by_mle() -> None:
    pl.seed_everything(0)
    model = CRNNGAN(hidden=8, pretrain_epochs=1)
    before = [p.detach().clone() for p in model.discriminator_net.parameters()]
    trainer = _fit(model, 1)
    assert "mle_loss" in trainer.logged_metrics and "d_loss" not in trainer.logged_metrics
    assert all(torch.equal(a, b) for a, b in
               zip(before, model.discriminator_net.parameters(), strict=True))


def test_pretraining_in_time_steps_ends_inside_an_epoch() -> None:
    """Batches of 8 windows of 8 events: 64 time steps each. ``pretrain_timesteps`` 64 makes
    the first batch MLE pre-training and the second adversarial; without it, 1 epoch of
    ``pretrain_epochs`` would have been all pre-training."""
    pl.seed_everything(0)
    model = CRNNGAN(hidden=8, pretrain_epochs=1, pretrain_timesteps=64)
    before = [p.detach().clone() for p in model.discriminator_net.parameters()]
    trainer = _fit(model, 1)
    assert model.schedule == {"pretrained_timesteps": 64, "adversarial_epochs": 1,
                              "last_adversarial_epoch": 0}
    assert {"mle_loss", "d_loss"} <= set(trainer.logged_metrics)
    assert not all(torch.equal(a, b) for a, b in
                   zip(before, model.discriminator_net.parameters(), strict=True))
    with pytest.raises(ValueError, match="pretrain_timesteps = -1"):
        CRNNGAN(pretrain_timesteps=-1)


@pytest.mark.parametrize("choice", ["last", "val_mle"])
def test_kept_checkpoint_is_never_a_pretrained_only_generator(choice, tmp_path) -> None:
    from pytorch_lightning.callbacks import ModelCheckpoint

    pl.seed_everything(0)
    model = CRNNGAN(hidden=8, pretrain_epochs=2, checkpoint=choice)
    best = ModelCheckpoint(dirpath=tmp_path, monitor=model.monitor, mode=model.mode,
                           save_top_k=1)
    monitored = []

    class Record(pl.Callback):
        def on_validation_end(self, trainer: pl.Trainer, _: pl.LightningModule) -> None:
            if not trainer.sanity_checking:
                monitored.append({k: float(trainer.callback_metrics[k]) for k in
                                  ("val_loss", "val_mle", "val_adversarial_epochs")})

    data = MusicDataModule("fixture", model.codec, batch_size=8, window=8)
    trainer = pl.Trainer(max_epochs=5, limit_train_batches=2, limit_val_batches=1,
                         logger=False, callbacks=[best, Record()], enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, datamodule=data)
    assert [m["val_adversarial_epochs"] for m in monitored] == [0, 0, 1, 2, 3]
    assert [m["val_loss"] for m in monitored[:2]] == [pytest.approx(PRETRAINING_VAL_LOSS)] * 2
    assert all(m["val_loss"] == pytest.approx(m["val_mle"]) for m in monitored[2:])
    if choice == "last":  # the code's: the generator of the last epoch
        assert "epoch=4" in best.best_model_path
    else:  # the adversarial epoch of lowest validation MLE, never a pre-training one
        epoch = 2 + min(range(3), key=lambda k: monitored[2 + k]["val_mle"])
        assert f"epoch={epoch}" in best.best_model_path
    with pytest.raises(ValueError, match="checkpoint = 'best'"):
        CRNNGAN(checkpoint="best")


def test_adversarial_epochs_log_both_losses() -> None:
    pl.seed_everything(0)
    trainer = _fit(CRNNGAN(hidden=8, pretrain_epochs=0), 1)
    assert {"d_loss", "g_loss", "val_loss"} <= set(trainer.logged_metrics)
    assert all(math.isfinite(float(trainer.logged_metrics[k])) for k in ("d_loss", "g_loss"))


def test_freezing_rule_skips_the_discriminator_when_it_is_far_ahead() -> None:
    pl.seed_everything(0)
    model = CRNNGAN(hidden=8, pretrain_epochs=0, freeze_ratio=1e6)  # D "always ahead"
    before = [p.detach().clone() for p in model.discriminator_net.parameters()]
    trainer = _fit(model, 1)
    assert float(trainer.logged_metrics["d_trained"]) == 0.0
    assert all(torch.equal(a, b) for a, b in
               zip(before, model.discriminator_net.parameters(), strict=True))


def test_standard_feature_scaling_learns_in_standardised_space_and_decodes_back() -> None:
    pieces = load("fixture").pieces[:3]
    model = CRNNGAN(hidden=8, sample_events=6, feature_scaling="standard")
    model.fit_statistics(pieces)
    events = torch.tensor(np.concatenate([model.codec.encode(p)["events"] for p in pieces]))
    scaled = model.to_model_space(events)
    # per feature: mean 0, and standard deviation 1 where the feature varies at all
    assert torch.allclose(scaled.mean(0), torch.zeros(4), atol=1e-5)
    std = scaled.std(0, unbiased=False)
    varying = events.std(0) > 0
    assert torch.allclose(std[varying], torch.ones(int(varying.sum())), atol=1e-5)
    torch.testing.assert_close(model.to_codec_space(scaled), events, atol=1e-5, rtol=0)
    # worked by hand: pitches 60 and 64 only -> mean 62/127, sd 2/127; 64/127 -> +1
    two = [Piece(make_notes([0, 4], [4, 4], [60, 64], [100, 100]))]
    model.fit_statistics(two)
    assert model.hparams.feature_mean[2] == pytest.approx(62 / 127)
    assert model.hparams.feature_std[2] == pytest.approx(2 / 127)
    # the statistics are hyper-parameters (a checkpoint rebuilds the model from them);
    # samples are decoded in the codec's units
    again = CRNNGAN(**dict(model.hparams))
    again.load_state_dict(model.state_dict())
    sample = again.generate(1, seed=0)[0].meta["events"]
    again.eval()
    raw = again.generator_net(*again._noise(1, 6, again.torch_rng(0, "cpu")))
    np.testing.assert_allclose(sample, (raw * torch.tensor(model.hparams.feature_std)
                                        + torch.tensor(model.hparams.feature_mean))[0]
                               .detach().numpy(), atol=1e-5)


def test_unit_feature_scaling_is_the_identity_and_an_unknown_one_is_refused() -> None:
    model = CRNNGAN(hidden=8)
    events = torch.rand(2, 3, 4)
    assert model.to_model_space(events) is events and model.to_codec_space(events) is events
    with pytest.raises(ValueError, match="feature_scaling = 'zscore'"):
        CRNNGAN(hidden=8, feature_scaling="zscore")

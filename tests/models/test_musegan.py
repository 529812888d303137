"""MuseGAN: noise inputs per variant, shapes, block layers against torch's convolutions,
WGAN-GP losses by hand, the multi-track codec on real pieces, seeded generation, training."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader

from musebench.datasets.cache import load
from musebench.datasets.codecs.multitrack import MultiTrackRollCodec, fold_pitches
from musebench.datasets.piece import Piece, make_notes
from musebench.models.musegan import (
    VARIANTS,
    MuseGAN,
    critic_loss,
    generator_loss,
    gradient_penalty,
    phrase_statistics,
)
from musebench.models.musegan_layers import (
    BarGenerator,
    BlockExpand,
    BlockReduce,
    Critic,
    TemporalGenerator,
)

TINY = {"z_dim": 8, "temporal_hidden": 16, "g_channels": 8, "d_channels": 4}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_variant_builds_its_noise_inputs_and_phrase_shapes(variant: str) -> None:
    model = MuseGAN(variant=variant, **TINY)
    noise = model.noise(3, model.torch_rng(0))
    assert set(noise) == set(VARIANTS[variant])
    latents = model.bar_latents(noise)
    assert latents.shape == (3, 4, 4, len(VARIANTS[variant]) * 8)
    rolls = model(noise)
    assert rolls.shape == (3, 4, 4, 16, 48) and 0 <= rolls.min() and rolls.max() <= 1
    assert model.critic_net(rolls).shape == (3,)
    assert model.capabilities == {"frames", "multitrack"}


def test_shared_inputs_are_shared_and_private_ones_are_not() -> None:
    model = MuseGAN(variant="hybrid", **TINY)
    latents = model.bar_latents(model.noise(2, model.torch_rng(1)))   # style|groove|chords|melody
    style, groove, chords, melody = latents.split(8, dim=-1)
    # style: one vector for every track and bar; groove: per track, the same in every bar
    assert torch.equal(style, style[:, :1, :1].expand_as(style))
    assert torch.equal(groove, groove[:, :, :1].expand_as(groove))
    assert not torch.equal(groove[:, 0], groove[:, 1])
    # chords: per bar, shared by the tracks; melody: per bar and per track
    assert torch.equal(chords, chords[:, :1].expand_as(chords))
    assert not torch.equal(chords[:, 0, 0], chords[:, 0, 1])
    assert not torch.equal(melody[:, 0], melody[:, 1])
    composer = MuseGAN(variant="composer", **TINY)
    shared = composer.bar_latents(composer.noise(2))
    assert torch.equal(shared, shared[:, :1].expand_as(shared))   # one input for all tracks


def test_unknown_variant_and_wrong_window_are_refused() -> None:
    with pytest.raises(ValueError, match="jamming, composer, hybrid"):
        MuseGAN(variant="quartet", **TINY)
    with pytest.raises(ValueError, match="4-bar phrases"):
        MuseGAN.rolls({"bars": torch.zeros(2, 8, 4, 16, 48)})


def test_block_expand_equals_a_grouped_transposed_convolution() -> None:
    torch.manual_seed(0)
    block = BlockExpand(groups=3, cin=4, cout=5, cells=6)
    conv = nn.ConvTranspose2d(12, 15, (2, 3), stride=(2, 3), groups=3)
    with torch.no_grad():   # torch: (in, out/groups, kh, kw); block: (groups, out*kh*kw, in)
        conv.weight.copy_(block.weight.reshape(3, 5, 2, 3, 4).permute(0, 4, 1, 2, 3)
                          .reshape(12, 5, 2, 3))
        conv.bias.copy_(block.bias.reshape(15))
    x = torch.randn(2, 12, 3, 2)                                  # (N, G*cin, H, W)
    ours = block(x.permute(1, 2, 3, 0).reshape(12, -1))           # (G*cout, [kh, kw, H, W, N])
    ours = ours.reshape(15, 2, 3, 3, 2, 2).permute(5, 0, 3, 1, 4, 2).reshape(2, 15, 6, 6)
    torch.testing.assert_close(ours, conv(x))


def test_block_reduce_equals_a_grouped_strided_convolution() -> None:
    torch.manual_seed(0)
    block = BlockReduce(groups=2, cin=3, cout=4, cells=6)
    conv = nn.Conv3d(6, 8, (1, 2, 3), stride=(1, 2, 3), groups=2)
    with torch.no_grad():   # torch: (out, in/groups, kd, kh, kw); block: (groups, out, in*k)
        conv.weight.copy_(block.weight.reshape(8, 3, 1, 2, 3))
        conv.bias.copy_(block.bias.reshape(8))
    x = torch.randn(2, 6, 2, 4, 6)                                # (N, G*cin, D, H, W)
    # (G*cin, [kh, kw, D, H/kh, W/kw, N]): each output cell's block outermost
    blocks = x.reshape(2, 6, 2, 2, 2, 2, 3).permute(1, 4, 6, 2, 3, 5, 0).reshape(6, -1)
    ours = block(blocks).reshape(8, 2, 2, 2, 2).permute(4, 0, 1, 2, 3)
    torch.testing.assert_close(ours, conv(x))


def test_bar_generator_equals_the_papers_transposed_convolutions() -> None:
    """The whole bar generator against a reference made of torch's layers (train mode:
    batch statistics): the layout's bookkeeping of cells and positions is the same
    function as the convolutions it stands for."""
    torch.manual_seed(0)
    k, d, c, octaves = 2, 6, 8, 2
    ours = BarGenerator(k, d, c, octaves, initial_density=0.3)

    def conv(block: BlockExpand, kernel: tuple[int, int]) -> nn.ConvTranspose2d:
        g, cin, cout = block.groups, block.cin, block.cout
        layer = nn.ConvTranspose2d(g * cin, g * cout, kernel, stride=kernel, groups=g)
        with torch.no_grad():
            layer.weight.copy_(block.weight.reshape(g, cout, *kernel, cin)
                               .permute(0, 4, 1, 2, 3).reshape(g * cin, cout, *kernel))
            layer.bias.copy_(block.bias.reshape(-1))
        return layer

    def stack(layers: nn.Sequential, kernels: list[tuple[int, int]]) -> nn.Sequential:
        out = []
        for (block, norm), kernel in zip(layers, kernels, strict=True):
            out += [conv(block, kernel), nn.BatchNorm2d(norm.norm.num_features), nn.ReLU()]
        return nn.Sequential(*out)

    shared = stack(ours.shared, [(2, 1), (2, 1), (1, octaves)])
    pitch_time = stack(ours.pitch_time, [(1, 12), (4, 1)])
    time_pitch = stack(ours.time_pitch, [(4, 1), (1, 12)])
    e = ours.merge_time_pitch.cin
    merge = nn.Conv2d(2 * e * k, k, 1, groups=k)
    with torch.no_grad():
        merge.weight.copy_(torch.cat([ours.merge_pitch_time.weight,
                                      ours.merge_time_pitch.weight], 2).reshape(k, 2 * e, 1, 1))
        merge.bias.copy_(ours.merge_pitch_time.bias.reshape(k))
    latents = torch.randn(5, k, d)
    maps = shared(latents.reshape(5 * k, d, 1, 1)).reshape(5, k * c, 4, octaves)
    both = torch.cat([pitch_time(maps).reshape(5, k, e, 16, 12 * octaves),
                      time_pitch(maps).reshape(5, k, e, 16, 12 * octaves)], 2)
    expected = torch.sigmoid(merge(both.reshape(5, k * 2 * e, 16, 12 * octaves)))
    torch.testing.assert_close(ours(latents), expected)


def test_critic_equals_the_papers_strided_convolutions() -> None:
    torch.manual_seed(0)
    k, bars, c, octaves = 2, 3, 4, 2
    ours = Critic(k, bars, c, octaves)

    def conv(block: BlockReduce, cin: int, kernel: tuple[int, int, int]) -> nn.Conv3d:
        g, cout = block.groups, block.weight.shape[1]
        layer = nn.Conv3d(g * cin, g * cout, kernel, stride=kernel, groups=g)
        with torch.no_grad():
            layer.weight.copy_(block.weight.reshape(g * cout, cin, *kernel))
            layer.bias.copy_(block.bias.reshape(-1))
        return layer

    act = nn.LeakyReLU(0.2)
    reference = nn.Sequential(conv(ours.pitch, 1, (1, 1, 12)), act,
                              conv(ours.time, c, (1, 4, 1)), act,
                              conv(ours.bar, k * c, (1, 4, octaves)), act,
                              nn.Flatten(), *ours.head)
    rolls = (torch.rand(5, k, bars, 16, 12 * octaves) < 0.2).float()
    expected = reference(rolls.reshape(5, k, bars, 16, 12 * octaves)).squeeze(-1)
    torch.testing.assert_close(ours(rolls), expected)


def test_the_critic_scores_each_roll_alone_so_real_and_fake_share_one_pass() -> None:
    """The training step scores real and fake phrases in one critic call: right only while
    no layer mixes the rows of a batch (no batch norm: WGAN-GP forbids it anyway)."""
    torch.manual_seed(0)
    critic = Critic(n_tracks=2, n_bars=4, channels=4, octaves=2)
    real, fake = torch.rand(3, 2, 4, 16, 24), torch.rand(5, 2, 4, 16, 24)
    both = critic(torch.cat([real, fake]))
    torch.testing.assert_close(both, torch.cat([critic(real), critic(fake)]))


def test_temporal_generator_equals_the_papers_two_transposed_convolutions() -> None:
    torch.manual_seed(0)
    ours = TemporalGenerator(z_dim=3, hidden=5)
    first = nn.ConvTranspose1d(3, 5, 2, stride=2)
    second = nn.ConvTranspose1d(5, 3, 3, stride=1)
    with torch.no_grad():   # ours: (groups, out*k, in); torch: (in, out, k)
        first.weight.copy_(ours.first.weight.reshape(5, 2, 3).permute(2, 0, 1))
        first.bias.copy_(ours.first.bias.reshape(5))
        second.weight.copy_(ours.second.weight.reshape(3, 3, 5).permute(2, 0, 1))
        second.bias.copy_(torch.randn(3))
        ours.second_bias.copy_(second.bias.reshape(3, 1, 1))
    norm1, norm2 = nn.BatchNorm1d(5), nn.BatchNorm1d(3)   # train mode: batch statistics
    z = torch.randn(4, 3)
    reference = torch.relu(norm2(second(torch.relu(norm1(first(z[:, :, None]))))))
    torch.testing.assert_close(ours(z[:, None])[:, 0], reference.transpose(1, 2))


def test_wgan_gp_losses_equal_hand_computed_values() -> None:
    assert critic_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])).item() == -1.0
    assert generator_loss(torch.tensor([0.5, 1.5])).item() == -1.0
    # a linear critic C(x) = <w, x> has gradient w everywhere: penalty (||w|| - 1)^2
    w = torch.tensor([[2.0, 1.0], [2.0, 0.0]])          # ||w|| = 3
    critic = lambda x: (x * w).flatten(1).sum(1)        # noqa: E731
    real, fake = torch.rand(5, 2, 2), torch.rand(5, 2, 2)
    assert gradient_penalty(critic, real, fake, torch.rand(5)).item() == pytest.approx(4.0)
    unit = lambda x: x[:, 0, 0]                          # noqa: E731  gradient norm 1
    assert gradient_penalty(unit, real, fake, torch.rand(5)).item() == pytest.approx(0.0)


def test_phrase_statistics_by_hand() -> None:
    rolls = torch.zeros(1, 2, 2, 4, 2)        # 2 tracks, 2 bars of 4 steps, 2 pitches
    rolls[0, 0, 0, :3, 0] = 1                  # track 0: one 3-step note in bar 0, bar 1 empty
    stats = phrase_statistics(rolls)
    # empty bars 1/2; density 3 of 16 cells; continuation: 2 of the 3 sounding cells go on
    torch.testing.assert_close(stats[0], torch.tensor([0.5, np.log(3 / 16 + 1e-4), 2 / 3], dtype=torch.float32))
    torch.testing.assert_close(stats[1], torch.tensor([1.0, np.log(1e-4), 0.0], dtype=torch.float32))


def test_codec_folds_octaves_drops_extra_tracks_and_skips_other_grids() -> None:
    assert fold_pitches(np.array([30, 36, 83, 90]), 36, 83).tolist() == [42, 36, 83, 78]
    piece = Piece(make_notes([0, 4, 20], [4, 4, 8], [60, 95, 62], track=[0, 1, 4]))
    bars = MultiTrackRollCodec().encode(piece)["bars"]
    assert bars.shape == (2, 4, 16, 48)
    assert np.argwhere(bars[0, 0]).tolist() == [[s, 24] for s in range(4)]
    assert np.argwhere(bars[0, 1]).tolist() == [[s, 47] for s in range(4, 8)]   # 95 -> 83
    assert bars.sum() == 8                                                       # track 4 gone
    assert MultiTrackRollCodec().encode(Piece(piece.notes, beats_per_bar=3))["bars"].shape[0] == 0
    decoded = MultiTrackRollCodec().decode({"bars": bars})
    assert decoded.meta["track_names"] == ["track 0", "track 1", "track 2", "track 3"]


def test_codec_round_trip_is_exact_on_every_real_jsb16_chorale(data_root) -> None:
    codec = MultiTrackRollCodec()
    pieces = load("jsb16", data_root).pieces
    assert len(pieces) > 300
    for piece in pieces:
        decoded = codec.decode(codec.encode(piece))
        for column in ("start", "duration", "pitch", "track"):
            np.testing.assert_array_equal(decoded.notes[column], piece.notes[column],
                                          err_msg=f"{piece.id}: {column}")


def test_generation_is_seeded_and_names_the_tracks_after_the_data() -> None:
    model = MuseGAN(**TINY)   # untrained: probabilities scatter around 0.5, the threshold
    conditions = load("fixture").test
    first = model.generate(3, conditions=conditions, seed=7)
    again = model.generate(3, conditions=conditions, seed=7)
    other = model.generate(3, conditions=conditions, seed=8)
    assert all(len(p.notes) for p in first)
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a.notes, b.notes) for a, b in zip(first, other, strict=True))
    assert first[0].n_steps == 64 and first[0].meta["track_names"] == conditions[0].meta[
        "track_names"]
    assert model.training   # generate restores the mode it found


def test_ceiling_is_the_first_phrase_through_the_codec() -> None:
    model = MuseGAN(**TINY)
    piece = load("fixture").test[0]
    ceiling = model.ceiling([piece])[0]
    assert ceiling.n_steps == 64
    np.testing.assert_array_equal(ceiling.pianoroll()[:64], piece.pianoroll()[:64])


def test_training_separates_the_critic_and_pulls_the_generator_to_silent_data() -> None:
    """Data of silent phrases (every bar empty): the critic's Wasserstein estimate grows,
    and the generator's note probability falls from its start towards the data's 0."""
    torch.manual_seed(0)
    model = MuseGAN(**TINY, lr=0.01, n_critic=1)
    silent = [{"bars": np.zeros((4, 4, 16, 48), dtype=np.float32)}] * 32
    loader = DataLoader(silent, batch_size=8, collate_fn=model.codec.collate)

    def density() -> float:
        model.eval()
        with torch.no_grad():
            value = model(model.noise(32, model.torch_rng(0))).mean().item()
        model.train()
        return value

    before = density()
    trainer = pl.Trainer(max_epochs=8, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model, loader)
    logged = trainer.callback_metrics
    assert {"c_loss", "gp", "wasserstein", "g_loss"} <= set(logged)
    assert logged["wasserstein"] > 1.0
    assert density() < before - 0.1

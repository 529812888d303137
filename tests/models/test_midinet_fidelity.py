"""MidiNet against the paper and the authors' code (issue #12): initialisation, which
generator layers each variant conditions, and how chord qualities enter the chord vector."""

from __future__ import annotations

import math

import pytest
import torch

from musebench.datasets.piece import Piece, make_chords, make_notes
from musebench.models.midinet import MidiNet, chord_quality_shares
from musebench.models.midinet_layers import CHORD_DIM, FullPitchDeconv


def test_weights_start_from_normal_0_02_and_biases_at_zero() -> None:
    torch.manual_seed(0)
    model = MidiNet(g_channels=128, d_channels=64)  # the paper's sizes
    fc = model.generator_net.fc[0].weight  # 1024 x 113: ~116k draws
    assert abs(fc.mean().item()) < 1e-3 and fc.std().item() == pytest.approx(0.02, rel=0.02)
    out = model.generator_net.out
    assert isinstance(out, FullPitchDeconv)
    assert out.weight.std().item() == pytest.approx(0.02, rel=0.05)
    conv = model.discriminator_net.conv1.weight
    assert conv.std().item() == pytest.approx(0.02, rel=0.1)
    for net in (model.generator_net, model.discriminator_net):
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                assert torch.count_nonzero(p) == 0, name
            elif p.dim() == 1:  # batch-norm scales
                assert torch.all(p == 1), name


@pytest.mark.parametrize(("variant", "conditioned"), [
    ({}, [True, True, True, True]),                       # model 3: every layer
    ({"condition_layers": 2}, [True, True, False, False]),  # model 2: the first two only
])
def test_generator_layers_that_receive_chord_and_previous_bar(variant: dict,
                                                             conditioned: list[bool]) -> None:
    g, cond = 16, 4
    gen = MidiNet(g_channels=g, d_channels=4, cond_channels=cond, **variant).generator_net
    inputs = [layer[0].in_channels for layer in gen.up] + [gen.out.weight.shape[0]]
    assert inputs == [g + (CHORD_DIM + cond if c else 0) for c in conditioned]
    # the chord also enters both fully connected layers, in every chord model (the code)
    assert gen.fc[0].in_features == 100 + CHORD_DIM and gen.fc2[0].in_features == 1024 + 13


def test_each_variant_responds_to_the_conditions_it_receives() -> None:
    torch.manual_seed(0)
    z, previous = torch.randn(4, 100), torch.rand(4, 1, 16, 128)
    chord = torch.zeros(4, 13)
    other = chord.clone()
    chord[:, 0], other[:, 7] = 1, 1
    for variant, uses_chord in (({}, True), ({"condition_layers": 2}, True),
                                ({"use_chord": False}, False)):
        gen = MidiNet(g_channels=16, d_channels=4, cond_channels=4, **variant).generator_net
        gen.eval()
        base = gen(z, chord, previous)  # N(0, 0.02) weights: outputs near 0.5, compare exactly
        assert not torch.equal(base, gen(z, chord, torch.zeros_like(previous)))
        assert torch.equal(base, gen(z, other, previous)) != uses_chord


def test_chord_quality_shares_count_the_qualities_read_as_major() -> None:
    notes = make_notes([0, 16, 32, 48, 64], 16, 60)
    piece = Piece(notes, chords=make_chords([(0, 16, 0, "maj"), (16, 16, 2, "dim"),
                                             (32, 16, 9, "min"), (48, 16, 0, "aug")]))
    shares = chord_quality_shares([piece, Piece(notes, beats_per_bar=3)])  # 3/4: skipped
    # five bars, four with a chord at their first step: maj, dim, min, aug
    assert shares["bars"] == 4
    assert (shares["maj"], shares["min"], shares["dim"], shares["aug"]) == (0.25,) * 4
    assert shares["collapsed"] == 0.5 and shares["other"] == 0.0
    assert math.isnan(chord_quality_shares([])["collapsed"])

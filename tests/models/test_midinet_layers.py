"""MidiNet's networks: the matmul formulation equals the convolutions, shapes per layer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from musebench.models.midinet_layers import (
    Conditioner,
    Discriminator,
    FullPitchConv,
    FullPitchDeconv,
    Generator,
)


@pytest.mark.parametrize(("in_ch", "out_ch", "k"), [(1, 16, 1), (14, 14, 2)])
def test_full_pitch_conv_equals_conv2d(in_ch: int, out_ch: int, k: int) -> None:
    torch.manual_seed(0)
    layer = FullPitchConv(in_ch, out_ch, k)
    x = torch.randn(3, in_ch, 16, 128)
    expected = F.conv2d(x, layer.weight, layer.bias, stride=(k, 1))
    assert expected.shape == (3, out_ch, 16 // k, 1)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_full_pitch_deconv_equals_conv_transpose2d() -> None:
    torch.manual_seed(0)
    layer = FullPitchDeconv(45, 1)
    x = torch.randn(3, 45, 16, 1)
    expected = F.conv_transpose2d(x, layer.weight, layer.bias)
    assert expected.shape == (3, 1, 16, 128)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_conditioner_maps_halve_time_from_16_to_2() -> None:
    maps = Conditioner(16)(torch.rand(4, 1, 16, 128))
    assert [tuple(m.shape) for m in maps] == [(4, 16, t, 1) for t in (16, 8, 4, 2)]


def _layer_shapes(net: torch.nn.Module, *inputs: torch.Tensor) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
             for m in [*net.up, net.out]]
    net(*inputs)
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize(("use_chord", "layers"), [(False, 4), (True, 2), (True, 4)])
def test_generator_doubles_time_then_spreads_over_128_pitches(use_chord: bool,
                                                              layers: int) -> None:
    torch.manual_seed(0)
    net = Generator(use_chord, layers, channels=32, cond_channels=8)
    chord = torch.zeros(5, 13)
    chord[:, 2] = 1
    shapes = _layer_shapes(net, torch.randn(5, 100), chord, torch.rand(5, 1, 16, 128))
    assert shapes == [(5, 32, 4, 1), (5, 32, 8, 1), (5, 32, 16, 1), (5, 1, 16, 128)]
    first = net.up[0][0].in_channels
    assert first == 32 + (13 if use_chord else 0) + 8  # h + chord channels + conditioner map
    last_extra = net.out.weight.shape[0] - 32
    assert last_extra == (0 if layers < 4 else (13 if use_chord else 0) + 8)


def test_generator_outputs_probabilities_that_depend_on_the_chord() -> None:
    torch.manual_seed(0)
    net = Generator(True, 4, channels=16, cond_channels=4).eval()
    z, previous = torch.randn(2, 100), torch.zeros(2, 1, 16, 128)
    c_major, a_minor = torch.zeros(2, 13), torch.zeros(2, 13)
    c_major[:, 0] = 1
    a_minor[:, 9] = a_minor[:, 12] = 1
    out = net(z, c_major, previous)
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.allclose(out, net(z, a_minor, previous))


@pytest.mark.parametrize("use_chord", [False, True])
def test_discriminator_gives_one_logit_and_first_layer_features(use_chord: bool) -> None:
    net = Discriminator(use_chord, channels=8)
    logits, features = net(torch.rand(6, 1, 16, 128), torch.zeros(6, 13))
    channels = 14 if use_chord else 1
    assert logits.shape == (6,)
    assert features.shape == (6, channels, 8, 1)
    assert net.conv1(torch.zeros(1, channels + (13 if use_chord else 0), 8, 1)).shape[2] == 3

"""The biaxial LSTM against Johnson's code (issue #12): AdaDelta, dropout masks fixed per
sequence, seeded generation with adaptive conservativity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from musebench.datasets.piece import Piece, make_notes
from musebench.models.biaxial import BiaxialLSTM, StackedLSTM, adapt_conservativity


def test_dropout_mask_is_fixed_along_each_sequence_and_fresh_per_sequence() -> None:
    torch.manual_seed(0)
    stack = StackedLSTM(4, [64, 64], dropout=0.5)
    out, _ = stack(torch.rand(8, 20, 4))
    dropped = out == 0  # (sequences, steps, units)
    # a dropped unit is dropped at every step of its sequence...
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))
    # ...about half the units are dropped, and the sequences draw different masks
    assert 0.35 < dropped[:, 0].float().mean().item() < 0.65
    assert not torch.equal(dropped[0, 0], dropped[1, 0])
    stack.eval()
    assert torch.count_nonzero(stack(torch.rand(8, 20, 4))[0] == 0) == 0


def test_time_axis_output_enters_the_note_axis_undropped() -> None:
    model = BiaxialLSTM(time_sizes=[32, 32], note_sizes=[16, 8], dropout=0.5)
    assert not model.time_lstm.drop_last and model.note_lstm.drop_last
    out, _ = model.time_lstm(torch.rand(6, 10, model.codec.n_features))
    assert torch.count_nonzero(out == 0) == 0


def test_adadelta_is_johnsons_and_adam_stays_the_default() -> None:
    assert isinstance(BiaxialLSTM(time_sizes=[8], note_sizes=[4]).configure_optimizers(),
                      torch.optim.Adam)
    opt = BiaxialLSTM(time_sizes=[8], note_sizes=[4], optimizer="adadelta").configure_optimizers()
    assert isinstance(opt, torch.optim.Adadelta)
    group = opt.param_groups[0]
    assert (group["lr"], group["rho"], group["eps"]) == (1.0, 0.95, 1e-6)
    with pytest.raises(ValueError, match="sampling"):
        BiaxialLSTM(sampling="greedy")


def test_conservativity_update_by_hand() -> None:
    c = torch.tensor([1.0, 1.5, 0.5, 0.5])
    sounding = torch.tensor([0, 1, 2, 5])
    # < 2 notes: min(c, 1) - 0.02; otherwise c + (1 - c) * 0.3
    torch.testing.assert_close(adapt_conservativity(c, sounding),
                               torch.tensor([0.98, 0.98, 0.65, 0.65]))


def test_johnson_sampling_starts_from_the_conditions_first_frame() -> None:
    torch.manual_seed(0)
    model = BiaxialLSTM(time_sizes=[12], note_sizes=[8], generate_steps=6,
                        sampling="johnson").eval()
    chord = Piece(make_notes([0, 0, 0, 4], [4, 4, 4, 4], [60, 64, 67, 72]))
    pieces = model.generate(2, conditions=[chord], seed=3)
    for piece in pieces:
        first = piece.notes[piece.notes["start"] == 0]
        assert sorted(first["pitch"].tolist()) == [60, 64, 67]
    again = model.generate(2, conditions=[chord], seed=3)
    np.testing.assert_array_equal(pieces[0].notes, again[0].notes)


def test_low_conservativity_raises_the_play_probability() -> None:
    torch.manual_seed(0)
    model = BiaxialLSTM(time_sizes=[12], note_sizes=[8]).eval()
    with torch.no_grad():  # a net that plays about 1% of the notes: too few per step
        model.output.weight.zero_()
        model.output.bias.fill_(-4.6)
    rng = torch.Generator().manual_seed(0)
    plain, _ = model.sample_states(8, 24, rng)
    rng = torch.Generator().manual_seed(0)
    adaptive, _ = model.sample_states(8, 24, rng, conservative=True)
    # conservativity falls by 0.02 per sparse step, p ** c rises: clearly more notes
    assert adaptive.sum() > 1.3 * plain.sum() > 0

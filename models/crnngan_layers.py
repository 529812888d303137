"""C-RNN-GAN's two networks and its losses.

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training",
NIPS 2016 CML workshop (arXiv:1611.09904), Sec. 2, and the author's code
(olofmogren/c-rnn-gan); the training recipe that uses them is in
:mod:`musebench.models.crnngan`.

- Generator: at step ``t`` the input is ``relu(W [u_t, y_{t-1}] + b)`` with ``u_t ~ U(0, 1)``
  noise and ``y_{t-1}`` its own previous output (``y_0 ~ U(0, 1)``: the code "invents" the
  first previous output, rnn_gan.py lines 313 and 337), then a 2-layer LSTM with dropout on
  every layer's output (keep probability 0.5, lines 82 and 172) and a linear output layer
  giving the event's features ``y_t``.
- Discriminator: dropout on its input (line 461), a 2-layer bidirectional LSTM with dropout
  on every layer's output, a per-step sigmoid, averaged over the
  sequence: :math:`D(x) = \\frac{1}{T}\\sum_t \\sigma(w^\\top [\\overrightarrow{h}_t;
  \\overleftarrow{h}_t] + b)`.
- Losses (Sec. 2):
  :math:`L_D = -\\frac{1}{B}\\sum_i [\\log D(x_i) + \\log(1 - D(G(z_i)))]`;
  the generator minimises feature matching on the discriminator's last LSTM layer, in the
  code's form (line 426) :math:`L_G = \\sum_{b,t,h} (f(x)_{bth} - f(G(z))_{bth})^2`
  or Salimans et al.'s batch-mean form
  :math:`\\frac{1}{T}\\sum_t \\lVert \\bar f_t(x) - \\bar f_t(G(z)) \\rVert^2`,
  or :math:`-\\frac{1}{B}\\sum_i \\log D(G(z_i))` without it; the L2 penalty
  :math:`\\frac{\\lambda}{2}\\sum w^2` is TF's ``l2_loss``.

Speed: teacher-forced passes (pre-training, validation) run the fused ``nn.LSTM`` over the
whole sequence; free-running generation (adversarial training, sampling) must feed each
output back, so it steps ``torch.lstm_cell`` over the same ``nn.LSTM`` weights. Measured
here (perf/models_gan.py) calling ``nn.LSTM`` once per step was ~12x slower
than the cell steps. ``tests/models/test_crnngan_model.py`` pins that both passes give equal
outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from musebench.models.cpu_bf16_lstm import LSTM

EPS = 1e-7

class EventGenerator(nn.Module):
    """C-RNN-GAN's generator: ReLU input layer over ``[noise, previous output]``, LSTM,
    linear output."""

    def __init__(self, n_features: int, noise_dim: int, hidden: int, layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.n_features = n_features
        self.dropout = dropout
        self.input_layer = nn.Linear(noise_dim + n_features, hidden)
        # nn.LSTM's dropout acts on every layer's output but the last; forward adds that one
        self.lstm = LSTM(hidden, hidden, layers, batch_first=True,
                         dropout=dropout if layers > 1 else 0.0)
        self.output_layer = nn.Linear(hidden, n_features)

    def teacher_forced(self, noise: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """Outputs ``(B, T, F)`` given the previous events ``(B, T, F)`` (fused LSTM)."""
        hidden, _ = self.lstm(F.relu(self.input_layer(torch.cat([noise, previous], -1))))
        return self.output_layer(F.dropout(hidden, self.dropout, self.training))

    def forward(self, noise: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
        """Free-running: ``(B, T, F)`` events, each step fed its own previous output;
        ``first`` ``(B, F)`` is the previous output of step 0 (zeros if None).

        Each step runs the LSTM's layers as ``torch.lstm_cell`` on the ``nn.LSTM``'s own
        weights (the same maths; per-step ``nn.LSTM`` calls pay a large fixed overhead).
        """
        lstm = self.lstm
        weights = [[getattr(lstm, f"{name}_l{k}") for name in
                    ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                   for k in range(lstm.num_layers)]
        zeros = noise.new_zeros(noise.shape[0], lstm.hidden_size)
        states = [(zeros, zeros)] * lstm.num_layers
        output = noise.new_zeros(noise.shape[0], self.n_features) if first is None else first
        outputs = []
        for t in range(noise.shape[1]):
            x = F.relu(self.input_layer(torch.cat([noise[:, t], output], -1)))
            for k, layer in enumerate(weights):
                states[k] = torch.lstm_cell(x, states[k], *layer)
                x = F.dropout(states[k][0], self.dropout, self.training)
            output = self.output_layer(x)
            outputs.append(output)
        return torch.stack(outputs, 1)


class EventDiscriminator(nn.Module):
    """C-RNN-GAN's discriminator: returns ``(D(x) (B,), last-layer features (B, T, 2H))``."""

    def __init__(self, n_features: int, hidden: int, layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = dropout
        self.lstm = LSTM(n_features, hidden, layers, batch_first=True, bidirectional=True,
                         dropout=dropout if layers > 1 else 0.0)
        self.out = nn.Linear(2 * hidden, 1)

    def forward(self, events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, _ = self.lstm(F.dropout(events, self.dropout, self.training))
        features = F.dropout(features, self.dropout, self.training)
        # float32 under autocast: the probabilities feed log() in the losses
        return torch.sigmoid(self.out(features).float()).squeeze(-1).mean(1), features


def discriminator_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """``-mean(log D(x) + log(1 - D(G(z))))`` (probabilities clamped to ``[EPS, 1 - EPS]``)."""
    d_real, d_fake = d_real.clamp(EPS, 1 - EPS), d_fake.clamp(EPS, 1 - EPS)
    return -(torch.log(d_real) + torch.log(1 - d_fake)).mean()


def generator_adversarial_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """``-mean(log D(G(z)))``."""
    return -torch.log(d_fake.clamp(EPS, 1 - EPS)).mean()


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor,
                          form: str = "batch_mean") -> torch.Tensor:
    """Feature matching over ``(B, T, H)`` maps: ``"code"`` is Mogren's
    ``sum_{b,t,h} (f(x) - f(G(z)))^2`` (sample ``b`` of each batch paired), ``"batch_mean"``
    Salimans et al.'s ``mean_t || mean_b f(x)[b, t] - mean_b f(G(z))[b, t] ||^2``."""
    real, fake = real_features.float(), fake_features.float()
    if form == "code":
        return (real - fake).pow(2).sum()
    return (real.mean(0) - fake.mean(0)).pow(2).sum(-1).mean()


def l2_penalty(module: nn.Module, weight: float) -> torch.Tensor:
    """``weight / 2 * sum(w^2)`` over every parameter of ``module`` (TF's ``l2_loss``)."""
    return weight / 2 * sum(p.pow(2).sum() for p in module.parameters())


def shift_right(events: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
    """The previous event at every step; ``first`` ``(B, F)`` before the first (zeros if
    None)."""
    if first is None:
        return F.pad(events, (0, 0, 1, 0))[:, :-1]
    return torch.cat([first[:, None].to(events.dtype), events[:, :-1]], 1)

"""musebench.models: the registry of generators the bench can run, by name.

Each model adds exactly one line to :data:`MODELS`: ``"name": "module:Class"`` (like the
sources registry), so the class is imported only when asked for and a broken or heavy
model never slows or breaks the others. Use :func:`get_model` to get the class.
"""

from __future__ import annotations

import importlib

from musebench.models.base import MusicGenerator, StepLikelihood
from musebench.util import did_you_mean

MODELS: dict[str, str] = {
    "biaxial": "musebench.models.biaxial:BiaxialLSTM",
    "crnngan": "musebench.models.crnngan:CRNNGAN",
    "lstm_attention": "musebench.models.lstm_attention:LSTMAttention",
    "markov": "musebench.models.markov:MarkovGenerator",
    "melody_rnn": "musebench.models.melody_rnn:MelodyRNN",
    "melody_rnn_attention": "musebench.models.melody_rnn:MelodyRNN",
    "melody_rnn_lookback": "musebench.models.melody_rnn:MelodyRNN",
    "midinet": "musebench.models.midinet:MidiNet",
    "midinet_model1": "musebench.models.midinet:MidiNet",
    "midinet_model2": "musebench.models.midinet:MidiNet",
    "musegan": "musebench.models.musegan:MuseGAN",
    "musegan_composer": "musebench.models.musegan:MuseGAN",
    "musegan_jamming": "musebench.models.musegan:MuseGAN",
    "music_transformer": "musebench.models.music_transformer:MusicTransformer",
    "pianoroll_lstm": "musebench.models.pianoroll_lstm:PianoRollLSTM",
    "random": "musebench.models.random_baseline:RandomGenerator",
    "rnn_nade": "musebench.models.rnn_nade:RNNNADE",
}


def get_model(name: str) -> type[MusicGenerator]:
    """The model class registered as ``name``.

    Raises:
        ValueError: ``name`` is not registered; the message lists the valid names.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name}{did_you_mean(name, MODELS)} "
                         f"(valid models: {', '.join(sorted(MODELS))})")
    module, _, cls = MODELS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["MODELS", "MusicGenerator", "StepLikelihood", "get_model"]

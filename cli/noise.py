"""Known noise that a musebench user can neither act on nor avoid, silenced narrowly.

Each filter matches one message by its text (and the warning's category), so any other
warning or log line still shows. What is silenced, and why:

- Lightning's ``isinstance(treespec, LeafSpec)`` deprecation, raised inside Lightning's
  own ``utilities/_pytree.py`` on every run with a recent torch (a Lightning internal).
- Lightning's "💡 Tip: … litlogger" advertisement, logged once per Trainer.
- Lightning's ``GPU available: …`` / ``TPU available: …`` lines (the hardware is in the
  run's results row).
- Lightning's "does not have many workers" data-loader advice: musebench's data loaders
  read pre-encoded arrays from memory, where worker processes only add start-up time.
"""

from __future__ import annotations

import logging
import re
import warnings

#: Warning messages (regular expressions, matched at the start) silenced for every run.
WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", Warning),
    (r"The '\w+_dataloader' does not have many workers", Warning),
)
#: Log lines (regular expressions, matched at the start) dropped from Lightning's loggers.
LOG_LINES: tuple[str, ...] = (
    r"💡 Tip: ",
    r"(GPU|TPU|HPU) available: ",
)
LIGHTNING_LOGGERS: tuple[str, ...] = (
    "lightning.pytorch.utilities.rank_zero",
    "pytorch_lightning.utilities.rank_zero",
)


class _DropKnownLines(logging.Filter):
    """Drops the log records whose message starts with one of :data:`LOG_LINES`."""

    pattern = re.compile("|".join(LOG_LINES))

    def filter(self, record: logging.LogRecord) -> bool:
        return self.pattern.match(record.getMessage()) is None


def silence_known_noise() -> None:
    """Install the filters (idempotent)."""
    for message, category in WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    for name in LIGHTNING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnownLines) for f in logger.filters):
            logger.addFilter(_DropKnownLines())

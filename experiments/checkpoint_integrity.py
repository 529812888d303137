"""Checkpoints are read as data, never as code, and are checked against a checksum.

Every checkpoint musebench reads goes through :func:`load_checkpoint`:

- ``torch.load(..., weights_only=True)`` inside ``torch.serialization.safe_globals`` with
  :data:`SAFE_GLOBALS`, the explicit list of the non-tensor types our checkpoints may hold
  besides the containers and numbers the weights-only unpickler always accepts. Anything
  else (a pickle payload, a foreign object) is refused with an error naming the file;
- a SHA-256 of the file's bytes, kept beside it in ``<name>.sha256`` (:func:`checksum_path`),
  is compared first: a flipped byte in the tensor data is an error naming the file instead
  of a silently different run. A checkpoint without a checksum file (written before
  checksums existed) is loaded with a warning.

:func:`write_checkpoint` writes the file and its checksum so that a kill at any moment
leaves a pair that verifies: the checksum file first lists the digests of both the old and
the new bytes, then the checkpoint is replaced, then the checksum file is rewritten with
the new digest alone (each step atomic, :func:`musebench.util.write_atomically`).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pytorch_lightning.utilities.parsing import AttributeDict

from musebench.util import write_atomically

#: Non-tensor types a musebench checkpoint legitimately holds: Lightning's hyper-parameter
#: container, and NumPy scalars and dtypes (a callback's or a config's ``np.float64``, a
#: NumPy RNG state saved as an array). Our own RNG states are stored as tensors.
SAFE_GLOBALS: list[Any] = [
    AttributeDict,
    np.zeros(0).__reduce__()[0],  # how NumPy pickles an array (its _reconstruct) ...
    np.float64(0).__reduce__()[0],  # ... and a scalar
    np.ndarray,
    np.dtype,
    *(type(np.dtype(code)) for code in ("bool", "int32", "int64", "uint32", "float32",
                                         "float64")),
]

CHECKSUM_SUFFIX = ".sha256"


class UnreadableCheckpointError(RuntimeError):
    """A checkpoint file exists but cannot be read (truncated, corrupted, tampered with,
    or holding something other than weights)."""


def checksum_path(path: Path) -> Path:
    """The checksum file kept beside checkpoint ``path``."""
    path = Path(path)
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_checkpoint(path: Path, data: bytes) -> None:
    """Write checkpoint bytes ``data`` to ``path`` and its checksum beside it, atomically."""
    path = Path(path)
    new = _digest(data)
    old = [_digest(path.read_bytes())] if path.is_file() else []
    write_atomically(checksum_path(path), "\n".join([new, *old]).encode() + b"\n")
    write_atomically(path, data)
    write_atomically(checksum_path(path), new.encode() + b"\n")


def remove_checkpoint(path: Path) -> None:
    """Delete a checkpoint and its checksum file (either may be missing)."""
    for file in (Path(path), checksum_path(path)):
        file.unlink(missing_ok=True)


def verified_bytes(path: Path) -> bytes:
    """The bytes of checkpoint ``path``, checked against its checksum file.

    Raises:
        UnreadableCheckpointError: the bytes do not match the checksum.
        FileNotFoundError: no such checkpoint.
    """
    path = Path(path)
    data = path.read_bytes()
    sums = checksum_path(path)
    if not sums.is_file():
        warnings.warn(f"checkpoint {path} has no checksum file {sums.name} (written before "
                      "checksums were kept): loaded without verification", stacklevel=2)
        return data
    expected = sums.read_text(encoding="ascii", errors="replace").split()
    if _digest(data) not in expected:
        raise UnreadableCheckpointError(
            f"checkpoint {path} does not match its checksum {sums} (the file was changed "
            "or corrupted after it was written): delete it (or the run folder) and start "
            "again, or run without --resume")
    return data


def load_checkpoint(path: Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Checkpoint ``path``, verified (:func:`verified_bytes`) and read weights-only with
    :data:`SAFE_GLOBALS`.

    Raises:
        UnreadableCheckpointError: checksum mismatch, unreadable bytes, or a type outside
            the allowlist (nothing from the file is executed); the message names the file.
    """
    data = verified_bytes(path)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise UnreadableCheckpointError(
            f"checkpoint {path} holds something other than weights and was refused "
            f"({str(error).splitlines()[0]}); it was not written by musebench: delete it "
            "(or the run folder) and start again, or run without --resume") from error
    except (RuntimeError, EOFError, ValueError) as error:
        raise UnreadableCheckpointError(
            f"cannot read checkpoint {path} ({type(error).__name__}: {error}); it is "
            "truncated or corrupted: delete it (or the run folder) and start again, or run "
            "without --resume") from error

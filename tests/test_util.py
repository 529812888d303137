"""The neutral helpers (util.py): strict JSON with NaN/inf as null, the usable core count."""

from __future__ import annotations

import json
import math
import os

import pytest

from musebench.util import finite, strict_json, usable_cores


def test_strict_json_writes_every_non_finite_float_as_null_at_any_depth() -> None:
    value = {"a": math.nan, "b": [1.5, math.inf, (2, -math.inf)], "c": {"d": "x", "e": 3}}
    text = strict_json(value, sort_keys=True)
    assert json.loads(text) == {"a": None, "b": [1.5, None, [2, None]], "c": {"d": "x", "e": 3}}
    assert "NaN" not in text and "Infinity" not in text
    assert finite(2.0) == 2.0 and finite(math.nan) is None


def test_strict_json_refuses_what_it_cannot_clean() -> None:
    with pytest.raises(TypeError):
        strict_json({"a": object()})


def test_usable_cores_is_the_affinity_where_the_os_has_one() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable_cores() == expected >= 1

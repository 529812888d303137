"""Keyword arguments checked against the signature that declares them, before any work.

A model's hyper-parameters are declared once, as its class signature (keyword-only,
type-annotated, with defaults); the data module's, the Trainer's and generation's
arguments likewise. :func:`check_arguments` checks a dict of values (a config section, or
the keywords of a constructor call) against such a signature: every key must be a
parameter, and every value must match its annotation (``int``, ``float``, ``bool``,
``str``, ``None``, unions, ``Literal``, lists/tuples of those; annotations it cannot
check, such as ``Any`` or a class, accept any value). The error names the key, the value
and what is allowed. It imports nothing from musebench, so any layer may use it.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any


class ArgumentError(ValueError):
    """A keyword argument that the target does not take, or of the wrong type."""


def parameters(target: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword parameters of ``target`` (a class: its ``__init__``), without ``self``
    and ``*args``/``**kwargs``."""
    function = target.__init__ if inspect.isclass(target) else target
    return {name: p for name, p in inspect.signature(function).parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def annotations(target: Callable[..., Any]) -> dict[str, Any]:
    """The evaluated annotations of ``target``'s parameters (empty where they cannot be
    evaluated, e.g. a third-party forward reference)."""
    function = target.__init__ if inspect.isclass(target) else target
    try:
        return typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - unevaluable hints: check names only
        return {}


def describe(hint: Any) -> str:
    """``hint`` in words, e.g. ``int``, ``int or None``, ``one of 'adam', 'sgd'``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple, Iterable) or hint in (list, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return f"a list of {describe(inner[0])}" if inner else "a list"
    if hint is type(None) or hint is None:
        return "None"
    return getattr(hint, "__name__", str(hint))


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as YAML gives it) fits ``hint``; unknown hints accept anything."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is inspect.Parameter.empty:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(matches(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None) or hint is None:
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple) or hint in (list, tuple):
        inner = [a for a in args if a is not Ellipsis]
        return isinstance(value, list | tuple) and \
            all(matches(v, inner[0] if inner else Any) for v in value)
    if hint is dict or origin is dict:
        return isinstance(value, dict)
    return True  # a class or construct YAML cannot build: left to the target


def check_arguments(target: Callable[..., Any], values: dict[str, Any], where: str,
                    ignore: Iterable[str] = ()) -> None:
    """Check ``values`` against ``target``'s signature (see the module docstring).

    Args:
        target: a class (its ``__init__``) or a function.
        values: keyword arguments, e.g. a config section.
        where: what ``values`` is, for messages (``"model"``, ``"MidiNet"``…).
        ignore: parameters the caller sets itself (refused in ``values``).

    Raises:
        ArgumentError: an unknown key or a value of the wrong type; the message names the
            key, the value and what is allowed.
    """
    known = {name: p for name, p in parameters(target).items() if name not in set(ignore)}
    hints = annotations(target)
    for key, value in values.items():
        if key not in known:
            raise ArgumentError(f"{where}.{key} = {value!r}: unknown key; allowed keys: "
                                f"{', '.join(sorted(known)) or '(none)'}")
        hint = hints.get(key, known[key].annotation)
        if isinstance(hint, str):  # an annotation that could not be evaluated
            continue
        if not matches(value, hint):
            raise ArgumentError(f"{where}.{key} = {value!r}: expected {describe(hint)}")

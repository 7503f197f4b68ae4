"""Frozen dataclasses ↔ JSON-ready values, driven by type hints (for the engine state and outbox rows)."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


_PLAIN = (str, int, float, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def encode(value: Any) -> Any:
    """A dataclass (or any supported value) as plain JSON-ready data."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        # A field whose metadata says persist=False is a cache (engine.MonitorState.settled): never stored.
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value) if f.metadata.get("persist", True))
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(kind: Any, data: Any) -> Any:
    """The inverse of `encode` for the declared type `kind`."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if data is None:
            return None
        if len(args) != 1:  # stored values only use `X | None`; anything wider is a bug to find early
            raise TypeError(f"cannot decode a value of the union {kind}")
        return decode(args[0], data)
    if origin is tuple:
        items = typing.get_args(kind)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(decode(items[0], v) for v in data)
        return tuple(decode(a, v) for a, v in zip(items, data, strict=True))
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)  # type: ignore[arg-type]
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: decode(hints[k], v) for k, v in data.items() if k in names})  # type: ignore[operator]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is timedelta:
        return timedelta(seconds=data)
    if kind is float and isinstance(data, int):
        return float(data)
    return data


def load(cls: type[T], data: Any) -> T:
    """Typed wrapper around `decode` for a dataclass."""
    return typing.cast(T, decode(cls, data))

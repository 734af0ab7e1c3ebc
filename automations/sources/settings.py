"""The settings a source declares: one frozen dataclass per source, one ``setting()`` per field.

The declaration is the one description of a source's configuration: the API's ``file_source``
validation and representation, the admin form's fields, the stored JSON and the typed values that
``fetch()`` reads all come from it. A new source, or a new setting, is written in its module only.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

_KEY = "pixee.setting"
# The Python types a setting may have: the API, the admin and the JSON all know how to carry these.
KINDS = (str, int, dict)


@dataclass(frozen=True)
class Setting:
    """How one ``file_source`` field is asked for, shown and checked, beyond its Python type."""

    label: str
    help_text: str = ""
    required: bool = False
    # Write-only in the API (shown as ``<name>_set``), a password box in the admin. The whole
    # configuration is encrypted at rest; secrets are what is never shown back.
    secret: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    multiline: bool = False  # the admin asks for it in a text area (key lines, PEM keys)
    # The messages for a non-empty value that is wrong (nothing when it is right).
    check: Callable[[Any], Iterable[str]] | None = None


def setting(label: str, *, default: Any = "", **options: Any) -> Any:
    """A field of a source's settings dataclass: its default and its ``Setting`` options."""
    declared = Setting(label, **options)
    metadata = {_KEY: declared}
    shown = not declared.secret  # a secret never appears in a repr, hence never in a log
    if isinstance(default, dict):
        if default:
            raise TypeError(f"{label}: a dict setting defaults to an empty dict.")
        return dataclasses.field(default_factory=dict, metadata=metadata, repr=shown)
    return dataclasses.field(default=default, metadata=metadata, repr=shown)


@dataclass(frozen=True)
class Declared:
    """One setting as a source declares it: the API's name, its Python type, default and options."""

    name: str
    kind: type
    default: Any
    options: Setting

    def fresh_default(self) -> Any:
        # A dict default is a new dict each time, as the dataclass's default_factory makes it.
        return {} if self.kind is dict else self.default


@dataclass(frozen=True)
class SourceSettings:
    """The base of every source's settings (subclasses are ``@dataclass(frozen=True)`` too)."""

    @classmethod
    def declared(cls) -> tuple[Declared, ...]:
        if cls not in _DECLARED:
            _DECLARED[cls] = _declared(cls)
        return _DECLARED[cls]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """The settings as stored: a key no longer declared is ignored, a new setting takes its default."""
        names = {d.name for d in cls.declared()}
        return cls(**{key: value for key, value in config.items() if key in names})

    def to_config(self) -> dict[str, Any]:
        """What is stored: every declared setting by its name, secrets included."""
        return {d.name: getattr(self, d.name) for d in self.declared()}


_DECLARED: dict[type[SourceSettings], tuple[Declared, ...]] = {}


def _declared(cls: type[SourceSettings]) -> tuple[Declared, ...]:
    hints = typing.get_type_hints(cls)
    declared = []
    for field in dataclasses.fields(cls):
        options = field.metadata.get(_KEY)
        if not isinstance(options, Setting):
            raise TypeError(f"{cls.__name__}.{field.name} is not declared with setting().")
        kind = typing.get_origin(hints[field.name]) or hints[field.name]
        if kind not in KINDS:
            raise TypeError(f"{cls.__name__}.{field.name}: a setting is a str, an int or a dict.")
        default = {} if field.default_factory is not dataclasses.MISSING else field.default
        declared.append(Declared(field.name, kind, default, options))
    return tuple(declared)


def kind_problem(declared: Declared, value: Any) -> str | None:
    """What is wrong with ``value``'s type or bounds for ``declared``, if anything."""
    name, options = declared.name, declared.options
    if declared.kind is str:
        if not isinstance(value, str):
            return f"{name} must be text."
        if options.max_length is not None and len(value) > options.max_length:
            return f"{name} is longer than {options.max_length} characters."
    elif declared.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be a whole number."
        low, high = options.min_value, options.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{name} must be between {low} and {high}."
    elif not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return f"{name} must be an object with text keys."
    return None

"""Records: classes of named, typed fields, made as dataclasses makes them, without dataclasses.

Importing dataclasses costs 8 ms of a start (it imports inspect, for one docstring), and each
class it makes compiles six or so methods of its own: more than the Python start itself of a
`logs` run from cron. A record's fields come from its annotations, in order; a field given a
value in the class body has it as a default, `field(default_factory=...)` a fresh one each
time. `class Code(Record, frozen=True)` makes records that refuse changes and can be keys.
Records compare and print as dataclasses do; type checkers see them as dataclasses
(dataclass_transform). The modules every `logs` run loads (the config, finding codes and
evidence, the log analysis) use records; the rest keep dataclasses, whose generated __init__
is quicker per record where a run makes thousands (processes, open files, sessions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform, overload

T = TypeVar("T")


class _Field:
    __slots__ = ("default", "default_factory", "repr", "compare")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


_MISSING: Any = object()


@overload
def field(*, default: T, repr: bool = True, compare: bool = True) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], repr: bool = True, compare: bool = True) -> T: ...
def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's default (`default`, or a fresh `default_factory()` for each record), and
    whether it is shown in the record's repr and compared."""
    return _Field(default, default_factory, repr, compare)


@dataclass_transform(field_specifiers=(field,))
class Record:
    """Base of records (see the module's docstring)."""

    record_fields: ClassVar[tuple[str, ...]] = ()
    _specs: ClassVar[dict[str, _Field]] = {}
    _frozen: ClassVar[bool] = False

    def __init_subclass__(cls, frozen: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        info = dict(cls._specs)  # a base record's fields come first
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, _Field) else _Field(value, None, True, True)
            if spec.default is _MISSING and spec.default_factory is None and any(
                    i.default is not _MISSING or i.default_factory is not None for i in info.values()):
                raise TypeError(f"{cls.__name__}.{name}: a field without a default follows one with a default")
            info[name] = spec
            if isinstance(value, _Field):  # the class attribute is the plain default, or nothing
                if spec.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, spec.default)
        cls._specs = info
        cls.record_fields = tuple(info)
        cls._frozen = frozen or cls._frozen
        if not cls._frozen:
            cls.__hash__ = None  # type: ignore[assignment]  # mutable: never a key, as dataclasses says

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kind = type(self).__name__
        names = self.record_fields
        if len(args) > len(names):
            raise TypeError(f"{kind} takes {len(names)} values, not {len(args)}")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in self._specs or name in values:
                raise TypeError(f"{kind}: unexpected or repeated {name!r}")
            values[name] = value
        for name in names:
            if name not in values:
                spec = self._specs[name]
                if spec.default_factory is not None:
                    values[name] = spec.default_factory()
                elif spec.default is not _MISSING:
                    values[name] = spec.default
                else:
                    raise TypeError(f"{kind} needs {name!r}")
            object.__setattr__(self, name, values[name])
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is frozen: cannot delete {name!r}")
        object.__delattr__(self, name)

    def _compared(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name, spec in self._specs.items() if spec.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, spec in self._specs.items()
                          if spec.repr)
        return f"{type(self).__name__}({shown})"

    def as_dict(self) -> dict[str, Any]:
        """Every field, by name (not recursing into records inside)."""
        return {name: getattr(self, name) for name in self.record_fields}

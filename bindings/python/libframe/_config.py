"""The parameters two endpoints agree on (SPEC.md "Parameters"), as in frame_config."""

from typing import Any, Mapping, Optional, Union

from ._errors import ConfigError

MAX_DEPTH = 32                        # FRAME_MAX_DEPTH: the header object is level 1
MAX_MEMBERS = 512                     # FRAME_MAX_MEMBERS: in one header, nested included
MAX_SIZE_NAME = 64                    # FRAME_MAX_SIZE_NAME
DEFAULT_MAX_HEADER = 65536            # FRAME_DEFAULT_MAX_HEADER
MAX_BODY_LIMIT = (1 << 53) - 1        # FRAME_MAX_BODY_LIMIT, also the default max_body

_FIELDS = ("prefix_width", "byte_order", "size_name", "max_header", "max_body", "profile")


def _not_int(v: Any) -> bool:
    return not isinstance(v, int) or isinstance(v, bool)


class Config:
    """Wire parameters. Every argument has the SPEC.md default, so ``Config()``
    is what two endpoints use when they configure nothing.

    Args:
        prefix_width: octets in the length prefix: 1, 2, 4 (default) or 8.
        byte_order: "little" (default) or "big".
        size_name: name of the header member that holds the body size
            (default "size"): 1..64 printable ASCII characters, no '"' or '\\'.
        max_header: longest header accepted, in octets: 1..2**64-1 (default
            65536). A header can never be longer than the prefix can say (255
            for a 1-octet prefix...). The C library (libframe.native) takes at
            most 2**32-1.
        max_body: longest body accepted: 1..2**53-1 (default and maximum 2**53-1).
        profile: "json" (default: prefix, JSON header, body) or "raw" (no
            header: the prefix is the body length).

    Raises ConfigError for a value out of range (the C library's FRAME_E_CONFIG).
    Configs are immutable and compare equal field by field.
    """

    __slots__ = _FIELDS + ("_size_name_bytes", "_width_max")

    prefix_width: int
    byte_order: str
    size_name: str
    max_header: int
    max_body: int
    profile: str

    def __init__(self, prefix_width: int = 4, byte_order: str = "little",
                 size_name: str = "size", max_header: int = DEFAULT_MAX_HEADER,
                 max_body: int = MAX_BODY_LIMIT, profile: str = "json") -> None:
        if _not_int(prefix_width) or prefix_width not in (1, 2, 4, 8):
            raise ConfigError("prefix_width must be 1, 2, 4 or 8, not %r" % (prefix_width,))
        if byte_order not in ("little", "big"):
            raise ConfigError("byte_order must be 'little' or 'big', not %r" % (byte_order,))
        if profile not in ("json", "raw"):
            raise ConfigError("profile must be 'json' or 'raw', not %r" % (profile,))
        if not isinstance(size_name, str):
            raise ConfigError("size_name must be a str, not %r" % (size_name,))
        if not 1 <= len(size_name) <= MAX_SIZE_NAME or any(
                not 0x20 <= ord(c) <= 0x7E or c in '"\\' for c in size_name):
            raise ConfigError("size_name must be 1..%d printable ASCII characters without "
                              "'\"' or '\\\\', not %r" % (MAX_SIZE_NAME, size_name))
        if _not_int(max_header) or not 1 <= max_header <= 0xFFFFFFFFFFFFFFFF:
            raise ConfigError("max_header must be an integer in 1..2**64-1, not %r"
                              % (max_header,))
        if _not_int(max_body) or not 1 <= max_body <= MAX_BODY_LIMIT:
            raise ConfigError("max_body must be an integer in 1..2**53-1, not %r" % (max_body,))
        s = object.__setattr__
        s(self, "prefix_width", prefix_width)
        s(self, "byte_order", byte_order)
        s(self, "size_name", size_name)
        s(self, "max_header", max_header)
        s(self, "max_body", max_body)
        s(self, "profile", profile)
        s(self, "_size_name_bytes", size_name.encode("ascii"))
        s(self, "_width_max", (1 << (8 * prefix_width)) - 1)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is immutable; use replace()")

    @property
    def raw(self) -> bool:
        """True in the raw profile."""
        return self.profile == "raw"

    @property
    def header_limit(self) -> int:
        """The longest header an encoder may write: min(max_header, what the prefix holds)."""
        return min(self.max_header, self._width_max)

    @property
    def body_limit(self) -> int:
        """The longest body: max_body, and in the raw profile what the prefix holds."""
        if self.profile == "raw":
            return min(self.max_body, self._width_max)
        return self.max_body

    def replace(self, **changes: Any) -> "Config":
        """A copy with some fields changed (checked again)."""
        fields = self.as_dict()
        fields.update(changes)
        return Config(**fields)

    def as_dict(self) -> dict:
        """The fields as a dict, in the key names of the test vectors."""
        return {f: getattr(self, f) for f in _FIELDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f) for f in _FIELDS))

    def __repr__(self) -> str:
        return "Config(%s)" % ", ".join("%s=%r" % (f, getattr(self, f)) for f in _FIELDS)


DEFAULT = Config()

ConfigLike = Union[Config, Mapping[str, Any], None]


def make_config(config: ConfigLike = None, params: Optional[Mapping[str, Any]] = None) -> Config:
    """A Config from a Config, a dict of fields (test-vector style) or None,
    with `params` (keyword arguments) applied on top."""
    if config is None:
        base = DEFAULT
    elif isinstance(config, Config):
        base = config
    elif isinstance(config, Mapping):
        unknown = set(config) - set(_FIELDS)
        if unknown:
            raise ConfigError("unknown config field(s): %s" % ", ".join(sorted(unknown)))
        base = Config(**config)
    else:
        raise ConfigError("config must be a Config, a mapping or None, not %r" % (config,))
    if params:
        unknown = set(params) - set(_FIELDS)
        if unknown:
            raise TypeError("unknown keyword argument(s): %s" % ", ".join(sorted(unknown)))
        return base.replace(**params)
    return base

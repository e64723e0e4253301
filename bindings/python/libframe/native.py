"""The C implementation of libframe: a CPython extension (libframe._native)
with libframe's C sources compiled in. Same interface as libframe.pure.

The extension decodes with the C library's frame_feed() and builds header
dicts straight from the validated header (no json.loads round trip); it
encodes with frame_builder. It is built by `pip install ./bindings/python`
(the in-tree backend compiles it; Debian: apt-get install python3-dev gcc),
or in the source tree by `make python-ext`.

Importing this module raises ImportError when the extension is not there or
does not load; ``import libframe`` then falls back to libframe.pure with a
warning that says why.
"""

from typing import Any, Mapping, Optional

from ._config import ConfigLike
from ._encode import FrameWriter as _PureFrameWriter
try:
    from ._native import Builder, Decoder, build_head, encode
    from ._native import version as _version
except ImportError as _e:
    raise ImportError("the C extension libframe._native does not load: %s" % _e) from _e

IMPLEMENTATION = "extension"

#: The version of the C library compiled into the extension.
version: str = _version

__all__ = ["Decoder", "Builder", "FrameWriter", "build_head", "encode", "IMPLEMENTATION",
           "version"]


class FrameWriter(_PureFrameWriter):
    """Writes one frame with a streamed body (see libframe.pure.FrameWriter);
    the head is built by the C builder."""

    def _head(self, header: Optional[Mapping[str, Any]], body_size: int, config: ConfigLike,
              params: Any) -> bytes:
        return build_head(header, body_size, config, **params)

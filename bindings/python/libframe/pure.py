"""The pure-Python implementation of libframe (standard library only).

Same interface as libframe.native; ``import libframe`` picks one of them (see
the package documentation). Import this module to use this one explicitly.
"""

from ._decode import Decoder
from ._encode import Builder, FrameWriter, build_head, encode

IMPLEMENTATION = "python"

__all__ = ["Decoder", "Builder", "FrameWriter", "build_head", "encode", "IMPLEMENTATION"]

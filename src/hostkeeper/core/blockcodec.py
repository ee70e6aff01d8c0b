"""A compact, lossless encoding of columns of floats: the metric store's sample blocks.

A block holds `count` rows of a few float columns (raw samples: time and value;
rollups: time, min, mean, max, count). Each column is encoded on its own, so a reader
decodes only the columns it needs, in the first of these forms that is exact:

- decimal: every value is k / 10**d for integers k (collector values are rounded to
  0.1 or 0.01, times to the millisecond). The k are delta-encoded once (values) or twice
  (times, which advance by a near-constant step), packed at the narrowest of 1, 2, 4
  or 8 bytes, bytes transposed (all first bytes, then all second bytes, ...) and
  deflated. A steady 10-second clock costs almost nothing; a value at 0.1 precision
  about one to two bytes.
- binary: every value is k / 2**e (an unrounded `time.time()` is an exact multiple of
  2**-22 until 2038), then as above.
- raw: the IEEE doubles, bytes transposed and deflated (full-precision means).

Decoding gives back the very same floats (checked when encoding: k / 10**d is the
correctly rounded quotient, so it equals the float `round(x, d)` produced). Negative
zero, NaN and infinities take the raw form. Everything is little-endian.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array
from collections.abc import Sequence
from itertools import accumulate, repeat
from operator import sub, truediv

FORMAT_VERSION = 1

DECIMAL, BINARY, RAW = 1, 2, 3
TIME_ORDER = 2  # deltas of deltas
VALUE_ORDER = 1

_DECIMALS = (0, 1, 2, 3, 4, 5, 6)  # the fewest places that are exact win
_BINARY_EXPONENTS = (22,)
_EXACT_LIMIT = 2**53  # larger integers are not all representable as doubles
_WIDTHS = (("b", 1, 2**7), ("h", 2, 2**15), ("i", 4, 2**31), ("q", 8, 2**63))
_LEVEL = 6
_HEADER = struct.Struct("<BI")  # format version, row count
_COLUMN = struct.Struct("<I")  # byte length of a column
_INT = struct.Struct("<q")
_LITTLE = sys.byteorder == "little"


class BlockError(ValueError):
    """The bytes are not a block this version can read."""


# -- encoding ------------------------------------------------------------------------------


def encode_block(columns: Sequence[Sequence[float]], orders: Sequence[int]) -> bytes:
    """Encode equally long columns; `orders[i]` is 2 for a time column, 1 otherwise.

    Raises TypeError or ValueError for a value that is not a float (nothing is stored).
    """
    count = len(columns[0]) if columns else 0
    parts = [_HEADER.pack(FORMAT_VERSION, count)]
    for values, order in zip(columns, orders, strict=True):
        if len(values) != count:
            raise ValueError("columns of one block must be equally long")
        encoded = encode_column(values, order)
        parts.append(_COLUMN.pack(len(encoded)))
        parts.append(encoded)
    return b"".join(parts)


def encode_column(values: Sequence[float], order: int) -> bytes:
    """One column in the first exact form of decimal, binary and raw."""
    floats = [float(value) for value in values]  # TypeError for None, as a REAL column
    if floats and _plain(floats):
        for decimals in _decimal_candidates(floats):
            integers = _scaled(floats, 10**decimals)
            if integers is not None:
                return _pack_integers(DECIMAL, decimals, integers, order)
        for exponent in _BINARY_EXPONENTS:
            integers = _scaled(floats, 2**exponent)
            if integers is not None:
                return _pack_integers(BINARY, exponent, integers, order)
    raw = array("d", floats)
    if not _LITTLE:
        raw.byteswap()
    return bytes((RAW, 0, 0, 8)) + _deflate(_transpose(raw.tobytes(), 8))


def _plain(floats: list[float]) -> bool:
    """No NaN, infinity or negative zero (which scaled integers cannot carry)."""
    if not all(map(math.isfinite, floats)):
        return False
    if 0.0 in floats:
        return not any(value == 0.0 and math.copysign(1.0, value) < 0 for value in floats)
    return True


def _decimal_candidates(floats: list[float]) -> list[int]:
    """Decimal places worth trying: those that are exact on a prefix of the column."""
    head = floats[:16]
    return [d for d in _DECIMALS if _scaled(head, 10**d) is not None]


def _scaled(floats: list[float], scale: int) -> list[int] | None:
    """The integers k with k / scale == value for every value, or None."""
    try:
        integers = [round(value * scale) for value in floats]
    except (OverflowError, ValueError):
        return None
    if max(integers) >= _EXACT_LIMIT or min(integers) <= -_EXACT_LIMIT:
        return None
    if list(map(truediv, integers, repeat(scale))) != floats:
        return None
    return integers


def _pack_integers(mode: int, parameter: int, integers: list[int], order: int) -> bytes:
    order = min(order, len(integers))
    heads: list[int] = []
    deltas = integers
    for _ in range(order):
        heads.append(deltas[0])
        deltas = list(map(sub, deltas[1:], deltas[:-1]))
    code, width = _width(deltas)
    packed = array(code, deltas)
    if not _LITTLE:
        packed.byteswap()
    header = bytes((mode, parameter, order, width)) + b"".join(map(_INT.pack, heads))
    return header + _deflate(_transpose(packed.tobytes(), width))


def _width(deltas: list[int]) -> tuple[str, int]:
    if not deltas:
        return "b", 1
    low, high = min(deltas), max(deltas)
    for code, width, limit in _WIDTHS:
        if -limit <= low and high < limit:
            return code, width
    raise ValueError("delta out of range")  # pragma: no cover - k is below 2**53


def _transpose(data: bytes, width: int) -> bytes:
    if width == 1:
        return data
    return b"".join(data[index::width] for index in range(width))


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# -- decoding ------------------------------------------------------------------------------


def block_count(block: bytes) -> int:
    """Rows in an encoded block."""
    return _read_header(block)[1]


def decode_columns(block: bytes, wanted: Sequence[int]) -> list[list[float]]:
    """The columns at the indexes in `wanted`, decoded; raises BlockError."""
    sections = _sections(block)
    try:
        return [_decode_column(sections[index]) for index in wanted]
    except IndexError as error:
        raise BlockError(f"no column {max(wanted)} in a block of {len(sections)}") from error


def _read_header(block: bytes) -> tuple[int, int]:
    if len(block) < _HEADER.size:
        raise BlockError("truncated block")
    version, count = _HEADER.unpack_from(block)
    if version != FORMAT_VERSION:
        raise BlockError(f"block format {version}, this version reads {FORMAT_VERSION}")
    return version, count


def _sections(block: bytes) -> list[memoryview]:
    _read_header(block)
    view = memoryview(block)
    offset = _HEADER.size
    sections = []
    while offset < len(view):
        (length,) = _COLUMN.unpack_from(view, offset)
        offset += _COLUMN.size
        if offset + length > len(view):
            raise BlockError("truncated column")
        sections.append(view[offset : offset + length])
        offset += length
    return sections


def _decode_column(section: memoryview) -> list[float]:
    mode, parameter, order, width = section[0], section[1], section[2], section[3]
    offset = 4 + 8 * order
    try:
        data = _untranspose(zlib.decompress(section[offset:], -15), width)
    except zlib.error as error:
        raise BlockError(f"damaged column: {error}") from error
    if mode == RAW:
        raw = array("d")
        raw.frombytes(data)
        if not _LITTLE:
            raw.byteswap()
        return raw.tolist()
    code = {1: "b", 2: "h", 4: "i", 8: "q"}.get(width)
    if code is None or len(data) % width:
        raise BlockError(f"damaged column: width {width}")
    packed = array(code)
    packed.frombytes(data)
    if not _LITTLE:
        packed.byteswap()
    integers: list[int] = packed.tolist()
    heads = [_INT.unpack_from(section, 4 + 8 * index)[0] for index in range(order)]
    for head in reversed(heads):
        integers = list(accumulate(integers, initial=head))
    if mode == DECIMAL:
        scale = 10**parameter
    elif mode == BINARY:
        scale = 2**parameter
    else:
        raise BlockError(f"unknown column form {mode}")
    return list(map(truediv, integers, repeat(scale)))


def _untranspose(data: bytes, width: int) -> bytes:
    if width == 1:
        return data
    count = len(data) // width
    out = bytearray(len(data))
    for index in range(width):
        out[index::width] = data[index * count : (index + 1) * count]
    return bytes(out)

"""Blocks give back the very floats they were given, in few bytes where values are
rounded, and refuse bytes they cannot read."""

from __future__ import annotations

import math
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostkeeper.core.blockcodec import (
    BINARY,
    DECIMAL,
    RAW,
    TIME_ORDER,
    VALUE_ORDER,
    BlockError,
    block_count,
    decode_columns,
    encode_block,
    encode_column,
)

T0 = 1_800_000_000.0


def _bits(values: list[float]) -> list[bytes]:
    return [struct.pack("<d", value) for value in values]


def _round_trip(times: list[float], values: list[float]) -> tuple[list[float], list[float]]:
    block = encode_block([times, values], [TIME_ORDER, VALUE_ORDER])
    assert block_count(block) == len(times)
    decoded_times, decoded_values = decode_columns(block, [0, 1])
    return decoded_times, decoded_values


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=60)
)
def test_any_finite_floats_round_trip_bit_for_bit(values: list[float]) -> None:
    times = [T0 + index for index in range(len(values))]
    decoded_times, decoded = _round_trip(times, values)
    assert _bits(decoded) == _bits(values)
    assert decoded_times == times


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=60), st.integers(0, 6))
def test_rounded_values_round_trip_and_take_the_decimal_form(
    integers: list[int], decimals: int
) -> None:
    values = [round(k / 10**decimals, decimals) for k in integers]
    assert encode_column(values, VALUE_ORDER)[0] == DECIMAL
    assert _round_trip([T0] * len(values), values)[1] == values


def test_special_values_keep_their_sign_and_kind() -> None:
    values = [0.0, -0.0, math.inf, -math.inf, 1e-310, 0.1]
    assert encode_column(values, VALUE_ORDER)[0] == RAW
    decoded = decode_columns(encode_block([values], [VALUE_ORDER]), [0])[0]
    assert _bits(decoded) == _bits(values)
    nan = decode_columns(encode_block([[math.nan, 1.0]], [VALUE_ORDER]), [0])[0]
    assert math.isnan(nan[0]) and nan[1] == 1.0


def test_unrounded_clock_times_take_the_binary_form() -> None:
    rng = random.Random(3)
    times = [T0 + index * 10 + rng.random() / 1000 for index in range(100)]
    assert encode_column(times, TIME_ORDER)[0] == BINARY
    assert _round_trip(times, [1.0] * 100)[0] == times


def test_a_collectors_day_costs_under_two_bytes_a_sample() -> None:
    # Times to the millisecond with a little jitter, values at 0.1 like cpu.percent.
    rng = random.Random(7)
    count = 720
    times = [round(T0 + index * 10 + rng.uniform(0, 0.004), 3) for index in range(count)]
    values = [round(min(max(rng.gauss(25, 8), 0), 100), 1) for _ in range(count)]
    block = encode_block([times, values], [TIME_ORDER, VALUE_ORDER])
    assert len(block) / count < 2.0
    assert _round_trip(times, values) == (times, values)


def test_a_single_row_and_wider_deltas_round_trip() -> None:
    assert _round_trip([T0], [5.0]) == ([T0], [5.0])
    values = [0.0, 1e12, -1e12, 3.0, 2**52, -(2**52)]
    assert _round_trip([T0 + i for i in range(6)], values)[1] == values


def test_none_is_refused_like_a_not_null_column() -> None:
    with pytest.raises(TypeError):
        encode_block([[T0, T0 + 1], [1.0, None]], [TIME_ORDER, VALUE_ORDER])  # type: ignore[list-item]


def test_damaged_or_foreign_bytes_raise_block_error() -> None:
    block = encode_block([[T0, T0 + 10], [1.5, 2.5]], [TIME_ORDER, VALUE_ORDER])
    with pytest.raises(BlockError, match="format"):
        decode_columns(b"\x09" + block[1:], [0])
    with pytest.raises(BlockError):
        decode_columns(block[:-3], [0, 1])
    with pytest.raises(BlockError, match="no column 2"):
        decode_columns(block, [2])
    with pytest.raises(BlockError, match="truncated"):
        block_count(b"\x01")

from __future__ import annotations

import gzip
import os
import random
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hostkeeper.adapters.gzipstream import GzipWriter, gzip_header


def sample(size: int) -> bytes:
    generator = random.Random(size)
    words = [f"word{index}".encode() for index in range(500)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(generator.choices(words, k=12)) + b"\n"
    return bytes(out[:size])


def compress(data: bytes, pool: ThreadPoolExecutor | None, chunk_size: int, pieces: int) -> bytes:
    output = bytearray()
    writer = GzipWriter(
        output.extend, 6, name=b"x.log", mtime=1234, pool=pool, chunk_size=chunk_size
    )
    step = max(len(data) // pieces, 1)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
    writer.close()
    assert writer.bytes_out == len(output)
    return bytes(output)


@pytest.mark.parametrize("size", [0, 1, 70_000, 1_000_003])
@pytest.mark.parametrize("threads", [0, 2])
def test_output_is_one_gzip_member_that_python_and_the_gzip_cli_read(
    tmp_path: Path, size: int, threads: int
) -> None:
    data = sample(size)
    pool = ThreadPoolExecutor(threads) if threads else None
    try:
        packed = compress(data, pool, chunk_size=64 * 1024, pieces=7)
    finally:
        if pool:
            pool.shutdown()
    assert gzip.decompress(packed) == data
    target = tmp_path / "x.gz"
    target.write_bytes(packed)
    subprocess.run(["gzip", "-t", str(target)], check=True)
    unpacked = subprocess.run(["gzip", "-dc", str(target)], check=True, capture_output=True)
    assert unpacked.stdout == data


def test_chunked_compression_ratio_stays_close_to_one_stream() -> None:
    data = sample(3_000_000)
    with ThreadPoolExecutor(2) as pool:
        chunked = compress(data, pool, chunk_size=256 * 1024, pieces=3)
    single = zlib.compress(data, 6)
    assert len(chunked) < len(single) * 1.02


def test_header_carries_name_mtime_and_unix() -> None:
    header = gzip_header(b"app.log", 1_700_000_000, 6)
    assert header[:3] == b"\x1f\x8b\x08" and header[3] == 0x08
    assert int.from_bytes(header[4:8], "little") == 1_700_000_000
    assert header[9] == 3 and header.endswith(b"app.log\x00")
    packed = compress(b"hello\n", None, 1024, 1)
    with gzip.GzipFile(fileobj=__import__("io").BytesIO(packed)) as handle:
        assert handle.read() == b"hello\n"
        assert handle.mtime == 1234


def test_the_level_is_explicit_and_checked() -> None:
    with pytest.raises(ValueError):
        GzipWriter(lambda _data: None, 10)
    fast = compress_level(sample(200_000), 1)
    best = compress_level(sample(200_000), 9)
    assert len(best) < len(fast)


def compress_level(data: bytes, level: int) -> bytes:
    output = bytearray()
    writer = GzipWriter(output.extend, level)
    writer.write(data)
    writer.close()
    return bytes(output)


def test_write_after_close_is_refused() -> None:
    writer = GzipWriter(lambda _data: None, 6)
    writer.close()
    with pytest.raises(ValueError):
        writer.write(b"x")
    assert os.cpu_count()

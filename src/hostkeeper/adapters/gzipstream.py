"""gzip output that can use several cores, the way pigz does.

The input is cut into chunks; each chunk is deflated on a thread pool (zlib releases the
GIL) with the previous chunk's last 32 KiB as its dictionary and ends with a sync flush,
so the concatenated pieces form one ordinary deflate stream inside one gzip member. Any
gzip reader (gzip, zcat, Python's gzip and tarfile) reads the result. The compression
level is always explicit: Python's gzip module would default to 9.
"""

from __future__ import annotations

import collections
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import Executor, Future

DEFAULT_LEVEL = 6
CHUNK_SIZE = 1 << 20
WINDOW = 32 * 1024
_OS_UNIX = 3
_FNAME = 0x08


def gzip_header(name: bytes = b"", mtime: int = 0, level: int = DEFAULT_LEVEL) -> bytes:
    """An RFC 1952 member header; `name` is the original file name (may be empty)."""
    flags = _FNAME if name else 0
    extra = 2 if level >= 9 else 4 if level <= 1 else 0
    header = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime & 0xFFFFFFFF)
    header += bytes([extra, _OS_UNIX])
    if name:
        header += name.replace(b"\x00", b"_") + b"\x00"
    return header


def _deflate_chunk(data: bytes, dictionary: bytes | None, level: int) -> bytes:
    if dictionary:
        compressor = zlib.compressobj(
            level, zlib.DEFLATED, -zlib.MAX_WBITS, 8, zlib.Z_DEFAULT_STRATEGY, dictionary
        )
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class GzipWriter:
    """Write one gzip member to `write` (a callable taking bytes).

    Without `pool` the data is deflated on the calling thread as one stream; with a pool,
    in `chunk_size` pieces on the pool's threads, at most `2 * workers` pieces in flight.
    `close()` ends the member; it does not close the underlying file.
    """

    def __init__(
        self,
        write: Callable[[bytes], object],
        level: int = DEFAULT_LEVEL,
        *,
        name: bytes = b"",
        mtime: int = 0,
        pool: Executor | None = None,
        workers: int = 2,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if not 0 <= level <= 9:
            raise ValueError("gzip level must be 0-9")
        self._write = write
        self.level = level
        self._pool = pool
        self._in_flight = max(2 * workers, 2)
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._pending: collections.deque[Future[bytes]] = collections.deque()
        self._dictionary: bytes | None = None
        self._crc = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self._closed = False
        self._stream = None if pool else zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        self._emit(gzip_header(name, mtime, level))

    def _emit(self, data: bytes) -> None:
        if data:
            self._write(data)
            self.bytes_out += len(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed GzipWriter")
        size = len(data)
        if not size:
            return 0
        self.bytes_in += size
        if self._stream is not None:
            self._crc = zlib.crc32(data, self._crc)
            self._emit(self._stream.compress(data))
            return size
        if not self._buffer and size == self._chunk_size:
            self._submit(bytes(data))  # the common case: whole chunks read from a file
            return size
        self._buffer += data
        while len(self._buffer) >= self._chunk_size:
            chunk = bytes(self._buffer[: self._chunk_size])
            del self._buffer[: self._chunk_size]
            self._submit(chunk)
        return size

    def _submit(self, chunk: bytes) -> None:
        assert self._pool is not None
        self._crc = zlib.crc32(chunk, self._crc)
        future = self._pool.submit(_deflate_chunk, chunk, self._dictionary, self.level)
        self._dictionary = chunk[-WINDOW:]
        self._pending.append(future)
        while len(self._pending) >= self._in_flight:
            self._emit(self._pending.popleft().result())

    def close(self) -> None:
        """Flush everything and write the member's trailer (CRC-32 and length)."""
        if self._closed:
            return
        if self._stream is not None:
            self._emit(self._stream.flush(zlib.Z_FINISH))
        else:
            if self._buffer:
                self._submit(bytes(self._buffer))
                self._buffer.clear()
            while self._pending:
                self._emit(self._pending.popleft().result())
            # An empty final block closes the stream the sync-flushed chunks left open.
            final = zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._emit(final.compress(b"") + final.flush(zlib.Z_FINISH))
        self._emit(struct.pack("<II", self._crc & 0xFFFFFFFF, self.bytes_in & 0xFFFFFFFF))
        self._closed = True

    def abandon(self) -> None:
        """Stop without writing more (after an error); waits for queued chunks."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._closed = True


class StreamWriter:
    """A minimal binary file object over GzipWriter, for tarfile's stream mode."""

    def __init__(self, writer: GzipWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> int:
        return self._writer.write(data)

    def tell(self) -> int:
        return self._writer.bytes_in

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

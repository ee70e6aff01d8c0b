"""Sealed blocks of metric rows beside the open rows of the `samples` and `rollups` tables.

Each series keeps its newest rows as plain rows (the open block: one INSERT per
collection round, nothing lost in a crash) and every older, complete time window as one
`metric_blocks` row encoded by core/blockcodec.py. Sealing moves a window's plain rows
into its block, merging with a block already there (late rows), in the caller's
transaction. Readers merge both, so a store is correct at every point of the way,
including one migrated from 0002 whose rows are sealed by housekeeping in bounded
batches (`seal_due`).

A `Layout` says which plain table a resolution lives in and how wide its windows are;
rows are tuples whose first element is the epoch time, in the table's column order.

Kept whole: reading, sealing and trimming share the window arithmetic of a Layout;
apart they could disagree on where a window ends.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, and_, delete, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from hostkeeper.adapters.store.schema import metric_blocks, rollups, samples
from hostkeeper.core.blockcodec import TIME_ORDER, VALUE_ORDER, decode_columns, encode_block

Row = tuple[float, ...]


@dataclass(frozen=True)
class Layout:
    """Where rows of one resolution live: plain table, its columns, the window width."""

    resolution: int  # 0 = raw samples
    window: float  # seconds a block spans, aligned to the epoch

    @property
    def table(self) -> Any:
        return samples if self.resolution == 0 else rollups

    @property
    def columns(self) -> list[Column[Any]]:
        table = self.table
        if self.resolution == 0:
            return [table.c.ts, table.c.value]
        return [table.c.ts, table.c.min, table.c.mean, table.c.max, table.c.count]

    @property
    def orders(self) -> tuple[int, ...]:
        return (TIME_ORDER,) + (VALUE_ORDER,) * (len(self.columns) - 1)

    def plain(self, series_id: Any) -> ColumnElement[bool]:
        """Rows of `series_id` (an id or an IN-able selection) in the plain table."""
        table = self.table
        match: ColumnElement[bool] = (
            table.c.series_id.in_(series_id)
            if not isinstance(series_id, int)
            else table.c.series_id == series_id
        )
        if self.resolution == 0:
            return match
        return and_(match, table.c.resolution == self.resolution)

    def blocks(self, series_id: Any) -> ColumnElement[bool]:
        match = (
            metric_blocks.c.series_id.in_(series_id)
            if not isinstance(series_id, int)
            else metric_blocks.c.series_id == series_id
        )
        return and_(match, metric_blocks.c.resolution == self.resolution)

    def window_of(self, ts: float) -> float:
        return math.floor(ts / self.window) * self.window

    def plain_row(self, series_id: int, row: Row) -> dict[str, Any]:
        names = [column.key for column in self.columns]
        values = dict(zip(names, row, strict=True))
        if self.resolution != 0:
            values["count"] = int(values["count"])
            values["resolution"] = self.resolution
        values["series_id"] = series_id
        return values


RAW_LAYOUT = Layout(0, 7200.0)  # two hours: 720 samples at 10 s, 7200 at 1 s
LAYOUTS = {
    0: RAW_LAYOUT,
    300: Layout(300, 86400.0),  # a day of 5-minute buckets
    3600: Layout(3600, 7 * 86400.0),  # a week of hourly buckets
}


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """[start, end) or [start, end]; None is unbounded."""

    start: float | None
    end: float | None
    end_inclusive: bool = False

    def slice(self, times: Sequence[float]) -> tuple[int, int]:
        low = 0 if self.start is None else bisect.bisect_left(times, self.start)
        if self.end is None:
            high = len(times)
        elif self.end_inclusive:
            high = bisect.bisect_right(times, self.end)
        else:
            high = bisect.bisect_left(times, self.end)
        return low, high


def _block_query(layout: Layout, series_id: int, span: Span, *wanted: Any) -> Any:
    query = select(*wanted).where(layout.blocks(series_id))
    if span.start is not None:
        query = query.where(metric_blocks.c.window_start > span.start - layout.window)
    if span.end is not None:
        query = query.where(
            metric_blocks.c.window_start <= span.end
            if span.end_inclusive
            else metric_blocks.c.window_start < span.end
        )
    return query.order_by(metric_blocks.c.window_start)


def _plain_query(layout: Layout, series_id: int, span: Span) -> Any:
    ts = layout.table.c.ts
    query = select(*layout.columns).where(layout.plain(series_id))
    if span.start is not None:
        query = query.where(ts >= span.start)
    if span.end is not None:
        query = query.where(ts <= span.end if span.end_inclusive else ts < span.end)
    return query.order_by(ts)


def read_rows(connection: Connection, layout: Layout, series_id: int, span: Span) -> list[Row]:
    """Every row of one series in `span`, blocks and plain rows merged, oldest first."""
    rows: list[Row] = []
    indexes = list(range(len(layout.columns)))
    for (data,) in connection.execute(_block_query(layout, series_id, span, metric_blocks.c.data)):
        columns = decode_columns(data, indexes)
        low, high = span.slice(columns[0])
        rows.extend(zip(*(column[low:high] for column in columns), strict=True))
    plain = [tuple(row) for row in connection.execute(_plain_query(layout, series_id, span))]
    return _merged(rows, plain)


def read_values(connection: Connection, layout: Layout, series_id: int, span: Span) -> list[float]:
    """The second column (the value) of one series' rows in `span`, in time order.

    The hot path of baseline updates: a block wholly inside the span is decoded without
    its times.
    """
    found: list[float] = []
    times_seen: list[tuple[float, float]] = []  # (first, last) of each block read
    query = _block_query(
        layout,
        series_id,
        span,
        metric_blocks.c.first_ts,
        metric_blocks.c.last_ts,
        metric_blocks.c.data,
    )
    for first, last, data in connection.execute(query):
        inside = (span.start is None or first >= span.start) and (
            span.end is None or (last <= span.end if span.end_inclusive else last < span.end)
        )
        if inside:
            found.extend(decode_columns(data, [1])[0])
        else:
            times, values = decode_columns(data, [0, 1])
            low, high = span.slice(times)
            found.extend(values[low:high])
        times_seen.append((first, last))
    plain = connection.execute(_plain_query(layout, series_id, span)).all()
    if not plain:
        return found
    if not times_seen or plain[0][0] > times_seen[-1][1]:
        found.extend(row[1] for row in plain)
        return found
    # Plain rows among sealed ones (late samples not sealed yet): merge by time.
    rows = read_rows(connection, layout, series_id, span)
    return [row[1] for row in rows]


def _merged(sealed: list[Row], plain: list[Row]) -> list[Row]:
    if not plain:
        return sealed
    if not sealed or plain[0][0] > sealed[-1][0]:
        return sealed + plain
    return sorted(sealed + plain, key=_time)


def _time(row: Row) -> float:
    return row[0]


def latest_row(connection: Connection, layout: Layout, series_id: int) -> Row | None:
    """The newest row of one series, sealed or plain."""
    ts = layout.table.c.ts
    plain = connection.execute(
        select(*layout.columns).where(layout.plain(series_id)).order_by(ts.desc()).limit(1)
    ).first()
    block = connection.execute(
        select(metric_blocks.c.last_ts, metric_blocks.c.data)
        .where(layout.blocks(series_id))
        .order_by(metric_blocks.c.window_start.desc())
        .limit(1)
    ).first()
    if block is not None and (plain is None or block.last_ts > plain[0]):
        columns = decode_columns(block.data, list(range(len(layout.columns))))
        return tuple(column[-1] for column in columns)
    return None if plain is None else tuple(plain)


def oldest_time(connection: Connection, layout: Layout, series_ids: Any) -> float | None:
    """The oldest row time of the given series (an IN-able selection of ids)."""
    return _bound(connection, layout, series_ids, func.min, metric_blocks.c.first_ts, min)


def newest_time(connection: Connection, layout: Layout, series_ids: Any) -> float | None:
    return _bound(connection, layout, series_ids, func.max, metric_blocks.c.last_ts, max)


def _bound(
    connection: Connection,
    layout: Layout,
    series_ids: Any,
    aggregate: Any,
    block_column: Any,
    pick: Any,
) -> float | None:
    # One MIN/MAX-optimized lookup per series on its index rather than one scan of all.
    found = []
    for series_id in connection.execute(series_ids).scalars():
        for query in (
            select(aggregate(block_column)).where(layout.blocks(series_id)),
            select(aggregate(layout.table.c.ts)).where(layout.plain(series_id)),
        ):
            value = connection.execute(query).scalar()
            if value is not None:
                found.append(float(value))
    return pick(found) if found else None


# -- writing -------------------------------------------------------------------------------


def seal_rows(connection: Connection, layout: Layout, series_id: int, rows: Iterable[Row]) -> int:
    """Store `rows` of one series in their windows' blocks, merging with what is sealed."""
    by_window: dict[float, list[Row]] = {}
    for row in rows:
        by_window.setdefault(layout.window_of(row[0]), []).append(row)
    if not by_window:
        return 0
    existing = {
        window_start: data
        for window_start, data in connection.execute(
            select(metric_blocks.c.window_start, metric_blocks.c.data).where(
                layout.blocks(series_id),
                metric_blocks.c.window_start >= min(by_window),
                metric_blocks.c.window_start <= max(by_window),
            )
        )
    }
    indexes = list(range(len(layout.columns)))
    inserts = []
    for window_start, new in by_window.items():
        new.sort(key=_time)
        data = existing.get(window_start)
        if data is None:
            inserts.append(_block_values(layout, series_id, window_start, new))
            continue
        old = list(zip(*decode_columns(data, indexes), strict=True))
        merged = _merged(old, new)
        connection.execute(
            update(metric_blocks)
            .where(layout.blocks(series_id), metric_blocks.c.window_start == window_start)
            .values(_block_values(layout, series_id, window_start, merged))
        )
    if inserts:
        connection.execute(insert(metric_blocks), inserts)
    return sum(len(new) for new in by_window.values())


def _block_values(
    layout: Layout, series_id: int, window_start: float, rows: Sequence[Row]
) -> dict[str, Any]:
    columns = [list(column) for column in zip(*rows, strict=True)]
    return {
        "series_id": series_id,
        "resolution": layout.resolution,
        "window_start": window_start,
        "first_ts": rows[0][0],
        "last_ts": rows[-1][0],
        "count": len(rows),
        "data": encode_block(columns, layout.orders),
    }


def seal_plain(
    connection: Connection,
    layout: Layout,
    series_id: int,
    before: float,
    extra: Sequence[Row] = (),
    limit: int | None = None,
) -> tuple[int, bool]:
    """Seal the plain rows of one series older than `before` (a window start) together
    with `extra` rows; (rows sealed, whether older plain rows remain).

    With `limit`, at most about that many plain rows are moved (whole windows, at least
    one), so a store migrated with millions of rows is sealed in bounded transactions.
    """
    ts = layout.table.c.ts
    query = select(*layout.columns).where(layout.plain(series_id), ts < before).order_by(ts)
    plain = [tuple(row) for row in connection.execute(query.limit(limit) if limit else query)]
    remaining = False
    if limit is not None and len(plain) >= limit:
        cut = layout.window_of(plain[-1][0])
        if cut <= plain[0][0]:  # one window holds more than `limit`: take all of it
            cut = layout.window_of(plain[0][0]) + layout.window
            plain = [tuple(row) for row in connection.execute(query.where(ts < cut))]
        else:
            plain = [row for row in plain if row[0] < cut]
        before, remaining = cut, True
    if plain:
        connection.execute(
            delete(layout.table).where(layout.plain(series_id), ts >= plain[0][0], ts < before)
        )
    sealed = seal_rows(connection, layout, series_id, [*plain, *extra])
    return sealed, remaining


def delete_span(connection: Connection, layout: Layout, series_id: int, span: Span) -> int:
    """Delete one series' rows in `span`, sealed and plain; rows deleted."""
    deleted = 0
    blocks = connection.execute(
        _block_query(
            layout,
            series_id,
            span,
            metric_blocks.c.window_start,
            metric_blocks.c.first_ts,
            metric_blocks.c.last_ts,
            metric_blocks.c.count,
            metric_blocks.c.data,
        )
    ).all()
    whole = []
    indexes = list(range(len(layout.columns)))
    for window_start, first, last, count, data in blocks:
        low_in = span.start is None or first >= span.start
        high_in = span.end is None or (last <= span.end if span.end_inclusive else last < span.end)
        if low_in and high_in:
            whole.append(window_start)
            deleted += count
            continue
        columns = decode_columns(data, indexes)
        low, high = span.slice(columns[0])
        if low == high:
            continue
        kept = [column[:low] + column[high:] for column in columns]
        deleted += high - low
        where = and_(layout.blocks(series_id), metric_blocks.c.window_start == window_start)
        if not kept[0]:
            connection.execute(delete(metric_blocks).where(where))
            continue
        rows = list(zip(*kept, strict=True))
        connection.execute(
            update(metric_blocks)
            .where(where)
            .values(_block_values(layout, series_id, window_start, rows))
        )
    if whole:
        connection.execute(
            delete(metric_blocks).where(
                layout.blocks(series_id), metric_blocks.c.window_start.in_(whole)
            )
        )
    ts = layout.table.c.ts
    condition = layout.plain(series_id)
    if span.start is not None:
        condition = and_(condition, ts >= span.start)
    if span.end is not None:
        condition = and_(condition, ts <= span.end if span.end_inclusive else ts < span.end)
    result = connection.execute(delete(layout.table).where(condition))
    return deleted + max(int(result.rowcount or 0), 0)


def oldest_plain(
    connection: Connection, layout: Layout, series_id: int, before: float
) -> float | None:
    """The time of the oldest plain row of one series before `before`, if any."""
    oldest = connection.execute(
        select(func.min(layout.table.c.ts)).where(
            layout.plain(series_id), layout.table.c.ts < before
        )
    ).scalar()
    return None if oldest is None else float(oldest)

"""Arrow batches → CSV chunks for `COPY … FROM STDIN`, produced in a background thread.

Reading a file (GDAL, in C) and encoding it as CSV (Arrow, in C) happen on the client while PostgreSQL
parses the previous chunk on the server: with a thread in between, the two overlap instead of taking turns.
Both sides release the GIL, so the thread costs no Python contention. The thread never touches the
database; the caller's thread alone writes to the COPY, keeping the connection single-threaded.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.utils import translation

from layers.importers.base import GEOM

# Two lower-case hex digits for every byte value: hexing WKB becomes one table lookup over the whole buffer.
_HEX = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), np.uint8).reshape(256, 2)
# Rows per batch: small enough that the server starts parsing soon after the file is opened (the first batch
# is the only one it waits for), large enough that per-batch overhead stays negligible.
BATCH_ROWS = 20_000
# Chunks waiting for the COPY: enough to keep the server busy, few enough to bound memory (~2 batches).
QUEUE_DEPTH = 2


def wkb_hex(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Hex text of every WKB value (null stays null), vectorised: what COPY's geometry input reads."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_large_binary(arr.type):
        arr = arr.cast(pa.binary())
    n = len(arr)
    _validity, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, np.int32, count=n + 1, offset=arr.offset * 4)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, np.uint8, count=end - start, offset=start) if end > start else np.empty(0, np.uint8)
    hexed = _HEX[data].reshape(-1)
    out = pa.StringArray.from_buffers(n, pa.py_buffer((offsets - start) * 2), pa.py_buffer(hexed))
    if arr.null_count:
        out = pc.if_else(arr.is_null(), pa.scalar(None, pa.string()), out)
    return out


def pg_type(t: pa.DataType) -> str:
    """The staging column type of an Arrow type (anything unusual travels as text)."""
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "double precision"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    return "text"


def csv_chunk(table: pa.Table, first_row: int, fields: list[str], columns: list[str]) -> bytes:
    """One batch as CSV rows `_row, _geom (hex WKB), <fields>` (a field missing from the batch is empty)."""
    n = table.num_rows
    cols = [pa.array(np.arange(first_row, first_row + n, dtype=np.int64)), wkb_hex(table[GEOM])]
    for name in fields:
        col = table[name] if name in table.column_names else pa.nulls(n)
        if pg_type(col.type) == "text" and not pa.types.is_string(col.type):
            col = col.cast(pa.string()) if not pa.types.is_null(col.type) else pa.nulls(n, pa.string())
        cols.append(col)
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(cols, names=columns), buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def csv_chunks(
    batches: Iterable[pa.Table], fields: list[str], columns: list[str]
) -> Generator[tuple[bytes, int], None, None]:
    """(CSV bytes, rows) per batch, read and encoded one batch ahead in a worker thread.

    An error in the worker (a damaged file) is raised here, in the caller's thread, as it was raised there.
    Closing this generator early (the COPY failed) stops the worker at its next batch.
    """
    out: queue.Queue[tuple[str, Any]] = queue.Queue(QUEUE_DEPTH)
    stop = threading.Event()
    language = translation.get_language()  # messages of a refused file speak the caller's language

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        with translation.override(language):
            tables = iter(batches)
            try:
                row = 1
                for table in tables:
                    chunk = csv_chunk(table, row, fields, columns)
                    row += table.num_rows
                    if not put(("chunk", (chunk, table.num_rows))):
                        return
                put(("done", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, raised there
                put(("error", exc))
            finally:
                close = getattr(tables, "close", None)
                if close is not None:
                    close()  # the GDAL dataset is released in the thread that read it

    worker = threading.Thread(target=work, name="import-reader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = out.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()

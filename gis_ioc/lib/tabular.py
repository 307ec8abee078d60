"""The one writer of CSV and XLSX files: every export of the platform goes through it.

Both writers take typed Python values and keep their types: numbers stay numbers (a real -5 is a
number a spreadsheet can sum), dates stay dates. Text is what strangers typed (an Open311 description,
an imported attribute), so a text cell that a spreadsheet would run as a formula (it starts with
``= + - @``, a tab or a carriage return) is neutralised:

* CSV carries no types, so the text gets a leading apostrophe (``'=HYPERLINK(…)``, ``'-5``): Excel and
  LibreOffice then read it as text, never as a formula or a number.
* XLSX does carry types: the text is written unchanged as a string cell with Excel's own "quote prefix"
  flag (what Excel stores when a person types a leading apostrophe), so the cell shows the citizen's
  words exactly and stays text even when someone edits it. (openpyxl alone would store any string
  starting with "=" as a live formula.)

Usage (the same for both formats)::

    writer = tabular.writer_for("xlsx")(["code", "value"], title="Chỉ tiêu")
    writer.extend(rows)
    writer.save(path_or_binary_file)

CSV can also stream: ``drain()`` returns what was appended since the last call (the first call
starts with the UTF-8 BOM and the header), see ``stream_csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import numbers
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar

from django.utils import timezone

# What spreadsheets start a formula (or a DDE command) with; tab and CR hide such a prefix from view.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses longer cells ("32,767 characters"); a longer text is cut and marked.
XLSX_MAX_CELL = 32_767
# Control characters XML 1.0 cannot hold: openpyxl raises on them, which would fail the whole export.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
BOM = "\ufeff"  # Excel reads UTF-8 (Vietnamese) correctly only with it
CSV_BATCH_ROWS = 1000


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would read this text as a formula (or a signed number)."""
    return text[:1] in FORMULA_PREFIXES


def neutralise(text: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would otherwise evaluate it."""
    return "'" + text if is_formula_like(text) else text


def _is_number(value: Any) -> bool:
    # bool is a number for Python but a word in a table; numpy scalars register as numbers.Number.
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


class TableWriter:
    """One table (a header row, then rows of typed values) written as one file."""

    format: ClassVar[str]
    extension: ClassVar[str]
    content_type: ClassVar[str]

    def __init__(self, headers: Sequence[str], *, title: str = "") -> None:
        self.headers = [str(h) for h in headers]
        self.title = title

    def append(self, row: Sequence[Any]) -> None:
        """Add one row (values in header order)."""
        raise NotImplementedError

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add many rows."""
        for row in rows:
            self.append(row)

    def save(self, target: str | Path | IO[bytes]) -> None:
        """Write the whole file to a path or a binary file object."""
        raise NotImplementedError

    def getvalue(self) -> bytes:
        """The whole file as bytes (small tables: dashboard downloads)."""
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()


class CSVWriter(TableWriter):
    """UTF-8 CSV with a BOM; text cells neutralised with a leading apostrophe."""

    format = "csv"
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def __init__(self, headers: Sequence[str], *, title: str = "") -> None:
        super().__init__(headers, title=title)
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf)
        self._buf.write(BOM)
        self._csv.writerow([neutralise(h) for h in self.headers])
        self._chunks: list[bytes] = []

    @staticmethod
    def cell(value: Any) -> Any:
        """The value as the csv module should write it: numbers as they are, text neutralised."""
        if value is None:
            return ""
        if _is_number(value):
            return value
        return neutralise(str(value))  # dates and times start with a digit: unchanged

    def append(self, row: Sequence[Any]) -> None:
        """Add one row (values in header order)."""
        self._csv.writerow([self.cell(v) for v in row])

    def drain(self) -> bytes:
        """The bytes appended since the last drain (the first time: BOM and header too), for streaming."""
        data = self._buf.getvalue().encode("utf-8")
        self._buf.seek(0)
        self._buf.truncate()
        return data

    def save(self, target: str | Path | IO[bytes]) -> None:
        """Write what has not been drained yet to a path or a binary file object."""
        data = self.drain()
        if isinstance(target, str | Path):
            Path(target).write_bytes(data)
        else:
            target.write(data)


class XLSXWriter(TableWriter):
    """An Excel workbook of one sheet, written row by row (openpyxl write-only: memory stays flat)."""

    format = "xlsx"
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, headers: Sequence[str], *, title: str = "") -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        super().__init__(headers, title=title)
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(sheet_title(title))
        # Widths and frozen header must be set before the first row in write-only mode.
        for i, header in enumerate(self.headers, start=1):
            letter = _column_letter(i)
            self._ws.column_dimensions[letter].width = min(50, max(10, len(header) + 2))
        self._ws.freeze_panes = "A2"
        bold = Font(bold=True)
        cells = [self._cell(h) for h in self.headers]
        for c in cells:
            c.font = bold
        self._ws.append(cells)

    def _cell(self, value: Any) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if value is None or _is_number(value) or isinstance(value, bool):
            return value
        if isinstance(value, dt.datetime):
            # Excel has no time zones: the district's wall-clock time (TIME_ZONE) is what a reader expects.
            naive = timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
            cell = WriteOnlyCell(self._ws, value=naive)
            cell.number_format = "DD/MM/YYYY HH:MM"
            return cell
        if isinstance(value, dt.date):
            cell = WriteOnlyCell(self._ws, value=value)
            cell.number_format = "DD/MM/YYYY"
            return cell
        text = _XML_ILLEGAL.sub("", str(value))
        if len(text) > XLSX_MAX_CELL:
            text = text[: XLSX_MAX_CELL - 1] + "…"
        cell = WriteOnlyCell(self._ws, value=text)
        if is_formula_like(text):
            cell.data_type = "s"  # openpyxl made it a formula ("f"): it is the citizen's text
            cell.quotePrefix = True
        return cell

    def append(self, row: Sequence[Any]) -> None:
        """Add one row (values in header order)."""
        self._ws.append([self._cell(v) for v in row])

    def save(self, target: str | Path | IO[bytes]) -> None:
        """Write the workbook to a path or a binary file object (once: write-only workbooks close)."""
        self._wb.save(target)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def sheet_title(title: str) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, never empty."""
    cleaned = _SHEET_ILLEGAL.sub("-", _XML_ILLEGAL.sub("", title)).strip("' ")
    return cleaned[:31] or "data"


WRITERS: dict[str, type[TableWriter]] = {"csv": CSVWriter, "xlsx": XLSXWriter}


def writer_for(fmt: str) -> type[TableWriter]:
    """The writer class of a format name ("csv" or "xlsx"); KeyError for anything else."""
    return WRITERS[fmt.lower()]


def stream_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = CSV_BATCH_ROWS) -> Iterator[bytes]:
    """A CSV file as chunks of bytes (header first), for a StreamingHttpResponse."""
    writer = CSVWriter(headers)
    yield writer.drain()
    pending = 0
    for row in rows:
        writer.append(row)
        pending += 1
        if pending >= batch:
            yield writer.drain()
            pending = 0
    if pending:
        yield writer.drain()

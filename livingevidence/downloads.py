"""Downloads made for spreadsheets: CSV cells that a spreadsheet would run as a formula are neutralised.

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some treat a leading tab or carriage return the same way), so a contributor's ``=HYPERLINK(...)`` or
``+cmd|' /C calc'!A0`` would run on a reader's machine when the zip download is opened. Following OWASP's advice
on CSV injection, such a cell gets a leading apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as text;
numbers such as ``-2.5`` or ``+3`` are left alone. Only the CSV files inside the download zips are changed: the
data package itself (``datapackage/``, ``downloads/datapackage.json``, the API) keeps the data as entered, and the
validator warns about each such cell (rule ``spreadsheet-formula``).
"""

from __future__ import annotations

import csv
import io
import re

__all__ = ["FORMULA_START", "is_formula", "spreadsheet_safe_csv"]

#: The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Where a cell starts (the text's start, after a delimiter or a line end, after an opening quote) with one of them.
_CELL_START = re.compile(r'(?:\A|[,\r\n])"?[=+\-@\t\r]')


def is_formula(cell: str) -> bool:
    """True when a spreadsheet would read ``cell`` as a formula: it starts with one of FORMULA_START and is
    not a plain number."""
    return cell.startswith(FORMULA_START) and _NUMBER.fullmatch(cell) is None


def _neutralise(cell: str) -> str:
    return "'" + cell if is_formula(cell) else cell


def spreadsheet_safe_csv(text: str) -> str:
    """The CSV text with every formula cell prefixed by an apostrophe; records without one keep their bytes.

    A record with a formula cell is written again by the csv module (minimal quoting, the record's own line
    end). Text that is not valid CSV is returned unchanged (validation has refused it already).
    """
    if _CELL_START.search(text) is None:
        return text  # the usual case: no cell starts with a formula character
    lines = _physical_lines(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[str] = []
    start = 0
    try:
        for record in reader:
            end = reader.line_num
            original = "".join(lines[start:end])
            start = end
            if not any(is_formula(c) for c in record):
                out.append(original)
                continue
            ending = original[len(original.rstrip("\r\n")) :]
            buffer = io.StringIO()
            # A "\r\n" terminator makes the writer quote cells holding either character; the record then gets
            # its own line end back.
            csv.writer(buffer, lineterminator="\r\n").writerow([_neutralise(c) for c in record])
            out.append(buffer.getvalue()[:-2] + ending)
    except csv.Error:
        return text
    out.extend(lines[start:])
    return "".join(out)


def _physical_lines(text: str) -> list[str]:
    r"""Lines split at \r\n, \r and \n only, as the csv module counts them."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+", text)

"""Results shown as tables: a notebook renders them as a table in JupyterLab, the HTML and the PDF.

A chapter's cell ends with ``gaedu.results({...})`` where it would otherwise end with a
dict: a name for each measured value, and the value. Nested dicts become a table with
one row per outer key and one column per inner key::

    gaedu.results({"plain": {"steps": 120, "PSNR (dB)": 21.3},
                   "momentum": {"steps": 40, "PSNR (dB)": 21.4}})

``gaedu.table(rows, columns)`` is the general form: a list of dicts, and the columns to
show with a format for each (``{"PSNR (dB)": "{:.2f}"}``). Both return a :class:`Table`,
which IPython displays through its Markdown representation (myst-nb renders it in the
book's pages and PDF) and a terminal prints as aligned text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

__all__ = ["Table", "results", "spread", "table"]


def _text(value) -> str:
    """A cell's text: floats with up to 4 significant digits, NaN as a dash, the rest as str()."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        value = float(value)
        if math.isnan(value):
            return "—"
        if value == 0 or 1e-4 <= abs(value) < 1e6:
            return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
        return f"{value:.2e}"
    if hasattr(value, "tolist"):  # a tensor or array: its values, not its repr
        return _text(value.tolist())
    if isinstance(value, tuple | list):
        return ", ".join(_text(v) for v in value)
    return str(value)


class Table:
    """A table with a header row: ``_repr_markdown_`` for notebooks, aligned text for ``repr``."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]]):
        header = [str(h) for h in header]
        rows = [[str(c) for c in row] for row in rows]
        if not header:
            raise ValueError("a table needs at least one column")
        for row in rows:
            if len(row) != len(header):
                raise ValueError(f"a row has {len(row)} cells, the header {len(header)}: {row!r}")
        self.header, self.rows = header, rows

    def _repr_markdown_(self) -> str:
        def line(cells):
            return "| " + " | ".join(c.replace("|", r"\|").replace("\n", " ") for c in cells) + " |"

        rule = "|" + "|".join("---" for _ in self.header) + "|"
        return "\n".join([line(self.header), rule, *(line(row) for row in self.rows)])

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))]

        def line(cells):
            return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        return "\n".join([line(self.header), "-+-".join("-" * w for w in widths), *(line(r) for r in self.rows)])

    def __eq__(self, other) -> bool:
        return isinstance(other, Table) and (self.header, self.rows) == (other.header, other.rows)

    __hash__ = None


def table(rows: Sequence[Mapping], columns: Mapping[str, str] | Sequence[str] | None = None) -> Table:
    """A table from a list of dicts (or a pandas DataFrame); ``columns`` names the keys to show, with a format for each.

    Without ``columns`` every key of the first row is shown, each value formatted as
    :func:`results` formats it. A NaN shows as a dash whatever its format.
    """
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame: its index is the first column
        frame = rows if type(rows.index).__name__ == "RangeIndex" else rows.reset_index()
        rows = frame.rename(columns={"index": ""}).to_dict("records")
    rows = list(rows)
    if columns is None:
        if not rows:
            raise ValueError("an empty table needs its columns")
        columns = list(rows[0])
    if not isinstance(columns, Mapping):
        columns = {name: None for name in columns}
    body = []
    for row in rows:
        missing = [name for name in columns if name not in row]
        if missing:
            raise KeyError(f"a row has no {missing[0]!r}: {dict(row)!r}")
        cells = []
        for name, fmt in columns.items():
            value = row[name]
            nan = isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(value)
            cells.append("—" if nan else _text(value) if fmt is None else fmt.format(value))
        body.append(cells)
    return Table(list(columns), body)


def results(values: Mapping) -> Table:
    """A table of named results: a row per key; nested dicts spread over columns."""
    if not isinstance(values, Mapping) or not values:
        raise ValueError("results() takes a non-empty dict of name -> value")
    if all(isinstance(v, Mapping) for v in values.values()):
        columns = list(dict.fromkeys(k for v in values.values() for k in v))
        rows = [[_text(name)] + [_text(v[c]) if c in v else "" for c in columns] for name, v in values.items()]
        return Table(["", *map(str, columns)], rows)
    return Table(["", "value"], [[_text(name), _text(v)] for name, v in values.items()])


def spread(values, digits: int = 2) -> str:
    """"mean ± standard deviation" of a few numbers (one per seed; the sample standard deviation)."""
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"a spread needs at least two values, got {len(values)}")
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"

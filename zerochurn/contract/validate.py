"""Load a raw data folder and check it against the data contract, reporting every problem.

`validate_dir` reads each table of `schema.TABLES` from `<name>.parquet` or `<name>.csv`,
normalises its columns (unique keys to `str`, other ids and text to categoricals of `str`,
dates to `datetime64[ns]`, money to `float64`, grades to scores) and runs every check of
docs/data-contract.md: the file, its columns, each value, then keys and dates across
tables. It never stops at the first problem. `load_raw` is the same, but raises
`DataValidationError` listing all of them.

All checks are vectorised (numpy, pandas, pyarrow compute) so that a folder with millions
of customers and tens of millions of transactions loads in seconds. Columns that repeat
few values (text, the customer_id of event tables, grades) are read dictionary-encoded
and only their distinct values are converted, and CSV dates are read as timestamps when
they all parse, so no table-long column of strings is built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_float_dtype,
    is_numeric_dtype,
)

from zerochurn.contract.dataset import RawData
from zerochurn.contract.derive import derive_customers as derive_customers_table
from zerochurn.contract.schema import (
    GRADE_SCORES,
    SURVEY_ITEMS,
    TABLE_SUFFIXES,
    TABLES,
    ColumnKind,
    ColumnSpec,
    TableSpec,
    data_as_of,
)

MAX_ROWS_SHOWN = 5
"""How many offending row numbers a Problem keeps."""

_MAX_VALUES_SHOWN = 3
_GRADES_EXPECTED = f"{', '.join(GRADE_SCORES)} or {', '.join(map(str, GRADE_SCORES.values()))}"
_DATE_EXPECTED = "an ISO 8601 date such as 2024-01-31 or 2024-01-31T09:30:00"
_DATE_RANGE_EXPECTED = f"a date between {pd.Timestamp.min:%Y-%m-%d} and {pd.Timestamp.max:%Y-%m-%d}"

_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {("surveys", "grade"): ("score",)}
"""Other names a column may have in the file: (table, column) -> alternative names."""

_UNIQUE_KEYS = {"customers": "customer_id", "complaints": "complaint_id"}
"""The column of each table whose values must be unique."""

_DATE_ORDER = {
    "customers": (("cancel_date", "signup_date"),),
    "complaints": (
        ("due_at", "opened_at"),
        ("resolved_at", "opened_at"),
        ("followed_up_at", "opened_at"),
    ),
}
"""Per table, (later, earlier) date columns of the same row: later may not be before earlier."""

REQUIRED_TABLES = {"customers", "transactions"}
"""Tables RawData cannot do without (customers may be derived from transactions)."""

_EVENT_DATES = {"transactions": "date", "surveys": "date", "complaints": "opened_at"}
"""Tables whose rows belong to a customer, with the date that may not precede signup_date."""

_READ_ERRORS = (OSError, ValueError, pa.ArrowException)


@dataclass(frozen=True)
class Problem:
    """One breach of the data contract, located as precisely as the check allows.

    table: the table name (None for a problem with the data folder itself);
    column: the column as named in the file, or None for a whole-table problem;
    message: what was found and what was expected, including the rows when there are some;
    rows: the first offending 1-based data row numbers of the file (header not counted),
    at most MAX_ROWS_SHOWN of them, or () for a whole-table problem;
    count: how many rows offend in total (0 for a whole-table problem);
    file: the file the problem is in (the folder for a folder problem), or None.
    """

    table: str | None
    column: str | None
    message: str
    rows: tuple[int, ...] = ()
    count: int = 0
    file: str | None = None

    def __str__(self) -> str:
        """One line, e.g. `surveys.grade (surveys.csv): 'E' in rows 17, 230 (2 rows): expected ...`."""
        location = ".".join(part for part in (self.table, self.column) if part)
        if self.file:
            location = f"{location} ({self.file})" if location else self.file
        return f"{location}: {self.message}"


class DataValidationError(ValueError):
    """The raw data breaks the contract; `problems` holds every problem found, in table order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} data contract problem(s):\n{lines}")


@dataclass(frozen=True)
class _Source:
    """Where a table's problems are: its name, file name, and what its rows are called.

    row_names: None when problems name 1-based file rows; else each row's customer_id, and
    problems name customers instead (a Spark partition holds no file row numbers).
    """

    table: str
    file: str
    row_names: np.ndarray | None = None

    def problem(self, column: str | None, message: str) -> Problem:
        """A problem with the whole table or a whole column."""
        return Problem(self.table, column, message, file=self.file)

    def flag(
        self, column: str, bad: pd.Series | np.ndarray, found: pd.Series | str, expected: str
    ) -> list[Problem]:
        """A problem naming the rows where `bad` is true, or none when no row is.

        found: the column's values (the offending ones are quoted) or a word such as "empty".
        """
        positions = np.flatnonzero(np.asarray(bad, dtype=bool))
        if positions.size == 0:
            return []
        if isinstance(found, pd.Series):
            found = _show_values(found.iloc[positions])
        if self.row_names is not None:
            where = _show_customers(self.row_names[positions], positions.size)
            message = f"{found} in {where}: expected {expected}"
            return [Problem(self.table, column, message, (), int(positions.size), self.file)]
        rows = tuple(int(position) + 1 for position in positions[:MAX_ROWS_SHOWN])
        message = f"{found} in {_show_rows(rows, positions.size)}: expected {expected}"
        return [Problem(self.table, column, message, rows, int(positions.size), self.file)]


def _show_value(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _show_values(values: pd.Series) -> str:
    """The first few distinct values, e.g. `'E', 'X' and 3 other values`."""
    distinct = values.drop_duplicates()
    shown = ", ".join(_show_value(value) for value in distinct.iloc[:_MAX_VALUES_SHOWN])
    others = len(distinct) - _MAX_VALUES_SHOWN
    return f"{shown} and {others:,} other values" if others > 0 else shown


def _show_rows(rows: tuple[int, ...], count: int) -> str:
    """`row 17`, or `rows 17, 230 (2 rows)`, or `rows 1, 2, 3, 4, 5, ... (120 rows)`."""
    if count == 1:
        return f"row {rows[0]}"
    more = ", ..." if count > len(rows) else ""
    return f"rows {', '.join(map(str, rows))}{more} ({count:,} rows)"


def _show_customers(names: np.ndarray, count: int) -> str:
    """`1 row of customer_id 'C1'`, or `3 rows of customer_id 'C1', 'C2' and others`."""
    distinct = pd.unique(pd.Series(names, dtype=object).fillna("(none)"))
    shown = ", ".join(repr(str(name)) for name in distinct[:MAX_ROWS_SHOWN])
    more = " and others" if len(distinct) > MAX_ROWS_SHOWN else ""
    return f"{count:,} row{'s' if count > 1 else ''} of customer_id {shown}{more}"


# --- column conversion: each converter returns the normalised column and its checks ---

_Checks = list[tuple[pd.Series, str]]
"""(offending-rows mask, what was expected) pairs found while converting a column."""


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped `str`, NaN where missing or blank; whole floats lose their `.0`.

    Whole floats are what an id or grade column of integers becomes once it has a blank.
    """
    if is_float_dtype(values):
        given = values.dropna()
        if ((given % 1 == 0) & (given.abs() < 2**53)).all():
            values = values.astype("Int64")
    text = values.astype("str").str.strip()
    return text.mask(text == "")


def _as_category(values: pd.Series) -> pd.Series:
    """`_as_text` of the values as a categorical whose categories are sorted `str`.

    Only the distinct values are converted: a column read dictionary-encoded (already
    categorical) is never expanded to one string per row. Codes take the fewest bytes.
    """
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    text = _as_text(pd.Series(values.cat.categories))
    categories = pd.Index(text.dropna().unique(), dtype="str").sort_values()
    width = np.int8 if len(categories) < 2**7 else np.int16 if len(categories) < 2**15 else np.int32
    # A missing value has code -1, which picks the -1 appended last.
    recode = np.append(categories.get_indexer(text), -1).astype(width)
    codes = recode[values.cat.codes.to_numpy()]
    dtype = pd.CategoricalDtype(categories)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=values.index)


def _cast(
    text: pd.Series, to: pa.DataType, fallback: Callable[[pd.Series], pd.Series]
) -> pd.Series:
    """`text` cast by pyarrow (fast, but all or nothing), else by `fallback` (NaN for bad values)."""
    try:
        array = pc.cast(pa.array(text), to)
    except pa.ArrowInvalid:
        return fallback(text)
    return pd.Series(array.to_numpy(zero_copy_only=False), index=text.index)


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO 8601 text as naive datetimes, NaT where unparseable; offsets are converted to UTC."""
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_convert(None)


def _clip_to_nanoseconds(dates: pd.Series) -> pd.Series:
    """datetime64[ns], NaT where a date lies outside that type's range (1677 to 2262)."""
    in_range = dates.between(pd.Timestamp.min, pd.Timestamp.max)
    return dates.where(in_range).astype("datetime64[ns]")


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Text as float64, NaN where it is not a number."""
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _text_column(values: pd.Series) -> tuple[pd.Series, _Checks]:
    return _as_text(values), []


def _category_column(values: pd.Series) -> tuple[pd.Series, _Checks]:
    return _as_category(values), []


def _date_column(values: pd.Series) -> tuple[pd.Series, _Checks]:
    """datetime64[ns] without zone: offsets are converted to UTC, naive values are kept."""
    if is_datetime64_any_dtype(values):
        parsed = values if values.dt.tz is None else values.dt.tz_convert(None)
        unparseable = pd.Series(False, index=values.index)
    else:
        text = _as_text(values)
        parsed = _cast(text, pa.timestamp("ns"), _parse_dates)
        unparseable = text.notna() & parsed.isna()
    dates = _cast(parsed, pa.timestamp("ns"), _clip_to_nanoseconds)
    out_of_range = parsed.notna() & dates.isna()
    return dates, [(unparseable, _DATE_EXPECTED), (out_of_range, _DATE_RANGE_EXPECTED)]


def _money_column(values: pd.Series) -> tuple[pd.Series, _Checks]:
    """float64; text must be a finite number and every amount must be >= 0."""
    if is_numeric_dtype(values) and not is_bool_dtype(values):
        given, numbers = values.notna(), values.astype("float64")
    else:
        text = _as_text(values)
        given, numbers = text.notna(), _cast(text, pa.float64(), _parse_numbers)
    finite = np.isfinite(numbers)
    numbers = numbers.where(finite)
    return numbers, [(given & ~finite, "a finite number"), (numbers < 0, "an amount >= 0")]


def _grade_column(values: pd.Series) -> tuple[pd.Series, _Checks]:
    """float64 scores (25..100, NaN where blank) from A-D in any case or 100/75/50/25.

    Only the distinct values are parsed, so a column of millions of answers costs one
    factorisation, or none when it was read dictionary-encoded (a categorical).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    # A missing value has code -1, which picks the NaN that reindex appends last.
    text = _as_text(pd.Series(uniques).reindex(range(len(uniques) + 1))).str.upper()
    scores = text.map(GRADE_SCORES).fillna(pd.to_numeric(text, errors="coerce"))
    scores = scores.where(scores.isin(list(GRADE_SCORES.values())))
    unknown = text.notna() & scores.isna()
    index = values.index
    return pd.Series(scores.to_numpy()[codes], index=index), [
        (pd.Series(unknown.to_numpy()[codes], index=index), _GRADES_EXPECTED)
    ]


_CONVERTERS: dict[ColumnKind, Callable[[pd.Series], tuple[pd.Series, _Checks]]] = {
    "id": _text_column,
    "string": _text_column,
    "date": _date_column,
    "money": _money_column,
    "grade": _grade_column,
}


def _is_categorical(table: str, column: ColumnSpec) -> bool:
    """Whether RawData holds the column as a categorical: text, and ids but the table's key.

    They repeat few values (a region, a survey item) or a customer's id on many rows.
    """
    return column.kind == "string" or (
        column.kind == "id" and column.name != _UNIQUE_KEYS.get(table)
    )


def _read_hint(table: str, column: ColumnSpec) -> pa.DataType | None:
    """The type to read the column as where the file leaves it open, None for text.

    Categoricals and grades are read dictionary-encoded (always possible); CSV dates as
    timestamps, which only works when every value parses (`_read_csv`).
    """
    if column.kind == "grade" or _is_categorical(table, column):
        return pa.dictionary(pa.int32(), pa.string())
    return pa.timestamp("ns") if column.kind == "date" else None


def _stored_name(column: ColumnSpec) -> str:
    """The column's name in RawData: a grade column is stored as a score (grade -> score)."""
    return column.name.replace("grade", "score") if column.kind == "grade" else column.name


def _normalise_column(
    values: pd.Series, column: ColumnSpec, file_column: str, source: _Source
) -> tuple[pd.Series, list[Problem]]:
    """The column converted to its RawData type, with its value and emptiness problems."""
    convert = (
        _category_column if _is_categorical(source.table, column) else _CONVERTERS[column.kind]
    )
    converted, checks = convert(values)
    problems = [
        problem
        for bad, expected in checks
        for problem in source.flag(file_column, bad, values, expected)
    ]
    if not column.nullable:
        flagged = np.zeros(len(values), dtype=bool)
        for bad, _ in checks:
            flagged |= bad.to_numpy()
        empty = converted.isna().to_numpy() & ~flagged
        problems += source.flag(file_column, empty, "empty", "a value in every row")
    if column.kind == "grade" and not column.nullable and not problems:
        converted = converted.astype("int64")
    return converted, problems


def normalised_column(table: str, column: str, values: pd.Series) -> pd.Series:
    """One raw column converted as loading converts it (bad values become missing).

    For a single column of a large table, e.g. the transaction dates whose maximum is the
    end of the data; problems are left to the full check.
    """
    spec = TABLES[table].column(column)
    return _normalise_column(values, spec, column, _Source(table, ""))[0]


# --- reading files ---


def _csv_columns(path: Path) -> list[str]:
    return pd.read_csv(path, nrows=0).columns.tolist()


def _same_array(array: pa.Array) -> tuple[int, ...]:
    """A key equal for two arrays viewing the same memory: their buffers, offset and length."""
    addresses = (0 if buffer is None else buffer.address for buffer in array.buffers())
    return (*addresses, array.offset, len(array))


def _categorical(column: pa.ChunkedArray) -> pd.Categorical:
    """A dictionary-encoded column as a pandas Categorical (categories in no particular order).

    Arrow gives each Parquet row group or CSV block its own dictionary, shared by the
    chunks read from it. Merging the distinct ones hashes only their values, never the
    rows: far faster than Arrow's own merge (to_pandas) when each holds up to a million
    customer ids.
    """
    distinct: dict[tuple[int, ...], pa.Array] = {}
    for chunk in column.chunks:
        distinct.setdefault(_same_array(chunk.dictionary), chunk.dictionary)
    merged = pa.chunked_array(list(distinct.values()), type=column.type.value_type)
    merged = merged.combine_chunks().dictionary_encode()
    # Position in merged.dictionary of each entry of each distinct dictionary, in turn.
    positions = merged.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    sizes = [len(dictionary) for dictionary in distinct.values()]
    firsts = dict(zip(distinct, np.cumsum([0, *sizes])[:-1], strict=True))
    codes = np.empty(len(column), dtype=np.int32)
    start = 0
    for chunk in column.chunks:
        first = firsts[_same_array(chunk.dictionary)]
        # A missing value (null index or entry) takes the -1 appended last.
        recode = np.append(positions[first : first + len(chunk.dictionary)], np.int32(-1))
        indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        codes[start : start + len(chunk)] = recode[indices]
        start += len(chunk)
    return pd.Categorical.from_codes(codes, categories=pd.Index(merged.dictionary.to_pandas()))


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """The table as a frame, its dictionary-encoded columns as categoricals (`_categorical`)."""
    categorical = {
        name: _categorical(table.column(name))
        for name, kind in zip(table.column_names, table.schema.types, strict=True)
        if pa.types.is_dictionary(kind)
    }
    frame = table.drop_columns(list(categorical)).to_pandas(date_as_object=False, split_blocks=True)
    for name, values in categorical.items():
        frame[name] = values
    return frame[table.column_names]


def _csv_table(path: Path, columns: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    """The CSV's `columns` typed as `types` says, else as text; NA, NULL, blanks are null."""
    options = pcsv.ConvertOptions(
        column_types={name: types.get(name, pa.string()) for name in columns},
        include_columns=columns,
        strings_can_be_null=True,
    )
    return pcsv.read_csv(path, convert_options=options)


def _read_csv(path: Path, columns: list[str], hints: dict[str, pa.DataType]) -> pd.DataFrame:
    """Every wanted column as text, so that bad values are reported, not fatal.

    hints: file column -> type to read instead (`_read_hint`): dictionary-encoded text,
    which comes as a categorical, and timestamps, which save a string per row. When a
    timestamp hint does not fit every value, the file is read again with those columns as
    text, so the converters find and report the bad values as usual. (Arrow parses dates
    here as pyarrow's cast in `_date_column` does, so the values are the same.)
    """
    text = {name: kind for name, kind in hints.items() if pa.types.is_dictionary(kind)}
    try:
        table = _csv_table(path, columns, hints)
    except pa.ArrowInvalid:
        if text == hints:
            raise
        table = _csv_table(path, columns, text)
    return _to_pandas(table)


def _parquet_columns(path: Path) -> list[str]:
    """Column names of a Parquet file, or of a folder of part files (as Spark writes)."""
    return pq.ParquetDataset(path).schema.names


def _read_parquet(path: Path, columns: list[str], hints: dict[str, pa.DataType]) -> pd.DataFrame:
    """The columns with their Parquet types; text with a dictionary hint as categoricals."""
    dictionary = [name for name, kind in hints.items() if pa.types.is_dictionary(kind)]
    return _to_pandas(pq.read_table(path, columns=columns, read_dictionary=dictionary))


_READERS = {
    ".parquet": (_parquet_columns, _read_parquet, "a Parquet file or a folder of Parquet files"),
    ".csv": (_csv_columns, _read_csv, "a UTF-8 comma-separated file with a header row"),
}


def find_table_file(
    folder: str, spec: TableSpec, exists: Callable[[str], bool]
) -> tuple[str | None, list[Problem]]:
    """The table's file in `folder` (<name>.parquet or <name>.csv), or None with a problem
    when it is missing (if required) or ambiguous.

    folder: a local path or, for Spark, any Hadoop-compatible URI; exists: whether a path
    (file, or folder of part files) exists there.
    """
    candidates = [f"{folder.rstrip('/')}/{spec.name}{suffix}" for suffix in TABLE_SUFFIXES]
    present = [path for path in candidates if exists(path)]
    names = [path.rsplit("/", 1)[-1] for path in candidates]
    if len(present) > 1:
        message = f"found {' and '.join(names)}: expected exactly one file per table"
        return None, [Problem(spec.name, None, message)]
    if not present:
        if not spec.required:
            return None, []
        message = f"no file: expected {' or '.join(names)} in {folder}"
        return None, [Problem(spec.name, None, message)]
    return present[0], []


def _find_table(data_dir: Path, spec: TableSpec) -> tuple[Path | None, list[Problem]]:
    """The table's file in a local folder (`find_table_file`)."""
    found, problems = find_table_file(str(data_dir), spec, lambda path: Path(path).exists())
    return (None if found is None else Path(found)), problems


def file_columns(
    spec: TableSpec, header: list[str], file: str
) -> tuple[dict[str, str], list[Problem]]:
    """Each spec column found in the header -> its name in the file, and the missing ones."""
    source = _Source(spec.name, file)
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for column in spec.columns:
        names = (column.name, *_ALIASES.get((spec.name, column.name), ()))
        present = [name for name in names if name in header]
        if len(present) > 1:
            message = f"columns {' and '.join(present)} both present: expected only one of them"
            problems.append(source.problem(column.name, message))
        elif present:
            found[column.name] = present[0]
        elif column.required:
            message = (
                f"column missing: expected a {column.kind} column named {' or '.join(names)} "
                f"(the file has {', '.join(map(str, header)) or 'no columns'})"
            )
            problems.append(source.problem(column.name, message))
    return found, problems


@dataclass(frozen=True)
class ReadTable:
    """A raw table as read, before normalisation: the contract's columns found in it.

    frame: those columns, named as in the file (normalising consumes them); columns:
    contract name -> file name of each; file: the file's name, for problems; row_names: None, or each row's customer_id
    so that problems name customers rather than file rows (see `_Source`).
    """

    frame: pd.DataFrame
    columns: dict[str, str]
    file: str
    row_names: np.ndarray | None = None


def _load_table(path: Path, spec: TableSpec) -> tuple[ReadTable | None, list[Problem]]:
    """The table's contract columns as read, with the problems of finding them.

    None instead of a table when the file cannot be read or has no rows. Columns the
    contract does not know are left out; optional columns the file lacks are absent.
    """
    source = _Source(spec.name, path.name)
    read_columns, read, expected = _READERS[path.suffix]
    try:
        header = read_columns(path)
        found, problems = file_columns(spec, header, path.name)
        if not found:
            return None, problems
        hints = {
            found[column.name]: hint
            for column in spec.columns
            if column.name in found and (hint := _read_hint(spec.name, column)) is not None
        }
        raw = read(path, list(found.values()), hints)
    except _READ_ERRORS as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return None, [source.problem(None, f"cannot be read ({reason}): expected {expected}")]
    if len(raw) == 0:
        remedy = "" if spec.required else ", or no file at all"
        return None, problems + [source.problem(None, f"no rows: expected data rows{remedy}")]
    return ReadTable(raw, found, path.name), problems


def _normalise_table(
    table: ReadTable, spec: TableSpec, as_of: dt.date
) -> tuple[pd.DataFrame, list[Problem]]:
    """The table with RawData's column names and types, and its value and table problems
    (no event after `as_of`, the data's as-of date).

    Consumes table.frame: each column is popped from it once converted, so a large table
    is never held twice.
    """
    source = _Source(spec.name, table.file, table.row_names)
    raw = table.frame
    problems: list[Problem] = []
    columns = {}
    for column in spec.columns:
        if column.name in table.columns:
            file_column = table.columns[column.name]
            # Popped: each read column is freed once converted.
            converted, column_problems = _normalise_column(
                raw.pop(file_column), column, file_column, source
            )
            columns[_stored_name(column)] = converted
            problems += column_problems
    frame = pd.DataFrame(columns, index=raw.index, copy=False)
    later = _event_date_checks(frame, spec, table.columns, source, as_of)
    return frame, problems + _table_checks(frame, source) + later


# --- checks within a table and across tables ---


def _table_checks(frame: pd.DataFrame, source: _Source) -> list[Problem]:
    """Unique keys, date order within a row and, for surveys, the questionnaire items."""
    problems = []
    key = _UNIQUE_KEYS.get(source.table)
    if key in frame:
        repeated = frame[key].notna() & frame[key].duplicated(keep=False)
        problems += source.flag(key, repeated, frame[key], f"each {key} once")
    for later, earlier in _DATE_ORDER.get(source.table, ()):
        if later in frame and earlier in frame:
            before = frame[later] < frame[earlier]
            problems += source.flag(later, before, frame[later], f"a date on or after {earlier}")
    if source.table == "surveys":
        problems += _survey_item_checks(frame, source)
    return problems


def _event_date_checks(
    frame: pd.DataFrame, spec: TableSpec, found: dict[str, str], source: _Source, as_of: dt.date
) -> list[Problem]:
    """No event is dated after the data's as-of date: it cannot have been recorded yet.

    A date on the as-of day itself, at any time of day, is fine; `planned` columns (a due
    date) are not checked.
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    expected = (
        f"a date on or before the data's as-of date {as_of:%Y-%m-%d} (data.as_of; default today)"
    )
    problems = []
    for column in spec.columns:
        if column.kind == "date" and not column.planned and column.name in frame:
            values = frame[column.name]
            problems += source.flag(found[column.name], values >= end, values, expected)
    return problems


def _survey_item_checks(frame: pd.DataFrame, source: _Source) -> list[Problem]:
    """Every item is one of SURVEY_ITEMS and carries that item's dimension."""
    if "item" not in frame:
        return []
    item = frame["item"]
    known = item.isin(list(SURVEY_ITEMS))
    problems = source.flag(
        "item",
        item.notna() & ~known,
        item,
        f"one of the {len(SURVEY_ITEMS)} survey items listed in docs/data-contract.md",
    )
    if "dimension" in frame:
        dimension = frame["dimension"]
        item_codes, items = _codes(item)
        dimension_codes, dimensions = _codes(dimension)
        # Per item category, the code of its dimension among dimension's categories (-1 if
        # none), appended -1 for a missing item; compared code to code, row by row.
        expected = dimensions.get_indexer(items.map(SURVEY_ITEMS))
        expected = np.append(expected, -1).astype(dimension_codes.dtype)[item_codes]
        mismatch = known & dimension.notna() & (expected != dimension_codes)
        items = pd.unique(item[mismatch])[:_MAX_VALUES_SHOWN]
        pairs = ", ".join(f"{name} -> {SURVEY_ITEMS[name]}" for name in items)
        problems += source.flag("dimension", mismatch, dimension, f"the item's dimension ({pairs})")
    return problems


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """The category code of each value (-1 where missing) and the categories."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    return values.cat.codes.to_numpy(), values.cat.categories


def _positions(keys: pd.Series, reference: pd.Series) -> np.ndarray:
    """For each key, the position of its first occurrence in `reference`, -1 if absent or NaN.

    Categorical keys look up only their categories.
    """
    if isinstance(keys.dtype, pd.CategoricalDtype):
        found = _positions(pd.Series(keys.cat.categories), reference)
        return np.append(found, -1).astype(found.dtype)[keys.cat.codes.to_numpy()]
    found = pc.index_in(pa.array(keys), value_set=pa.array(reference), skip_nulls=True)
    return found.fill_null(-1).to_numpy(zero_copy_only=False)


def _customer_checks(
    frame: pd.DataFrame, source: _Source, customers: pd.DataFrame
) -> list[Problem]:
    """Every row's customer_id is in customers, and its event date is not before signup."""
    if "customer_id" not in frame or "customer_id" not in customers:
        return []
    ids = frame["customer_id"]
    position = _positions(ids, customers["customer_id"])
    known = position >= 0
    problems = source.flag("customer_id", ids.notna() & ~known, ids, "a customer_id of customers")
    date = _EVENT_DATES[source.table]
    if date in frame and "signup_date" in customers:
        signup = customers["signup_date"].to_numpy()[np.where(known, position, 0)]
        early = known & (frame[date].to_numpy() < signup)
        problems += source.flag(date, early, frame[date], "a date on or after the signup_date")
    return problems


def validate_dir(
    data_dir: Path, *, as_of: dt.date | None = None
) -> tuple[RawData | None, list[Problem]]:
    """Check a raw data folder against the contract and load it when it passes.

    Returns (RawData, []) for a valid folder, else (None, every problem found), the
    problems ordered by table as in schema.TABLES. Never raises for bad data. A folder
    without a customers file gets customers derived from its transactions
    (contract/derive.py; RawData.customers_derived). as_of: the data's as-of date, after
    which no event may be dated (`schema.data_as_of`: default today, UTC).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        state = "is not a folder" if data_dir.exists() else "does not exist"
        tables = ", ".join(TABLES)
        message = f"{state}: expected a folder of .parquet or .csv tables ({tables})"
        return None, [Problem(None, None, message, file=str(data_dir))]
    problems: list[Problem] = []
    tables: dict[str, ReadTable] = {}
    derive = False
    for spec in TABLES.values():
        path, found = _find_table(data_dir, spec)
        problems += found
        derive |= spec.name == "customers" and path is None and not found
        if path is not None:
            table, found = _load_table(path, spec)
            problems += found
            if table is not None:
                tables[spec.name] = table
    raw, found = normalise_tables(tables, derive_customers=derive, as_of=as_of)
    problems += found
    if problems:
        order = list(TABLES)
        return None, sorted(problems, key=lambda problem: order.index(problem.table))
    return raw, []


def normalise_tables(
    tables: dict[str, ReadTable], *, derive_customers: bool, as_of: dt.date | None = None
) -> tuple[RawData | None, list[Problem]]:
    """RawData of tables as read (`ReadTable`), with every problem of their values and keys.

    derive_customers: there is no customers file, so customers are derived from the
    transactions (contract/derive.py). Returns (None, problems) when there are any, in
    table order. The pandas engine calls it with whole files; Spark with the rows of the
    customers of one partition, which hold every row of those customers. as_of: the
    data's as-of date, after which no event may be dated (default today, UTC).
    """
    as_of = data_as_of(as_of)
    problems: list[Problem] = []
    frames: dict[str, tuple[pd.DataFrame, _Source]] = {}
    for name, table in tables.items():
        frame, found = _normalise_table(table, TABLES[name], as_of)
        problems += found
        frames[name] = (frame, _Source(name, table.file, table.row_names))
    derived = derive_customers and "transactions" in frames
    if derived:
        transactions, source = frames["transactions"]
        customers = derive_customers_table(transactions)
        derived_from = _Source("customers", "derived from transactions", source.row_names)
        frames["customers"] = (customers, derived_from)
    if "customers" in frames:
        customers = frames["customers"][0]
        for name in _EVENT_DATES.keys() & frames.keys():
            problems += _customer_checks(*frames[name], customers)
    if problems or not frames.keys() >= REQUIRED_TABLES:  # a missing file: the caller says so
        order = list(TABLES)
        return None, sorted(problems, key=lambda problem: order.index(problem.table))
    raw = {name: frame for name, (frame, _) in frames.items()}
    return RawData(**raw, customers_derived=derived), []


def load_raw(data_dir: Path, *, as_of: dt.date | None = None) -> RawData:
    """The validated, normalised raw tables of `data_dir` (as_of: as for `validate_dir`).

    Raises DataValidationError listing every problem when the folder breaks the contract.
    """
    raw, problems = validate_dir(data_dir, as_of=as_of)
    if raw is None:
        raise DataValidationError(problems)
    return raw

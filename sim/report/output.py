"""Per-trial output files (CSV or Parquet), written atomically.

Rules:

1. ``check_output_path`` runs before any trial: a bad suffix, a missing directory or an
   unwritable one is bad input (exit 2), found before minutes of simulation are wasted.
2. Rows go to a temporary file in the destination's directory, renamed over the
   destination only on ``commit``; ``abort`` deletes it. A reader never sees a half file.
3. Every row file carries the run's provenance (scenario sha256, seed, policy, version)
   and whether it is ``complete``: Parquet in its schema metadata under ``rassim``, CSV
   (which has nowhere to put it) in a sidecar ``<name>.meta.json`` written beside it,
   which carries the CSV's sha256 and is published first (``sim.report.sidecar``).
4. An interrupted run still publishes a complete, valid file of the trials that finished,
   marked ``"complete": false`` with the number of trials it holds.
5. The list columns ``codes`` (ints) and ``faults`` (names) are, in a CSV file, JSON lists
   (``[53, 629]``, ``["link_outage"]``, ``[]``): a CSV cell has no type, and a plain ``53``
   or an empty cell would come back from ``pandas.read_csv`` as a number or NaN; a JSON
   list always reads back as text, and ``json.loads`` turns it into the list. Parquet,
   which has types, keeps them as strings with the items separated by spaces, as
   ``TrialResult.as_row`` gives them (and as ``sim.frames`` holds them).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from sim.report.atomic import (
    OutputError,
    atomic_path,
    check_writable,
    os_error,
    publish,
    temp_beside,
)
from sim.report.sidecar import HashingText, publish_pair, sidecar_of
from sim.trial.results import ROW_FIELDS, TrialResult

__all__ = ["LIST_COLUMNS", "OutputError", "RowSink", "check_output_path", "csv_list",
           "from_csv_list"]

SUFFIXES = (".csv", ".parquet")
#: The columns that hold lists (rule 5), and whether their items are integers.
LIST_COLUMNS: dict[str, bool] = {"codes": True, "faults": False}


def csv_list(items: str, integers: bool) -> str:
    """A space-separated list as a CSV cell (rule 5): ``"53 629"`` -> ``[53, 629]``."""
    return json.dumps([int(x) for x in items.split()] if integers else items.split())


def from_csv_list(cell: object) -> str:
    """A CSV cell of ``csv_list`` back to the space-separated form (``[53, 629]`` ->
    ``"53 629"``). A cell written before rule 5 (``53 629``, ``53``, empty) is taken as is."""
    text = "" if cell is None or cell != cell else str(cell)  # NaN != NaN
    if text.startswith("["):
        return " ".join(str(item) for item in json.loads(text))
    return text.removesuffix(".0") if text.replace(".", "", 1).isdigit() else text


def check_output_path(path: Path) -> None:
    check_writable(path, "--out", suffixes=SUFFIXES)


class RowSink:
    """Streams ``TrialResult`` rows to a temporary file; ``commit`` publishes it."""

    def __init__(self, path: Path, provenance: dict[str, Any]) -> None:
        check_output_path(path)
        self.path = path
        self._provenance = provenance
        try:
            self._tmp = temp_beside(path)
        except OSError as error:
            raise OutputError(f"--out {os_error(error, path)}") from None
        self.rows = 0
        self._batch_bytes = 0
        self._parquet: Any = None
        self._csv_file: IO[bytes] | None = None
        self._csv_text: HashingText | None = None
        self._csv: Any = None
        try:
            self._open()
        except OSError as error:  # a Parquet header on a full disk
            self.abort()
            raise OutputError(f"--out {os_error(error, path, len(b'PAR1'))}") from None
        except BaseException:  # Ctrl-C too: opening a Parquet file first imports pyarrow
            self.abort()
            raise

    def _open(self) -> None:
        if self.path.suffix.lower() == ".parquet":
            # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([
                ("trial", pa.int64()), ("seed", pa.int64()), ("outcome", pa.string()),
                ("code", pa.int32()), ("reason", pa.string()), ("attempts", pa.int32()),
                ("dials", pa.int32()), ("connect_time", pa.float64()),
                ("end_time", pa.float64()), ("line_time", pa.float64()),
                ("codes", pa.string()), ("faults", pa.string()),
                ("senders", pa.int32()), ("senders_connected", pa.int32()),
                ("busy_signals", pa.int32()), ("port_utilization", pa.float64()),
            ], metadata={"rassim": json.dumps(self._provenance_of(complete=True),
                                              sort_keys=True)})
            assert tuple(self._schema.names) == ROW_FIELDS
            self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
        else:
            self._csv_file = open(self._tmp, "wb")  # noqa: SIM115
            self._csv_text = HashingText(self._csv_file)
            self._csv = csv.DictWriter(self._csv_text, fieldnames=ROW_FIELDS)
            self._csv.writeheader()

    def write(self, results: Iterable[TrialResult]) -> None:
        try:
            self._write(results)
        except OSError as error:  # a full disk (sim.report.atomic rule 4)
            size = self._needed()
            self.abort()
            raise OutputError(f"--out {os_error(error, self.path, size)}") from None

    def _needed(self) -> int | None:
        """The bytes the file needed when a write failed: all handed to a CSV (it buffers),
        or for Parquet what is on disk plus the failing batch's in-memory size."""
        if self._csv_text is not None:
            return self._csv_text.size
        on_disk = self._tmp.stat().st_size if self._tmp.exists() else 0
        return on_disk + self._batch_bytes or None

    def _write(self, results: Iterable[TrialResult]) -> None:
        rows = [r.as_row() for r in results]
        self.rows += len(rows)
        if self._parquet is not None:
            # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
            import pyarrow as pa

            if rows:
                table = pa.Table.from_pylist(rows, schema=self._schema)
                self._batch_bytes = table.nbytes
                self._parquet.write_table(table)
        else:
            for row in rows:
                for column, integers in LIST_COLUMNS.items():
                    row[column] = csv_list(str(row[column]), integers)
            self._csv.writerows(rows)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None

    def _provenance_of(self, *, complete: bool) -> dict[str, Any]:
        return {**self._provenance, "complete": complete,
                **({} if complete else {"trials": self.rows})}

    @property
    def sidecar(self) -> Path | None:
        """Where a CSV's provenance goes (None for Parquet, which holds its own)."""
        return None if self.path.suffix.lower() == ".parquet" else sidecar_of(self.path)

    def commit(self, *, interrupted: bool = False) -> None:
        """Close and atomically move the finished file into place (rules 2 to 4)."""
        try:
            self._commit(interrupted)
        except OSError as error:  # a full disk (sim.report.atomic rule 4)
            size = self._needed()
            self.abort()
            raise OutputError(f"--out {os_error(error, self.path, size)}") from None
        except BaseException:  # the sidecar's OutputError, a Ctrl-C: no temporary file left
            self.abort()
            raise

    def _commit(self, interrupted: bool) -> None:
        self._close()
        if interrupted and self.sidecar is None:
            # The provenance was written when the file was opened, as complete: rewrite the
            # (rare) interrupted file with the mark. Reading it back costs one pass.
            # why: pyarrow is slow to import (~0.3 s); only Parquet files need it
            import pyarrow.parquet as pq

            table = pq.read_table(self._tmp)
            marked = {"rassim": json.dumps(self._provenance_of(complete=False), sort_keys=True)}
            with atomic_path(self.path, option="--out") as tmp:
                pq.write_table(table.replace_schema_metadata(marked), str(tmp))
            self._tmp.unlink(missing_ok=True)
            return
        if self.sidecar is None:
            publish(self._tmp, self.path)
            return
        assert self._csv_text is not None
        publish_pair(self._tmp, self.path, self._provenance_of(complete=not interrupted),
                     sha256=self._csv_text.sha256, size=self._csv_text.size, option="--out")

    def abort(self) -> None:
        """Close and delete the temporary file; the destination is untouched.

        Closing flushes what is buffered, which fails again on a full disk: that error is
        the one already being reported, so it is dropped here.
        """
        try:
            self._close()
        except OSError:
            self._parquet = self._csv_file = None
        finally:
            self._tmp.unlink(missing_ok=True)

"""A CSV's provenance sidecar (``<name>.meta.json``), published so that a pair never lies.

CSV has nowhere to hold a run's provenance, so it goes into a JSON file beside it. Two files
cannot be renamed into place at once, so a crash (``kill -9``, a power cut, a full disk)
between the two renames could leave one run's CSV beside another run's sidecar.

Rules:

1. The sidecar carries the CSV's ``csv_sha256`` and ``csv_bytes``, computed while the rows
   were written (``HashingText``), and is published first; the CSV is renamed over its
   destination second. A crash between the two leaves a new sidecar beside an old CSV (or
   none), which rule 2 detects; the reverse pairing (new CSV, old sidecar) cannot happen.
2. ``read_sidecar`` checks the pair: a sidecar whose digest or size does not match the CSV
   is ``SidecarMismatch`` (say which file to regenerate); a missing sidecar is ``None``. A
   sidecar without a digest (written before this rule) is returned unchecked.
3. Both files go through ``sim.report.atomic``: never half-written, no temporary file left.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import IO, Any

from sender.errors import UserError
from sim.report.atomic import OutputError, atomic_path, os_error, publish, temp_beside

__all__ = ["HashingText", "SidecarMismatch", "publish_pair", "read_sidecar", "sidecar_of",
           "write_pair"]


class SidecarMismatch(UserError):
    """A CSV and a ``.meta.json`` that do not belong together (rule 2)."""


def sidecar_of(path: Path) -> Path:
    """Where ``path``'s provenance goes: ``<name>.meta.json`` beside it."""
    return path.with_name(path.name + ".meta.json")


class HashingText:
    """A text sink for ``csv.writer`` that encodes UTF-8 into ``raw`` and hashes it (rule 1).

    The ``csv`` module writes its own line endings, so nothing is translated: the bytes
    hashed are the bytes written.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._hash.update(data)
        self.size += len(data)
        self._raw.write(data)
        return len(text)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def publish_pair(tmp: Path, path: Path, provenance: dict[str, Any], *, sha256: str,
                 size: int, option: str) -> None:
    """Publish the finished CSV ``tmp`` at ``path`` with its sidecar, sidecar first (rule 1).

    Raises ``OSError`` from the CSV's rename (the caller removes ``tmp``) and
    ``OutputError`` from the sidecar's write.
    """
    text = json.dumps({**provenance, "csv_sha256": sha256, "csv_bytes": size},
                      indent=2, sort_keys=True) + "\n"
    data = text.encode("utf-8")
    with atomic_path(sidecar_of(path), option=option, size=len(data)) as meta:
        meta.write_bytes(data)
    publish(tmp, path)


def write_pair(path: Path, data: bytes, provenance: dict[str, Any], option: str) -> None:
    """Write the CSV bytes ``data`` at ``path`` with its sidecar (rules 1 and 3)."""
    try:
        tmp = temp_beside(path)
    except OSError as error:
        raise OutputError(f"{option} {os_error(error, path, len(data))}") from None
    try:
        tmp.write_bytes(data)
        publish_pair(tmp, path, provenance, sha256=hashlib.sha256(data).hexdigest(),
                     size=len(data), option=option)
    except OSError as error:  # a full disk above all (sim.report.atomic rule 4)
        raise OutputError(f"{option} {os_error(error, path, len(data))}") from None
    finally:
        tmp.unlink(missing_ok=True)


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """The provenance of the CSV at ``path``, checked against it (rule 2)."""
    meta = sidecar_of(path)
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise SidecarMismatch(f"{meta}: not a rassim sidecar ({error}); delete it or "
                              f"regenerate {path.name}") from None
    if not isinstance(data, dict):
        raise SidecarMismatch(f"{meta}: not a rassim sidecar; delete it or regenerate "
                              f"{path.name}")
    expected = data.get("csv_sha256")
    if expected is None:
        return data
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as rows:
        for block in iter(lambda: rows.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    if digest.hexdigest() != expected or data.get("csv_bytes", size) != size:
        raise SidecarMismatch(
            f"{path}: does not match its sidecar {meta.name} (sha256 {digest.hexdigest()[:12]}"
            f", the sidecar says {str(expected)[:12]}): the two files come from different "
            "runs, e.g. one interrupted between publishing them; rerun to regenerate both")
    return data

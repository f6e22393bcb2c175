"""Credentials never leave the scenario: not in traces, replays, JSON, rows or errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Tr0ub4dor&3-do-not-print"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "with-password.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "faults-link-flap.toml"}"\n'
        f'[sender]\nuser = "DOMAIN\\\\smsaddr"\npassword = "{SECRET}"\n',
        encoding="utf-8",
    )
    return path


def test_password_is_in_no_output(scenario: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    assert main(["run", str(scenario), "--trials", "30", "--json"]) == 0
    outputs.append(capsys.readouterr())
    assert main(["run", str(scenario), "--trials", "30"]) == 0
    outputs.append(capsys.readouterr())
    for fmt in ("timeline", "log", "jsonl"):
        assert main(["replay", str(scenario), "--trial", "2", "--format", fmt]) == 0
        outputs.append(capsys.readouterr())
    csv_path, parquet_path = tmp_path / "rows.csv", tmp_path / "rows.parquet"
    assert main(["run", str(scenario), "--trials", "30", "--out", str(csv_path)]) == 0
    assert main(["run", str(scenario), "--trials", "30", "--out", str(parquet_path)]) == 0
    outputs.append(capsys.readouterr())
    texts = [o.out + o.err for o in outputs]
    texts.append(csv_path.read_text(encoding="utf-8"))
    metadata = pq.read_metadata(parquet_path).metadata
    texts.append(json.dumps({k.decode(): v.decode() for k, v in metadata.items()}))
    assert all(SECRET not in text for text in texts)
    assert "smsaddr" in texts[4]  # the jsonl trace carries the user name, not the password


def test_password_is_not_echoed_in_errors(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[sender]\npassword = "{SECRET}"\nserver = "\\\\\\\\bad"\n'
                    '[link]\nlatency = 5\n', encoding="utf-8")
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert "sender.server" in captured.err
    assert SECRET not in captured.out + captured.err

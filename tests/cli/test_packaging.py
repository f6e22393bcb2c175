"""A non-editable install ships every subpackage (the quick start uses `pip install .`)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_included() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [".".join(p.parent.relative_to(ROOT).parts)
                for top in ("sender", "sim") for p in (ROOT / top).rglob("__init__.py")]
    assert "sim.commands" in packages
    missing = [name for name in packages
               if not any(fnmatch.fnmatchcase(name, pattern) for pattern in include)]
    assert missing == []

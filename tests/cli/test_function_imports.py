"""Function-level imports are the exception, and each one says why (issue 13): an optional
or slow dependency kept off the light path, or a command's lazy import that keeps
``rassim --help`` and pytest sessions fast. A group of consecutive imports shares one
``# why:`` comment right above it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _unexplained(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for owner in ast.walk(node):
            for name in ("body", "orelse", "finalbody"):
                body = getattr(owner, name, None)
                if not isinstance(body, list):
                    continue
                previous_import = False
                for stmt in body:
                    is_import = isinstance(stmt, ast.Import | ast.ImportFrom)
                    if is_import and not previous_import:
                        k, block = stmt.lineno - 2, []
                        while k >= 0 and lines[k].strip().startswith("#"):
                            block.append(lines[k])
                            k -= 1
                        if not any("# why" in line for line in block):
                            out.append(f"{path.relative_to(ROOT)}:{stmt.lineno}: "
                                       f"{lines[stmt.lineno - 1].strip()}")
                    previous_import = is_import
    return out


def test_every_function_level_import_says_why() -> None:
    files = sorted([*(ROOT / "sim").rglob("*.py"), *(ROOT / "sender").rglob("*.py")])
    assert len(files) > 90
    missing = [line for path in files for line in _unexplained(path)]
    assert missing == [], "\n".join(missing)

"""docs/operations.md: its Python runs (in a fresh process, as its telemetry example sets
the process's OpenTelemetry provider), and every console block says it was captured from
a real run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
MARK = "captured from a real run"


def blocks(kind: str) -> list[tuple[int, str]]:
    text = DOC.read_text()
    return [(match.start(), match.group(2)) for match in BLOCK.finditer(text)
            if match.group(1) == kind]


def test_the_python_in_operations_md_runs() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the example needs the otel extra")
    code = "\n".join(block for _, block in blocks("python"))
    assert code
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_console_block_is_marked_as_captured_output() -> None:
    text = DOC.read_text()
    consoles = blocks("console")
    assert len(consoles) >= 10
    for start, block in consoles:
        before = " ".join(text[:start].rstrip().rsplit("\n\n", 1)[-1].lower().split())
        assert MARK in before, f"console block not marked as captured: {block[:80]!r}"
    assert not blocks("bash") and not blocks("sh"), "shell examples go in console blocks"

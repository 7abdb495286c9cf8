"""The code in the docs runs, and every hook is documented."""

import re
import sys
import types
from pathlib import Path

import pytest

from eventstore_core import hookspecs

DOCS = Path(__file__).parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("name", ["async.md", "guide.md", "plugins.md",
                                  "timestamps_snapshots_feed.md"])
def test_code_in_docs_runs(name: str) -> None:
    # a real module, so that topics of classes the docs define can be resolved
    module = types.ModuleType(f"docs_{name.replace('.', '_')}")
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    blocks = python_blocks(DOCS / name)
    assert blocks
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{name} block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{name}, block {number} failed: {error!r}\n{block}") from error


def test_every_hook_is_documented() -> None:
    text = (DOCS / "plugins.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("register_")]
    assert hooks
    for hook in hooks:
        assert f"`{hook}(register)`" in text, hook

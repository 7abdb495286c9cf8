"""The code in the docs runs, and every hook is documented."""

import re
from pathlib import Path

import pytest

from eventstore_core import hookspecs

DOCS = Path(__file__).parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("name", ["guide.md", "plugins.md"])
def test_code_in_docs_runs(name: str) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{name.replace('.', '_')}"}
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

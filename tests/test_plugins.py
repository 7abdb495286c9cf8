"""The plugin framework: hooks, registries, the CLI."""

import inspect
import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from eventstore_core import ConfigurationError, hookimpl, hookspecs, plugins
from eventstore_core.cli import main


def test_every_hookspec_is_documented() -> None:
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("register_")]
    assert {f.__name__ for f in specs} == {"register_backends", "register_ciphers",
                                           "register_codecs"}
    for spec in specs:
        assert spec.__doc__ and "register(" in spec.__doc__, spec.__name__


def test_built_ins_register_through_the_same_hooks() -> None:
    assert plugins.backends()["memory"].distribution == "eventstore-core"
    assert plugins.codecs()["json"].decoder_class.__name__ == "JSONObjectDecoder"
    names = {p["name"] for p in plugins.get_plugins()}
    assert set(plugins.DEFAULT_PLUGINS) <= names


class Duplicate:
    DISTRIBUTION = "eventstore-impostor"  # what the manager reports for a hand-registered plugin

    @staticmethod
    @hookimpl
    def register_backends(register: Callable[..., None]) -> None:
        register("memory", lambda: None)


def test_duplicate_names_are_refused() -> None:
    plugins.load_plugins()
    plugins.pm.register(Duplicate, name="duplicate")
    try:
        with pytest.raises(ConfigurationError, match="eventstore-impostor"):
            plugins.backends()
    finally:
        plugins.pm.unregister(name="duplicate")
    assert "memory" in plugins.backends()


def test_misspelled_hook_fails_loudly() -> None:
    class Misspelled:
        @staticmethod
        @hookimpl
        def register_backend(register: Callable[..., None]) -> None:  # missing "s"
            pass

    plugins.pm.register(Misspelled, name="misspelled")
    try:
        with pytest.raises(Exception, match="register_backend"):
            plugins.pm.check_pending()
    finally:
        plugins.pm.unregister(name="misspelled")


def test_cli_lists_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "eventstore-core" in out and "memory (eventstore-core)" in out
    assert main(["plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["backends"]["memory"] == "eventstore-core"


def test_environment_variable_restricts_what_loads() -> None:
    code = (
        "from eventstore_core import plugins; "
        "print(sorted(plugins.backends()), sorted(plugins.ciphers()))"
    )
    restricted = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"EVENTSTORE_LOAD_PLUGINS": "", "PATH": ""},
    )
    assert restricted.stdout.strip() == "['memory'] []"

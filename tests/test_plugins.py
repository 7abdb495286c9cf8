"""The plugin framework: hooks, registries, the CLI."""

import inspect
import json
import os
import subprocess
import sys
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path

import pytest

from eventstore_core import ConfigurationError, hookimpl, hookspecs, plugins
from eventstore_core.cli import main

PLUGINS_DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def hook_specs() -> list[Callable[..., None]]:
    """Every hook spec of ``hookspecs`` (found as pluggy finds them: by their marker)."""
    return [f for _, f in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(f, "eventstore_spec")]


def documented_parameters(spec: Callable[..., None]) -> list[str]:
    """The parameters of a spec's ``register`` callback, from its typed signature."""
    (hook_parameter,) = inspect.signature(spec).parameters
    registrar = typing.get_type_hints(spec, vars(hookspecs))[hook_parameter]
    return [p for p in inspect.signature(registrar.__call__).parameters if p != "self"]


def docs_section(heading: str) -> str:
    text = PLUGINS_DOC.read_text()
    start = text.find(f"### `{heading}`")
    assert start >= 0, f"docs/plugins.md has no section ### `{heading}`"
    end = text.find("\n#", start + 1)
    return text[start:end if end >= 0 else None]


def test_every_hookspec_and_each_parameter_is_documented() -> None:
    specs = hook_specs()
    assert {f.__name__ for f in specs} >= {"register_backends", "register_ciphers",
                                           "register_codecs"}
    for spec in specs:
        parameters = documented_parameters(spec)
        assert parameters, spec.__name__
        arguments = ", ".join(inspect.signature(spec).parameters)
        section = docs_section(f"{spec.__name__}({arguments})")
        assert "```python" in section, f"{spec.__name__}: no runnable example in its section"
        for parameter in parameters:
            assert f"``{parameter}``" in (spec.__doc__ or ""), (spec.__name__, parameter)
            assert f"`{parameter}`" in section, (spec.__name__, parameter)


def test_a_new_hookspec_without_its_section_fails_the_check() -> None:
    class Registrar(typing.Protocol):
        def __call__(self, name: str, widget: object) -> None: ...

    def register_widgets(register: Registrar) -> None:
        """Register widgets: ``name``, ``widget``."""

    register_widgets.__annotations__ = {"register": Registrar, "return": None}
    assert documented_parameters(register_widgets) == ["name", "widget"]
    with pytest.raises(AssertionError, match="register_widgets"):
        docs_section("register_widgets(register)")


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


def test_memory_store_imports_no_driver_in_a_fresh_process() -> None:
    code = (
        "import sys; from eventstore_core import EventStore; "
        "EventStore.from_config('memory'); EventStore.from_config('memory://'); "
        "from eventstore_core import plugins; plugins.get_plugins(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'cassandra', 'cryptography', 'Crypto', 'psycopg', 'pymysql')))"
    )
    env = {k: v for k, v in os.environ.items() if k != "EVENTSTORE_LOAD_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    assert done.stdout.strip() == "[]"
    # ... and every installed plugin was loaded (listed), only not its drivers
    listed = subprocess.run(
        [sys.executable, "-c", "from eventstore_core import plugins; "
         "print(sorted(p['name'] for p in plugins.get_plugins()))"],
        capture_output=True, text=True, check=True, env=env)
    assert "sqlalchemy" in listed.stdout and "cassandra" in listed.stdout


def test_user_imports_of_a_lazy_plugin_package_keep_working() -> None:
    import eventstore_sqlalchemy

    assert eventstore_sqlalchemy.SQLAlchemySettings.__name__ == "SQLAlchemySettings"
    assert "SQLAlchemyActiveRecordStrategy" in dir(eventstore_sqlalchemy)
    with pytest.raises(AttributeError, match="NoSuchThing"):
        eventstore_sqlalchemy.NoSuchThing  # noqa: B018


def test_plugin_default_uri_is_the_datastores() -> None:
    from eventstore_sqlalchemy import datastore, plugin

    assert plugin.DEFAULT_URI == datastore.DEFAULT_URI


BROKEN_DIST = """\
Metadata-Version: 2.1
Name: eventstore-broken
Version: 9.9
"""


def test_a_broken_plugin_is_named_and_the_others_keep_working(tmp_path: Path) -> None:
    info = tmp_path / "eventstore_broken-9.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(BROKEN_DIST)
    (info / "entry_points.txt").write_text(
        "[eventstore]\nbroken = eventstore_broken_missing.plugin\n")
    code = textwrap.dedent("""
        import json
        from eventstore_core import ConfigurationError, EventStore, plugins
        EventStore.from_config("memory")  # the others keep working
        errors = {}
        for name in ("broken", "nosuchdb"):
            try:
                EventStore.from_config(name)
            except ConfigurationError as error:
                errors[name] = str(error)
        listed = [p for p in plugins.get_plugins() if p["name"] == "broken"]
        print(json.dumps({"errors": errors, "listed": listed}))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("EVENTSTORE_LOAD_PLUGINS", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=env)
    result = json.loads(done.stdout)
    broken = result["errors"]["broken"]
    assert "'broken'" in broken and "eventstore-broken 9.9" in broken
    assert "ModuleNotFoundError" in broken and "eventstore_broken_missing" in broken
    assert "memory" in broken  # what does work
    assert "eventstore-broken" in result["errors"]["nosuchdb"]  # mentioned when guessing
    (listed,) = result["listed"]
    assert listed["distribution"] == "eventstore-broken" and listed["version"] == "9.9"
    assert listed["hooks"] == [] and "ModuleNotFoundError" in listed["error"]


def test_register_callbacks_are_typed_per_hook() -> None:
    calls: list[str] = []

    class Plugin:
        @staticmethod
        @hookimpl
        def register_backends(register: Callable[..., None]) -> None:
            calls.append("backends")
            with pytest.raises(TypeError):
                register("x", lambda: None, "positional-options")  # keyword-only
            with pytest.raises(ConfigurationError, match="options_from_url"):
                register("y", lambda: None, url_schemes=("y",))
            with pytest.raises(ConfigurationError, match="URL scheme memory://"):
                register("z", lambda: None, url_schemes=("memory",),
                         options_from_url=lambda url: {})

        @staticmethod
        @hookimpl
        def register_codecs(register: Callable[..., None]) -> None:
            calls.append("codecs")
            with pytest.raises(TypeError):
                register("c", object)  # an encoder without its decoder

    plugins.load_plugins()
    plugins.pm.register(Plugin, name="typed")
    try:
        assert "x" not in plugins.backends() and "c" not in plugins.codecs()
    finally:
        plugins.pm.unregister(name="typed")
    assert calls == ["backends", "codecs"]

"""The ``eventstore`` commands (click and rich: the ``eventstore-core[cli]`` extra).

Every command names its store by a config string, or takes it from ``$EVENTSTORE_URL``
when it is left out. Errors are one line on standard error and exit status 1 (2 for bad
usage, 130 when interrupted); ``--debug`` shows the traceback too.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from uuid import UUID

import click
import orjson

from .. import plugins as plugin_registry
from ..eventstore import EventStore
from ..exceptions import ConfigurationError
from ..subscription import CatchUpSubscription
from ..urls import redact
from . import jsonlines
from .progress import make_progress
from .stores import (
    STORE_VARIABLE,
    estimated_items,
    last_global_position,
    open_store,
    store_spec,
    summarize,
)
from .transfer import (
    FileSink,
    FileSource,
    StateFile,
    StoreSink,
    StoreSource,
    check_copy,
    decrypted,
    stop_on_sigint,
    transfer,
)
from .verify import KIND_TITLES, Verifier

DATA_WIDTH = 60


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    """An aligned table: a header line, a rule, one line per row (nothing is cut or folded,
    so it reads the same in a terminal, a pipe or a log)."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    click.echo(line(headers).rstrip())
    click.echo("  ".join("-" * width for width in widths))
    for row in rows:
        click.echo(line(row).rstrip())


@contextmanager
def opened(spec: str | None) -> Iterator[tuple[str, EventStore]]:
    name = store_spec(spec)
    store = open_store(name)
    try:
        yield redact(name), store
    finally:
        store.close()


def split_store(args: tuple[str, ...], names: str, store_first: bool = True) -> list[str | None]:
    """Positional arguments where the store may be left out (then ``$EVENTSTORE_URL``)."""
    wanted = names.split()
    if len(args) == len(wanted):
        return list(args)
    if len(args) == len(wanted) - 1:
        return [None, *args] if store_first else [*args, None]
    raise click.UsageError(f"expected {' '.join(wanted)} (STORE may be left out when "
                           f"{STORE_VARIABLE} is set), got {len(args)} argument(s)")


def parse_sequence(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a sequence id (a UUID)",
                                 param_hint="SEQUENCE") from None


def parse_position(text: str | None, name: str) -> int | Decimal | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a position (an integer, or a timestamp "
                                 f"such as 1700000000.123456)", param_hint=name) from None


# -- showing items ----------------------------------------------------------------------
class ItemPrinter:
    """Items as aligned rows (streamed: no table is held in memory) or as JSON Lines in the
    export format (with ``global_position`` where there is one)."""

    def __init__(self, store: EventStore, as_json: bool, with_global: bool) -> None:
        self.cipher = store.sequenced_item_mapper.cipher
        self.as_json, self.with_global = as_json, with_global
        self.header_done = False

    def show(self, item: Any, global_position: int | None = None) -> None:
        if self.cipher is not None:
            item = decrypted(self.cipher, item)
        if self.as_json:
            line = jsonlines.item_line(item)
            if global_position is not None:  # written by hand: it may exceed 64 bits
                line = b'{"global_position":%d,%s' % (global_position, line[1:])
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            return
        if not self.header_done:
            self.header_done = True
            click.echo(self._row("GLOBAL", "SEQUENCE", "POSITION", "TOPIC", "DATA"))
        data = item[3] if len(item[3]) <= DATA_WIDTH else item[3][:DATA_WIDTH - 3] + "..."
        shown = "" if global_position is None else str(global_position)
        click.echo(self._row(shown, str(item[0]), str(item[1]), item[2], data))

    def _row(self, global_position: str, sequence: str, position: str, topic: str,
             data: str) -> str:
        start = f"{global_position:>8}  " if self.with_global else ""
        return f"{start}{sequence:<36}  {position:>8}  {topic:<40}  {data}".rstrip()

    def none_found(self, what: str) -> None:
        if not self.as_json and not self.header_done:
            click.echo(f"no items {what}", err=True)


# -- the commands -----------------------------------------------------------------------
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.version_option(package_name="eventstore-core", prog_name="eventstore")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Look inside an event store, move it, check it and follow it.

    STORE is a config string: sqlite:///app.db, postgresql+psycopg://user@host/db,
    mysql+pymysql://user@host/db, cassandra://host1,host2/keyspace or memory://, with
    options as query parameters (?cipher=aes, ?record=snapshot). The cipher key comes from
    EVENTSTORE_CIPHER_KEY. Where STORE is left out, EVENTSTORE_URL names it.
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("store", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(store: str | None, as_json: bool) -> None:
    """Backend, tables, sequences, items, global position, size on disk."""
    with opened(store) as (name, opened_store):
        summary = summarize(opened_store)
    if as_json:
        # the standard json module: a global position may exceed orjson's 64 bits
        click.echo(json.dumps({"store": name, **vars(summary)}, indent=2))
        return
    rows = [
        ("store", name),
        ("backend", summary.backend),
        ("sequences", f"{summary.sequences:,}"),
        ("items", f"{summary.items:,}"),
        ("global position", "none (no global order)" if summary.global_position is None
         else f"{summary.global_position:,}"),
        ("size on disk", "not reported by this backend" if summary.size_bytes is None
         else _size(summary.size_bytes)),
        ("counted by", summary.counted_by),
        ("capabilities", ", ".join(k for k, v in summary.capabilities.items() if v) or "none"),
    ]
    for key, value in rows:
        click.echo(f"{key:<16} {value}")
    if summary.tables:
        click.echo()
        print_table(["table", "rows", "size on disk"], [
            [str(described.get("name", "?")),
             "" if described.get("rows") is None else f"{described['rows']:,}",
             "" if described.get("bytes") is None else _size(described["bytes"])]
            for described in summary.tables
        ])


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size:,} bytes"  # pragma: no cover


@cli.command()
@click.argument("args", nargs=-1, metavar="[STORE] SEQUENCE")
@click.option("--gt", help="Positions above this.")
@click.option("--gte", help="Positions from this.")
@click.option("--lt", help="Positions below this.")
@click.option("--lte", help="Positions up to this.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many (after the order).")
@click.option("--desc", is_flag=True, help="Newest first.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the export format).")
def read(args: tuple[str, ...], gt: str | None, gte: str | None, lt: str | None,
         lte: str | None, limit: int | None, desc: bool, as_json: bool) -> None:
    """The items of one sequence."""
    store, sequence = split_store(args, "STORE SEQUENCE")
    assert sequence is not None
    sequence_id = parse_sequence(sequence)
    bounds = {name: parse_position(value, f"--{name}")
              for name, value in (("gt", gt), ("gte", gte), ("lt", lt), ("lte", lte))}
    with opened(store) as (_, opened_store):
        items = opened_store.active_record_strategy.get_items(
            sequence_id, limit=limit, is_ascending=not desc, **bounds
        )
        printer = ItemPrinter(opened_store, as_json, with_global=False)
        for item in items:
            printer.show(item)
        printer.none_found(f"in sequence {sequence_id} within these bounds")


@cli.command()
@click.argument("args", nargs=-1, metavar="[STORE] [SEQUENCE]")
@click.option("-n", "--lines", "count", default=10, show_default=True,
              type=click.IntRange(min=0), help="How many of the last items to show.")
@click.option("--follow", "-f", is_flag=True, help="Then show new items as they are stored "
              "(until Ctrl-C).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines (the export format).")
@click.option("--poll", default=0.5, show_default=True, type=click.FloatRange(min=0.01),
              help="Seconds between looks for new items where the database cannot notify.")
def tail(args: tuple[str, ...], count: int, follow: bool, as_json: bool, poll: float) -> None:
    """The last items of the global feed, or of one sequence; --follow for new ones."""
    if len(args) > 2:
        raise click.UsageError(f"expected [STORE] [SEQUENCE], got {len(args)} arguments")
    store: str | None = None
    sequence_id: UUID | None = None
    for arg in args:
        try:
            sequence_id = UUID(arg)
        except ValueError:
            if store is not None:
                raise click.BadParameter(f"{arg!r} is not a sequence id (a UUID)",
                                         param_hint="SEQUENCE") from None
            store = arg
    with opened(store) as (_, opened_store):
        strategy = opened_store.active_record_strategy
        ordered = strategy.capabilities.global_order
        if sequence_id is None and not ordered:
            raise ConfigurationError(
                f"{type(strategy).__name__} has no global feed: name a SEQUENCE to tail"
            )
        printer = ItemPrinter(opened_store, as_json, with_global=ordered and sequence_id is None)
        end = last_global_position(opened_store) if ordered else 0
        last: Any = None
        if sequence_id is not None:
            last = _tail_sequence(strategy, sequence_id, count, printer)
        else:
            _tail_feed(opened_store, end, count, printer)
        if not follow:
            return
        # Ctrl-C ends following, also where the shell started the command with SIGINT
        # ignored (a background job)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            if not ordered:  # no feed to follow (Cassandra): look at the sequence now and then
                while True:
                    time.sleep(poll)
                    for item in strategy.get_items(sequence_id, gt=last):
                        printer.show(item)
                        last = item[1]
            # the feed from where the tail ended: woken by the database where it notifies
            for ordered_item in CatchUpSubscription(strategy, after=end, poll_interval=poll):
                item = ordered_item.item
                if sequence_id is None:
                    printer.show(item, ordered_item.global_position)
                elif item[0] == sequence_id and (last is None or item[1] > last):
                    printer.show(item)
        except KeyboardInterrupt:
            return


def _tail_sequence(strategy: Any, sequence_id: UUID, count: int, printer: ItemPrinter) -> Any:
    items = strategy.get_items(sequence_id, limit=count, is_ascending=False) if count else []
    for item in reversed(items):
        printer.show(item)
    if items:
        return items[0][1]
    newest = strategy.get_items(sequence_id, limit=1, is_ascending=False)
    return newest[0][1] if newest else None


def _tail_feed(store: EventStore, end: int, count: int, printer: ItemPrinter) -> None:
    """Shows the last ``count`` items of the global feed up to position ``end``.

    Global positions may be sparse (PostgreSQL's come from transaction ids, Cassandra's from
    time), so the window below ``end`` doubles until it holds ``count`` items; each window
    is read page by page, keeping only the last ``count`` (memory stays bounded)."""
    strategy = store.active_record_strategy
    if not count:
        return
    window = count
    while True:
        after = max(end - window, 0)
        last: deque[Any] = deque(maxlen=count)
        position = after
        while True:
            page = strategy.read_all(position, 1000)
            last.extend(o for o in page if o.global_position <= end)
            if len(page) < 1000 or page[-1].global_position >= end:
                break
            position = page[-1].global_position
        if len(last) >= count or after == 0:
            break
        window *= 2
    for ordered_item in last:
        printer.show(ordered_item.item, ordered_item.global_position)


@cli.command("export")
@click.argument("args", nargs=-1, metavar="[STORE] FILE")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def export_command(args: tuple[str, ...], batch_size: int, quiet: bool) -> None:
    """Every item of STORE into FILE (JSON Lines, see docs/operations.md).

    Data is written as stored (ciphertext stays ciphertext) unless the store is opened with
    its cipher and key, then it is decrypted.
    """
    store, file = split_store(args, "STORE FILE")
    assert file is not None
    with opened(store) as (name, opened_store):
        decrypt = opened_store.sequenced_item_mapper.cipher is not None
        source = StoreSource(opened_store, name, decrypt=decrypt)
        sink = FileSink(Path(file), name, decrypted=decrypt)
        try:
            with stop_on_sigint() as stop:
                result = transfer(source, sink, make_progress("export", enabled=not quiet),
                                  batch_size=batch_size, stop_requested=stop)
        except BaseException:
            sink.abandon()
            raise
    click.echo(f"exported {result.copied:,} items to {file}"
               + (" (decrypted)" if decrypt else " (data as stored)"))


@cli.command("import")
@click.argument("args", nargs=-1, metavar="FILE [STORE]")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="State file to resume from (default: .eventstore-copy-<job>.json here).")
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def import_command(args: tuple[str, ...], batch_size: int, state: Path | None,
                   quiet: bool) -> None:
    """Every item of an export FILE into STORE (resumable, like copy).

    A decrypted export is encrypted on the way in when STORE has a cipher and key; an
    export of data as stored is written as it is.
    """
    file, store = split_store(args, "FILE STORE", store_first=False)
    assert file is not None
    source = FileSource(Path(file))
    try:
        with opened(store) as (name, opened_store):
            encrypt = source.decrypted and opened_store.sequenced_item_mapper.cipher is not None
            sink = StoreSink(opened_store, name, encrypt=encrypt)
            _resumable(source, sink, f"{Path(file).resolve()}", name, "import", batch_size,
                       state, quiet)
    finally:
        source.close()


@cli.command()
@click.argument("source")
@click.argument("target")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path),
              help="State file to resume from (default: .eventstore-copy-<job>.json here).")
@click.option("--no-check", is_flag=True, help="Skip the check at the end.")
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def copy(source: str, target: str, batch_size: int, state: Path | None, no_check: bool,
         quiet: bool) -> None:
    """Every item of SOURCE into TARGET, as stored; resumable; checked at the end."""
    with opened(source) as (source_name, source_store), \
            opened(target) as (target_name, target_store):
        result = _resumable(StoreSource(source_store, source_name),
                            StoreSink(target_store, target_name), source_name, target_name,
                            "copy", batch_size, state, quiet, gather_ends=not no_check)
        if no_check:
            return
        problems = check_copy(source_store, target_store, source_ends=result.source_ends)
    if problems:
        for problem in problems:
            click.echo(f"check: {problem}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"check: every sequence of the source has its {result.copied + result.skipped:,}"
               f" items in the target, up to the same last position")


def _resumable(source: StoreSource | FileSource, sink: StoreSink, source_key: str,
               target_key: str, label: str, batch_size: int, state_path: Path | None,
               quiet: bool, gather_ends: bool = False) -> Any:
    path = state_path or StateFile.default_path(source_key, target_key)
    state = StateFile(path, source_key, target_key)
    with stop_on_sigint() as stop:
        result = transfer(source, sink, make_progress(label, enabled=not quiet),
                          batch_size=batch_size, state=state, stop_requested=stop,
                          gather_ends=gather_ends)
    state.remove()
    resumed = "" if result.resumed_at is None else f", resumed after {result.resumed_at:,}"
    skipped = f", {result.skipped:,} already there" if result.skipped else ""
    click.echo(f"{label}: {result.written_now:,} items written{resumed}{skipped}")
    return result


@cli.command()
@click.argument("store", required=False)
@click.option("--snapshots", metavar="STORE", help="The snapshot store to check against it.")
@click.option("--skip-topics", is_flag=True, help="Do not check that topics can be imported.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="Problems listed of each kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
def verify(store: str | None, snapshots: str | None, skip_topics: bool, limit: int,
           as_json: bool, quiet: bool) -> None:
    """Check every item: sequences contiguous, data readable, topics, snapshots.

    Exit status 1 when anything is wrong.
    """
    with opened(store) as (name, opened_store):
        verifier = Verifier(opened_store, resolve_topics=not skip_topics, limit=limit)
        progress = make_progress("verify", enabled=not quiet)
        progress.start(estimated_items(opened_store))
        for _ in verifier.items(progress):
            pass
        if snapshots is not None:
            with opened(snapshots) as (_, snapshot_store):
                verifier.check_snapshots(snapshot_store, progress)
        progress.finish()
        report = verifier.finish()
    if as_json:
        click.echo(orjson.dumps({"store": name, "ok": report.ok, **vars(report)},
                                option=orjson.OPT_INDENT_2))
    else:
        checked = f"{report.items:,} items in {report.sequences:,} sequences"
        if snapshots is not None:
            checked += f", {report.snapshots:,} snapshots"
        if report.ok:
            click.echo(f"verify: OK: {checked}")
        else:
            click.echo(f"verify: PROBLEMS: {checked}")
            for kind, number in report.counts.items():
                click.echo(f"  {KIND_TITLES[kind]}: {number:,}")
                for message in report.listed[kind]:
                    click.echo(f"    {message}")
                if number > len(report.listed[kind]):
                    click.echo(f"    ... and {number - len(report.listed[kind]):,} more")
            for hint in report.hints:
                click.echo(f"  hint: {hint}")
    if not report.ok:
        raise click.exceptions.Exit(1)


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins_command(as_json: bool) -> None:
    """The installed plugins and what they register."""
    registered = {
        "backends": {n: r.distribution for n, r in plugin_registry.backends().items()},
        "ciphers": {n: r.distribution for n, r in plugin_registry.ciphers().items()},
        "codecs": {n: r.distribution for n, r in plugin_registry.codecs().items()},
    }
    loaded = plugin_registry.get_plugins()
    if as_json:
        click.echo(orjson.dumps({"plugins": loaded, **registered}, option=orjson.OPT_INDENT_2))
        return
    broken = any(plugin.get("error") for plugin in loaded)
    rows = []
    for plugin in loaded:
        row = [plugin["distribution"], str(plugin["version"]), plugin["name"],
               ", ".join(plugin.get("hooks", ())) or "-"]
        if broken:
            row.append(str(plugin.get("error") or ""))
        rows.append(row)
    print_table(["distribution", "version", "plugin", "hooks"] + (["error"] if broken else []),
                rows)
    click.echo()
    for kind, names in registered.items():
        click.echo(f"{kind}: " + ", ".join(f"{n} ({d})" for n, d in sorted(names.items())))

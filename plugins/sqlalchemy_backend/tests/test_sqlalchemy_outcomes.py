"""A connection lost during or after the COMMIT is ``OutcomeUnknownError`` (issue 15).

The server may have committed: "not written" would be a wrong answer, which a retry then turns
into a false conflict. Tested on the real servers through a small TCP proxy that forwards the
COMMIT (or the one statement that commits itself) and then drops both sides of the connection
without forwarding the server's answer; the server commits, the writer cannot know.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.exceptions import ConcurrencyError, OutcomeUnknownError
from eventstore_core.sequenceditem import SequencedItem
from sqlalchemy import make_url
from sqlalchemy_databases import SERVER_URIS

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy

TOPIC = "eventstore_core.events#DomainEvent"


class DropAfter:
    """A TCP proxy on 127.0.0.1 to one server; once ``arm(marker)`` is called, the first
    client message holding ``marker`` is forwarded and then both sockets are closed."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.marker: bytes | None = None
        self.dropped = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes) -> None:
        with self._lock:
            self.marker = marker

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.upstream, timeout=10)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, to_server: bool) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
                with self._lock:
                    marker = self.marker
                    hit = to_server and marker is not None and marker in data
                    if hit:
                        self.marker = None
                if hit:
                    self.dropped.set()
                    for sock in (source, target):
                        sock.close()
                    return
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass


@pytest.fixture(params=list(SERVER_URIS))
def proxied(request: pytest.FixtureRequest) -> Iterator[tuple[DropAfter, str, str]]:
    """(the proxy, the server's URI through it, the server's own URI)."""
    direct = SERVER_URIS[request.param]
    url = make_url(direct)
    proxy = DropAfter(url.host or "127.0.0.1", url.port or 0)
    through = url.set(host="127.0.0.1", port=proxy.port)
    if url.get_backend_name() == "postgresql":
        through = through.update_query_dict({"sslmode": "disable"})  # the proxy reads COMMIT
    yield proxy, through.render_as_string(hide_password=False), direct
    proxy.close()


def item(sequence_id: Any, position: int) -> SequencedItem:
    return SequencedItem(sequence_id, position, TOPIC, "{}")


def positions(uri: str, sequence_id: Any) -> list[int]:
    reader: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=uri)
    try:
        return [i.position for i in reader.get_items(sequence_id)]
    finally:
        reader.close()


def test_a_connection_lost_after_forwarding_commit_is_outcome_unknown(
    proxied: tuple[DropAfter, str, str],
) -> None:
    proxy, through, direct = proxied
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=through)
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))
    proxy.arm(b"COMMIT")
    with pytest.raises(OutcomeUnknownError, match="may or may not have been committed") as caught:
        strategy.append([item(sequence_id, 1), item(sequence_id, 2)])
    assert proxy.dropped.is_set()
    assert "positions 1, 2 of sequence" in str(caught.value)
    assert positions(direct, sequence_id) == [0, 1, 2]  # it was written: "not written" is wrong
    strategy.append(item(sequence_id, 3))  # the lost connection is not used again
    with pytest.raises(ConcurrencyError):  # and a known outcome is still reported as known
        strategy.append(item(sequence_id, 3))
    strategy.close()


def test_postgres_one_statement_that_commits_itself_lost_is_outcome_unknown() -> None:
    direct = SERVER_URIS["postgresql"]
    url = make_url(direct)
    proxy = DropAfter(url.host or "127.0.0.1", url.port or 0)
    through = url.set(host="127.0.0.1", port=proxy.port).update_query_dict({"sslmode": "disable"})
    strategy: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(
        uri=through.render_as_string(hide_password=False)
    )
    sequence_id = uuid4()
    strategy.append(item(sequence_id, 0))
    proxy.arm(b"INSERT INTO")  # one item: one statement in autocommit mode
    with pytest.raises(OutcomeUnknownError, match="connection was lost"):
        strategy.append(item(sequence_id, 1))
    assert positions(direct, sequence_id) == [0, 1]
    strategy.close()
    proxy.close()

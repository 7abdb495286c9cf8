"""A TCP proxy between a client and a private server that cuts a connection on purpose.

Armed with a marker (``arm(b"COMMIT")``), it forwards the first client packet containing that
word to the server, waits for the server's answer to arrive, drops that answer, and closes
the connection on both sides: the server has done the work (a COMMIT committed), the client
never hears so. Then it disarms itself; every other byte passes through unchanged.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
from typing import Any

from private_servers import HOST, free_port


class CuttingProxy:
    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener = socket.create_server((HOST, self.port))
        self.listener.settimeout(0.2)
        self._marker: re.Pattern[bytes] | None = None
        self._lock = threading.Lock()
        self.cuts = 0
        self._closed = threading.Event()
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def arm(self, marker: bytes) -> None:
        """Cut the next connection that sends ``marker`` as a word (any case: ``COMMIT``,
        not the ``SET AUTOCOMMIT`` of a new MySQL connection)."""
        with self._lock:
            self._marker = re.compile(rb"(?<![A-Za-z_])" + marker + rb"(?![A-Za-z_])", re.I)

    @property
    def armed(self) -> bool:
        return self._marker is not None

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._connections += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _take_marker(self, data: bytes) -> bool:
        with self._lock:
            if self._marker is not None and self._marker.search(data):
                self._marker = None
                return True
        return False

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        cutting = False
        sockets: list[Any] = [client, server]
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.2)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is client:
                        cutting = cutting or self._take_marker(data)
                        server.sendall(data)
                    elif cutting:
                        self.cuts += 1  # the server answered: drop it, and the connection
                        return
                    else:
                        client.sendall(data)
        except OSError:
            return
        finally:
            for end in (client, server):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

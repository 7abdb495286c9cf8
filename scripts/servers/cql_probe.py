#!/usr/bin/env python3
"""Ask a Cassandra node one CQL question, with nothing but the standard library.

Used by ``cassandra.sh`` to decide that the server is up: a listening port is not enough, the
node must answer ``SELECT release_version FROM system.local`` through the native protocol.
It needs no driver, so it works before any virtualenv exists (a fresh CI machine).

Usage: ``cql_probe.py [host] [port] [timeout_seconds]``. Prints the release version and exits
0 when the query answered; prints why and exits 1 otherwise.
"""

from __future__ import annotations

import socket
import struct
import sys

PROTOCOL_V4_REQUEST = 0x04
OP_ERROR, OP_STARTUP, OP_READY, OP_QUERY, OP_RESULT = 0x00, 0x01, 0x02, 0x07, 0x08
RESULT_ROWS = 0x0002
CONSISTENCY_ONE = 0x0001


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def _frame(stream: int, opcode: int, body: bytes) -> bytes:
    return struct.pack(">BBhBi", PROTOCOL_V4_REQUEST, 0, stream, opcode, len(body)) + body


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks = b""
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the server")
        chunks += chunk
    return chunks


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    _version, _flags, _stream, opcode, length = struct.unpack(">BBhBi", _read_exact(sock, 9))
    return opcode, _read_exact(sock, length)


def _error_text(body: bytes) -> str:
    code = struct.unpack(">i", body[:4])[0]
    (size,) = struct.unpack(">H", body[4:6])
    return f"server error 0x{code:04x}: {body[6:6 + size].decode(errors='replace')}"


def _first_text_cell(body: bytes) -> str:
    """Return the first cell of a one-text-column Rows result (best effort)."""
    offset = 4  # result kind
    flags, columns = struct.unpack(">ii", body[offset:offset + 8])
    offset += 8
    if flags & 0x0002:  # has_more_pages: skip the paging state
        (size,) = struct.unpack(">i", body[offset:offset + 4])
        offset += 4 + max(size, 0)
    names = 2 if flags & 0x0001 else 0  # global table spec: keyspace and table once
    names += 0 if flags & 0x0004 else columns * (3 if not flags & 0x0001 else 1)
    for _ in range(names):
        (size,) = struct.unpack(">H", body[offset:offset + 2])
        offset += 2 + size
    if not flags & 0x0004:
        offset += 2 * columns  # each column's type id (varchar has no extra)
    (rows,) = struct.unpack(">i", body[offset:offset + 4])
    offset += 4
    if rows < 1:
        return "?"
    (size,) = struct.unpack(">i", body[offset:offset + 4])
    return body[offset + 4:offset + 4 + size].decode(errors="replace")


def probe(host: str, port: int, timeout: float) -> str:
    """Run one query against host:port; return the release version or raise OSError/ValueError."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(_frame(0, OP_STARTUP, struct.pack(">H", 1) + _string("CQL_VERSION")
                            + _string("3.0.0")))
        opcode, body = _read_frame(sock)
        if opcode == OP_ERROR:
            raise ValueError(_error_text(body))
        if opcode != OP_READY:
            raise ValueError(f"unexpected answer to STARTUP (opcode 0x{opcode:02x})")
        query = b"SELECT release_version FROM system.local"
        sock.sendall(_frame(1, OP_QUERY, struct.pack(">i", len(query)) + query
                            + struct.pack(">HB", CONSISTENCY_ONE, 0)))
        opcode, body = _read_frame(sock)
        if opcode == OP_ERROR:
            raise ValueError(_error_text(body))
        if opcode != OP_RESULT or struct.unpack(">i", body[:4])[0] != RESULT_ROWS:
            raise ValueError(f"unexpected answer to QUERY (opcode 0x{opcode:02x})")
        try:
            return _first_text_cell(body)
        except (struct.error, UnicodeError):
            return "?"


def main(argv: list[str]) -> int:
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = int(argv[2]) if len(argv) > 2 else 9042
    timeout = float(argv[3]) if len(argv) > 3 else 5.0
    try:
        print(probe(host, port, timeout))
    except (OSError, ValueError) as error:
        print(f"no CQL answer from {host}:{port}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""What the mapper needs of a cipher. Cipher plugins (such as eventstore-aes) provide one.

A cipher whose ``encrypt`` and ``decrypt`` take ``associated_data`` (an AEAD cipher such as
AES-GCM) is given the item's sequence id, position and topic as associated data: each
ciphertext is then bound to its row, and a state copied to another row, or under another
topic, fails to decrypt (``DataIntegrityError``). A cipher without that argument is still
used, and still hides the state, but its ciphertexts are not bound to their rows; the
mapper's ``binds_rows`` attribute says which kind it has.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import orjson


@runtime_checkable
class Cipher(Protocol):
    """Encrypts text to text; ``decrypt`` raises ``DataIntegrityError`` rather than garbage."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...


class BindingCipher(Protocol):
    """A cipher that authenticates ``associated_data`` with each ciphertext.

    ``decrypt(ciphertext, associated_data)`` raises ``DataIntegrityError`` unless the
    ciphertext was made by ``encrypt`` with the same associated data (or, to keep older data
    readable, it was made without any).
    """

    def encrypt(self, plaintext: str, associated_data: bytes | None = None) -> str: ...

    def decrypt(self, ciphertext: str, associated_data: bytes | None = None) -> str: ...


def takes_associated_data(cipher: Any) -> bool:
    """Whether both ``encrypt`` and ``decrypt`` of ``cipher`` take ``associated_data``."""
    for name in ("encrypt", "decrypt"):
        try:
            parameters = inspect.signature(getattr(cipher, name)).parameters
        except (AttributeError, TypeError, ValueError):
            return False
        if "associated_data" not in parameters:
            return False
    return True


def associated_data(sequence_id: Any, position: Any, topic: str) -> bytes:
    """The bytes that bind a ciphertext to its row: its sequence id, position and topic.

    A JSON array ``[sequence id, position, topic]`` (so no two rows give the same bytes), a
    UUID written as ``str(uuid)`` does. The position is written in a canonical form, so that
    a database giving back ``Decimal('1.500000')`` for a stored ``Decimal('1.5')``, or a whole
    Decimal for an int, reads the same row.
    """
    if type(position) is not int:
        position = _canonical_position(position)
    try:
        return dumps_row((sequence_id, position, topic))
    except TypeError:  # a type orjson does not write (or an int beyond 64 bits): as text
        return dumps_row((str(sequence_id), str(position), topic))


#: ``associated_data`` of a row with an int position (the mapper calls it inline).
dumps_row = orjson.dumps


def _canonical_position(position: Any) -> Any:
    if type(position) is Decimal:
        if not position.is_finite():
            return str(position)
        if position == position.to_integral_value():
            return int(position)  # also turns -0 into 0: a database keeps no sign of zero
        return format(position.normalize(), "f")
    if type(position) is float:
        return position
    return str(position)

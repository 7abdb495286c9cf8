"""What the mapper needs of a cipher. Cipher plugins (such as eventstore-aes) provide one."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Cipher(Protocol):
    """Encrypts text to text; ``decrypt`` raises ``DataIntegrityError`` rather than garbage."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...

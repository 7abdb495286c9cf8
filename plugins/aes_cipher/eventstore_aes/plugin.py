"""Registers the AES ciphers with eventstore (entry point ``aes`` of the ``eventstore`` group)."""

from __future__ import annotations

from collections.abc import Callable

import eventstore_core

from .cipher import AESCipher, key_from_text

DISTRIBUTION = "eventstore-aes"


def make_aes_cipher(key: bytes | str) -> AESCipher:
    """``cipher="aes"``: AES-GCM through the ``cryptography`` package.

    ``key`` is the raw key (bytes) or its base64 text (str), as ``key_from_text`` reads it.
    """
    return AESCipher(key_from_text(key))


def make_aes_pycryptodome_cipher(key: bytes | str) -> AESCipher:
    """``cipher="aes-pycryptodome"``: the same wire format through pycryptodome."""
    return AESCipher(key_from_text(key), implementation="pycryptodome")


@eventstore_core.hookimpl
def register_ciphers(register: Callable[..., None]) -> None:
    register("aes", make_aes_cipher, distribution=DISTRIBUTION)
    register("aes-pycryptodome", make_aes_pycryptodome_cipher, distribution=DISTRIBUTION)

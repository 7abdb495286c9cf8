"""Registers the AES ciphers with eventstore (entry point ``aes`` of the ``eventstore`` group).

Only names are declared here: ``cryptography`` (or pycryptodome) is imported when a cipher is
made, so that a store without a cipher never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import eventstore_core
from eventstore_core.hookspecs import CipherRegistrar

if TYPE_CHECKING:
    from .cipher import AESCipher


def make_aes_cipher(key: bytes | str) -> AESCipher:
    """``cipher="aes"``: AES-GCM through the ``cryptography`` package.

    ``key`` is the raw key (bytes) or its base64 text (str), as ``key_from_text`` reads it.
    """
    from .cipher import AESCipher, key_from_text

    return AESCipher(key_from_text(key))


def make_aes_pycryptodome_cipher(key: bytes | str) -> AESCipher:
    """``cipher="aes-pycryptodome"``: the same wire format through pycryptodome."""
    from .cipher import AESCipher, key_from_text

    return AESCipher(key_from_text(key), implementation="pycryptodome")


@eventstore_core.hookimpl
def register_ciphers(register: CipherRegistrar) -> None:
    register("aes", make_aes_cipher)
    register("aes-pycryptodome", make_aes_pycryptodome_cipher)

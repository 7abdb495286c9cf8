"""AES-GCM cipher plugin for eventstore: ``AESCipher`` encrypts the state of stored events.

Installed, it registers the ciphers ``"aes"`` (the ``cryptography`` package) and
``"aes-pycryptodome"`` (pycryptodome, same wire format) under the ``eventstore`` entry-point
group, so that ``EventStore.from_config(..., cipher="aes", cipher_key=...)`` finds them.
"""

from .cipher import IMPLEMENTATIONS, KEY_SIZES, NONCE_SIZE, TAG_SIZE, AESCipher, key_from_text

__all__ = ["AESCipher", "IMPLEMENTATIONS", "KEY_SIZES", "NONCE_SIZE", "TAG_SIZE", "key_from_text"]

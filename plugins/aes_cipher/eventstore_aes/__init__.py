"""AES-GCM cipher plugin for eventstore: ``AESCipher`` encrypts the state of stored events.

Installed, it registers the ciphers ``"aes"`` (the ``cryptography`` package) and
``"aes-pycryptodome"`` (pycryptodome, same wire format) under the ``eventstore`` entry-point
group, so that ``EventStore.from_config(..., cipher="aes", cipher_key=...)`` finds them.

The names are imported on first use (a module ``__getattr__``), so that loading the plugin
(``eventstore_aes.plugin``) imports no cryptography.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventstore_core.lazyexports import lazy_exports

if TYPE_CHECKING:
    from .cipher import IMPLEMENTATIONS, KEY_SIZES, NONCE_SIZE, TAG_SIZE, AESCipher, key_from_text

#: public name -> (module, attribute)
_EXPORTS = {
    "AESCipher": ("cipher", "AESCipher"),
    "IMPLEMENTATIONS": ("cipher", "IMPLEMENTATIONS"),
    "KEY_SIZES": ("cipher", "KEY_SIZES"),
    "NONCE_SIZE": ("cipher", "NONCE_SIZE"),
    "TAG_SIZE": ("cipher", "TAG_SIZE"),
    "key_from_text": ("cipher", "key_from_text"),
}

__all__ = [
    "AESCipher",
    "IMPLEMENTATIONS",
    "KEY_SIZES",
    "NONCE_SIZE",
    "TAG_SIZE",
    "key_from_text",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

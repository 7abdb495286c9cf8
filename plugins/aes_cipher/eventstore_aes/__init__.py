"""AES-GCM cipher plugin for eventstore: ``AESCipher`` encrypts the state of stored events.

Installed, it registers the ciphers ``"aes"`` (the ``cryptography`` package) and
``"aes-pycryptodome"`` (pycryptodome, same wire format) under the ``eventstore`` entry-point
group, so that ``EventStore.from_config(..., cipher="aes", cipher_key=...)`` finds them.

The names are imported on first use (a module ``__getattr__``), so that loading the plugin
(``eventstore_aes.plugin``) imports no cryptography.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

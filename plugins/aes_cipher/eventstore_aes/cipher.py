"""AES-GCM encryption of text: what keeps the state of stored events unreadable in the database.

Wire format, the same for both implementations (each decrypts what the other wrote)::

    base64( nonce (12 bytes) || ciphertext (as long as the UTF-8 plaintext) || tag (16 bytes) )

in the standard base64 alphabet with padding, as an ASCII ``str``, and prefixed with ``"~"``
(not a base64 character) when the message was encrypted with associated data. Every message
gets a fresh random nonce from ``os.urandom``, so encrypting the same text twice gives two
different ciphertexts. The GCM tag authenticates the message and its associated data: an
altered ciphertext, a wrong key, or other associated data raises ``DataIntegrityError`` and
never comes back as garbage.

Associated data is how the mapper binds a ciphertext to its row: it passes the item's
sequence id, position and topic (``eventstore_core.cipher.associated_data``), so that Bob's row
holding a copy of Alice's ciphertext, or a row whose topic was changed, does not decrypt.
Messages without the ``"~"`` marker (written before associated data was used, or by
``encrypt`` without it) still decrypt, with or without associated data, unless the cipher
was made with ``accept_unbound=False``.

Two implementations: the ``cryptography`` package's ``AESGCM`` (the default, a few microseconds
a message) and pycryptodome (an optional extra, slower because GCM needs a new cipher object
for every nonce).
"""

from __future__ import annotations

import binascii
import os
from base64 import b64decode
from binascii import a2b_base64, b2a_base64
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventstore_core.exceptions import ConfigurationError, DataIntegrityError

NONCE_SIZE = 12
TAG_SIZE = 16
#: Accepted key lengths in bytes: AES-128, AES-192, AES-256.
KEY_SIZES = (16, 24, 32)
#: The marker of a message encrypted with associated data (not in the base64 alphabet).
BOUND_PREFIX = "~"
_BOUND_PREFIX_BYTES = b"~"
_MIN_MESSAGE = 12 + 16  # NONCE_SIZE + TAG_SIZE
#: Values of ``AESCipher(implementation=...)``; the first is the default.
IMPLEMENTATIONS = ("cryptography", "pycryptodome")

# (nonce, data, associated_data) -> bytes: the signature of AESGCM.encrypt / AESGCM.decrypt.
# "seal" returns ciphertext || tag; "open" takes ciphertext || tag and returns the plaintext,
# raising InvalidTag (cryptography) or ValueError (pycryptodome) if authentication fails.
_Transform = Callable[[bytes, bytes, bytes | None], bytes]

_KEY_SIZES_TEXT = "16, 24 or 32 bytes (AES-128, AES-192 or AES-256)"


class AESCipher:
    """Encrypts and decrypts text with AES-GCM under one key.

    ``aes_key`` is the raw key: ``bytes`` (or ``bytearray``) of length 16, 24 or 32. Use
    ``AESCipher.generate_key()`` to make one, and ``eventstore_aes.key_from_text`` to read one
    given as base64 text. ``implementation`` is ``"cryptography"`` (default) or
    ``"pycryptodome"`` (``pip install eventstore-aes[pycryptodome]``).

    ``accept_unbound=False`` refuses (``DataIntegrityError``) a message made without
    associated data when ``decrypt`` is given some: once every stored state was written
    bound to its row, an unbound copy can no longer be slipped into a row.

    Instances are safe to share between threads.
    """

    __slots__ = ("implementation", "key_bits", "accept_unbound", "_seal", "_open")

    def __init__(
        self,
        aes_key: bytes | bytearray,
        implementation: str = "cryptography",
        accept_unbound: bool = True,
    ) -> None:
        key = _check_key(aes_key)
        seal: _Transform
        open_: _Transform
        if implementation == "cryptography":
            aesgcm = AESGCM(key)
            seal, open_ = aesgcm.encrypt, aesgcm.decrypt
        elif implementation == "pycryptodome":
            seal, open_ = _pycryptodome_transforms(key)
        else:
            raise ConfigurationError(
                f"unknown AES implementation {implementation!r}; valid ones are: "
                + ", ".join(repr(name) for name in IMPLEMENTATIONS)
            )
        self.implementation = implementation
        self.key_bits = len(key) * 8
        self.accept_unbound = bool(accept_unbound)
        self._seal = seal
        self._open = open_

    def __repr__(self) -> str:  # never shows the key
        return f"AESCipher(implementation={self.implementation!r}, key_bits={self.key_bits})"

    # -- the hot path -------------------------------------------------------------------
    def encrypt(self, plaintext: str, associated_data: bytes | None = None) -> str:
        """Base64 text of a fresh nonce, the encrypted UTF-8 of ``plaintext`` and the tag.

        With ``associated_data`` the tag authenticates it too (it is not stored: ``decrypt``
        must be given the same bytes), and the text starts with ``"~"``.
        """
        if not isinstance(plaintext, str):
            raise TypeError(f"AESCipher.encrypt takes a str, got {type(plaintext).__name__}")
        nonce = os.urandom(NONCE_SIZE)
        if associated_data is None:
            message = nonce + self._seal(nonce, plaintext.encode(), None)
            return b2a_base64(message, newline=False).decode("ascii")
        if type(associated_data) is not bytes:
            associated_data = _check_ad(associated_data)
        message = nonce + self._seal(nonce, plaintext.encode(), associated_data)
        return BOUND_PREFIX + b2a_base64(message, newline=False).decode("ascii")

    def decrypt(self, ciphertext: str | bytes, associated_data: bytes | None = None) -> str:
        """The text that ``encrypt`` was given; ``DataIntegrityError`` if it cannot be trusted.

        Raised for text that is not base64, too short to be a message, altered in any way,
        encrypted under another key, or (a message marked ``"~"``) encrypted with other
        associated data than ``associated_data``.
        """
        if type(ciphertext) is str:
            # the hot path: _decode_message inline (its checks), the marker found by the way
            try:
                encoded = ciphertext.encode("ascii")
                message = a2b_base64(encoded)  # skips the marker: it is not base64
            except ValueError:  # not ASCII (UnicodeEncodeError), or not base64
                encoded = message = b""
            canonical = b2a_base64(message, newline=False)  # the one spelling encrypt writes
            if canonical == encoded:
                bound = False
            else:
                bound = _BOUND_PREFIX_BYTES + canonical == encoded
                if not bound:
                    marked = ciphertext[:1] == BOUND_PREFIX
                    message = _decode_message(ciphertext[marked:])  # raises the precise error
            if len(message) < _MIN_MESSAGE:
                message = _decode_message(ciphertext[bound:])  # raises the precise error
        else:
            bound = isinstance(ciphertext, bytes | bytearray) and ciphertext[:1] == b"~"
            message = _decode_message(ciphertext[1:] if bound else ciphertext)
        if bound:
            data: bytes | None = (
                associated_data if type(associated_data) is bytes
                else b"" if associated_data is None else _check_ad(associated_data)
            )
        else:
            if associated_data is not None and not self.accept_unbound:
                raise DataIntegrityError(
                    "the ciphertext is not bound to its row (it was encrypted without "
                    "associated data), and this cipher accepts only bound ones"
                )
            data = None
        try:
            plaintext = self._open(message[:NONCE_SIZE], message[NONCE_SIZE:], data)
        except (InvalidTag, ValueError):
            raise DataIntegrityError(
                f"AES-GCM authentication failed for a {len(message)}-byte message: the "
                f"ciphertext was altered, "
                + ("was copied from another row (its sequence, position or topic differ), "
                   if bound else "")
                + f"or it was encrypted with another key than this {self.key_bits}-bit one"
            ) from None
        try:
            return plaintext.decode()
        except UnicodeDecodeError as error:
            raise DataIntegrityError(f"decrypted data is not UTF-8 text: {error}") from None

    # -- keys ---------------------------------------------------------------------------
    @staticmethod
    def generate_key(bits: int = 256) -> bytes:
        """A new random key of ``bits`` (128, 192 or 256) bits from ``os.urandom``."""
        if isinstance(bits, bool) or bits not in (8 * size for size in KEY_SIZES):
            raise ConfigurationError(f"AES key size must be 128, 192 or 256 bits, got {bits!r}")
        return os.urandom(bits // 8)


def key_from_text(key: bytes | bytearray | str) -> bytes:
    """An AES key as configuration gives it: raw bytes, or a ``str`` of base64 text.

    ``bytes`` are always the raw key; a ``str`` is always base64 of the key (standard or
    URL-safe alphabet, padding optional, surrounding whitespace ignored), as in the
    ``EVENTSTORE_CIPHER_KEY`` environment variable. Make such text with
    ``base64.b64encode(AESCipher.generate_key()).decode()``. The key must be 16, 24 or 32
    bytes; the error never shows it.
    """
    if isinstance(key, str):
        text = key.strip().translate(_URLSAFE_TO_STANDARD)
        try:
            raw = b64decode(text + "=" * (-len(text) % 4), validate=True)
        except ValueError as error:  # binascii.Error, or non-ASCII characters
            raise ConfigurationError(
                f"the AES key text is not valid base64 ({error}); give the key as base64 "
                f"text of {_KEY_SIZES_TEXT}, or as raw bytes"
            ) from None
        if len(raw) not in KEY_SIZES:
            raise ConfigurationError(
                f"the AES key text ({len(text)} base64 characters) decodes to {len(raw)} bytes; "
                f"an AES key must be {_KEY_SIZES_TEXT}. A str key is read as base64: pass "
                f"bytes for a raw key"
            )
        return raw
    return _check_key(key)


_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")


def _check_key(aes_key: object) -> bytes:
    if not isinstance(aes_key, bytes | bytearray):
        hint = (
            " (for a base64 key use eventstore_aes.key_from_text)"
            if isinstance(aes_key, str)
            else ""
        )
        raise ConfigurationError(
            f"the AES key must be bytes of {_KEY_SIZES_TEXT}, got {type(aes_key).__name__}" + hint
        )
    if len(aes_key) not in KEY_SIZES:
        raise ConfigurationError(
            f"the AES key is {len(aes_key)} bytes long; it must be {_KEY_SIZES_TEXT}"
        )
    return bytes(aes_key)


def _check_ad(associated_data: object) -> bytes:
    if not isinstance(associated_data, bytes | bytearray):
        raise TypeError(
            f"associated_data must be bytes, got {type(associated_data).__name__}"
        )
    return bytes(associated_data)


def _decode_message(ciphertext: str | bytes) -> bytes:
    """The raw message of the wire format, checked for base64 and for its minimum length."""
    if isinstance(ciphertext, str):
        try:
            encoded = ciphertext.encode("ascii")
        except UnicodeEncodeError:
            raise DataIntegrityError(
                f"ciphertext is not base64 text: it has non-ASCII characters "
                f"({len(ciphertext)} characters)"
            ) from None
    elif isinstance(ciphertext, bytes | bytearray):
        encoded = bytes(ciphertext)
    else:
        raise TypeError(f"AESCipher.decrypt takes a str, got {type(ciphertext).__name__}")
    try:
        message = a2b_base64(encoded)
    except binascii.Error as error:
        raise DataIntegrityError(
            f"ciphertext is not base64 text ({error}; {len(encoded)} characters)"
        ) from None
    # The decoder skips stray characters and ignores surplus padding and spare bits, so many
    # texts decode to the same bytes: accept only the one spelling that encrypt writes.
    if b2a_base64(message, newline=False) != encoded:
        raise DataIntegrityError(
            f"ciphertext is not base64 text as encrypt writes it: it has characters outside "
            f"the base64 alphabet, or altered padding ({len(encoded)} characters)"
        )
    if len(message) < NONCE_SIZE + TAG_SIZE:
        raise DataIntegrityError(
            f"ciphertext is too short: {len(message)} bytes after base64 decoding, an AES-GCM "
            f"message has at least {NONCE_SIZE + TAG_SIZE} ({NONCE_SIZE}-byte nonce and "
            f"{TAG_SIZE}-byte tag)"
        )
    return message


def _pycryptodome_transforms(key: bytes) -> tuple[_Transform, _Transform]:
    """Seal and open functions on pycryptodome's AES-GCM, in the same format as AESGCM's."""
    try:
        from Crypto.Cipher import AES
    except ImportError:
        raise ConfigurationError(
            "AES implementation 'pycryptodome' needs the pycryptodome package, which is not "
            "installed: pip install eventstore-aes[pycryptodome]"
        ) from None
    if not hasattr(AES, "MODE_GCM"):  # the old PyCrypto also installs as "Crypto"
        raise ConfigurationError(
            "the installed 'Crypto' package has no AES-GCM (it is not pycryptodome): "
            "pip install eventstore-aes[pycryptodome]"
        )
    new, gcm = AES.new, AES.MODE_GCM

    def seal(nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        cipher = new(key, gcm, nonce=nonce)
        if associated_data:
            cipher.update(associated_data)
        ciphertext, tag = cipher.encrypt_and_digest(data)
        return ciphertext + tag

    def open_(nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        cipher = new(key, gcm, nonce=nonce)
        if associated_data:
            cipher.update(associated_data)
        return cipher.decrypt_and_verify(data[:-TAG_SIZE], data[-TAG_SIZE:])

    return seal, open_

"""AESCipher: round trips, the wire format, and clear errors for bad keys and bad ciphertext."""

from __future__ import annotations

import base64
import os
import string
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventstore_core.exceptions import ConfigurationError, DataIntegrityError

from eventstore_aes import IMPLEMENTATIONS, NONCE_SIZE, TAG_SIZE, AESCipher, key_from_text

KEY = b"01234567890123456789012345678901"  # the user's document's 256-bit key
OTHER_KEY = b"10987654321098765432109876543210"


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cipher(implementation: str) -> AESCipher:
    return AESCipher(KEY, implementation=implementation)


def _raw(ciphertext: str) -> bytes:
    return base64.b64decode(ciphertext, validate=True)


def _text(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _flip_bit(raw: bytes, index: int) -> bytes:
    altered = bytearray(raw)
    altered[index] ^= 0x01
    return bytes(altered)


# -- round trips ------------------------------------------------------------------------------


def test_the_documents_example(implementation: str) -> None:
    cipher = AESCipher(aes_key=b"01234567890123456789012345678901", implementation=implementation)
    ciphertext = cipher.encrypt("plaintext")
    plaintext = cipher.decrypt(ciphertext)
    assert ciphertext != "plaintext"
    assert plaintext == "plaintext"


@pytest.mark.parametrize(
    "plaintext",
    [
        "",
        "x",
        '{"foo":"bar"}',
        "héllo wörld, ΑΒΓ, 日本語, emoji 🎉, nul \x00 and newline \n",
        "long text " * 100_000,  # a megabyte
    ],
    ids=["empty", "one-char", "json", "unicode", "long"],
)
def test_round_trip(cipher: AESCipher, plaintext: str) -> None:
    ciphertext = cipher.encrypt(plaintext)
    assert isinstance(ciphertext, str)
    assert cipher.decrypt(ciphertext) == plaintext


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_every_key_size(implementation: str, key_size: int) -> None:
    cipher = AESCipher(os.urandom(key_size), implementation=implementation)
    assert cipher.key_bits == key_size * 8
    assert cipher.decrypt(cipher.encrypt("secret")) == "secret"


def test_bytearray_key_is_accepted(implementation: str) -> None:
    cipher = AESCipher(bytearray(KEY), implementation=implementation)
    assert AESCipher(KEY).decrypt(cipher.encrypt("same key")) == "same key"


def test_ciphertext_is_base64_of_nonce_body_and_tag(cipher: AESCipher) -> None:
    plaintext = "exactly 150 bytes of text " * 6
    ciphertext = cipher.encrypt(plaintext)
    assert ciphertext.isascii()
    raw = _raw(ciphertext)
    assert len(raw) == NONCE_SIZE + len(plaintext.encode()) + TAG_SIZE
    assert "exactly" not in ciphertext


def test_a_fresh_nonce_for_every_message(cipher: AESCipher) -> None:
    ciphertexts = [cipher.encrypt("same text") for _ in range(200)]
    assert len(set(ciphertexts)) == len(ciphertexts)
    nonces = {_raw(ciphertext)[:NONCE_SIZE] for ciphertext in ciphertexts}
    assert len(nonces) == len(ciphertexts)
    assert {cipher.decrypt(ciphertext) for ciphertext in ciphertexts} == {"same text"}


# NIST GCM test cases 1 and 2 (McGrew & Viega): zero key, zero 96-bit IV.
NIST_ZERO_KEY = bytes(16)
NIST_CASES = [
    ("", bytes.fromhex("58e2fccefa7e3061367f1d57a4e7455a")),
    (
        "\x00" * 16,
        bytes.fromhex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"),
    ),
]


@pytest.mark.parametrize(("plaintext", "body_and_tag"), NIST_CASES, ids=["case1", "case2"])
def test_known_answer_pins_the_wire_format(
    implementation: str, plaintext: str, body_and_tag: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _text(bytes(NONCE_SIZE) + body_and_tag)
    cipher = AESCipher(NIST_ZERO_KEY, implementation=implementation)
    monkeypatch.setattr("eventstore_aes.cipher.os.urandom", lambda size: bytes(size))
    assert cipher.encrypt(plaintext) == expected
    monkeypatch.undo()
    assert cipher.decrypt(expected) == plaintext


def test_shared_between_threads(cipher: AESCipher) -> None:
    def round_trips(worker: int) -> bool:
        texts = [f"worker {worker} message {n}" for n in range(300)]
        return [cipher.decrypt(cipher.encrypt(text)) for text in texts] == texts

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(round_trips, range(8)))


# -- one wire format, two implementations --------------------------------------------------------


@pytest.mark.parametrize(
    ("writer", "reader"),
    [("cryptography", "pycryptodome"), ("pycryptodome", "cryptography")],
)
@pytest.mark.parametrize("plaintext", ["", "plaintext", "ünïcødé ✓ 🎉", "x" * 10_000])
def test_each_implementation_decrypts_what_the_other_wrote(
    writer: str, reader: str, plaintext: str
) -> None:
    ciphertext = AESCipher(KEY, implementation=writer).encrypt(plaintext)
    assert AESCipher(KEY, implementation=reader).decrypt(ciphertext) == plaintext


@pytest.mark.parametrize(
    ("writer", "reader"),
    [("cryptography", "pycryptodome"), ("pycryptodome", "cryptography")],
)
def test_each_implementation_refuses_what_the_other_wrote_under_another_key(
    writer: str, reader: str
) -> None:
    ciphertext = AESCipher(KEY, implementation=writer).encrypt("secret")
    with pytest.raises(DataIntegrityError):
        AESCipher(OTHER_KEY, implementation=reader).decrypt(ciphertext)


# -- keys and options refused at construction ------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15, 17, 31, 33, 64])
def test_wrong_key_length_is_refused(implementation: str, length: int) -> None:
    key = os.urandom(length)
    with pytest.raises(ConfigurationError) as raised:
        AESCipher(key, implementation=implementation)
    message = str(raised.value)
    assert f"{length} bytes" in message
    assert "16, 24 or 32 bytes" in message
    if length >= 8:  # a shorter key's hex could turn up in the message by chance
        assert repr(key) not in message and key.hex() not in message


@pytest.mark.parametrize("key", ["01234567890123456789012345678901", None, 32, memoryview(KEY)])
def test_key_that_is_not_bytes_is_refused(key: object) -> None:
    with pytest.raises(ConfigurationError, match="must be bytes") as raised:
        AESCipher(key)  # type: ignore[arg-type]
    assert "0123456789" not in str(raised.value)
    if isinstance(key, str):
        assert "key_from_text" in str(raised.value)


def test_unknown_implementation_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as raised:
        AESCipher(KEY, implementation="openssl")
    message = str(raised.value)
    assert "'openssl'" in message
    assert "'cryptography'" in message and "'pycryptodome'" in message


def test_missing_pycryptodome_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "Crypto", None)
    monkeypatch.setitem(sys.modules, "Crypto.Cipher", None)
    with pytest.raises(ConfigurationError, match=r"pip install eventstore-aes\[pycryptodome\]"):
        AESCipher(KEY, implementation="pycryptodome")
    assert AESCipher(KEY).decrypt(AESCipher(KEY).encrypt("default still works")) == (
        "default still works"
    )


def test_repr_never_shows_the_key(cipher: AESCipher) -> None:
    assert "0123456789" not in repr(cipher)
    assert "256" in repr(cipher) and cipher.implementation in repr(cipher)


def test_encrypt_takes_text(cipher: AESCipher) -> None:
    with pytest.raises(TypeError, match="takes a str, got bytes"):
        cipher.encrypt(b"bytes")  # type: ignore[arg-type]


# -- decrypt refuses what cannot be trusted --------------------------------------------------------


@pytest.mark.parametrize("region", ["nonce", "body", "tag"])
@pytest.mark.parametrize("position", ["first", "last"])
def test_a_flipped_bit_is_detected(cipher: AESCipher, region: str, position: str) -> None:
    plaintext = "a message of some length"
    raw = _raw(cipher.encrypt(plaintext))
    start, end = {
        "nonce": (0, NONCE_SIZE),
        "body": (NONCE_SIZE, len(raw) - TAG_SIZE),
        "tag": (len(raw) - TAG_SIZE, len(raw)),
    }[region]
    index = start if position == "first" else end - 1
    with pytest.raises(DataIntegrityError, match="altered"):
        cipher.decrypt(_text(_flip_bit(raw, index)))


@pytest.mark.parametrize("plaintext", ["", "a", "ab"], ids=["pad2", "pad1", "pad0"])
def test_any_changed_character_is_detected(cipher: AESCipher, plaintext: str) -> None:
    """Every one-character change of the text, even of base64's spare bits, is refused."""
    ciphertext = cipher.encrypt(plaintext)
    alphabet = string.ascii_letters + string.digits + "+/="
    for index, original in enumerate(ciphertext):
        for replacement in alphabet:
            if replacement == original:
                continue
            altered = ciphertext[:index] + replacement + ciphertext[index + 1 :]
            with pytest.raises(DataIntegrityError):
                cipher.decrypt(altered)


def test_truncated_or_extended_ciphertext_is_detected(cipher: AESCipher) -> None:
    raw = _raw(cipher.encrypt("a message of some length"))
    for altered in (raw[:-1], raw[:-TAG_SIZE], raw + b"\x00", raw[:NONCE_SIZE] + raw[-TAG_SIZE:]):
        with pytest.raises(DataIntegrityError):
            cipher.decrypt(_text(altered))


def test_wrong_key_is_detected(implementation: str) -> None:
    ciphertext = AESCipher(KEY, implementation=implementation).encrypt("secret")
    for other in (OTHER_KEY, KEY[:16], KEY[:24]):
        with pytest.raises(DataIntegrityError, match="another key"):
            AESCipher(other, implementation=implementation).decrypt(ciphertext)


@pytest.mark.parametrize(
    ("garbage", "says"),
    [
        ("", "too short"),
        ("plaintext", "not base64"),
        ('{"foo": "bar"}', "not base64"),
        ("not base64 at all!", "not base64"),
        ("AAAA", "too short"),
        (_text(bytes(NONCE_SIZE + TAG_SIZE - 1)), "too short"),
        (_text(bytes(NONCE_SIZE + TAG_SIZE)), "altered"),
        (_text(os.urandom(200)), "altered"),
        ("héllo", "non-ASCII"),
        ("QUJD\nREVG", "not base64"),
        ("QUJDREVG=", "not base64"),
        ("QUJDRA===", "not base64"),
    ],
)
def test_garbage_is_a_clear_data_integrity_error(
    cipher: AESCipher, garbage: str, says: str
) -> None:
    with pytest.raises(DataIntegrityError, match=says):
        cipher.decrypt(garbage)


@pytest.mark.parametrize("plaintext", ["", "a", "ab"], ids=["pad2", "pad1", "pad0"])
@pytest.mark.parametrize("suffix", ["\n", " ", "=", "==", "A", "AA==", "AAAA"])
def test_anything_appended_is_detected(cipher: AESCipher, plaintext: str, suffix: str) -> None:
    with pytest.raises(DataIntegrityError):
        cipher.decrypt(cipher.encrypt(plaintext) + suffix)


def test_decrypt_takes_ascii_bytes_too(cipher: AESCipher) -> None:
    assert cipher.decrypt(cipher.encrypt("from a BLOB").encode()) == "from a BLOB"


def test_decrypt_refuses_other_types(cipher: AESCipher) -> None:
    with pytest.raises(TypeError, match="takes a str, got NoneType"):
        cipher.decrypt(None)  # type: ignore[arg-type]


# -- keys from configuration -------------------------------------------------------------------


def test_generate_key() -> None:
    for bits in (128, 192, 256):
        key = AESCipher.generate_key(bits)
        assert isinstance(key, bytes) and len(key) == bits // 8
        AESCipher(key)
    assert len(AESCipher.generate_key()) == 32
    assert AESCipher.generate_key() != AESCipher.generate_key()
    for bits in (0, 64, 255, 512, True):
        with pytest.raises(ConfigurationError, match="128, 192 or 256 bits"):
            AESCipher.generate_key(bits)


def test_key_from_text_reads_bytes_as_the_raw_key() -> None:
    assert key_from_text(KEY) == KEY
    assert key_from_text(bytearray(KEY)) == KEY
    with pytest.raises(ConfigurationError, match="10 bytes long"):
        key_from_text(b"0123456789")


@pytest.mark.parametrize("size", [16, 24, 32])
def test_key_from_text_reads_base64(size: int) -> None:
    key = os.urandom(size)
    standard = base64.b64encode(key).decode()
    assert key_from_text(standard) == key
    assert key_from_text(f"  {standard}\n") == key
    assert key_from_text(base64.urlsafe_b64encode(key).decode()) == key
    assert key_from_text(standard.rstrip("=")) == key


def test_key_from_text_refuses_bad_text_without_showing_it() -> None:
    with pytest.raises(ConfigurationError, match="not valid base64") as raised:
        key_from_text("this is not base64 ***")
    assert "***" not in str(raised.value)
    short = base64.b64encode(b"sixteen bytes!!").decode()  # 15 bytes
    with pytest.raises(ConfigurationError, match="decodes to 15 bytes") as raised:
        key_from_text(short)
    assert short not in str(raised.value)
    with pytest.raises(ConfigurationError, match="must be bytes"):
        key_from_text(None)  # type: ignore[arg-type]


def test_a_str_key_is_always_base64() -> None:
    """The document's 32-character key as text is base64 of 24 other bytes, not those bytes."""
    as_text = key_from_text(KEY.decode())
    assert len(as_text) == 24 and as_text != KEY[:24]

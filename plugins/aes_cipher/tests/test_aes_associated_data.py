"""Ciphertexts bound to their rows: AES-GCM authenticates sequence id, position and topic."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventstore_core import (
    DataIntegrityError,
    DomainEvent,
    EventStore,
    InMemoryActiveRecordStrategy,
    SequencedItemMapper,
    StoredEvent,
    register_topic,
)
from eventstore_core.cipher import associated_data, takes_associated_data
from eventstore_core.testing.snapshot_tests import ReversingTestCipher

from eventstore_aes import IMPLEMENTATIONS, NONCE_SIZE, AESCipher
from eventstore_aes.cipher import BOUND_PREFIX

KEY = b"01234567890123456789012345678901"


class CardAdded(DomainEvent):
    __always_encrypt__ = True


class CardRemoved(DomainEvent):
    __always_encrypt__ = True


register_topic(f"{__name__}#CardAddedBeforeTheRename", CardAdded)


@pytest.fixture(params=IMPLEMENTATIONS)
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _mapper(cipher: Any) -> SequencedItemMapper[Any]:
    return SequencedItemMapper(sequenced_item_class=StoredEvent, cipher=cipher)


def test_a_state_copied_to_another_row_is_a_data_integrity_error(implementation: str) -> None:
    """Before: Bob's row, given a copy of Alice's state, read back Alice's card number."""
    mapper = _mapper(AESCipher(KEY, implementation=implementation))
    assert mapper.binds_rows
    store = EventStore(mapper, InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent))
    alice, bob = uuid4(), uuid4()
    store.append([CardAdded(originator_id=alice, originator_version=0, card="4111-ALICE"),
                  CardAdded(originator_id=alice, originator_version=1, card="5500-ALICE2")])
    store.append(CardAdded(originator_id=bob, originator_version=0, card="3400-BOB"))
    strategy = store.active_record_strategy
    alice_row = strategy.get_items(alice)[0]
    bob_row = strategy.get_items(bob)[0]
    for forged in (
        bob_row._replace(state=alice_row.state),  # another sequence
        alice_row._replace(originator_version=1),  # another position
        alice_row._replace(event_type=f"{__name__}#CardRemoved"),  # another topic
        alice_row._replace(event_type=f"{__name__}#CardAddedBeforeTheRename"),  # same class
    ):
        with pytest.raises(DataIntegrityError, match="another row") as caught:
            mapper.from_sequenced_item(forged)
        assert "ALICE" not in str(caught.value)
    assert mapper.from_sequenced_item(bob_row).card == "3400-BOB"
    assert [e.card for e in store.get_domain_events(alice)] == ["4111-ALICE", "5500-ALICE2"]


def test_data_written_before_keeps_reading(implementation: str) -> None:
    """States written unbound (the old mapper called encrypt(text)) have no marker and
    still decrypt; new ones are marked and bound."""
    cipher = AESCipher(KEY, implementation=implementation)
    mapper = _mapper(cipher)
    sequence_id = uuid4()
    old = StoredEvent(sequence_id, 0, f"{__name__}#CardAdded", cipher.encrypt('{"card":"1"}'))
    assert not old.state.startswith(BOUND_PREFIX)
    assert mapper.from_sequenced_item(old).card == "1"
    new = mapper.to_sequenced_item(CardAdded(originator_id=sequence_id, originator_version=1,
                                             card="2"))
    assert new.state.startswith(BOUND_PREFIX)
    with pytest.raises(DataIntegrityError):  # the marker stripped: read unbound, tag fails
        mapper.from_sequenced_item(new._replace(state=new.state[len(BOUND_PREFIX):]))
    strict = _mapper(AESCipher(KEY, implementation=implementation, accept_unbound=False))
    assert strict.from_sequenced_item(new).card == "2"
    with pytest.raises(DataIntegrityError, match="not bound"):
        strict.from_sequenced_item(old)


@pytest.mark.parametrize(
    ("writer", "reader"), [("cryptography", "pycryptodome"), ("pycryptodome", "cryptography")]
)
def test_both_implementations_agree_on_associated_data(writer: str, reader: str) -> None:
    data = associated_data(uuid4(), 3, "app#Event")
    ciphertext = AESCipher(KEY, implementation=writer).encrypt("secret", data)
    assert AESCipher(KEY, implementation=reader).decrypt(ciphertext, data) == "secret"
    for other in (data + b"x", b"", None):
        with pytest.raises(DataIntegrityError):
            AESCipher(KEY, implementation=reader).decrypt(ciphertext, other)
    empty = AESCipher(KEY, implementation=writer).encrypt("secret", b"")
    assert AESCipher(KEY, implementation=reader).decrypt(empty) == "secret"


def test_the_bound_wire_format_is_marker_and_aes_gcm_with_the_data_authenticated(
    implementation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("eventstore_aes.cipher.os.urandom", lambda size: bytes(size))
    ciphertext = AESCipher(KEY, implementation=implementation).encrypt("text", b"row")
    monkeypatch.undo()
    nonce = bytes(NONCE_SIZE)
    expected = nonce + AESGCM(KEY).encrypt(nonce, b"text", b"row")
    assert ciphertext == BOUND_PREFIX + base64.b64encode(expected).decode()
    assert AESCipher(KEY).decrypt(ciphertext.encode(), b"row") == "text"  # from a BLOB


def test_associated_data_is_canonical_for_positions_a_database_gives_back() -> None:
    sequence_id = uuid4()
    same = {associated_data(sequence_id, position, "t")
            for position in (Decimal("1.5"), Decimal("1.500000"), Decimal("15E-1"))}
    assert len(same) == 1
    assert associated_data(sequence_id, Decimal("7.000000"), "t") == associated_data(
        sequence_id, 7, "t")
    assert associated_data(sequence_id, Decimal("-0"), "t") == associated_data(
        sequence_id, Decimal("0.000000"), "t")
    assert associated_data(sequence_id, 1, "t#a") != associated_data(sequence_id, 1, "t#b")
    assert associated_data("a", 1, "b") != associated_data("a\",\"1", 1, "b")


def test_timestamp_positions_read_back_with_another_scale(implementation: str) -> None:
    mapper = _mapper(AESCipher(KEY, implementation=implementation))
    item = mapper.to_sequenced_item(
        CardAdded(originator_id=uuid4(), originator_version=Decimal("1700000000.5"), card="x")
    )
    again = item._replace(originator_version=Decimal("1700000000.500000"))
    assert mapper.from_sequenced_item(again).card == "x"


def test_a_cipher_without_associated_data_is_still_used_unbound() -> None:
    cipher = ReversingTestCipher()
    assert not takes_associated_data(cipher)
    assert takes_associated_data(AESCipher(KEY))
    mapper = _mapper(cipher)
    assert not mapper.binds_rows
    item = mapper.to_sequenced_item(CardAdded(originator_id=uuid4(), originator_version=0,
                                              card="4111"))
    assert "4111" not in item.state
    assert mapper.from_sequenced_item(item).card == "4111"
    mapper.cipher = AESCipher(KEY)  # the binding follows the cipher
    assert mapper.binds_rows


def test_associated_data_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        AESCipher(KEY).encrypt("x", "row")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "alter",
    [
        lambda text: text[:5] + "!" + text[5:],  # a stray character
        lambda text: text[:5] + "é" + text[5:],  # not ASCII
        lambda text: text[:5] + "~" + text[5:],  # the marker again
        lambda text: text + "=",  # surplus padding
        lambda text: text[:20],  # too short
        lambda text: "~~" + text[1:],
        lambda text: "~",
    ],
)
def test_altered_bound_text_is_a_data_integrity_error(implementation: str, alter: Any) -> None:
    cipher = AESCipher(KEY, implementation=implementation)
    text = cipher.encrypt("a message of some length", b"row")
    assert cipher.decrypt(text, b"row") == "a message of some length"
    with pytest.raises(DataIntegrityError):
        cipher.decrypt(alter(text), b"row")
    with pytest.raises(DataIntegrityError):
        cipher.decrypt(alter(text).encode("utf-8"), b"row")

"""A small bank-account application on the embedded default store (a SQLite file).

It appends events, reads them back, rebuilds state, stores encrypted events, and meets a
concurrency conflict, printing what happens at each step. Run it with ``scripts/demo.sh``.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import tempfile
from decimal import Decimal
from uuid import UUID, uuid4

from eventstore_core import ConcurrencyError, DomainEvent, EventStore, register_class


# A class of __main__ is stored under a topic of its own, so that any process can read it.
@register_class(topic="bank_demo#AccountOpened")
class AccountOpened(DomainEvent):
    """An account was opened for a holder."""


@register_class(topic="bank_demo#MoneyDeposited")
class MoneyDeposited(DomainEvent):
    """Money was paid in."""


@register_class(topic="bank_demo#MoneyWithdrawn")
class MoneyWithdrawn(DomainEvent):
    """Money was taken out."""


def balance_of(events: list[DomainEvent]) -> Decimal:
    """Replay an account's events into its balance."""
    balance = Decimal("0")
    for event in events:
        if isinstance(event, MoneyDeposited):
            balance += event.amount  # type: ignore[attr-defined]
        elif isinstance(event, MoneyWithdrawn):
            balance -= event.amount  # type: ignore[attr-defined]
    return balance


def main() -> None:
    folder = tempfile.mkdtemp(prefix="eventstore-demo-")
    os.chdir(folder)  # from_config() with nothing set stores in ./eventstore.sqlite3
    print(f"1. A store on the embedded default, in {folder}")
    store = EventStore.from_config()
    print(f"   backend: {type(store.active_record_strategy).__name__}")

    account: UUID = uuid4()
    store.append(AccountOpened(originator_id=account, originator_version=0, holder="Ada"))
    store.append([
        MoneyDeposited(originator_id=account, originator_version=1, amount=Decimal("100.00")),
        MoneyWithdrawn(originator_id=account, originator_version=2, amount=Decimal("30.50")),
    ])
    events = store.get_domain_events(account)
    print(f"2. Appended {len(events)} events to account {account}:")
    for event in events:
        print(f"   {event!r}")
    print(f"   balance rebuilt from the events: {balance_of(events)}")
    print(f"   the last event alone: {store.get_most_recent_event(account)!r}")

    print("3. Another writer who read version 2 also tries to write version 2 ...")
    try:
        store.append(MoneyWithdrawn(originator_id=account, originator_version=2,
                                    amount=Decimal("1000")))
    except ConcurrencyError as error:
        print(f"   ConcurrencyError: {error}")
    print(f"   still {len(store.get_domain_events(account))} events, balance "
          f"{balance_of(store.get_domain_events(account))}: nothing was lost or changed")

    print("4. An encrypted store (AES-GCM): the database holds no readable state")
    key = base64.b64encode(os.urandom(32)).decode()
    secret_store = EventStore.from_config(uri="sqlite:///secret.sqlite3", cipher="aes",
                                          cipher_key=key)
    secret = uuid4()
    secret_store.append(AccountOpened(originator_id=secret, originator_version=0,
                                      holder="Grace Hopper"))
    with sqlite3.connect("secret.sqlite3") as raw:
        (data,) = raw.execute("SELECT data FROM integer_sequenced_items").fetchone()
    print(f"   stored data: {data[:48]}...  ('Grace' in it: {'Grace' in data})")
    print(f"   read back:   {secret_store.get_domain_events(secret)[0]!r}")

    wrong_key = base64.b64encode(os.urandom(32)).decode()
    wrong = EventStore.from_config(uri="sqlite:///secret.sqlite3", cipher="aes",
                                   cipher_key=wrong_key)
    try:
        wrong.get_domain_events(secret)
    except Exception as error:  # DataIntegrityError: never garbage
        print(f"   with a wrong key: {type(error).__name__}: {error}")

    total = sum(1 for _ in store.all_domain_events())
    print(f"5. Iterating over everything stored in the first database: {total} events")
    store.close()
    secret_store.close()
    wrong.close()
    print("done")


if __name__ == "__main__":
    main()

"""The backend's registration: what ``from_config`` relies on (part of ``BackendTestCase``).

Run when the test case sets ``backend_name`` (the name its plugin registers); skipped, with
that reason, when it does not.
"""

from __future__ import annotations

import inspect
import os
import unittest
from importlib import metadata
from typing import Any
from uuid import uuid4

from .. import plugins
from ..activerecordstrategy import AbstractActiveRecordStrategy
from ..config import REQUIRED, resolve_options
from ..events import DomainEvent
from ..sequenceditemmapper import SequencedItemMapper
from .parts import StoreParts


class RegistrationTests(StoreParts, unittest.TestCase):
    __test__ = False
    #: The name the backend's plugin registers (``from_config(backend_name)``); None skips
    #: the registration tests.
    backend_name: str | None = None
    #: A configuration string that reaches the test store (``from_config(config_url)``);
    #: None skips that test.
    config_url: str | None = None
    strategy: AbstractActiveRecordStrategy[Any]

    def opened(self, record: str) -> AbstractActiveRecordStrategy[Any]:
        raise NotImplementedError

    def registration(self) -> plugins.BackendRegistration:
        if self.backend_name is None:
            self.skipTest("set backend_name on the test case to prove the registration")
        backends = plugins.backends()
        self.assertIn(self.backend_name, backends, _broken_note())
        return backends[self.backend_name]

    def test_entry_point_loads(self) -> None:
        registration = self.registration()
        if registration.distribution == plugins.CORE_DISTRIBUTION:
            self.skipTest("a built-in backend: registered without an entry point")
        points = [ep for ep in metadata.entry_points(group=plugins.ENTRY_POINT_GROUP)
                  if ep.dist is not None and ep.dist.metadata["Name"] == registration.distribution]
        self.assertTrue(points, f"no '{plugins.ENTRY_POINT_GROUP}' entry point of "
                                f"{registration.distribution} is installed")
        for point in points:
            point.load()

    def test_options_match_factory_parameters(self) -> None:
        """... of ``factory`` and of ``async_factory`` (if there is one)."""
        registration = self.registration()
        self.check_options_match(registration, registration.factory)
        if registration.async_factory is not None:
            self.check_options_match(registration, registration.async_factory)

    def check_options_match(self, registration: plugins.BackendRegistration,
                            factory: Any) -> None:
        parameters = {
            name: parameter
            for name, parameter in inspect.signature(factory).parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        }
        options = {option.name: option for option in registration.options}
        self.assertEqual(sorted(options), sorted(parameters),
                         "each option is a keyword parameter of the factory, and back")
        for name, option in options.items():
            default = parameters[name].default
            if option.default is REQUIRED:
                self.assertIs(default, inspect.Parameter.empty,
                              f"option {name} is required but the factory has a default")
            else:
                self.assertEqual(default, option.default, f"default of option {name}")

    def test_environment_variables_parse(self) -> None:
        registration = self.registration()
        for option in registration.options:
            if option.default is REQUIRED or option.default is None:
                continue
            values = resolve_options("test", (option,), {}, {option.env: str(option.default)})
            self.assertEqual(values[option.name], option.default,
                             f"{option.env}={option.default!s} reads back as the default")

    def test_store_with_the_aes_cipher_round_trips(self) -> None:
        ciphers = plugins.ciphers()
        if "aes" not in ciphers:
            self.skipTest("the aes cipher (pip install eventstore-aes) is not installed")
        cipher = ciphers["aes"].factory(os.urandom(32))
        item_class = self.strategy.sequenced_item_class
        names = item_class._fields
        mapper: SequencedItemMapper[Any] = SequencedItemMapper(
            sequenced_item_class=item_class, sequence_id_attr_name=names[0],
            position_attr_name=names[1], cipher=cipher, always_encrypt=True)
        store = self.make_event_store(mapper, self.strategy)
        sequence_id = uuid4()
        event = DomainEvent(**{names[0]: sequence_id, names[1]: 0}, card="4111 1111")
        store.append(event)
        (stored,) = self.strategy.get_items(sequence_id)
        self.assertNotIn("4111", stored[3])
        self.assertEqual(store.get_domain_events(sequence_id), [event])

    def test_configuration_string_reaches_the_store(self) -> None:
        """``from_config(config_url)`` stores where ``create_strategy("integer")`` reads."""
        if self.config_url is None:
            self.skipTest("set config_url on the test case to prove the configuration string")
        store = self.store_from_config(self.config_url)
        try:
            sequence_id = uuid4()
            store.append(DomainEvent(originator_id=sequence_id, originator_version=0))
            self.assertEqual(len(self.opened("integer").get_items(sequence_id)), 1)
        finally:
            store.close()


def _broken_note() -> str:
    broken = plugins.broken_plugins()
    return "; ".join(b.describe() for b in broken) or "is its distribution installed?"

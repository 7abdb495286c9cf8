"""An eventstore backend on ``dbm`` (standard library): the template of a third-party backend.

``EventStore.from_config("dbm", path="orders.dbm")`` or ``from_config("dbm:///orders.dbm")``.
"""

__version__ = "0.1.0"

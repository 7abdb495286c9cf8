"""The driver's errors, read as what they mean for a write or a read.

Three outcomes of a failed conditional write matter, and the driver's exception classes do
not line up with them, so this module sorts them:

* **not applied**: the request never reached a replica, or was refused before any change
  (no host, unavailable, bad request). The caller may retry.
* **outcome unknown**: the request may have been applied (a write timeout, Cassandra 5's
  ``CAS_WRITE_UNKNOWN``, the client giving up waiting, the connection dropping while the
  request was in flight, a server error). The strategy finds out by proposing the same
  conditional write again (see ``outcome``).
* **invalid**: the request itself cannot be carried out as given (too large, a value that
  does not fit its column).

``WriteSafeRetryPolicy`` keeps the driver from ever re-sending a write by itself: a resent
``IF NOT EXISTS`` that the first attempt had already applied would come back "not applied",
and the strategy would wrongly report a ``ConcurrencyError``.
"""

from __future__ import annotations

from typing import Any

from cassandra import (
    AuthenticationFailed,
    CoordinationFailure,
    InvalidRequest,
    OperationTimedOut,
    Timeout,
    Unauthorized,
    Unavailable,
)
from cassandra.cluster import NoHostAvailable
from cassandra.connection import ConnectionException
from cassandra.policies import RetryPolicy
from cassandra.protocol import (
    ConfigurationException,
    ErrorMessage,
    IsBootstrappingErrorMessage,
    OverloadedErrorMessage,
    ServerError,
    SyntaxException,
)
from eventstore_core.exceptions import DatastoreError, EventStoreError

#: Protocol v5 error code of ``CAS_WRITE_UNKNOWN`` (the driver has no class for it).
CAS_WRITE_UNKNOWN = 0x1700


class WriteSafeRetryPolicy(RetryPolicy):
    """The driver's default retries for reads; never a retry of a non-idempotent write.

    Statements are marked: reads ``is_idempotent = True``, writes ``False``. ``Unavailable``
    is still retried once on another host for writes too: it is answered before any replica
    is touched.
    """

    def on_write_timeout(self, query: Any, consistency: Any, write_type: Any,
                         required_responses: Any, received_responses: Any,
                         retry_num: int) -> tuple[int, Any]:
        return self.RETHROW, None

    def on_request_error(self, query: Any, consistency: Any, error: Any,
                         retry_num: int) -> tuple[int, Any]:
        if query is None or not getattr(query, "is_idempotent", False):
            return self.RETHROW, None
        if retry_num >= 2:
            return self.RETHROW, None
        return self.RETRY_NEXT_HOST, None


def is_outcome_unknown(error: BaseException) -> bool:
    """Whether a failed write may nevertheless have been applied."""
    if isinstance(error, Timeout | OperationTimedOut | CoordinationFailure):
        return True
    if isinstance(error, ConnectionException):  # dropped while the request was in flight
        return True
    if isinstance(error, ServerError):
        return True
    if isinstance(error, ErrorMessage) and getattr(error, "code", None) == CAS_WRITE_UNKNOWN:
        return True
    return False


#: How the server words "this request is bigger than I take" (message, batch, mutation).
_TOO_LARGE = ("exceeds allowed maximum", "batch too large", "oversized mutation")


def is_too_large(error: BaseException) -> bool:
    """Whether the server refused a write for its size (so nothing of it was applied)."""
    text = str(error).lower()
    return isinstance(error, InvalidRequest) and any(words in text for words in _TOO_LARGE)


def is_missing_schema(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, InvalidRequest | ConfigurationException) and (
        "unconfigured table" in text or "does not exist" in text or "keyspace" in text
    )


def describe(error: BaseException) -> str:
    """A short, readable account of a driver error (hosts' errors for NoHostAvailable)."""
    if isinstance(error, NoHostAvailable) and error.errors:
        return "; ".join(f"{host}: {_one_line(err)}" for host, err in error.errors.items())
    return f"{type(error).__name__}: {_one_line(error)}"


def _one_line(error: Any) -> str:
    text = getattr(error, "message", None) or str(error)
    return " ".join(str(text).split())


def translate(error: BaseException, what: str, endpoints: str) -> EventStoreError:
    """The project's exception for a driver error met while doing ``what``."""
    if isinstance(error, EventStoreError):
        return error
    if isinstance(error, NoHostAvailable):
        return DatastoreError(
            f"{what} failed: no Cassandra node answered at {endpoints} ({describe(error)})"
        )
    if isinstance(error, AuthenticationFailed | Unauthorized):
        return DatastoreError(
            f"{what} failed: Cassandra at {endpoints} refused the credentials or permission "
            f"({describe(error)}); check CassandraSettings.username/password"
        )
    if is_missing_schema(error):
        return DatastoreError(
            f"{what} failed: the keyspace or table does not exist on Cassandra at {endpoints} "
            f"({describe(error)}); call CassandraDatastore.setup_tables() first"
        )
    if isinstance(error, Unavailable):
        return DatastoreError(
            f"{what} failed: not enough replicas alive at {endpoints} ({describe(error)})"
        )
    if isinstance(error, OverloadedErrorMessage | IsBootstrappingErrorMessage):
        return DatastoreError(
            f"{what} failed: Cassandra at {endpoints} is busy ({describe(error)})"
        )
    if isinstance(error, SyntaxException):
        return DatastoreError(f"{what} failed: bad CQL ({describe(error)})")
    return DatastoreError(f"{what} failed on Cassandra at {endpoints}: {describe(error)}")

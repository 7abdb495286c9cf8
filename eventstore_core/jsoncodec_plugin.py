"""Built-in plugin: registers the JSON codec under the name ``json``."""

from __future__ import annotations

from collections.abc import Callable

from .hookspecs import hookimpl
from .jsoncodec import JSONObjectDecoder, JSONObjectEncoder


@hookimpl
def register_codecs(register: Callable[..., None]) -> None:
    register("json", JSONObjectEncoder, JSONObjectDecoder)

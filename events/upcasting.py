"""Upcasters: how a payload written under a retired tag is read as today's event.

The log is never rewritten. When an event must change in a way that is not "add a field with
a default", it gets a new tag, and the old tag gets an upcaster here that turns an old
payload (a plain dict) into the new one. Decoding tries today's types first and falls back
to the upcaster only for the tags registered here.
"""

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# Retired tag -> function from the old event payload to today's (with its new "type").
UPCASTERS: dict[str, Upcaster] = {}


def upcast_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """Today's payload for an event written under a retired tag, or None if none applies."""
    upcaster = UPCASTERS.get(str(event.get("type")))
    return None if upcaster is None else upcaster(event)

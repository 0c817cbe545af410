"""Encoders and decoders of the log, built once: msgpack for storage, JSON for the wire."""

import re
from typing import Any

import msgspec

from events.envelope import IncomingEvent, Recorded
from events.errors import PayloadError
from events.upcasting import upcast_event
from events.vocabulary import AnyEvent

# A generous ceiling for one gesture (a 10,000-point stroke is ~180 KiB of msgpack) that still
# stops a client from writing megabytes into the log in one event.
MAX_EVENT_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 1_000
MAX_BATCH_BYTES = 4 * 1024 * 1024

_msgpack_encoder = msgspec.msgpack.Encoder()
_json_encoder = msgspec.json.Encoder()
_recorded_decoder = msgspec.msgpack.Decoder(Recorded)
_event_decoder: msgspec.msgpack.Decoder[AnyEvent] = msgspec.msgpack.Decoder(AnyEvent)
_recorded_json_decoder = msgspec.json.Decoder(Recorded)
_incoming_decoder = msgspec.json.Decoder(list[IncomingEvent])
_AT_PATH = re.compile(r"^(?P<message>.*) - at `(?P<path>[^`]*)`$", re.DOTALL)


def encode(obj: Any) -> bytes:
    """Msgpack bytes of any event, envelope or projection state."""
    return _msgpack_encoder.encode(obj)


def encode_json(obj: Any) -> bytes:
    return _json_encoder.encode(obj)


def decode_recorded(body: bytes) -> Recorded:
    """An envelope from its stored msgpack body, upcasting an event of a retired tag."""
    try:
        return _recorded_decoder.decode(body)
    except msgspec.ValidationError:
        raw = msgspec.msgpack.decode(body)
        event = upcast_event(raw.get("event", {})) if isinstance(raw, dict) else None
        if event is None:
            raise
        return msgspec.convert({**raw, "event": event}, Recorded)


def decode_event(body: bytes) -> AnyEvent:
    """An event (without envelope) from msgpack bytes."""
    return _event_decoder.decode(body)


def decode_recorded_json(body: bytes) -> Recorded:
    return _recorded_json_decoder.decode(body)


def payload_error(exc: msgspec.DecodeError, prefix: str = "") -> PayloadError:
    """A PayloadError naming the field that msgspec found at fault."""
    text = str(exc)
    match = _AT_PATH.match(text)
    if match is None:
        return PayloadError(text, prefix or "$")
    path = match["path"]
    if prefix:
        path = prefix + path[1:]
    return PayloadError(match["message"], path)


def decode_incoming_json(body: bytes) -> list[IncomingEvent]:
    """Client-sent events (a JSON array), every constraint checked; an error names the field."""
    if len(body) > MAX_BATCH_BYTES:
        raise PayloadError(f"body is {len(body)} bytes; the limit is {MAX_BATCH_BYTES}", "$")
    try:
        events = _incoming_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise payload_error(exc) from exc
    if not events:
        raise PayloadError("at least one event is required", "$")
    if len(events) > MAX_BATCH_EVENTS:
        raise PayloadError(f"{len(events)} events; the limit is {MAX_BATCH_EVENTS}", "$")
    return events

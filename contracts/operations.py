"""Operations: what every service announces about its own health for the people on call.

A dead letter is a message a consumer could not apply (a bug, a contract broken by a sender): it
waits in that service's dead-letter store for an operator to fix the cause and replay it. Each
service announces a new one on `<service>.dead_letter.recorded.v1` (its own stream), written in
the transaction that stores it, so on-call hears of every one, once. It names no one: ids, the
consumer and subject, and the error's type, never the message or the error's text."""

from __future__ import annotations

from typing import Annotated

import msgspec

from contracts.envelope import AwareDatetime, Event


class DeadLetterRecorded(Event, frozen=True, kw_only=True, tag="dead_letter_recorded"):
    """A message was set aside in `service`'s dead-letter store after `attempts` deliveries."""

    service: Annotated[str, msgspec.Meta(pattern=r"^[a-z]+$", max_length=40)]
    dead_letter_id: Annotated[int, msgspec.Meta(ge=1)]
    consumer: Annotated[str, msgspec.Meta(max_length=200)]
    subject: Annotated[str, msgspec.Meta(max_length=300)]
    event_id: str | None = None
    # The exception's type ("ValidationError"), never its text, which may quote the message.
    error_type: Annotated[str, msgspec.Meta(max_length=100)]
    attempts: Annotated[int, msgspec.Meta(ge=1)]
    recorded_at: AwareDatetime


OperationsEvent = DeadLetterRecorded
operations_event_decoder = msgspec.json.Decoder(OperationsEvent)

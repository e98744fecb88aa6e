"""What a channel raises when its provider does not take a message."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """The provider did not take the message. `permanent` (an SMTP 5xx, an SMS API's refusal)
    means retrying cannot help; otherwise it is retried with backoff. `summary` names the code
    only; `reply` is the provider's whole answer, which may quote the address and is kept
    sealed."""

    def __init__(self, *, permanent: bool, summary: str, reply: str = "") -> None:
        super().__init__(summary)
        self.permanent = permanent
        self.summary = summary
        self.reply = reply

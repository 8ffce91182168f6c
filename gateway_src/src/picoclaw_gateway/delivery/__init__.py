"""Delivery guarantees: the journal that makes every accepted message end in exactly one outcome."""

from picoclaw_gateway.delivery.entry import Entry, JournalError, JournalFull
from picoclaw_gateway.delivery.journal import Journal

__all__ = ["Entry", "Journal", "JournalError", "JournalFull"]

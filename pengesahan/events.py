"""Domain events fired after a transaction commits; side effects (webhooks) hang here.

A service calls :func:`fire` inside or after its transaction; the handlers run once the
outermost transaction has committed, so a rolled-back change never notifies anyone. Handlers
never raise into the caller: the state change is saved, a lost side effect is only logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from enum import StrEnum

from pengesahan.records.base import after_commit

log = logging.getLogger(__name__)

__all__ = ["Event", "fire", "subscribe", "unsubscribe"]


class Event(StrEnum):
    SLOT_REJECTED = "slot.rejected"
    AGREEMENT_RATIFIED = "agreement.ratified"


Handler = Callable[..., object]
_handlers: dict[Event, list[Handler]] = defaultdict(list)


def subscribe(event: Event, handler: Handler) -> Handler:
    """Call ``handler(**payload)`` after each commit that fired ``event`` (once per handler)."""
    if handler not in _handlers[event]:
        _handlers[event].append(handler)
    return handler


def unsubscribe(event: Event, handler: Handler) -> None:
    """Stop calling ``handler`` for ``event``."""
    if handler in _handlers[event]:
        _handlers[event].remove(handler)


def _dispatch(event: Event, payload: dict) -> None:
    for handler in list(_handlers[event]):
        try:
            handler(**payload)
        except Exception:  # noqa: BLE001 - the change is committed; a lost side effect is logged
            log.exception("handler %s of %s failed", getattr(handler, "__name__", handler), event)


def fire(event: Event, **payload) -> None:
    """Run ``event``'s handlers after the current transaction commits (now when none is open)."""
    after_commit(lambda: _dispatch(event, payload))

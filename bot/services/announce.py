"""Announce-once: the one protocol by which the user learns an order's final outcome.

Claim the announcement in the database → send within the lease → mark it announced, or
release the claim when the message did not go out. The database names the single claimant,
so the Confirm reply and the fill watchers of every process never both announce an order,
and a crash between sending and marking repeats at most that one message.

The send is given up after half the lease: nobody may take the claim over while we might
still be sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.services.clock import Clock

log = logging.getLogger(__name__)

ANNOUNCE_LEASE = timedelta(seconds=60)


class NoticeUndeliverable(Exception):
    """The chat cannot receive messages (bot blocked, chat gone): do not retry."""


class Delivery(StrEnum):
    SENT = "sent"  # delivered and marked announced
    NOT_OURS = "not_ours"  # already announced, or another live claim holds it
    FAILED = "failed"  # not delivered; the claim was released so it is tried again
    UNDELIVERABLE = "undeliverable"  # the chat refuses for good; not tried again


class AnnouncementClaims(Protocol):
    """Where claims live: the order log for fill notices, the alert table for price alerts
    (`bot.services.ports.OrderRepository`, `bot.services.alerts.AlertRepository`)."""

    async def claim_announcement(
        self, item_id: int, now: datetime | None, lease: timedelta, /
    ) -> datetime | None:
        """One winner: the claim's stamp (by the database's clock when ``now`` is None), or
        None if announced already or leased by another live claim."""
        ...

    async def release_announcement(self, item_id: int, claimed_at: datetime, /) -> None: ...

    async def mark_announced(self, item_id: int, now: datetime | None, /) -> None: ...


class Announcer:
    def __init__(
        self,
        repo: AnnouncementClaims,
        *,
        lease: timedelta = ANNOUNCE_LEASE,
        clock: Clock | None = None,
    ) -> None:
        self._repo = repo
        self._lease = lease
        self._clock = clock  # None: the database's clock judges the lease (production)

    @property
    def lease(self) -> timedelta:
        return self._lease

    async def announce(self, order_id: int, send: Callable[[], Awaitable[None]]) -> Delivery:
        """Send the announcement of a final order, unless it is not ours to send."""
        now = self._clock() if self._clock is not None else None
        claimed_at = await self._repo.claim_announcement(order_id, now, self._lease)
        if claimed_at is None:
            return Delivery.NOT_OURS
        try:
            async with asyncio.timeout(self._lease.total_seconds() / 2):
                await send()
        except NoticeUndeliverable as exc:
            # The chat is gone or blocked the bot: retrying every second helps nobody.
            log.warning("notice undeliverable id=%s: %s", order_id, exc)
            await self._repo.mark_announced(order_id, self._stamp())
            return Delivery.UNDELIVERABLE
        except asyncio.CancelledError:
            await asyncio.shield(self._repo.release_announcement(order_id, claimed_at))
            raise
        except Exception as exc:
            log.warning("notice not delivered id=%s: %s", order_id, type(exc).__name__)
            await self._repo.release_announcement(order_id, claimed_at)
            return Delivery.FAILED
        await self._repo.mark_announced(order_id, self._stamp())
        return Delivery.SENT

    def _stamp(self) -> datetime | None:
        return self._clock() if self._clock is not None else None

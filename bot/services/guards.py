"""Guards against a stolen phone or Telegram account: /lock, a daily sell limit, one-time codes.

Knows nothing of Telegram. Three optional guards (the README's "Settings"):

* ``/lock`` refuses every sell until ``/unlock`` (which needs a code when TOTP is on); the
  switch lives in the database, so it holds across restarts and processes;
* ``DAILY_SELL_LIMIT_KRW``: the estimated KRW value of the sells confirmed in the current
  day (in ``TIMEZONE``) may not exceed it; orders in flight count, orders Upbit refused
  (FAILED) and claims that placed nothing do not;
* ``TOTP_SECRET`` / ``TOTP_ABOVE_KRW``: a sell estimated above the threshold needs the
  current code of the owner's authenticator app (RFC 6238: 30 s steps, SHA-1, 6 digits, one
  step of clock drift either way).

The lock and the limit are decided inside the claim's own transaction (see
`ClaimGuard` and the repository's claim), so two processes cannot both squeeze under the
limit. A code is checked before the claim and accepted once: the newest accepted time step
is stored in the database and a code of that step or an older one is refused (RFC 6238
section 5.2), so a replay is refused in every process.
"""

from __future__ import annotations

import logging
import re
import time as pytime
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Protocol
from zoneinfo import ZoneInfo

import pyotp
from pyotp.exceptions import OTPVerificationError

from bot.domain import ClaimGuard, DayWindow, GuardState, PendingSell

log = logging.getLogger(__name__)

TOTP_DRIFT_STEPS = 1  # one 30 s step early or late, as RFC 6238 section 5.2 suggests
MAX_WRONG_CODES_PER_PREVIEW = 3  # then the preview is cancelled
# Wrong codes in a row (any preview, /unlock) before codes are refused for a while: keeps a
# thief from guessing a 6-digit code by opening preview after preview.
MAX_WRONG_CODES_IN_A_ROW = 10
WRONG_CODES_PAUSE = timedelta(minutes=15)

# A message that is only a code: "123456", "123 456" or "123-456".
CODE_PATTERN = r"^\s*(\d{3})[ -]?(\d{3})\s*$"
_CODE_RE = re.compile(CODE_PATTERN, re.ASCII)

Clock = Callable[[], datetime]
DEFAULT_ZONE = ZoneInfo("Asia/Seoul")


def parse_code(text: str) -> str | None:
    """``"123456"``, ``"123 456"`` or ``"123-456"`` → ``"123456"``; anything else → None."""
    match = _CODE_RE.fullmatch(text)
    return None if match is None else match.group(1) + match.group(2)


class CodeVerdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    REUSED = "reused"  # right code, but its time step was already used
    PAUSED = "paused"  # too many wrong codes in a row; not even checked


class UnlockStatus(StrEnum):
    UNLOCKED = "unlocked"
    NOT_LOCKED = "not_locked"
    CODE_NEEDED = "code_needed"  # TOTP is on: send the code (we wait for it)
    WRONG = "wrong"
    REUSED = "reused"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class GuardSettings:
    daily_limit_krw: Decimal | None = None
    totp_secret: str | None = None
    totp_above_krw: Decimal = Decimal(0)
    zone: ZoneInfo = DEFAULT_ZONE
    # How long `/unlock` without a code waits for the code.
    code_timeout: timedelta = timedelta(seconds=60)

    @property
    def any_on(self) -> bool:
        return self.daily_limit_krw is not None or self.totp_secret is not None


@dataclass(frozen=True, slots=True)
class GuardStatus:
    """What /status shows; never the secret."""

    locked: bool
    daily_limit_krw: Decimal | None
    used_today_krw: Decimal | None
    left_today_krw: Decimal | None
    totp_on: bool
    totp_above_krw: Decimal


@dataclass(frozen=True, slots=True)
class CodeCheck:
    verdict: CodeVerdict
    paused_until: datetime | None = None


class GuardRepository(Protocol):
    """The guard row and the guard columns of previews; one short transaction each."""

    async def guard_state(self) -> GuardState: ...

    async def set_locked(self, locked: bool, user_id: int, now: datetime) -> bool:
        """Lock or unlock; False when it already was."""
        ...

    async def accept_totp_step(self, step: int) -> bool:
        """Store ``step`` as the newest accepted one, only if it is newer than the stored one
        (one conditional UPDATE); also clears the wrong-code count. False: a replay."""
        ...

    async def record_wrong_code(
        self, now: datetime, max_in_a_row: int, pause: timedelta
    ) -> GuardState:
        """Count a wrong code; the ``max_in_a_row``-th pauses codes for ``pause``."""
        ...

    async def day_total_krw(self, day: DayWindow) -> Decimal:
        """Estimated KRW of the claims made in ``day`` that count (see the module doc)."""
        ...

    async def request_unlock(self, user_id: int, now: datetime) -> None: ...

    async def take_unlock_request(self, user_id: int, since: datetime) -> bool:
        """Consume this user's /unlock request made after ``since``; False if none."""
        ...

    async def request_code(self, pending_id: str, user_id: int, now: datetime) -> bool:
        """Mark a preview as waiting for a code: only its owner's, still pending, in time."""
        ...

    async def awaiting_code(self, user_id: int, now: datetime) -> PendingSell | None:
        """The user's newest preview waiting for a code, still pending and in time."""
        ...

    async def add_code_failure(self, pending_id: str) -> int:
        """Count one wrong code for a preview; the new count."""
        ...

    async def release_claim(self, pending_id: str, now: datetime) -> None:
        """A claimed preview placed no order after all: it stops counting for the day."""
        ...


class _Totp(pyotp.TOTP):
    # pyotp's default floor is 112 bits; authenticator apps commonly issue 80-bit secrets
    # (16 base32 characters), which the settings accept (bot.config.TOTP_MIN_SECRET_BITS).
    min_secret_length_bits: ClassVar[int] = 80


def codes_near(secret: str) -> Callable[[], list[str]]:
    """A source of the codes that may be valid around the moment it is called (the drift
    window and one step beyond each way), for the log redaction filter."""
    totp = _Totp(secret)
    reach = TOTP_DRIFT_STEPS + 1

    def codes() -> list[str]:
        now = pytime.time()
        return [totp.at(now, counter_offset=i) for i in range(-reach, reach + 1)]

    return codes


class GuardService:
    def __init__(self, repo: GuardRepository, settings: GuardSettings, clock: Clock) -> None:
        self._repo = repo
        self._settings = settings
        self._clock = clock
        # RFC 6238 defaults: 30 s, SHA-1, 6 digits.
        self._totp = _Totp(settings.totp_secret) if settings.totp_secret else None

    @property
    def settings(self) -> GuardSettings:
        return self._settings

    @property
    def totp_on(self) -> bool:
        return self._totp is not None

    def needs_code(self, est_krw: Decimal | None) -> bool:
        """Whether a sell of this estimated KRW value needs a code (unknown value: yes)."""
        if self._totp is None:
            return False
        return est_krw is None or est_krw > self._settings.totp_above_krw

    # -- the day and the claim -------------------------------------------------------------

    def day(self, now: datetime) -> DayWindow:
        """The calendar day containing ``now`` in the configured zone, in UTC."""
        zone = self._settings.zone
        local = now.astimezone(zone).date()
        start = datetime.combine(local, time(0), tzinfo=zone)
        end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=zone)
        return DayWindow(start=start.astimezone(UTC), end=end.astimezone(UTC))

    def claim_guard(self, now: datetime) -> ClaimGuard:
        return ClaimGuard(day=self.day(now), daily_limit_krw=self._settings.daily_limit_krw)

    async def release(self, pending_id: str) -> None:
        await self._repo.release_claim(pending_id, self._clock())

    # -- lock ----------------------------------------------------------------------------

    async def paused_until(self) -> datetime | None:
        """When code entry opens again after too many wrong codes; None if it is open."""
        until = (await self._repo.guard_state()).codes_blocked_until
        return until if until is not None and until > self._clock() else None

    async def is_locked(self) -> bool:
        return (await self._repo.guard_state()).locked

    async def lock(self, user_id: int) -> bool:
        """Refuse every sell until unlocked; False when it was locked already."""
        changed = await self._repo.set_locked(True, user_id, self._clock())
        log.warning("selling locked by user_id=%s", user_id)
        return changed

    async def unlock(self, user_id: int, code: str | None) -> UnlockStatus:
        """Unlock; with TOTP on only with a right code (without one we wait for it)."""
        if not await self.is_locked():
            return UnlockStatus.NOT_LOCKED
        if self._totp is not None:
            if code is None:
                await self._repo.request_unlock(user_id, self._clock())
                return UnlockStatus.CODE_NEEDED
            check = await self.check_code(code)
            if check.verdict is not CodeVerdict.ACCEPTED:
                # The next code the user sends is taken for /unlock again.
                await self._repo.request_unlock(user_id, self._clock())
                return UnlockStatus(check.verdict.value)
        await self._repo.set_locked(False, user_id, self._clock())
        log.warning("selling unlocked by user_id=%s", user_id)
        return UnlockStatus.UNLOCKED

    async def unlock_awaiting(self, user_id: int) -> bool:
        """Whether this user's /unlock is waiting for a code (consumes the request)."""
        if self._totp is None:
            return False
        since = self._clock() - self._settings.code_timeout
        return await self._repo.take_unlock_request(user_id, since)

    # -- codes ---------------------------------------------------------------------------

    async def request_code(self, pending_id: str, user_id: int) -> bool:
        return await self._repo.request_code(pending_id, user_id, self._clock())

    async def awaiting_code(self, user_id: int) -> PendingSell | None:
        return await self._repo.awaiting_code(user_id, self._clock())

    async def add_code_failure(self, pending_id: str) -> int:
        return await self._repo.add_code_failure(pending_id)

    async def check_code(self, code: str) -> CodeCheck:
        """Check a code against the current time step ± drift; a right code is used up."""
        if self._totp is None:  # pragma: no cover - callers check totp_on
            raise RuntimeError("TOTP is not configured")
        now = self._clock()
        state = await self._repo.guard_state()
        if state.codes_blocked_until is not None and state.codes_blocked_until > now:
            return CodeCheck(CodeVerdict.PAUSED, paused_until=state.codes_blocked_until)
        digits = parse_code(code)
        step: int | None = None
        if digits is not None:
            try:
                step = self._totp.verify_and_get_timecode(
                    digits, for_time=now, valid_window=TOTP_DRIFT_STEPS
                )
            except OTPVerificationError:
                step = None
        if step is not None and await self._repo.accept_totp_step(step):
            return CodeCheck(CodeVerdict.ACCEPTED)
        verdict = CodeVerdict.WRONG if step is None else CodeVerdict.REUSED
        state = await self._repo.record_wrong_code(
            now, MAX_WRONG_CODES_IN_A_ROW, WRONG_CODES_PAUSE
        )
        log.warning("one-time code refused (%s)", verdict.value)  # never the code itself
        return CodeCheck(verdict, paused_until=state.codes_blocked_until)

    # -- status --------------------------------------------------------------------------

    async def status(self) -> GuardStatus:
        state = await self._repo.guard_state()
        limit = self._settings.daily_limit_krw
        used = left = None
        if limit is not None:
            used = await self._repo.day_total_krw(self.day(self._clock()))
            left = max(limit - used, Decimal(0))
        return GuardStatus(
            locked=state.locked,
            daily_limit_krw=limit,
            used_today_krw=used,
            left_today_krw=left,
            totp_on=self.totp_on,
            totp_above_krw=self._settings.totp_above_krw,
        )

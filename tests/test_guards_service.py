"""`GuardService` on a real (SQLite) database with a settable clock: RFC 6238 codes with one
step of drift, each accepted once; wrong codes; /lock and /unlock; the day in TIMEZONE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import pytest

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.guards import SqlGuardRepository
from bot.db.migrate import upgrade_to_head_async
from bot.services.guards import (
    MAX_WRONG_CODES_IN_A_ROW,
    CodeVerdict,
    GuardService,
    GuardSettings,
    UnlockStatus,
    codes_near,
    parse_code,
)

SECRET = pyotp.random_base32()
# 12:00:10 in Seoul, 10 s into a 30 s step.
T0 = datetime(2026, 3, 1, 3, 0, 10, tzinfo=UTC)
ALICE = 1001


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def code_at(moment: datetime, steps: int = 0) -> str:
    """What the owner's authenticator shows at ``moment`` (``steps`` steps later)."""
    return pyotp.TOTP(SECRET).at(moment + timedelta(seconds=30 * steps))


def wrong_code(moment: datetime) -> str:
    near = {code_at(moment, i) for i in range(-3, 4)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqlGuardRepository]:
    url = f"sqlite:///{tmp_path}/guards.db"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    yield SqlGuardRepository(create_sessionmaker(engine))
    await engine.dispose()


def service(repo: SqlGuardRepository, clock: Clock, **settings: object) -> GuardService:
    values: dict[str, object] = {"totp_secret": SECRET}
    values.update(settings)
    return GuardService(repo, GuardSettings(**values), clock)  # type: ignore[arg-type]


def test_parse_code() -> None:
    assert parse_code("123456") == "123456"
    assert parse_code(" 123 456 ") == "123456"
    assert parse_code("123-456") == "123456"
    for bad in ("12345", "1234567", "abcdef", "12 34 56", "١٢٣٤٥٦", ""):
        assert parse_code(bad) is None, bad


async def test_right_code_is_accepted_once(repo: SqlGuardRepository) -> None:
    clock = Clock(T0)
    guards = service(repo, clock)
    code = code_at(T0)
    assert (await guards.check_code(code)).verdict is CodeVerdict.ACCEPTED
    assert (await guards.check_code(code)).verdict is CodeVerdict.REUSED
    # Another process (another service on the same database) refuses it too.
    assert (await service(repo, clock).check_code(code)).verdict is CodeVerdict.REUSED
    clock.now = T0 + timedelta(seconds=30)
    assert (await guards.check_code(code_at(clock.now))).verdict is CodeVerdict.ACCEPTED


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
async def test_one_step_of_drift(repo: SqlGuardRepository, steps: int, accepted: bool) -> None:
    guards = service(repo, Clock(T0))
    verdict = (await guards.check_code(code_at(T0, steps))).verdict
    assert verdict is (CodeVerdict.ACCEPTED if accepted else CodeVerdict.WRONG)


async def test_an_older_code_after_a_newer_one_is_refused(repo: SqlGuardRepository) -> None:
    guards = service(repo, Clock(T0))
    assert (await guards.check_code(code_at(T0))).verdict is CodeVerdict.ACCEPTED
    assert (await guards.check_code(code_at(T0, -1))).verdict is CodeVerdict.REUSED


async def test_wrong_codes_in_a_row_pause_code_entry(repo: SqlGuardRepository) -> None:
    clock = Clock(T0)
    guards = service(repo, clock)
    for _ in range(MAX_WRONG_CODES_IN_A_ROW - 1):
        check = await guards.check_code(wrong_code(T0))
        assert check.verdict is CodeVerdict.WRONG and check.paused_until is None
    check = await guards.check_code(wrong_code(T0))
    assert check.verdict is CodeVerdict.WRONG and check.paused_until is not None
    # Even the right code is not looked at during the pause.
    assert (await guards.check_code(code_at(T0))).verdict is CodeVerdict.PAUSED
    clock.now = check.paused_until + timedelta(seconds=1)
    assert (await guards.check_code(code_at(clock.now))).verdict is CodeVerdict.ACCEPTED


async def test_needs_code_above_the_threshold_only() -> None:
    guards = GuardService(
        None,  # type: ignore[arg-type]
        GuardSettings(totp_secret=SECRET, totp_above_krw=Decimal(1_000_000)),
        Clock(T0),
    )
    assert not guards.needs_code(Decimal(1_000_000))
    assert guards.needs_code(Decimal("1000000.01"))
    assert guards.needs_code(None)  # unknown value: ask
    every = GuardService(None, GuardSettings(totp_secret=SECRET), Clock(T0))  # type: ignore[arg-type]
    assert every.needs_code(Decimal(1))
    off = GuardService(None, GuardSettings(), Clock(T0))  # type: ignore[arg-type]
    assert not off.needs_code(Decimal(10**12))


@pytest.mark.parametrize(
    ("now", "start"),
    [
        # 23:59:59 in Seoul on 1 March is still 1 March there.
        (datetime(2026, 3, 1, 14, 59, 59, tzinfo=UTC), datetime(2026, 2, 28, 15, tzinfo=UTC)),
        # 00:00:00 in Seoul on 2 March starts a new day.
        (datetime(2026, 3, 1, 15, 0, 0, tzinfo=UTC), datetime(2026, 3, 1, 15, tzinfo=UTC)),
    ],
)
def test_the_day_is_a_seoul_day(now: datetime, start: datetime) -> None:
    guards = GuardService(None, GuardSettings(), Clock(now))  # type: ignore[arg-type]
    day = guards.day(now)
    assert (day.start, day.end) == (start, start + timedelta(days=1))


def test_the_day_follows_the_zone_across_dst() -> None:
    # New York springs forward on 8 March 2026: that day is 23 hours long.
    zone = GuardSettings(zone=ZoneInfo("America/New_York"))
    guards = GuardService(None, zone, Clock(T0))  # type: ignore[arg-type]
    day = guards.day(datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert day.end - day.start == timedelta(hours=23)


async def test_lock_and_unlock_with_a_code(repo: SqlGuardRepository) -> None:
    clock = Clock(T0)
    guards = service(repo, clock)
    assert await guards.unlock(ALICE, None) is UnlockStatus.NOT_LOCKED
    assert await guards.lock(ALICE)
    assert not await guards.lock(ALICE)
    assert await guards.is_locked()
    assert await guards.unlock(ALICE, None) is UnlockStatus.CODE_NEEDED
    assert await guards.unlock_awaiting(ALICE)
    assert not await guards.unlock_awaiting(ALICE)  # taken once
    assert await guards.unlock(ALICE, wrong_code(T0)) is UnlockStatus.WRONG
    assert await guards.is_locked()
    assert await guards.unlock_awaiting(ALICE)  # the next code is taken for /unlock again
    assert await guards.unlock(ALICE, code_at(T0)) is UnlockStatus.UNLOCKED
    assert not await guards.is_locked()
    await guards.lock(ALICE)
    assert await guards.unlock(ALICE, code_at(T0)) is UnlockStatus.REUSED
    assert await guards.is_locked()


async def test_unlock_request_times_out(repo: SqlGuardRepository) -> None:
    clock = Clock(T0)
    guards = service(repo, clock, code_timeout=timedelta(seconds=60))
    await guards.lock(ALICE)
    assert await guards.unlock(ALICE, None) is UnlockStatus.CODE_NEEDED
    clock.now = T0 + timedelta(seconds=61)
    assert not await guards.unlock_awaiting(ALICE)


async def test_unlock_without_totp_needs_no_code(repo: SqlGuardRepository) -> None:
    guards = GuardService(repo, GuardSettings(), Clock(T0))
    await guards.lock(ALICE)
    assert await guards.unlock(ALICE, None) is UnlockStatus.UNLOCKED


async def test_status_never_holds_the_secret(repo: SqlGuardRepository) -> None:
    guards = service(repo, Clock(T0), daily_limit_krw=Decimal(5_000_000))
    status = await guards.status()
    assert status.totp_on and status.daily_limit_krw == Decimal(5_000_000)
    assert status.used_today_krw == 0 and status.left_today_krw == Decimal(5_000_000)
    assert not status.locked
    assert SECRET not in repr(status)


def test_codes_near_cover_the_window() -> None:
    now = datetime.now(UTC)
    hidden = codes_near(SECRET)()
    # Computed just before and after: a step boundary in between moves the window by one.
    assert code_at(now) in hidden
    assert code_at(datetime.now(UTC)) in hidden
    assert len(hidden) == 5

"""Shared fixtures: the two stand-ins, the database URLs, and a running bot."""

from tests.db_fixtures import db_engine, db_sessions, db_url, engine_factory  # noqa: F401
from tests.e2e.harness import bot_factory  # noqa: F401
from tests.standins.fixtures import upbit_standin  # noqa: F401
from tests.standins.fixtures_telegram import telegram_standin  # noqa: F401

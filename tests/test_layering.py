"""The layers keep to themselves: importing the service layer (or Upbit's models and errors,
its port vocabulary) loads no transport and no framework.

Checked in a fresh interpreter, so what other tests imported does not hide a leak.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_LOADED = """
import importlib, json, pkgutil, sys
for name in sys.argv[1:]:
    package, _, star = name.rpartition(".")
    if star != "*":
        importlib.import_module(name)
        continue
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{info.name}")
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""

TRANSPORTS = {"httpx", "httpcore", "websockets", "telegram", "sqlalchemy", "aiohttp"}


def top_level_modules_after_importing(*names: str) -> set[str]:
    """Top-level packages loaded after importing ``names`` (``pkg.*``: all of its modules)."""
    result = subprocess.run(
        [sys.executable, "-c", _LOADED, *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_every_service_module_loads_no_transport() -> None:
    loaded = top_level_modules_after_importing("bot.services.*")
    assert "bot" in loaded
    assert loaded & TRANSPORTS == set()


@pytest.mark.parametrize("name", ["bot.upbit", "bot.upbit.models", "bot.upbit.errors"])
def test_upbit_vocabulary_loads_no_transport(name: str) -> None:
    assert top_level_modules_after_importing(name) & TRANSPORTS == set()


def test_the_check_sees_a_transport() -> None:
    assert {"httpx", "websockets"} <= top_level_modules_after_importing(
        "bot.upbit.client", "bot.upbit.ws"
    )

"""The repository stands on its own: no file cites a document kept outside it (the team's
private notes) or a path of one particular machine. Cite public pages instead, e.g.
https://docs.upbit.com/kr/reference/auth or https://core.telegram.org/bots/api."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(
    r"\b(?:STYLE|UPBIT|TELEGRAM|DESIGN|SPEC)\.md\b"  # documents outside the repository
    r"|/wor[k]/(?:shared|main|wt)\b"  # a development machine's folders
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [REPO / name.decode() for name in listed if name]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    here = Path(__file__).resolve()
    found = []
    for path in tracked_files():
        if path == here or path.suffix in {".lock", ".png"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []

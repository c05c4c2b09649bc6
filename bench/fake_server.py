"""Start the fake Bot API as a separate process and drive it over its control endpoints."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


class FakeServerProcess:
    """A running `python -m tests.fakes.botapi` and an HTTP client for its control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._root = base_url.removesuffix("/bot")
        self._http = httpx.Client(timeout=30)

    def inject(self, updates: list[dict]) -> None:
        for start in range(0, len(updates), 500):
            response = self._http.post(
                f"{self._root}/_control/updates", json={"updates": updates[start : start + 500]}
            )
            response.raise_for_status()

    def stats(self) -> dict:
        return self._http.get(f"{self._root}/_control/stats").json()

    def register_chats(self, user_ids: list[int]) -> None:
        """Make private chats known to the server without any update for the bot."""
        response = self._http.post(f"{self._root}/_control/chats", json={"user_ids": user_ids})
        response.raise_for_status()

    def chat_counts(self, contains: str) -> dict[int, int]:
        """Return, per chat, how many messages the bot sent there whose text contains `contains`."""
        response = self._http.get(f"{self._root}/_control/counts", params={"contains": contains})
        response.raise_for_status()
        return {int(chat): int(n) for chat, n in response.json().items()}

    def reset(self) -> None:
        self._http.post(f"{self._root}/_control/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()


@contextmanager
def fake_server(*, flood: bool = False) -> Iterator[FakeServerProcess]:
    """Run the fake server for the duration of the block."""
    command = [sys.executable, "-m", "tests.fakes.botapi", "--port", "0"]
    if flood:
        command.append("--flood")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake server did not start: {line!r}")
        server = FakeServerProcess(line.removeprefix("READY "))
        try:
            yield server
        finally:
            server.close()
    finally:
        process.terminate()
        process.wait(timeout=10)

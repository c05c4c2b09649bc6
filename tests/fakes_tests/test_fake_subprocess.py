"""The fake Bot API as a separate process, driven over its control API like a benchmark does."""

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import DEFAULT_TOKEN

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def served() -> AsyncIterator[str]:
    """Start ``python -m tests.fakes.botapi --port 0 --flood``; yield its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.botapi",
        "--port",
        "0",
        "--flood",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(5):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("READY http://127.0.0.1:")
        yield line.split()[1]
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(5):
            returncode = await process.wait()
    assert returncode == 0


async def test_subprocess_serves_and_reports(served: str) -> None:
    control = served.removesuffix("/bot") + "/_control"
    async with httpx.AsyncClient() as client:
        me = (await client.get(f"{served}{DEFAULT_TOKEN}/getMe")).json()
        assert me["result"]["username"] == "apuri_test_bot"

        user = {"id": 5, "is_bot": False, "first_name": "Eino"}
        chat = {"id": 5, "type": "private", "first_name": "Eino"}
        update = {"message": {"from": user, "chat": chat, "text": "hei"}}
        injected = (await client.post(f"{control}/updates", json={"update": update})).json()
        assert injected["result"]["update_id"] == 1

        polled = await client.post(f"{served}{DEFAULT_TOKEN}/getUpdates", data={"timeout": "1"})
        assert [u["message"]["text"] for u in polled.json()["result"]] == ["hei"]
        for n in range(4):  # the fourth exceeds the per-chat burst of three
            form = {"chat_id": "5", "text": f"viesti {n}"}
            await client.post(f"{served}{DEFAULT_TOKEN}/sendMessage", data=form)

        stats = (await client.get(f"{control}/stats")).json()
        assert stats == {
            "requests_by_method": {"getMe": 1, "getUpdates": 1, "sendMessage": 4},
            "messages_sent": 3,
            "retry_after_429": 1,
        }
        await client.post(f"{control}/reset")
        assert (await client.get(f"{control}/stats")).json()["messages_sent"] == 0

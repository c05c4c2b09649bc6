"""Import path of the fake Bot API and its command-line server for benchmarks.

``python -m tests.fakes.botapi --port 0 [--flood]`` prints ``READY <base_url>`` and serves until
SIGTERM or SIGINT; other processes drive it through ``/_control/updates``, ``/_control/stats``
and ``/_control/reset``.
"""

import argparse
import asyncio
import signal

from tests.fakes.flood import FloodLimits
from tests.fakes.records import RecordedRequest, SentMessage
from tests.fakes.server import DEFAULT_TOKEN, FakeBotAPI
from tests.fakes.wire import ApiError

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "FakeBotAPI",
    "FloodLimits",
    "RecordedRequest",
    "SentMessage",
]


async def serve(host: str, port: int, token: str, flood: FloodLimits | None) -> None:
    """Run a server until SIGTERM or SIGINT, announcing its base URL on stdout."""
    server = FakeBotAPI(token, flood=flood)
    await server.start(host, port)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    print(f"READY {server.base_url}", flush=True)
    try:
        await stopped.wait()
    finally:
        await server.stop()


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--flood", action="store_true", help="enforce default FloodLimits")
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.token, FloodLimits() if args.flood else None))


if __name__ == "__main__":
    main()

"""Run every benchmark and print figures with their ratio to the baseline measured in the run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform

from bench import throughput
from bench.fake_server import fake_server

TARGET_RATIO = 0.7


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--updates", type=int, default=1000, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per bot")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    print(
        f"Apuri benchmarks on {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; fake Bot API in a separate process"
    )
    with fake_server() as server:
        figures = asyncio.run(throughput.run(server, n=args.updates, rounds=args.rounds))
    print()
    print(
        f"Throughput and handler latency, {args.updates} updates x {args.rounds} rounds "
        "(median rate; latency percentiles over all rounds)"
    )
    print(f"{'bot':<34} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for key, label in (
        ("echo", "(a) bare PTB echo bot (baseline)"),
        ("apuri", "(b) Apuri /whoami"),
    ):
        f = figures[key]
        print(f"{label:<34} {f['rate']:>10.0f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f}")
    verdict = "meets" if figures["ratio"] >= TARGET_RATIO else "BELOW"
    print(f"ratio b/a: {figures['ratio']:.2f} ({verdict} the target of {TARGET_RATIO})")


if __name__ == "__main__":
    main()

"""Run every benchmark and print figures with their ratio to the baseline measured in the run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform

from bench import dispatch, throughput
from bench.fake_server import fake_server

TARGET_RATIO = 0.7


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--updates", type=int, default=1000, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per bot")
    parser.add_argument("--pairs", type=int, default=50, help="volunteer pairs pressing Accept")
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

    with fake_server() as server:
        dispatch_figures = asyncio.run(dispatch.run(server, pairs=args.pairs, rounds=args.rounds))
    print_dispatch(dispatch_figures, pairs=args.pairs, rounds=args.rounds)


def print_dispatch(figures: dict, *, pairs: int, rounds: int) -> None:
    """The dispatch section: accepted offers per second, then the contended correctness runs."""
    print()
    print(
        f"Dispatch: {pairs} pairs press Accept at once, each on its own offer, x {rounds} rounds "
        "(median rate; latency from injection to answerCallbackQuery, percentiles over all rounds)"
    )
    print(f"{'bot':<34} {'accepted/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'accepted':>9}")
    for key, label in (
        ("baseline", "(a) PTB answer+edit (baseline)"),
        ("apuri", "(b) Apuri Accept"),
    ):
        f = figures[key]
        done = f"{f['accepted']}/{f['presses']}"
        print(f"{label:<34} {f['rate']:>10.0f} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f} {done:>9}")
    print(f"ratio b/a: {figures['ratio']:.2f}")
    runs = figures["contended"]
    if not runs:
        return
    print()
    print(
        f"Contended: all {runs[0]['presses']} volunteers press Accept on one task at once, "
        f"{len(runs)} runs (exactly 1 winning pair expected)"
    )
    for i, run in enumerate(runs, 1):
        print(
            f"run {i}: {run['winning_pairs']} winning pair(s), "
            f"{run['told_yes']} told it is theirs, {run['told_taken']} told it is taken; "
            f"all handled in {run['seconds'] * 1000:.0f} ms"
        )
    wrong = [run for run in runs if run["winning_pairs"] != 1 or not run["accepted"]]
    print("winners: exactly 1 in every run" if not wrong else f"WRONG in {len(wrong)} run(s)")


if __name__ == "__main__":
    main()

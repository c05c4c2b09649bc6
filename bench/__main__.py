"""Run every benchmark and print figures with their ratio to the baseline measured in the run."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform

from bench import broadcast, campaign, dispatch, imports, throughput
from bench.fake_server import fake_server

TARGET_RATIO = 0.7


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--updates", type=int, default=1000, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per bot")
    parser.add_argument("--pairs", type=int, default=50, help="volunteer pairs pressing Accept")
    parser.add_argument("--recipients", type=int, default=1000, help="broadcast recipients")
    parser.add_argument("--residents", type=int, default=20_000, help="campaign residents")
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

    with fake_server(flood=True) as server:
        broadcast_figures = asyncio.run(broadcast.run(server, recipients=args.recipients))
    print_broadcast(broadcast_figures, recipients=args.recipients)

    import_figures = asyncio.run(imports.run(rows=args.residents, rounds=3))
    campaign_figures = asyncio.run(campaign.run(rows=args.residents, rounds=25, runs=3))
    print_campaign(import_figures, campaign_figures)


def print_campaign(imported: dict, figures: dict) -> None:
    """The campaign section: import, start, Next call under 20 callers, progress, with targets."""
    print()
    print(
        f"Phone-check campaign: {figures['rows']} residents from CSV; {campaign.CALLERS} callers "
        f"press Next call at once, {figures['presses']} presses over {figures['runs']} "
        "fresh campaigns"
    )
    print(f"{'step':<44} {'Apuri':>9} {'baseline':>9} {'ratio':>6} {'target':>9}")

    def line(label: str, apuri: float, base: float, unit: str, target: str, ok: bool) -> None:
        print(
            f"{label:<44} {apuri:>7.2f}{unit} {base:>7.2f}{unit} {base / apuri:>6.2f} "
            f"{target:>7} {'ok' if ok else 'MISSED'}"
        )

    line(
        "import 20 000-row CSV (median of 3)",
        imported["apuri_s"],
        imported["baseline_s"],
        " s",
        "< 3 s",
        imported["apuri_s"] < 3,
    )
    line(
        "  the same file again (all updates)",
        imported["again_s"],
        imported["baseline_s"],
        " s",
        "",
        True,
    )
    print(f"{'start the campaign (list everyone 70+)':<44} {figures['start_s']:>7.2f} s")
    line(
        "Next call p50 (baseline: a bare claim each)",
        figures["next_p50_ms"],
        figures["base_p50_ms"],
        "ms",
        "",
        True,
    )
    line(
        "Next call p99",
        figures["next_p99_ms"],
        figures["base_p99_ms"],
        "ms",
        "< 20 ms",
        figures["next_p99_ms"] < 20,
    )
    line(
        "progress view (baseline: one count(*))",
        figures["overview_ms"],
        figures["count_ms"],
        "ms",
        "< 100 ms",
        figures["overview_ms"] < 100,
    )
    print(
        "import baseline: csv + sqlite3 executemany of the raw cells; ratios are baseline / Apuri"
    )


def print_broadcast(figures: dict, *, recipients: int) -> None:
    """The broadcast section: delivered rate against the flood limit, losses, reply latency."""
    print()
    print(
        f"Broadcast: {recipients} recipients; the fake Bot API enforces {broadcast.LIMIT} msg/s "
        "overall and 1/s per chat (429 beyond);\nin (c) 20 people take turns sending /whoami, "
        "one every 0.5 s"
    )
    print(
        f"{'run':<40} {'sent':>5} {'s':>6} {'msg/s':>6} {'of limit':>8} {'429s':>5} "
        f"{'lost':>5} {'dup':>4} {'reply p50':>9} {'p99 ms':>7}"
    )
    for run in figures["runs"]:
        p50, p99 = broadcast.p50_p99(run.latencies)
        replies = f"{p50:>9.1f} {p99:>7.1f}" if run.latencies else f"{'-':>9} {'-':>7}"
        print(
            f"{run.label:<40} {run.delivered:>5} {run.seconds:>6.1f} {run.rate:>6.1f} "
            f"{run.rate / broadcast.LIMIT:>8.2f} {run.throttled:>5} {run.lost:>5} "
            f"{run.duplicated:>4} {replies}"
        )
    chatting = figures["runs"][2]
    total = (chatting.delivered + len(chatting.latencies)) / chatting.seconds
    print(
        f"(c) counting its {len(chatting.latencies)} replies too: {total:.1f} msg/s, "
        f"{total / broadcast.LIMIT:.2f} of the limit"
    )
    target = "meets" if figures["runs"][1].rate / broadcast.LIMIT >= 0.95 else "BELOW"
    print(
        f"ratio b/a: {figures['ratio']:.2f}; (b) delivers "
        f"{figures['runs'][1].rate / broadcast.LIMIT:.2f} of the limit ({target} the target 0.95)"
    )


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

"""A phone-check campaign of 20,000 residents: import, start, Next call under 20 callers, progress.

One database on a temporary file, the services wired as the bot wires them (`build_services`), a
real clock. The run:

1. **Import** a 20,000-row CSV (`bench.imports.make_csv`) with `ResidentService.import_csv`, and
   **start** a campaign of everyone aged 70+ (`CampaignService.start`): both timed once per round.
2. **Next call**: 20 callers press at once (`asyncio.gather` of 20 `next_call`s), each press timed
   from its call to its answer; then each caller reports the call through the phone-check form
   (reached, all right, no needs — the real `OutcomeService` steps, untimed) and the 20 press again.
   Every press is one transaction on the one connection, so the 20th waits for the 19 before it:
   p99 is the queue's whole length. The baseline, measured in the same run on the same list, is
   the least any claim can cost on this connection: the same 20 callers at once, each a bare
   `UPDATE … RETURNING` of the next waiting entry in its own transaction, nothing else.
3. **Progress**: `CampaignService.overview` (the /campaign figures) on the 20,000-entry campaign
   after the calls, timed repeatedly; the baseline is one `count(*)` of the campaign's entries.

Ratios are baseline / Apuri (1.0 = as cheap as the floor).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.imports import make_csv
from bench.throughput import percentile
from bot.domain.campaigns import CampaignSpec, Selection
from bot.domain.people import Person, Role
from bot.form_files import load_catalog
from bot.services.container import Services, build_services
from storage.db import Database
from storage.store import SqliteStore

__all__ = ["run"]

CALLERS = 20
ZONE = ZoneInfo("Europe/Helsinki")


def _clock() -> datetime:
    return datetime.now(UTC)


async def _register(services: Services, role: Role, user: int, name: str) -> Person:
    issued = await services.invites.create(None, role, name=name)
    redeemed = await services.invites.redeem(
        user, issued.code, telegram_name=name, language_code="fi"
    )
    return redeemed.person


async def _report_reached(services: Services, caller: Person, task_id: int) -> None:
    """Fill in the phone-check form as a caller does: reached, all right, no needs, not urgent."""
    outcomes = services.outcomes
    step = await outcomes.begin(caller, task_id)
    step = await outcomes.choose(caller, step.draft.id, step.draft.revision, 0)  # reached
    step = await outcomes.choose(caller, step.draft.id, step.draft.revision, 0)  # all right: yes
    step = await outcomes.done(caller, step.draft.id, step.draft.revision)  # no needs
    step = await outcomes.choose(caller, step.draft.id, step.draft.revision, 1)  # urgent: no
    step = await outcomes.skip(caller, step.draft.id, step.draft.revision)  # no note
    await outcomes.submit(caller, step.draft.id, step.draft.revision)


async def _timed(coro: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await coro
    return (time.perf_counter() - started) * 1000, result


async def _baseline_presses(db: Database, campaign_id: int, rounds: int) -> list[float]:
    """The floor: 20 bare claims at once per round, each one UPDATE … RETURNING in a transaction."""

    async def claim(caller: int) -> int:
        async with (
            db.transaction() as conn,
            conn.execute(
                "UPDATE campaign_entries SET state = 'calling', caller_id = ?,"
                " claimed_until = '9999' WHERE id = (SELECT id FROM campaign_entries"
                " WHERE campaign_id = ? AND state = 'waiting' AND attempts = 0"
                " ORDER BY id LIMIT 1) RETURNING id",
                (caller, campaign_id),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    latencies: list[float] = []
    for _ in range(rounds):
        results = await asyncio.gather(*(_timed(claim(c)) for c in range(1, CALLERS + 1)))
        latencies += [ms for ms, _ in results]
        async with db.transaction() as conn:  # put them back: the next round claims the same
            await conn.execute(
                "UPDATE campaign_entries SET state = 'waiting', caller_id = NULL,"
                " claimed_until = NULL WHERE campaign_id = ? AND claimed_until = '9999'",
                (campaign_id,),
            )
    return latencies


async def _one_run(rows: int, rounds: int, directory: Path, index: int) -> dict[str, Any]:
    db = await Database.open(directory / f"campaign-{index}.sqlite3")
    await db.migrate()
    services = build_services(
        SqliteStore(db),
        _clock,
        invite_validity=timedelta(days=7),
        default_language="fi",
        forms=load_catalog(None),
        zone=ZONE,
    )
    try:
        coordinator = await _register(services, Role.COORDINATOR, 1, "Koordinaattori")
        callers = [
            await _register(services, Role.CALLER, 100 + k, f"Soittaja {k}") for k in range(CALLERS)
        ]
        data = make_csv(rows)
        import_ms, report = await _timed(services.residents.import_csv(coordinator, data))
        assert report.read and report.created > 0
        this_year = _clock().year
        spec = CampaignSpec(
            name="Syksyn soitot 70+",
            selection=Selection(born_by=this_year - 70),
            callers=frozenset(c.id for c in callers),
        )
        start_ms, started = await _timed(services.campaigns.start(coordinator, spec))
        campaign_id = started.campaign.id

        apuri: list[float] = []
        for _ in range(rounds):
            results = await asyncio.gather(
                *(_timed(services.campaigns.next_call(c, campaign_id)) for c in callers)
            )
            apuri += [ms for ms, _ in results]
            residents = {call.resident.id for _, call in results}
            assert len(residents) == CALLERS, "two callers got the same resident"
            for caller, (_, call) in zip(callers, results, strict=True):
                await _report_reached(services, caller, call.task.id)
        baseline = await _baseline_presses(db, campaign_id, rounds)

        overview_ms = []
        count_ms = []
        for _ in range(rounds):
            ms, overview = await _timed(services.campaigns.overview(coordinator, campaign_id))
            overview_ms.append(ms)
            ms, _ = await _timed(
                db.fetch_value(
                    "SELECT count(*) FROM campaign_entries WHERE campaign_id = ?", (campaign_id,)
                )
            )
            count_ms.append(ms)
        assert overview.figures.reached == rounds * CALLERS
        return {
            "listed": started.listed,
            "import_ms": import_ms,
            "start_ms": start_ms,
            "apuri": apuri,
            "baseline": baseline,
            "overview_ms": statistics.median(overview_ms),
            "count_ms": statistics.median(count_ms),
        }
    finally:
        await db.close()


async def run(rows: int = 20_000, rounds: int = 25, runs: int = 3) -> dict[str, Any]:
    """Measure `runs` fresh campaigns of `rows` residents; return medians and pooled percentiles."""
    with tempfile.TemporaryDirectory(prefix="apuri-bench-campaign-") as tmp:
        results = [await _one_run(rows, rounds, Path(tmp), k) for k in range(runs)]
    apuri = [ms for r in results for ms in r["apuri"]]
    baseline = [ms for r in results for ms in r["baseline"]]
    figures = {
        "rows": rows,
        "runs": runs,
        "listed": results[0]["listed"],
        "presses": len(apuri),
        "import_s": statistics.median(r["import_ms"] for r in results) / 1000,
        "start_s": statistics.median(r["start_ms"] for r in results) / 1000,
        "next_p50_ms": percentile(apuri, 0.5),
        "next_p99_ms": percentile(apuri, 0.99),
        "base_p50_ms": percentile(baseline, 0.5),
        "base_p99_ms": percentile(baseline, 0.99),
        "overview_ms": statistics.median(r["overview_ms"] for r in results),
        "count_ms": statistics.median(r["count_ms"] for r in results),
    }
    figures["next_ratio"] = figures["base_p99_ms"] / figures["next_p99_ms"]
    figures["overview_ratio"] = figures["count_ms"] / figures["overview_ms"]
    return figures

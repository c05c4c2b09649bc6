"""Pace messages into group chats to Telegram's limit of 20 a minute per group.

Telegram answers 429 (Too Many Requests) to a bot that sends more than about 20 messages a minute
into one group; a meeting reminder going out to a busy group must wait rather than fail. This
rate limiter, plugged into PTB with `ApplicationBuilder().rate_limiter(...)`, delays only sends
into groups and channels, each by its own sliding window; everything else (private chats, edits,
callback answers, getUpdates) passes straight through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

__all__ = ["BULK", "FloodLimiter", "GroupRateLimiter"]

log = logging.getLogger(__name__)

ChatKey = int | str
Result = bool | dict[str, Any] | list[dict[str, Any]]

_FORWARDS = frozenset({"copyMessage", "forwardMessage", "copyMessages", "forwardMessages"})


@dataclass(slots=True)
class _Window:
    """One group's recent sends and the lock that lines its requests up."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sent: deque[float] = field(default_factory=deque)  # clock times of the last sends, oldest first
    users: int = 0  # requests holding or waiting for the lock

    def forget_before(self, horizon: float) -> None:
        """Drop the sends at or before `horizon`: they no longer count."""
        while self.sent and self.sent[0] <= horizon:
            self.sent.popleft()


class GroupRateLimiter(BaseRateLimiter[None]):
    """At most `per_minute` sends per group chat in any `period` seconds; nothing else waits.

    A request is paced when it sends into a group: its endpoint starts with `send` or is one of
    copyMessage, forwardMessage, copyMessages and forwardMessages, and its `chat_id` is a negative
    id or an `@username` (public supergroups and channels). Each group has a sliding window of its
    last `per_minute` send times; when the window is full, the request sleeps until the oldest send
    leaves it. Requests into one group take turns (FIFO) and are sent one at a time, so messages
    arrive in the order they were sent; requests into different groups never wait for each other.
    A send counts from when Telegram answered it, the latest moment Telegram can have counted it.
    Windows of groups that fell silent are forgotten. Exceptions from the request are never
    swallowed, and a 429 is not retried here.
    """

    __slots__ = ("_clock", "_last_sweep", "_per_minute", "_period", "_sleep", "_windows")

    def __init__(
        self,
        per_minute: int = 20,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, not {per_minute}")
        if period <= 0:
            raise ValueError(f"period must be positive, not {period}")
        self._per_minute = per_minute
        self._period = period
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[ChatKey, _Window] = {}
        self._last_sweep = clock()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Forget every window."""
        self._windows.clear()

    @property
    def tracked_chats(self) -> int:
        """Return how many groups' windows are kept (for tests and diagnostics)."""
        return len(self._windows)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        """Send the request, first waiting for room in its group's window if it is a group send."""
        key = _group_of(endpoint, data)
        if key is None:
            return await callback(*args, **kwargs)
        self._sweep()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        window.users += 1
        try:
            async with window.lock:
                await self._wait_for_room(key, window, endpoint)
                try:
                    return await callback(*args, **kwargs)
                finally:
                    window.sent.append(self._clock())
        finally:
            window.users -= 1

    async def _wait_for_room(self, key: ChatKey, window: _Window, endpoint: str) -> None:
        """Sleep until fewer than `per_minute` sends of the group are in the window."""
        waited = 0.0
        while True:
            now = self._clock()
            window.forget_before(now - self._period)
            if len(window.sent) < self._per_minute:
                break
            delay = window.sent[0] + self._period - now
            waited += delay
            await self._sleep(delay)
        if waited > 0:
            log.debug("%s to chat %s waited %.1f s for the group rate limit", endpoint, key, waited)

    def _sweep(self) -> None:
        """Forget, at most once a period, the windows of groups nobody sent to for a period."""
        now = self._clock()
        if now - self._last_sweep < self._period:
            return
        self._last_sweep = now
        horizon = now - self._period
        for key, window in list(self._windows.items()):
            if window.users == 0:
                window.forget_before(horizon)
                if not window.sent:
                    del self._windows[key]


def _group_of(endpoint: str, data: dict[str, Any]) -> ChatKey | None:
    """Return the group a request sends into, or None if it is not a send into a group."""
    if not _is_send(endpoint):
        return None
    chat_id = data.get("chat_id")
    if isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return chat_id if chat_id < 0 else None
    if isinstance(chat_id, str):
        if chat_id.startswith("@"):
            return chat_id.lower()  # usernames are case-insensitive
        try:
            number = int(chat_id)  # PTB lets callers pass a numeric id as text
        except ValueError:
            return None
        return number if number < 0 else None
    return None


BULK = "bulk"  # rate_limit_args of a request sent inside the outbox's `FloodLimiter.slot`
_SEND_PREFIX = "send"


@dataclass(slots=True)
class _Bucket:
    """A private chat's token bucket: `tokens` sends may go now, refilled at the chat rate."""

    tokens: float
    updated: float


class FloodLimiter(GroupRateLimiter):
    """Telegram's flood limits for the whole bot: overall, per private chat, per group.

    On top of the group windows: at most `per_second` sends in any second over all chats, and a
    token bucket per private chat (`chat_per_second`, bursts of `burst`) for broadcast sends.

    The overall count is kept on the safe side of Telegram's: a send counts from the moment it
    is let go until a second after its answer came back (Telegram counts it somewhere in
    between), so a send this limiter lets through is never the 31st in Telegram's window, however
    the requests are delayed on the way. Broadcast sends (the outbox, through `slot`) use the whole
    limit while nobody else is talking to the bot; once a reply or a card went out in the last
    `quiet` seconds, they leave one send a second free, so that a reply to someone pressing a
    button waits at most for the next free place, never behind the broadcast's queue. A 429
    pauses every send for its `retry_after`; an interactive request is then tried once more, a
    broadcast request is handed back to the outbox (which puts its row back in the queue).
    """

    __slots__ = (
        "_buckets",
        "_bulk_after",
        "_burst",
        "_chat_rate",
        "_in_flight",
        "_last_interactive",
        "_overall",
        "_paused_until",
        "_per_second",
        "_quiet",
    )

    def __init__(
        self,
        *,
        per_second: int = 30,
        chat_per_second: float = 1.0,
        burst: int = 3,
        group_per_minute: int = 20,
        quiet: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(group_per_minute, clock=clock, sleep=sleep)
        if per_second < 2:
            raise ValueError(f"per_second must be at least 2, not {per_second}")
        self._per_second = per_second
        self._chat_rate = chat_per_second
        self._burst = float(burst)
        self._quiet = quiet
        self._overall: deque[float] = deque()  # answer times of the last second's sends
        self._in_flight = 0  # sends let go whose answer has not come back
        self._buckets: dict[int, _Bucket] = {}
        self._paused_until = 0.0
        self._last_interactive = float("-inf")
        # A process that just started cannot know what the one before it sent in its last
        # second (a restart mid-broadcast): broadcast sends wait that second out.
        self._bulk_after = clock() + 1.0

    def bulk_limit(self, now: float) -> int:
        """Return the broadcast's share of the overall limit at `now`."""
        talking = now - self._last_interactive < self._quiet
        return self._per_second - 1 if talking else self._per_second

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (Telegram answered 429 with this retry_after)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def chat_wait(self, chat_id: int) -> float:
        """Return how long a broadcast send into this private chat would wait for its bucket."""
        bucket = self._bucket(chat_id, self._clock())
        return max(0.0, (1.0 - bucket.tokens) / self._chat_rate)

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until a broadcast send into `chat_id` fits every limit; hold it while sending."""
        while True:
            now = self._clock()
            wait = max(
                self._paused_until - now,
                self._bulk_after - now,
                self._overall_wait(now, self.bulk_limit(now)),
                self.chat_wait(chat_id),
            )
            if wait <= 0:
                break
            await self._sleep(max(wait, 0.001))
        self._bucket(chat_id, now).tokens -= 1.0
        self._in_flight += 1
        started = now
        try:
            yield
        finally:
            self._answered(chat_id, started)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> Result:
        """Pace a send (unless the outbox holds a slot for it), and honour a 429 for everyone."""
        if not _is_send(endpoint):
            if endpoint == "getUpdates":  # the updater retries its long poll by itself
                return await callback(*args, **kwargs)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:  # an edit or an answer: wait as asked, then once more
                self.pause(_retry_after(exc))
                await self._sleep(max(0.0, self._paused_until - self._clock()))
                return await callback(*args, **kwargs)
        bulk = rate_limit_args == BULK
        chat_id = data.get("chat_id")

        async def counted(*call_args: Any, **call_kwargs: Any) -> Result:
            # Counted only once its group (if any) had room: a send queued for a full group
            # does not hold one of the overall places meanwhile.
            chat = await self._interactive_room(chat_id)
            started = self._clock()
            try:
                return await callback(*call_args, **call_kwargs)
            finally:
                self._answered(chat, started)

        send = callback if bulk else counted
        for attempt in (1, 2):
            try:
                return await super().process_request(send, args, kwargs, endpoint, data, None)
            except RetryAfter as exc:
                seconds = _retry_after(exc)
                self.pause(seconds)
                log.info("%s: Telegram asked to wait %.0f s", endpoint, seconds)
                if bulk or attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _interactive_room(self, chat_id: object) -> int | None:
        """Wait for the overall limit (and any 429 pause); return the private chat, if any."""
        self._last_interactive = self._clock()
        while True:
            now = self._clock()
            wait = max(self._paused_until - now, self._overall_wait(now, self._per_second))
            if wait <= 0:
                break
            await self._sleep(max(wait, 0.001))
        private = chat_id if isinstance(chat_id, int) and chat_id > 0 else None
        if private is not None:
            self._bucket(private, now).tokens -= 1.0
        self._in_flight += 1
        return private

    def _answered(self, chat_id: int | None, started: float) -> None:
        """A send's answer came back: it counts for a second from now."""
        now = self._clock()
        self._in_flight -= 1
        self._overall.append(now)
        if chat_id is not None:
            # The chat's bucket counts the send from its answer too: no refill while in flight.
            bucket = self._bucket(chat_id, now)
            bucket.tokens -= min(now - started, 1.0 / self._chat_rate) * self._chat_rate

    def _overall_wait(self, now: float, limit: int) -> float:
        """Return how long until one more send fits: in flight plus the last second's answers."""
        while self._overall and self._overall[0] <= now - 1.0:
            self._overall.popleft()
        room = limit - self._in_flight
        if room <= 0:
            return 0.01  # wait for an answer to come back
        if len(self._overall) < room:
            return 0.0
        return self._overall[len(self._overall) - room] + 1.0 - now

    def _bucket(self, chat_id: int, now: float) -> _Bucket:
        """Return the chat's bucket, refilled for the time since it was last touched."""
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            if len(self._buckets) > 10_000:  # forget the buckets that are full again
                self._buckets = {
                    k: b
                    for k, b in self._buckets.items()
                    if b.tokens + (now - b.updated) * self._chat_rate < self._burst
                }
            bucket = self._buckets[chat_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._chat_rate)
        bucket.updated = now
        return bucket


def _is_send(endpoint: str) -> bool:
    return (endpoint.startswith(_SEND_PREFIX) and endpoint != "sendChatAction") or (
        endpoint in _FORWARDS
    )


def _seconds(retry_after: object) -> float:
    """Read RetryAfter.retry_after, an int of seconds or (PTB_TIMEDELTA) a timedelta."""
    total = getattr(retry_after, "total_seconds", None)
    return float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]


def _retry_after(error: RetryAfter) -> float:
    """Return the wait Telegram asked for, without PTB's warning about its future type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(error.retry_after)

"""Pace messages into group chats to Telegram's limit of 20 a minute per group.

Telegram answers 429 (Too Many Requests) to a bot that sends more than about 20 messages a minute
into one group; a meeting reminder going out to a busy group must wait rather than fail. This
rate limiter, plugged into PTB with `ApplicationBuilder().rate_limiter(...)`, delays only sends
into groups and channels, each by its own sliding window; everything else (private chats, edits,
callback answers, getUpdates) passes straight through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import BaseRateLimiter

__all__ = ["GroupRateLimiter"]

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
    if not (endpoint.startswith("send") or endpoint in _FORWARDS):
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

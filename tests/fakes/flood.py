"""Flood control of the fake Bot API: Telegram's documented send limits, on an injectable clock."""

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FloodLimits:
    """Send limits; ``retry_after`` is the smallest wait a 429 answer reports, in seconds."""

    overall_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_group_per_minute: int = 20
    burst_per_chat: int = 3
    retry_after: int = 1


@dataclass
class _Bucket:
    """Token bucket of one private chat."""

    tokens: float
    updated: float


class FloodControl:
    """Decides whether a send may pass: global 1 s window, chat token bucket, group 60 s window."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._overall: deque[float] = deque()
        self._groups: defaultdict[int, deque[float]] = defaultdict(deque)
        self._buckets: dict[int, _Bucket] = {}

    def retry_after(self, chat_id: int, *, is_group: bool) -> int | None:
        """Seconds to wait before sending to ``chat_id``, or None if a send may pass now."""
        now = self._clock()
        waits = [_window_wait(self._overall, now, 1.0, self.limits.overall_per_second)]
        if is_group:
            window = self._groups[chat_id]
            waits.append(_window_wait(window, now, 60.0, self.limits.per_group_per_minute))
        else:
            bucket = self._refill(chat_id, now)
            waits.append(max(0.0, (1 - bucket.tokens) / self.limits.per_chat_per_second))
        wait = max(waits)
        if wait <= 0:
            return None
        return max(self.limits.retry_after, math.ceil(wait))

    def record(self, chat_id: int, *, is_group: bool) -> None:
        """Count one accepted send to ``chat_id``."""
        now = self._clock()
        self._overall.append(now)
        if is_group:
            self._groups[chat_id].append(now)
        else:
            self._refill(chat_id, now).tokens -= 1

    def reset(self) -> None:
        """Forget every past send."""
        self._overall.clear()
        self._groups.clear()
        self._buckets.clear()

    def _refill(self, chat_id: int, now: float) -> _Bucket:
        """The chat's bucket, topped up for the time elapsed since it was last touched."""
        burst = float(self.limits.burst_per_chat)
        bucket = self._buckets.setdefault(chat_id, _Bucket(burst, now))
        elapsed = now - bucket.updated
        bucket.tokens = min(burst, bucket.tokens + elapsed * self.limits.per_chat_per_second)
        bucket.updated = now
        return bucket


def _window_wait(window: deque[float], now: float, span: float, limit: int) -> float:
    """Drop entries older than ``span`` and return how long until one more fits."""
    while window and window[0] <= now - span:
        window.popleft()
    if len(window) < limit:
        return 0.0
    return window[len(window) - limit] + span - now

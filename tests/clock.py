"""A clock that tests move by hand."""

from datetime import UTC, datetime, timedelta


class FakeClock:
    """Return a fixed time until moved; callable like the services' `Clock`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

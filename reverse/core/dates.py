"""Days in Japan. The brand's dates — return windows, promised dates, report ranges, file
names — are days in Tokyo, whatever the hour in UTC; moments are stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def today_in_japan(now: datetime | None = None) -> date:
    """The day in Japan at `now` (an aware moment; the present when not given)."""
    return (now or datetime.now(UTC)).astimezone(TOKYO).date()


def utc_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the Tokyo days `date_from` … `date_to`."""
    start = datetime.combine(date_from, time.min, tzinfo=TOKYO).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=TOKYO).astimezone(UTC)
    return start, end

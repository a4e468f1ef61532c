"""Support hours: is the team there now, and if not, when does it come back."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bots.knowledge.persona import SupportHours
from bots.language.catalog import when_words

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _span(text: str) -> tuple[time, time | None]:
    start, end = text.split("-")
    close = None if end == "24:00" else time.fromisoformat(end)
    return time.fromisoformat(start), close


def next_opening(hours: SupportHours | None, now: datetime) -> datetime | None:
    """None while the team is in (or when no hours are set); else when it next opens."""
    if hours is None or not hours.days:
        return None
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        span = hours.days.get(_DAYS[day.weekday()])
        if span is None:
            continue
        start, end = _span(span)
        opens = datetime.combine(day, start, tzinfo=zone)
        closes = (
            datetime.combine(day, end, tzinfo=zone)
            if end
            else datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        )
        if offset == 0 and opens <= local < closes:
            return None
        if opens > local:
            return opens
    return None


def describe_opening(moment: datetime, now: datetime, timezone: str, language: str = "en") -> str:
    """'today at 09:00', 'tomorrow at 09:00' or 'on Monday at 09:00' (in `language`), with the
    zone name."""
    zone = ZoneInfo(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    today_word, tomorrow_word, weekdays, pattern = when_words(language)
    if local.date() == today:
        day = today_word
    elif local.date() == today + timedelta(days=1):
        day = tomorrow_word
    else:
        day = weekdays[local.weekday()]
    return f"{pattern.format(day=day, time=local.strftime('%H:%M'))} ({timezone})"

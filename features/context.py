"""Context of an event: local time of day and weekday (from the event's time zone, else its
country), device type, OS and browser (parsed from the user agent with ua-parser's maintained
rules), country and region.

>>> ctx = event_context(ts=1_795_680_000_000, timezone="Europe/Berlin", country="DE",
...     user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
...                "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
>>> ctx.local_hour, ctx.weekday, ctx.day_part, ctx.device_type, ctx.os, ctx.browser
(9, 3, 'morning', 'mobile', 'iOS', 'Mobile Safari')
>>> agent_kind("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
'crawler'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ua_parser

from reco.events import valid_timezone

# A country's most populous time zone, for events that name a country but no zone.
COUNTRY_ZONES = {
    "DE": "Europe/Berlin", "GB": "Europe/London", "FR": "Europe/Paris", "ES": "Europe/Madrid",
    "IT": "Europe/Rome", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw", "US": "America/New_York",
    "CA": "America/Toronto", "BR": "America/Sao_Paulo", "MX": "America/Mexico_City",
    "JP": "Asia/Tokyo", "CN": "Asia/Shanghai", "IN": "Asia/Kolkata", "AU": "Australia/Sydney",
    "KR": "Asia/Seoul", "SE": "Europe/Stockholm", "CH": "Europe/Zurich", "AT": "Europe/Vienna",
    "TR": "Europe/Istanbul", "RU": "Europe/Moscow", "ZA": "Africa/Johannesburg",
}
# User-agent families (as ua-parser names them) of automation clients that are not browsers.
AUTOMATION_FAMILIES = frozenset({
    "HeadlessChrome", "PhantomJS", "Python Requests", "Python-urllib", "curl", "Wget",
    "Go-http-client", "Java", "Apache-HttpClient", "okhttp", "Scrapy", "Puppeteer",
    "Selenium", "aiohttp", "node-fetch", "axios",
})
DAY_PARTS = ((5, "night"), (12, "morning"), (17, "afternoon"), (22, "evening"), (24, "night"))


@dataclass(frozen=True, slots=True)
class EventContext:
    local_hour: int
    weekday: int       # Monday is 0
    day_part: str
    device_type: str   # mobile, tablet, desktop, crawler, unknown
    os: str
    browser: str


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | None:
    """The zone, or None for anything that is not an IANA zone name (a folder of the database
    such as "Europe", an over-long name, a path: validation drops these, this is the backstop)."""
    if not valid_timezone(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@functools.lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> tuple[str, str, str]:
    """(device type, OS family, browser family) of a user-agent string."""
    result = ua_parser.parse(user_agent)
    browser = result.user_agent.family if result.user_agent else "Other"
    os_family = result.os.family if result.os else "Other"
    device = result.device.family if result.device else "Other"
    if device == "Spider" or browser in AUTOMATION_FAMILIES:
        kind = "crawler"
    elif device in ("iPad",) or "Tablet" in device or "Tab" in device:
        kind = "tablet"
    elif os_family in ("iOS", "Android") or "Mobile" in browser:
        kind = "mobile"
    elif os_family in ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora"):
        kind = "desktop"
    else:
        kind = "unknown"
    return kind, os_family, browser


def agent_kind(user_agent: str | None) -> str:
    return parse_agent(user_agent)[0] if user_agent else "unknown"


@functools.cache
def _country_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes, from the IANA time zone database's table (the pinned tzdata)."""
    table = resources.files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text("utf-8")
    return frozenset(line.split("\t", 1)[0] for line in table.splitlines()
                     if line and not line.startswith("#"))


def country_code(country: str | None) -> str | None:
    """The ISO 3166 alpha-2 code an event's country names, upper-cased, or None for anything
    else (lists per country exist for real countries only: a bounded set of keys).

    >>> country_code("de"), country_code(" US "), country_code("Germany"), country_code(None)
    ('DE', 'US', None, None)
    """
    code = (country or "").strip().upper()
    return code if code in _country_codes() else None


def local_time(ts: int, timezone: str | None, country: str | None) -> datetime:
    zone = _zone(timezone) if timezone else None
    if zone is None and country:
        zone_name = COUNTRY_ZONES.get(country.upper())
        zone = _zone(zone_name) if zone_name else None
    return datetime.fromtimestamp(ts / 1000, tz=zone or UTC)


def event_context(ts: int, timezone: str | None = None, country: str | None = None,
                  user_agent: str | None = None, device: str | None = None) -> EventContext:
    when = local_time(ts, timezone, country)
    part = next(name for end, name in DAY_PARTS if when.hour < end)
    kind, os_family, browser = parse_agent(user_agent) if user_agent else ("unknown", "", "")
    if kind == "unknown" and device:
        kind = device
    return EventContext(when.hour, when.weekday(), part, kind, os_family, browser)

"""The published profile: a ``reco.v1.UserProfile`` built from a user's state, with scores
that need the population (RFM quintiles, normalised dwell) computed at publication time."""

from __future__ import annotations

import math

from features.context import event_context
from features.population import Population
from features.profile import (
    DWELL_KEY,
    SCROLL_KEY,
    SCROLL_N_KEY,
    TYPE_NAMES,
    ProfileConfig,
    UserProfileState,
    parse_windows,
)
from features.stats import shrunk
from reco.v1 import recommendations_pb2 as pb


def _window(name: str, totals: dict) -> pb.WindowFeatures:
    scroll_n = totals.get(SCROLL_N_KEY, 0)
    return pb.WindowFeatures(
        window=name,
        event_counts={TYPE_NAMES[k]: v for k, v in totals.items() if k in TYPE_NAMES},
        category_counts={k: v for k, v in totals.items() if isinstance(k, str)},
        dwell_ms_sum=totals.get(DWELL_KEY, 0),
        scroll_depth_mean=totals.get(SCROLL_KEY, 0.0) / scroll_n if scroll_n else 0.0)


def _dwell(state: UserProfileState, population: Population,
           config: ProfileConfig) -> pb.DwellFeatures:
    mean, std = shrunk(state.dwell, population.dwell, config.prior_weight)
    value = math.log1p(state.last_dwell)
    stats = state.dwell if state.dwell.n >= 2 else population.dwell
    return pb.DwellFeatures(
        last_ms=state.last_dwell, imputed=state.last_dwell_imputed,
        zscore=(value - mean) / std if std > 0 else 0.0, minmax=stats.minmax(value),
        user_mean_ms=math.expm1(mean), last_scroll_depth=state.last_scroll,
        scroll_imputed=state.last_scroll_imputed)


def _sessions(state: UserProfileState, population: Population,
              config: ProfileConfig) -> pb.SessionFeatures:
    s = state.sessions
    mean, std = shrunk(state.session_length, population.session, config.prior_weight)
    closed = state.last_session_ms >= 0
    value = math.log1p(state.last_session_ms) if closed else 0.0
    zscore = (value - mean) / std if closed and std > 0 else 0.0
    stats = state.session_length if state.session_length.n >= 2 else population.session
    return pb.SessionFeatures(count=s.count, current_events=s.events,
                              current_length_ms=s.length_ms, mean_length_ms=s.mean_length_ms,
                              mean_depth=s.mean_depth, incomplete=s.incomplete,
                              session_length_zscore=zscore,
                              session_length_minmax=stats.minmax(value) if closed else 0.0)


def _context(state: UserProfileState) -> pb.ContextFeatures:
    c = state.context
    local = event_context(state.last_seen, c.get("timezone"), c.get("country"))
    return pb.ContextFeatures(local_hour=local.local_hour, weekday=local.weekday,
                              day_part=local.day_part,
                              device_type=c.get("device_type") or c.get("device", ""),
                              os=c.get("os", ""), browser=c.get("browser", ""),
                              country=c.get("country", ""), region=c.get("region", ""),
                              timezone=c.get("timezone", ""))


def flags(state: UserProfileState, event_ts: int) -> list[str]:
    out = []
    if state.flagged_until > event_ts:
        out.append(f"bot:{state.flag_rule}")
    if state.last_dwell_imputed:
        out.append("imputed:dwell")
    if state.last_scroll_imputed:
        out.append("imputed:scroll_depth")
    if state.sessions.incomplete_now:
        out.append("incomplete_session")
    return out


def profile_message(state: UserProfileState, user_id: str, event_ts: int, now_ms: int,
                    population: Population, config: ProfileConfig) -> pb.UserProfile:
    """The profile as of event time ``event_ts`` (recency is measured to it), published at
    ``now_ms``."""
    names = [name for name, _, _ in parse_windows(config.windows)]
    day = state.windows[min(1, len(state.windows) - 1)].totals()
    ranked = sorted(((k, v) for k, v in day.items() if isinstance(k, str)),
                    key=lambda kv: (-kv[1], kv[0]))
    r, f, m, segment = state.rfm.scores(event_ts, population.rfm)
    c = state.context
    return pb.UserProfile(
        user_id=user_id, event_count=state.event_count,
        event_type_counts={TYPE_NAMES[k]: v for k, v in state.type_counts.items()},
        recent_item_ids=state.recent_items, recent_item_ts_ms=state.recent_times(),
        purchased_item_ids=state.purchased,
        category_counts=[pb.CategoryCount(category=k, count=v) for k, v in ranked],
        last_context=pb.Context(device=c.get("device", ""), country=c.get("country", ""),
                                region=c.get("region", ""), timezone=c.get("timezone", "")),
        first_seen_ms=state.first_seen, last_seen_ms=state.last_seen,
        last_event_id=state.last_event_id, updated_at_ms=now_ms,
        windows=[_window(n, w.totals()) for n, w in zip(names, state.windows, strict=True)],
        rfm=pb.RfmFeatures(recency_days=state.rfm.recency_days(event_ts)
                           if state.rfm.purchases else 0.0,
                           frequency=state.rfm.purchases, monetary=state.rfm.monetary,
                           r=r, f=f, m=m, segment=segment),
        category_preferences=state.preferences.vector(),
        item_affinities=[pb.ItemAffinity(item_id=i, affinity=a)
                         for i, a in state.affinity.ranked()],
        sessions=_sessions(state, population, config),
        dwell=_dwell(state, population, config), context=_context(state),
        flags=flags(state, event_ts), filtered_events=state.filtered,
        flagged_until_ms=state.flagged_until)

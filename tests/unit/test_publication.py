"""When a user's profile and list are published (userstep/publication.py), driven with any
times: late, future, equal and extreme, and a burst of events."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from userstep.publication import due

MS = st.integers(min_value=-(2**62), max_value=2**62)
LAGS = st.none() | st.integers(min_value=-(2**40), max_value=2**40)


@given(now=MS, sent=MS, interval=st.integers(0, 2**40), lag=LAGS,
       live=st.integers(0, 2**40))
def test_the_interval_always_publishes_and_only_a_live_event_publishes_within_it(
        now, sent, interval, lag, live):
    published = due(now, sent, interval, lag, live)
    if now - sent >= interval:
        assert published  # the rule never holds back what the interval allows
    else:
        # within the interval only a live event: not late past the bound, not from the future
        assert published == (lag is not None and 0 <= lag < live)


@given(gaps=st.lists(st.integers(0, 2_000), min_size=1, max_size=50),
       lags=st.lists(st.integers(0, 10_000), min_size=50, max_size=50))
def test_a_burst_publishes_each_live_event_and_holds_the_others_to_the_interval(gaps, lags):
    """A user's events at the given gaps, each read ``lag`` after its time: every live one is
    published at once; with no live event, publications are an interval apart at least."""
    interval, live = 1_000, 500
    sent, now = -10**9, 0
    for gap, lag in zip(gaps, lags, strict=False):
        now += gap
        if due(now, sent, interval, lag, live):
            # a late event is published only an interval after the last publication
            assert lag < live or now - sent >= interval
            sent = now
        else:
            assert lag >= live

import pickle

from hypothesis import given
from hypothesis import strategies as st

from features.windows import SlidingWindowSum

WINDOW, BUCKET = 10_000, 1_000

events = st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 5),
                            st.integers(0, 60_000)), max_size=60)


def brute_force(history, now):
    """Sums of every event whose bucket is still inside the window ending at ``now``."""
    first_live = (now - WINDOW) // BUCKET + 1
    totals: dict[str, int] = {}
    for key, value, ts in history:
        if ts // BUCKET >= first_live:
            totals[key] = totals.get(key, 0) + value
    return totals


@given(events)
def test_window_sums_equal_a_brute_force_recomputation(stream):
    window = SlidingWindowSum(WINDOW, BUCKET)
    accepted, now = [], -(2**62)
    for key, value, ts in stream:
        now = max(now, ts)
        if ts // BUCKET >= (now - WINDOW) // BUCKET + 1:
            accepted.append((key, value, ts))  # later than the window: counted
        window.add(key, value, ts)
        expected = brute_force(accepted, now)
        assert window.totals() == expected


@given(events)
def test_state_stays_bounded_by_the_window(stream):
    window = SlidingWindowSum(WINDOW, BUCKET)
    for key, value, ts in stream:
        window.add(key, value, ts)
        assert len(window) <= WINDOW // BUCKET


@given(events)
def test_pickle_round_trip_keeps_the_window(stream):
    window = SlidingWindowSum(WINDOW, BUCKET)
    for key, value, ts in stream:
        window.add(key, value, ts)
    clone = pickle.loads(pickle.dumps(window))
    assert clone.totals() == window.totals()
    clone.add("a", 1, 70_000)
    window.add("a", 1, 70_000)
    assert clone.totals() == window.totals()


def test_advance_expires_without_new_events():
    window = SlidingWindowSum(WINDOW, BUCKET)
    window.add("a", 2, 0)
    window.advance(WINDOW + BUCKET)
    assert window.totals() == {}

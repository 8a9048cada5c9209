"""bench.profile_job's reading of py-spy's collapsed stacks: self time by the package of the
running frame, inclusive time by the innermost operator (the guard decorator and the state
helpers are not operators); a stack whose names hold a character that ends a line elsewhere
(U+0085 here) is still one stack."""

from __future__ import annotations

import argparse
from collections import Counter

from bench.profile_job import RATE, profile_result, summarise


def test_self_time_goes_to_the_running_frames_package_and_time_to_its_operator(tmp_path):
    stacks = tmp_path / "stacks.txt"
    stacks.write_text(
        "process (pyflink/fn_execution/embedded/operations.py:93);"
        "guarded (operators/guard.py:96);process_element (operators/users.py:120);"
        "update (pyflink/fn_execution/datastream/embedded/state_impl.py:68) 6\n"
        "process (pyflink/fn_execution/embedded/operations.py:93);"
        "guarded (operators/guard.py:96);process_element (operators/quality.py:60);"
        "check (userstep/step.py:80) 3\n"
        "loads (pickle.py:10) 1\n"
        "thread\x85name (pyflink/fn_execution/embedded/operations.py:93) 0\n"
        " 40\n")  # a thread running with no Python frame: not Python time
    summary = summarise(stacks)
    assert summary["samples"] == 10 and summary["no_python_frame_samples"] == 40
    assert summary["self_share"] == {"pyflink": 0.6, "userstep": 0.3, "pickle": 0.1}
    assert summary["operator_share"] == {"users": 0.6, "quality": 0.3,
                                         "outside our operators": 0.1}


def test_rates_are_over_the_timed_window_and_python_over_py_spys_duration(tmp_path):
    # py-spy sampled for 30 s of a 40 s window (it starts, then writes its files), in which
    # the job read 4,000 events with 20 s of JVM CPU; 940 samples at 97 a second: Python
    # ran 9.69 s of py-spy's 30 s, 0.323 of a core
    stacks = tmp_path / "stacks.txt"
    stacks.write_text("update (pyflink/fn_execution/datastream/embedded/state_impl.py:68) 940\n")
    args = argparse.Namespace(seconds=30, keep_times=False, rate=100, set=[])
    window = {"done": 4000, "sent": 3990, "lag_after": 2, "wall_s": 40.0, "cpu": 20.0,
              "threads": Counter({"user-recommenda": 8.0}), "svg": tmp_path / "none.svg",
              "raw": stacks}
    result = profile_result(args, "live-100", window)
    assert RATE == 97
    assert result["events_per_s"] == 100 and result["jvm_cpu_cores"] == 0.5
    assert result["jvm_cpu_us_per_event"] == 5000
    assert result["threads_cpu_us_per_event"] == {"user-recommenda": 2000}
    assert result["python_active_cores"] == 0.323
    # 0.323 of a core over the whole 40 s window, for 4,000 events
    assert result["python_active_us_per_event"] == 3230
    assert result["python_us_per_event_by_part"] == {"pyflink": 3230}
    assert result["flame_graph"] is None

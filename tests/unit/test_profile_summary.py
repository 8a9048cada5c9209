"""bench.profile_job's reading of py-spy's collapsed stacks: self time by the package of the
running frame, inclusive time by the innermost operator (the guard decorator and the state
helpers are not operators)."""

from __future__ import annotations

from bench.profile_job import summarise


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
        " 40\n")  # a thread running with no Python frame: not Python time
    summary = summarise(stacks)
    assert summary["samples"] == 10 and summary["no_python_frame_samples"] == 40
    assert summary["self_share"] == {"pyflink": 0.6, "userstep": 0.3, "pickle": 0.1}
    assert summary["operator_share"] == {"users": 0.6, "quality": 0.3,
                                         "outside our operators": 0.1}

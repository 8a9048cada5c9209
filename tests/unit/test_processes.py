import os
import subprocess
import sys

from reco.processes import child_pids


def test_child_pids_finds_a_live_child():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in child_pids(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_child_pids_skips_a_thread_that_ended_while_it_looked(tmp_path):
    # /proc lists a task whose files are gone by the time they are read (seen in CI: the
    # serving-workers test failed on such a thread of the server)
    tasks = tmp_path / "42" / "task"
    (tasks / "42").mkdir(parents=True)
    (tasks / "42" / "children").write_text("7 9 ")
    (tasks / "43").mkdir()
    assert child_pids(42, proc=tmp_path) == [7, 9]

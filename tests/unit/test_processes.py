import os
import subprocess
import sys

from infra.processes import child_pids


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


def test_sigterm_ends_a_command_through_its_finally_blocks(tmp_path):
    import signal
    import time

    done = tmp_path / "cleaned-up"
    script = ("import sys, time\n"
              "from infra.processes import exit_on_sigterm\n"
              "exit_on_sigterm()\n"
              "try:\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(30)\n"
              "finally:\n"
              f"    open({str(done)!r}, 'w').write('stopped what it started')\n")
    command = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               text=True)
    assert command.stdout is not None and command.stdout.readline() == "ready\n"
    started = time.monotonic()
    command.send_signal(signal.SIGTERM)
    assert command.wait(timeout=10) == 128 + signal.SIGTERM
    assert done.read_text() == "stopped what it started" and time.monotonic() - started < 10


def test_an_unreachable_broker_is_an_error_line_that_says_what_to_do(monkeypatch, capsys):
    from kafka.errors import KafkaTimeoutError

    from app import cli

    def unreachable(args):
        raise KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:1")

    monkeypatch.setattr(cli, "exit_on_sigterm", lambda: None)  # not in the test process
    monkeypatch.setattr(cli, "cmd_topics", unreachable)
    assert cli.main(["topics"]) == 2
    error = capsys.readouterr().err
    assert "Unable to bootstrap" in error and "`make up` starts the local stack" in error


def test_a_command_needing_kafka_says_at_once_when_no_broker_answers(monkeypatch):
    import time

    import pytest

    from app import cli
    from infra.processes import free_port

    monkeypatch.setattr(cli, "exit_on_sigterm", lambda: None)  # not in the test process
    monkeypatch.setenv("KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(SystemExit, match=r"no Kafka broker answers at 127\.0\.0\.1:.*`make up`"):
        cli.main(["simulate", "--send", "--users", "2"])
    assert time.monotonic() - started < 10  # not the client's 30 s bootstrap timeout


def test_stack_down_says_what_still_runs_that_it_did_not_start(monkeypatch, tmp_path, capsys):
    import socket

    from app import cli
    from infra.processes import free_port

    monkeypatch.setattr(cli, "exit_on_sigterm", lambda: None)  # not in the test process
    with socket.socket() as broker_elsewhere:  # e.g. a demo's broker: its pid file is elsewhere
        broker_elsewhere.bind(("127.0.0.1", 0))
        broker_elsewhere.listen()
        port = broker_elsewhere.getsockname()[1]
        monkeypatch.setenv("KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
        monkeypatch.setenv("RECO_GRPC_ADDR", f"127.0.0.1:{free_port()}")
        monkeypatch.setenv("RECO_FLINK_REST_PORT", str(free_port()))
        monkeypatch.setenv("RECO_STACK_DIR", str(tmp_path / "stack"))
        assert cli.main(["stack", "down"]) == 1
    error = capsys.readouterr().err
    assert "kafka still answering" in error and "RECO_STACK_DIR=.cache/demo" in error


def test_savepoint_and_restore_say_what_is_wrong(monkeypatch, tmp_path, capsys):
    from app import cli
    from infra.processes import free_port

    monkeypatch.setattr(cli, "exit_on_sigterm", lambda: None)  # not in the test process
    monkeypatch.setenv("RECO_FLINK_REST_PORT", str(free_port()))
    monkeypatch.setenv("RECO_STACK_DIR", str(tmp_path / "stack"))
    assert cli.main(["savepoint"]) == 1
    assert "no running job answers" in capsys.readouterr().err
    assert cli.main(["stack", "up", "--from-savepoint", str(tmp_path)]) == 2
    assert "is not a savepoint" in capsys.readouterr().err


def test_a_savepoint_whose_status_cannot_be_read_is_found_on_disk(tmp_path):
    """A MiniCluster may go down with its stopped job before the savepoint's status is read:
    the savepoint written since the trigger is the answer, never an older one."""
    import os
    import time

    from infra.flink_rest import _written_savepoint

    old = tmp_path / "savepoint-old"
    old.mkdir()
    (old / "_metadata").write_bytes(b"x")
    os.utime(old / "_metadata", (time.time() - 100, time.time() - 100))
    since = time.time() - 10
    assert _written_savepoint(tmp_path, since) is None
    new = tmp_path / "savepoint-new"
    new.mkdir()
    (new / "_metadata").write_bytes(b"x")
    assert _written_savepoint(tmp_path, since) == str(new.resolve())

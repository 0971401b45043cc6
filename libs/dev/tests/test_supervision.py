"""What `make status` reads from supervisord's log, and the configuration `make up` gives it."""

from __future__ import annotations

import configparser
from pathlib import Path

from canopy_dev.ports import SERVICE_PORTS
from canopy_dev.supervision import Program, read_procfile, render_config, restart_counts

REPO_ROOT = Path(__file__).resolve().parents[3]

LOG = """\
2026-12-04 13:00:00,000 INFO supervisord started with pid 10
2026-12-04 13:00:01,000 INFO spawned: 'fanout' with pid 11
2026-12-04 13:00:01,000 INFO spawned: 'notify' with pid 12
2026-12-04 13:00:09,000 WARN exited: fanout (terminated by SIGKILL; not expected)
2026-12-04 13:00:09,000 INFO spawned: 'fanout' with pid 13
2026-12-04 13:01:00,000 INFO supervisord started with pid 20
2026-12-04 13:01:01,000 INFO spawned: 'fanout' with pid 21
2026-12-04 13:01:01,000 INFO spawned: 'notify' with pid 22
2026-12-04 13:01:05,000 WARN exited: notify (exit status 1; not expected)
2026-12-04 13:01:06,000 INFO spawned: 'notify' with pid 23
2026-12-04 13:01:08,000 WARN exited: notify (exit status 1; not expected)
2026-12-04 13:01:10,000 INFO spawned: 'notify' with pid 24
"""


def test_restarts_are_counted_since_supervisord_last_started(tmp_path: Path) -> None:
    log = tmp_path / "supervisord.log"
    log.write_text(LOG)

    assert restart_counts(log) == {"fanout": 0, "notify": 2}


def test_no_log_yet_means_no_restarts(tmp_path: Path) -> None:
    assert restart_counts(tmp_path / "supervisord.log") == {}


def test_every_procfile_service_restarts_and_runs_this_interpreter(tmp_path: Path) -> None:
    programs = read_procfile(REPO_ROOT / "Procfile")
    config = configparser.RawConfigParser()
    config.read_string(render_config(programs, tmp_path, REPO_ROOT, tmp_path / "services.log"))

    names = [p.name for p in programs]
    assert names == list(SERVICE_PORTS)  # the four services, then the web client
    for program in programs:
        section = config[f"program:{program.name}"]
        assert section["autorestart"] == "true"
        assert section["command"].endswith(program.command.removeprefix("python"))
        assert section["command"].split()[0].endswith("python")
        assert section["command"].split()[0] != "python"
    assert config["unix_http_server"]["file"] == str(tmp_path / "supervisor.sock")


def test_a_percent_sign_in_a_path_is_escaped_for_supervisord(tmp_path: Path) -> None:
    run_dir = tmp_path / "100%"
    rendered = render_config([Program("x", "python -m x")], run_dir, tmp_path, run_dir / "s.log")

    assert "100%%/supervisor.sock" in rendered

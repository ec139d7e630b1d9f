"""The blocking entry point, as a CLI or a benchmark runs it in a subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import requests


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_subprocess_serves_and_stops_on_sigterm():
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.simulator",
            "--port",
            str(port),
            "--evses",
            "3",
            "--days",
            "1",
            "--seed",
            "5",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    admin = f"http://127.0.0.1:{port}/_sim"
    try:
        for _ in range(100):
            try:
                state = requests.get(f"{admin}/state", timeout=1).json()
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            raise AssertionError("the simulator did not come up")
        assert state["config"]["seed"] == 5 and state["config"]["n_evses"] == 3
        r = requests.post(f"{admin}/clock", json={"advance_seconds": 600}, timeout=5)
        assert r.status_code == 200 and r.json()["now"] > state["now"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "stopping the simulator" in proc.stderr.read()

"""Running the real `maillage` command in a subprocess, and waiting for a served node."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO


def maillage_command() -> list[str]:
    """The installed console script next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("maillage")
    if script.exists():
        return [str(script)]
    found = shutil.which("maillage")
    return [found] if found else [sys.executable, "-m", "node.cli"]


def clean_environment(**extra: str) -> dict[str, str]:
    """The current environment without MAILLAGE_ settings, plus `extra`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MAILLAGE_")}
    return environ | extra


def run_maillage(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `maillage ARGS` to completion and capture its output."""
    return subprocess.run(
        [*maillage_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(**env),
        check=False,
    )


def start_maillage(*args: str, **env: str) -> subprocess.Popen[str]:
    """Start `maillage ARGS` in the background; its output goes to temporary files (a pipe
    nobody reads would fill up with access logs and block the server), read back by `stop`."""
    stdout = tempfile.TemporaryFile("w+", encoding="utf-8")
    stderr = tempfile.TemporaryFile("w+", encoding="utf-8")
    process = subprocess.Popen(
        [*maillage_command(), *args],
        stdout=stdout,
        stderr=stderr,
        text=True,
        env=clean_environment(**env),
    )
    _outputs[process.pid] = (stdout, stderr)
    return process


_outputs: dict[int, tuple[IO[str], IO[str]]] = {}


def _read_outputs(process: subprocess.Popen[str]) -> tuple[str, str]:
    """What the process printed so far on stdout and stderr."""
    files = _outputs.get(process.pid)
    if files is None:
        return "", ""
    texts = []
    for file in files:
        file.flush()
        file.seek(0)
        texts.append(file.read())
    return texts[0], texts[1]


def wait_until_serving(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Poll url/healthz until it answers 200; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = _read_outputs(process)
            raise AssertionError(f"maillage exited with {process.returncode}:\n{out}\n{err}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not become healthy within {timeout}s")


def stop(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """SIGTERM the process and wait for it; returns (exit code, stdout, stderr)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    out, err = _read_outputs(process)
    for file in _outputs.pop(process.pid, ()):
        file.close()
    return process.returncode, out, err


def get(
    url: str, accept: str = "application/activity+json", timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """A plain GET on loopback: status, headers and body (errors included)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()

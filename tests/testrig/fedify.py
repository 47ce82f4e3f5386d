"""The strict Fedify ActivityPub peer (`shared/peers/fedify`) as a real process on loopback.

`prepare_peer()` copies the peer into a cache folder keyed by its package-lock.json and runs
`npm ci` there once (never touching the shared folder); `FedifyPeer` starts `node peer.mjs`,
waits for its JSON ready line and drives it through its control API under `/_control/`.
Where node/npm are missing or `npm ci` fails, `FedifyUnavailable` says why.

This is a plain helper: the pytest fixtures are in `tests.testrig.fixtures`.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tests.testrig.postgres import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PEER_FILES = ("package.json", "package-lock.json", "peer.mjs")
MARKER = ".maillage-npm-ci-done"
NPM_CI_TIMEOUT = 900
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
MIN_NODE_MAJOR = 20

# Loopback only: never go through a proxy configured in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FedifyUnavailable(Exception):
    """The Fedify peer cannot be prepared here; the message says why (the skip reason)."""


class FedifyPeerError(RuntimeError):
    """A prepared peer failed to start or to answer (a real failure, never a skip)."""


def peer_source_dir() -> Path:
    """Where the peer's sources are: $MAILLAGE_FEDIFY_PEER or <repo>/../shared/peers/fedify."""
    configured = os.environ.get("MAILLAGE_FEDIFY_PEER")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "peers" / "fedify").resolve()


def _cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "maillage"
    return Path(tempfile.gettempdir())


def _check_node() -> tuple[str, str]:
    """Paths of node and npm, or FedifyUnavailable if missing or too old."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise FedifyUnavailable(
            f"Fedify peer tests need Node.js >= {MIN_NODE_MAJOR} with npm: {missing} not on PATH"
        )
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise FedifyUnavailable(f"`node --version` failed: {exc}") from exc
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError as exc:
        raise FedifyUnavailable(f"cannot read the Node.js version {version!r}") from exc
    if major < MIN_NODE_MAJOR:
        raise FedifyUnavailable(
            f"the Fedify peer needs Node.js >= {MIN_NODE_MAJOR}, found {version}"
        )
    return node, npm


def _copy_if_changed(source: Path, target: Path) -> None:
    """Copy source over target atomically when their contents differ."""
    data = source.read_bytes()
    if target.exists() and target.read_bytes() == data:
        return
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def prepare_peer() -> Path:
    """A folder with the peer and its node_modules installed by `npm ci`, reused across runs.

    The folder is keyed by the sha256 of package-lock.json; `npm ci` runs once per key,
    under a lock file so that concurrent pytest runs wait for each other, and a marker
    written after its success tells later runs that node_modules is complete.
    """
    source = peer_source_dir()
    missing = [name for name in PEER_FILES if not (source / name).is_file()]
    if missing:
        raise FedifyUnavailable(
            f"no Fedify peer at {source} (missing {', '.join(missing)}); "
            "set MAILLAGE_FEDIFY_PEER or put shared/ beside the repository"
        )
    _, npm = _check_node()
    lock_digest = hashlib.sha256((source / "package-lock.json").read_bytes()).hexdigest()
    # package.json takes part in what `npm ci` installs (it must agree with the lock).
    install_key = hashlib.sha256(
        lock_digest.encode() + (source / "package.json").read_bytes()
    ).hexdigest()
    target = _cache_root() / f"maillage-fedify-{lock_digest[:12]}"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FedifyUnavailable(f"cannot create the peer cache folder {target}: {exc}") from exc
    with open(target / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for name in PEER_FILES:
                _copy_if_changed(source / name, target / name)
            marker = target / MARKER
            installed = (target / "node_modules" / "@fedify" / "fedify" / "package.json").is_file()
            if installed and marker.is_file() and marker.read_text().strip() == install_key:
                return target
            marker.unlink(missing_ok=True)
            try:
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=target,
                    capture_output=True,
                    text=True,
                    timeout=NPM_CI_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise FedifyUnavailable(
                    f"`npm ci` in {target} did not finish within {NPM_CI_TIMEOUT}s"
                ) from exc
            except OSError as exc:
                raise FedifyUnavailable(f"cannot run npm: {exc}") from exc
            if result.returncode != 0:
                output = (result.stderr.strip() or result.stdout.strip())[-2000:]
                raise FedifyUnavailable(
                    f"`npm ci` failed in {target} (exit {result.returncode}): {output}"
                )
            marker.write_text(install_key + "\n")
            return target
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _drain(stream: IO[str], sink: queue.Queue[str | None] | collections.deque[str]) -> None:
    """Read a child's pipe to its end so it never blocks; None marks the end in a queue."""
    try:
        for line in stream:
            if isinstance(sink, queue.Queue):
                sink.put(line)
            else:
                sink.append(line)
    except (OSError, ValueError):
        pass
    finally:
        if isinstance(sink, queue.Queue):
            sink.put(None)


class FedifyPeer:
    """One `node peer.mjs` process (one actor) and its control API.

    `control()` and the wrappers answer the decoded JSON (a dict, or a list for the logs and
    listings); a 4xx/5xx answer is returned as its JSON error body plus a `_status` key.
    """

    def __init__(self, peer_dir: Path | None = None) -> None:
        self.peer_dir = peer_dir if peer_dir is not None else prepare_peer()
        self.process: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}
        self.port: int | None = None
        self.name: str | None = None
        self.startup_seconds: float | None = None
        self._stdout: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._threads: list[threading.Thread] = []

    # -- process -----------------------------------------------------------------------------

    def start(
        self, port: int | None = None, name: str = "alice", extra_args: Iterable[str] = ()
    ) -> FedifyPeer:
        """Launch the peer and wait for its ready line; a free loopback port if none given."""
        if self.process is not None and self.process.poll() is None:
            raise FedifyPeerError("this FedifyPeer is already running")
        extra = list(extra_args)
        attempts = 1 if port is not None else 3
        for attempt in range(attempts):
            chosen = port if port is not None else free_port()
            try:
                self._launch(chosen, name, extra)
                return self
            except FedifyPeerError:
                # Only a port taken between free_port() and the bind is worth a retry.
                taken = self.process is not None and self.process.returncode == 1
                if attempt + 1 >= attempts or not taken:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, port: int, name: str, extra: list[str]) -> None:
        node = shutil.which("node")
        if node is None:
            raise FedifyUnavailable("node is not on PATH")
        self._stdout = queue.Queue()
        self._stderr.clear()
        self.port, self.name, self.ready = port, name, {}
        self.process = subprocess.Popen(
            [node, "peer.mjs", "--port", str(port), "--name", name, *extra],
            cwd=self.peer_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=_drain, args=(self.process.stdout, self._stdout), daemon=True),
            threading.Thread(target=_drain, args=(self.process.stderr, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        started = time.monotonic()
        deadline = started + READY_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise FedifyPeerError(
                    f"the Fedify peer gave no ready line within {READY_TIMEOUT:.0f}s"
                    f"{self._stderr_suffix()}"
                )
            try:
                line = self._stdout.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:  # stdout closed: the process is gone
                code = self.process.wait(timeout=STOP_TIMEOUT)
                self._join_readers()
                raise FedifyPeerError(
                    f"the Fedify peer exited with status {code} before it was ready"
                    f"{self._stderr_suffix()}"
                )
            if not line.strip():
                continue
            try:
                ready = json.loads(line)
            except json.JSONDecodeError:
                continue  # not the ready line; the peer prints nothing else on stdout
            if isinstance(ready, dict) and ready.get("ready") is True:
                self.ready = ready
                self.startup_seconds = time.monotonic() - started
                return

    def stop(self) -> int | None:
        """SIGTERM, wait up to 10 s, then SIGKILL; returns the exit status (None if never run)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        self._join_readers()
        return process.returncode

    def _join_readers(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines the peer wrote on stderr (its logs), kept after stop()."""
        return "".join(list(self._stderr)[-lines:])

    def _stderr_suffix(self) -> str:
        tail = self.stderr_tail().strip()
        return f"; its stderr:\n{tail}" if tail else " (nothing on stderr)"

    def __enter__(self) -> FedifyPeer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what the ready line says ------------------------------------------------------------

    def _ready_value(self, key: str) -> Any:
        if not self.ready:
            raise FedifyPeerError("the Fedify peer is not started")
        return self.ready[key]

    @property
    def base(self) -> str:
        """e.g. http://127.0.0.1:9100"""
        return str(self._ready_value("base"))

    @property
    def actor(self) -> str:
        """e.g. http://127.0.0.1:9100/users/alice"""
        return str(self._ready_value("actor"))

    @property
    def acct(self) -> str:
        """e.g. acct:alice@127.0.0.1:9100"""
        return str(self._ready_value("acct"))

    @property
    def pid(self) -> int:
        return int(self._ready_value("pid"))

    # -- control API -------------------------------------------------------------------------

    def control(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 70
    ) -> Any:
        """Call the control API (path like `/_control/info?x=1`); JSON in, JSON out."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            method=method.upper(),
            data=data,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                answer = json.loads(text)
            except json.JSONDecodeError:
                answer = {"error": text}
            if not isinstance(answer, dict):
                answer = {"error": answer}
            answer["_status"] = error.code
            return answer
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise FedifyPeerError(
                f"control {method} {path} failed: {error}"
                f" (peer running: {self.running}){self._stderr_suffix()}"
            ) from error
        return json.loads(raw) if raw else {}

    @staticmethod
    def _query(path: str, params: dict[str, Any]) -> str:
        pairs = {key: _param(value) for key, value in params.items() if value is not None}
        return f"{path}?{urllib.parse.urlencode(pairs)}" if pairs else path

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "/_control/info")
        return result

    def lookup(self, uri: str) -> dict[str, Any]:
        """Fedify's WebFinger + signed GET + JSON-LD parse: {ok, type, id, url, json, warnings}."""
        result: dict[str, Any] = self.control("GET", self._query("/_control/lookup", {"uri": uri}))
        return result

    def follow(self, target: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/follow", {"target": target})
        return result

    def unfollow(self, target: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/unfollow", {"target": target})
        return result

    def following(
        self, target: str | None = None, state: str | None = None, wait: float | None = None
    ) -> list[dict[str, Any]]:
        path = self._query("/_control/following", {"target": target, "state": state, "wait": wait})
        return self._listing(self.control("GET", path))

    def note(self, **fields: Any) -> dict[str, Any]:
        """Create(Note): to, cc, content, inReplyTo, name, mentions, summary, sensitive..."""
        result: dict[str, Any] = self.control("POST", "/_control/note", fields)
        return result

    def like(self, object: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/like", {"object": object})
        return result

    def announce(
        self, object: str, to: list[str] | None = None, cc: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"object": object}
        if to is not None:
            body["to"] = to
        if cc is not None:
            body["cc"] = cc
        result: dict[str, Any] = self.control("POST", "/_control/announce", body)
        return result

    def undo(self, object: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/undo", {"object": object})
        return result

    def delete(self, object: str) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/delete", {"object": object})
        return result

    def received(self, **filters: Any) -> list[dict[str, Any]]:
        """Activities that passed every check; filters: type, actor, id, object, inbox,
        since, wait (seconds, max 60) and min (how many to wait for, default 1)."""
        wait = filters.get("wait")
        timeout = 70 if wait is None else float(wait) + 30
        path = self._query("/_control/received", filters)
        return self._listing(self.control("GET", path, timeout=timeout))

    def followers(
        self, actor: str | None = None, wait: float | None = None
    ) -> list[dict[str, Any]]:
        path = self._query("/_control/followers", {"actor": actor, "wait": wait})
        return self._listing(self.control("GET", path))

    def follow_requests(self) -> list[dict[str, Any]]:
        return self._listing(self.control("GET", "/_control/follow_requests"))

    def accept(self, actor: str | None = None, follow_id: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"actor": actor, "follow_id": follow_id}.items() if v}
        result: dict[str, Any] = self.control("POST", "/_control/accept", body)
        return result

    def reject(self, actor: str | None = None, follow_id: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"actor": actor, "follow_id": follow_id}.items() if v}
        result: dict[str, Any] = self.control("POST", "/_control/reject", body)
        return result

    def config(self, follow_policy: str) -> dict[str, Any]:
        body = {"follow_policy": follow_policy}
        result: dict[str, Any] = self.control("POST", "/_control/config", body)
        return result

    def inbox_log(self) -> list[dict[str, Any]]:
        """Every POST to the peer's inboxes, with its status and the signature check."""
        return self._listing(self.control("GET", "/_control/inbox_log"))

    def outbound_log(self) -> list[dict[str, Any]]:
        """Every HTTP request the peer made: method, url, accept, signature, status, error."""
        return self._listing(self.control("GET", "/_control/outbound_log"))

    def sent(self, type: str | None = None) -> list[dict[str, Any]]:
        return self._listing(self.control("GET", self._query("/_control/sent", {"type": type})))

    def send_raw(
        self,
        inbox: str,
        activity: dict[str, Any] | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> dict[str, Any]:
        """POST exactly this activity (or body string) to an inbox: {status, body, signed}."""
        payload: dict[str, Any] = {"inbox": inbox, "sign": sign}
        if activity is not None:
            payload["activity"] = activity
        if body is not None:
            payload["body"] = body
        if headers is not None:
            payload["headers"] = headers
        result: dict[str, Any] = self.control("POST", "/_control/send_raw", payload)
        return result

    def reset(self, all: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "/_control/reset", {"all": all})
        return result

    def _listing(self, answer: Any) -> list[dict[str, Any]]:
        if isinstance(answer, dict) and "_status" in answer:
            raise FedifyPeerError(f"the Fedify peer answered {answer['_status']}: {answer}")
        if not isinstance(answer, list):
            raise FedifyPeerError(f"expected a list from the Fedify peer, got {answer!r}")
        return answer


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@contextlib.contextmanager
def running_peer(
    peer_dir: Path | None = None, port: int | None = None, name: str = "alice", **kwargs: Any
) -> Iterator[FedifyPeer]:
    """`with running_peer(...) as peer:` — a started peer, stopped on exit."""
    peer = FedifyPeer(peer_dir)
    peer.start(port=port, name=name, **kwargs)
    try:
        yield peer
    finally:
        peer.stop()

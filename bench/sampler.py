"""A small sampling profiler for the node's process (no dependency, no change to the node).

Every few milliseconds a timer signal looks at the event loop thread's stack and counts:
whether the loop was idle (waiting in epoll) or busy, the line it was on (self time), and
every frame of the stack (inclusive time, which, unlike cProfile's, means something for
coroutines and SQLAlchemy's greenlets). The other threads (aiosqlite's, one per
connection) are sampled by a thread: running SQL or waiting for work.

`python -m bench.sampler OUT.json -- serve --data D` runs `maillage serve` sampled and
writes OUT.json when it stops; `print_samples(OUT.json)` prints the hot spots.
"""

from __future__ import annotations

import json
import linecache
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

try:
    import greenlet
except ImportError:  # SQLAlchemy without its asyncio extra: no greenlets to follow
    greenlet = None  # type: ignore[assignment]

from bench.common import REPO

INTERVAL = 0.002
_IDLE_LEAVES = {("selectors.py", "select")}
_OURS = ("node/", "federation/", "protocols/", "instance_config/")


def _where(frame: FrameType) -> tuple[str, int, str]:
    code = frame.f_code
    return (_short(code.co_filename), frame.f_lineno, code.co_name)


def _short(filename: str) -> str:
    for marker in ("/site-packages/", str(REPO) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if "/lib/python3" in filename:
        return "stdlib/" + filename.split("/lib/python3", 1)[1].split("/", 1)[1]
    return filename


class Sampler:
    """Samples the main thread (the event loop's) and the aiosqlite threads."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.main_id = threading.get_ident()
        self.samples = 0.0
        self.idle = 0.0
        self.self_lines: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.inclusive_lines: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.sql_threads: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        """Start sampling; call it from the main thread (it installs a SIGALRM handler)."""
        self._last_alarm = time.perf_counter()
        self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        self._thread.start()

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self._previous)
        self._stop.set()
        self._thread.join(timeout=2)

    def _on_alarm(self, _signum: int, frame: FrameType | None) -> None:
        # The loop thread (the main thread) is sampled by a timer signal: its handler runs
        # between two bytecodes, so pure Python code is seen as often as it runs (a thread
        # sampling through the GIL would only see the places where the GIL is released).
        now = time.perf_counter()
        weight, self._last_alarm = now - self._last_alarm, now
        if frame is not None:
            self._main(frame, weight)

    def _run(self) -> None:
        """The other threads (aiosqlite's: in C most of the time) from a sampling thread."""
        me = threading.get_ident()
        last = time.perf_counter()
        while not self._stop.wait(self.interval):
            now = time.perf_counter()
            weight, last = now - last, now
            frames = sys._current_frames()
            for ident, frame in frames.items():
                if ident not in (me, self.main_id):
                    self._other(frame, weight)

    def _main(self, frame: FrameType, weight: float) -> None:
        self.samples += weight
        leaf = _where(frame)
        if (leaf[0].rsplit("/", 1)[-1], leaf[2]) in _IDLE_LEAVES:
            self.idle += weight
            return
        self.self_lines[f"{leaf[2]} ({leaf[0]}:{leaf[1]})"] += weight
        seen: set[str] = set()
        category = None
        for current in _stack(frame):
            filename, line, name = _where(current)
            if filename.startswith(_OURS):
                key = f"{name} ({filename}:{current.f_code.co_firstlineno})"
                if key not in seen:
                    seen.add(key)
                    self.inclusive[key] += weight
                    self.inclusive_lines[f"{filename}:{line} in {name}"] += weight
            if category is None:
                category = _category(filename)
        self.categories[category or "other"] += weight

    def _other(self, frame: FrameType, weight: float) -> None:
        stack = []
        current: FrameType | None = frame
        while current is not None:
            stack.append(current)
            current = current.f_back
        if not any("aiosqlite" in f.f_code.co_filename for f in stack):
            return
        leaf = stack[0]
        source = linecache.getline(leaf.f_code.co_filename, leaf.f_lineno)
        if "tx.get(" in source:
            self.sql_threads["waiting for work"] += weight
        else:
            self.sql_threads[_operation(leaf)] += weight

    def dump(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "samples": self.samples,
                    "idle": self.idle,
                    "self": self.self_lines.most_common(60),
                    "inclusive": self.inclusive.most_common(60),
                    "inclusive_lines": self.inclusive_lines.most_common(60),
                    "categories": self.categories.most_common(),
                    "sql_threads": self.sql_threads.most_common(),
                }
            )
        )


def _operation(frame: FrameType) -> str:
    """What an aiosqlite thread is doing: the sqlite3 call it was handed (`function`, a
    partial), with the first words of its SQL."""
    try:
        function = frame.f_locals.get("function")
    except Exception:  # a frame changing under us: count it as unknown
        return "unknown"
    name = getattr(getattr(function, "func", None), "__name__", None) or "other"
    args = getattr(function, "args", ())
    if args and isinstance(args[0], str):
        words = args[0].split()
        table = next((w for w in words[1:6] if w.islower() and w.isidentifier()), "")
        return f"{name} {words[0].upper() if words else ''} {table}".strip()
    return name


def _stack(frame: FrameType) -> Iterator[FrameType]:
    """The frames from `frame` down to the thread's root, through SQLAlchemy's greenlets:
    code run by `greenlet_spawn` has its own stack, continued by the parent greenlet's."""
    current: FrameType | None = frame
    runner = greenlet.getcurrent() if greenlet is not None else None
    while True:
        while current is not None:
            yield current
            current = current.f_back
        if runner is None or runner.parent is None:
            return
        runner = runner.parent
        current = runner.gr_frame


def _category(filename: str) -> str | None:
    """The library a leaf frame belongs to (the first one from the leaf that we know)."""
    for prefix, name in (
        ("sqlalchemy/", "SQLAlchemy"),
        ("aiosqlite/", "aiosqlite (handing work to its thread)"),
        ("aiohttp/", "aiohttp"),
        ("multidict/", "aiohttp"),
        ("yarl/", "aiohttp"),
        ("cryptography/", "cryptography"),
        ("stdlib/json/", "json"),
        ("stdlib/logging/", "logging"),
        ("stdlib/asyncio/", "asyncio"),
        ("protocols/", "protocols/ (ours)"),
        ("federation/", "federation/ (ours)"),
        ("node/", "node/ (ours)"),
    ):
        if filename.startswith(prefix):
            return name
    return None


def print_samples(path: Path, title: str, limit: int = 12) -> None:
    """The sampled hot spots: busy share, libraries, lines, and our functions inclusive."""
    if not path.exists():
        print(f"    (no samples written at {path})")
        return
    data: dict[str, Any] = json.loads(path.read_text())
    samples, idle = data["samples"], data["idle"]
    busy = max(samples - idle, 1e-9)
    print(
        f"    sampled profile of {title}: event loop thread busy {busy:.1f} s "
        f"of {samples:.1f} s ({100 * busy / max(samples, 1e-9):.0f}%)"
    )
    shares = ", ".join(f"{name} {100 * n / busy:.0f}%" for name, n in data["categories"][:8])
    print(f"      busy time by library (innermost known frame): {shares}")
    threads = data["sql_threads"]
    print(
        "      aiosqlite threads, summed over connections (time in a sqlite3 call includes "
        "waiting for SQLite's write lock): "
        + ", ".join(f"{name} {n:.1f} s" for name, n in threads[:8])
    )
    print("      our functions, inclusive share of busy time:")
    inclusive = [(k, n) for k, n in data["inclusive"] if n < 0.99 * busy]
    for key, count in inclusive[:limit]:
        print(f"        {100 * count / busy:5.1f}%  {key}")
    print("      our lines (where the time under them was spent), inclusive share:")
    inclusive_lines = [(k, n) for k, n in data["inclusive_lines"] if n < 0.99 * busy]
    for key, count in inclusive_lines[:limit]:
        print(f"        {100 * count / busy:5.1f}%  {key}")
    print("      lines, self share of busy time:")
    for key, count in data["self"][:limit]:
        print(f"        {100 * count / busy:5.1f}%  {key}")


def main(argv: list[str]) -> int:
    """`python -m bench.sampler OUT.json -- <maillage arguments>`."""
    out = Path(argv[0])
    rest = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    from node.cli import main as maillage

    sampler = Sampler()
    sampler.start()
    started = time.monotonic()
    try:
        return maillage(rest)
    finally:
        sampler.stop()
        sampler.dump(out)
        print(f"sampled {time.monotonic() - started:.1f} s into {out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

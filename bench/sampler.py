"""A small sampling profiler for the node's process (no dependency, no change to the node).

Every few milliseconds a daemon thread looks at the event loop thread's stack
(`sys._current_frames`) and counts: whether the loop was idle (waiting in epoll) or busy,
the line it was on (self time), and every frame of the stack (inclusive time, which, unlike
cProfile's, means something for coroutines and SQLAlchemy's greenlets). The other threads
(aiosqlite's, one per connection) are counted apart: running SQL or waiting for work.

`python -m bench.sampler OUT.json -- serve --data D` runs `maillage serve` sampled and
writes OUT.json when it stops; `print_samples(OUT.json)` prints the hot spots.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

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
    """Samples the thread that starts it (the event loop's) and the other threads."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.main_id = threading.get_ident()
        self.samples = 0
        self.idle = 0
        self.self_lines: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.inclusive_lines: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.sql_threads: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            frames = sys._current_frames()
            for ident, frame in frames.items():
                if ident == me:
                    continue
                if ident == self.main_id:
                    self._main(frame)
                else:
                    self._other(frame)

    def _main(self, frame: FrameType) -> None:
        self.samples += 1
        leaf = _where(frame)
        if (leaf[0].rsplit("/", 1)[-1], leaf[2]) in _IDLE_LEAVES:
            self.idle += 1
            return
        self.self_lines[f"{leaf[2]} ({leaf[0]}:{leaf[1]})"] += 1
        seen: set[str] = set()
        category = None
        current: FrameType | None = frame
        while current is not None:
            filename, line, name = _where(current)
            if filename.startswith(_OURS):
                key = f"{name} ({filename}:{current.f_code.co_firstlineno})"
                if key not in seen:
                    seen.add(key)
                    self.inclusive[key] += 1
                    self.inclusive_lines[f"{filename}:{line} in {name}"] += 1
            if category is None:
                category = _category(filename)
            current = current.f_back
        self.categories[category or "other"] += 1

    def _other(self, frame: FrameType) -> None:
        stack = []
        current: FrameType | None = frame
        while current is not None:
            stack.append(_where(current))
            current = current.f_back
        if not any("aiosqlite" in f for f, _, _ in stack):
            return
        leaf_file, _, leaf_name = stack[0]
        if leaf_file.endswith("queue.py") or leaf_name in ("get", "wait", "_wait_for_tstate_lock"):
            self.sql_threads["waiting for work"] += 1
        else:
            self.sql_threads["running (sqlite3 / aiosqlite)"] += 1

    def dump(self, path: Path) -> None:
        path.write_text(
            json.dumps(
                {
                    "interval": self.interval,
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
    busy = max(samples - idle, 1)
    print(
        f"    sampled profile of {title}: event loop busy {100 * busy / max(samples, 1):.0f}% "
        f"of {samples * data['interval']:.1f} s"
    )
    shares = ", ".join(f"{name} {100 * n / busy:.0f}%" for name, n in data["categories"][:8])
    print(f"      busy time by library (innermost known frame): {shares}")
    threads = data["sql_threads"]
    total_threads = sum(n for _, n in threads) or 1
    print(
        "      aiosqlite threads: "
        + ", ".join(f"{name} {100 * n / total_threads:.0f}%" for name, n in threads)
    )
    print("      our functions, inclusive share of busy time:")
    for key, count in data["inclusive"][:limit]:
        print(f"        {100 * count / busy:5.1f}%  {key}")
    print("      our lines (where the time under them was spent), inclusive share:")
    for key, count in data["inclusive_lines"][:limit]:
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

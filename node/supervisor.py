"""Several copies of the server in forked child processes, watched by their parent.

The parent forks the children after everything shared is ready (the listening socket, the
migrated database), restarts a child that dies (a crash, an out-of-memory kill, `kill -9`),
waiting longer each time if children keep dying at start, and on SIGTERM or SIGINT passes
SIGTERM on to every child, gives them time to finish their requests, and ends with them.

The parent holds no state that correctness depends on: children coordinate through the
database (leases), so the same holds for processes on several machines.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: How often the parent looks for children that ended, in seconds.
POLL_SECONDS = 0.2
#: A child that lived at least this long had started well: its successor starts at once.
HEALTHY_AFTER_SECONDS = 10.0
#: Waits before restarting a child that died early, doubling up to the last one.
FIRST_RESTART_WAIT = 0.5
MAX_RESTART_WAIT = 30.0


@dataclass
class _Slot:
    """One of the N places a child fills; it keeps its number across restarts."""

    number: int
    pid: int = 0
    started: float = 0.0
    early_deaths: int = 0
    restart_at: float = field(default=0.0)


def supervise(count: int, child: Callable[[int], int], grace_seconds: float) -> int:
    """Run `child(number)` in `count` forked processes until SIGTERM or SIGINT; returns the
    parent's exit code (0 after a clean stop).

    `child` runs in the forked process and returns its exit code; it must install its own
    SIGTERM handling (the parent forwards SIGTERM to stop it). Children that do not end
    within `grace_seconds` of the stop are killed.
    """
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    slots = [_Slot(number) for number in range(count)]
    try:
        while not stopping:
            now = time.monotonic()
            for slot in slots:
                if slot.pid == 0 and now >= slot.restart_at:
                    _start(slot, child, previous)
            _reap(slots)
            time.sleep(POLL_SECONDS)
    finally:
        _stop_all(slots, grace_seconds)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _start(slot: _Slot, child: Callable[[int], int], handlers: dict[int, Any]) -> None:
    """Fork one child into `slot`; the child never returns into the parent's loop."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            code = child(slot.number)
        except BaseException:  # a child's failure must end the child, never run parent code
            log.exception("server process failed", extra={"slot": slot.number})
        finally:
            logging.shutdown()
            os._exit(code)
    slot.pid, slot.started = pid, time.monotonic()
    log.info("server process started", extra={"slot": slot.number, "pid": pid})


def _reap(slots: list[_Slot]) -> None:
    """Note the children that ended and when each may be restarted."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        slot = next((s for s in slots if s.pid == pid), None)
        if slot is None:
            continue
        lived = time.monotonic() - slot.started
        slot.early_deaths = 0 if lived >= HEALTHY_AFTER_SECONDS else slot.early_deaths + 1
        wait = 0.0
        if slot.early_deaths:
            wait = min(MAX_RESTART_WAIT, FIRST_RESTART_WAIT * 2 ** (slot.early_deaths - 1))
        slot.pid, slot.restart_at = 0, time.monotonic() + wait
        log.warning(
            "server process ended; restarting it",
            extra={
                "slot": slot.number,
                "pid": pid,
                "how": _describe_status(status),
                "lived_s": round(lived, 1),
                "restart_in_s": wait,
            },
        )


def _describe_status(status: int) -> str:
    """`exit 3` or `killed by SIGKILL`, from a wait status."""
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def _stop_all(slots: list[_Slot], grace_seconds: float) -> None:
    """SIGTERM every child, wait for them within the grace period, then SIGKILL the rest."""
    running = {slot.pid for slot in slots if slot.pid}
    for pid in running:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while running and time.monotonic() < deadline:
        for pid in list(running):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                running.discard(pid)
        time.sleep(POLL_SECONDS / 4)
    for pid in running:
        log.warning("server process did not stop in time: killed", extra={"pid": pid})
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass

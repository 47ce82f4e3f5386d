"""`python -m bench [--quick] [--only inbox|fanout|crash|bundles|fuzz|reads] [--profile] [--keep]`.

Runs the benchmarks one after the other in a temporary folder and prints their figures.
Timings are reported, never asserted: the exit code is 0 unless a benchmark could not run
or found a correctness problem (activities not stored once, deliveries lost or duplicated).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import bundles, crash, fanout, fuzz, inbox, reads

BENCHMARKS: dict[str, Callable[..., dict[str, Any]]] = {
    "inbox": inbox.run,
    "fanout": fanout.run,
    "crash": crash.run,
    "bundles": bundles.run,
    "fuzz": fuzz.run,
    "reads": reads.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (~15 s each)")
    parser.add_argument(
        "--profile", action="store_true", help="run the node under cProfile, print hot spots"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    root = Path(tempfile.mkdtemp(prefix="maillage-bench-"))
    print(
        f"maillage bench ({'quick' if args.quick else 'full'}): Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {_load()}; work folder {root}",
        flush=True,
    )
    results: dict[str, dict[str, Any]] = {}
    failed = False
    for name in names:
        print(flush=True)
        started = time.monotonic()
        try:
            kwargs: dict[str, Any] = {"quick": args.quick, "workdir": root / name}
            if name != "crash":
                kwargs["profile"] = args.profile
            results[name] = BENCHMARKS[name](**kwargs)
        except Exception:
            traceback.print_exc()
            failed = True
            continue
        finally:
            print(
                f"  ({name} took {time.monotonic() - started:.1f} s; load average {_load()})",
                flush=True,
            )
        failed |= bool(results[name].get("problems"))
    print()
    print("summary")
    for name, result in results.items():
        print(f"  {name:7s} {result.get('summary', '')}")
    if args.keep or failed:
        print(f"work folder kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


def _load() -> str:
    """The 1-minute load average: other work on the machine skews the figures."""
    return f"{os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    sys.exit(main())

"""``make bench``: runs every ``tests/bench_*.py`` module's ``bench()`` and prints its figures.

Each module's ``bench()`` returns a list of lines (figures as ratios against a
baseline measured in the same run). ``python -m tests.bench NAME`` runs only
``tests/bench_NAME.py``.
"""
from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    import os
    import tempfile

    # figures are of work done, never of the user's result cache
    os.environ.setdefault("RUNNER_CACHE_DIR", tempfile.mkdtemp(prefix="bench-result-cache-"))
    here = Path(__file__).parent
    mods = sorted(p.stem for p in here.glob("bench_*.py"))
    if argv:
        mods = [m for m in mods if m.removeprefix("bench_") in argv]
    failed = 0
    for name in mods:
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            lines = importlib.import_module(f"tests.{name}").bench()
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"   FAILED: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        for line in lines:
            print(f"   {line}")
        print(f"   ({time.monotonic() - t0:.1f}s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

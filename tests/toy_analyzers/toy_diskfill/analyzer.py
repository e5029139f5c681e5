"""toy_diskfill: an analyzer whose output outgrows the disk under the workdir.

It writes real bytes (a sparse file would cost no space) into its own output folder, one MiB
at a time, and lets the OSError of a full disk (ENOSPC) escape, as any analyzer would.
"""
import sys
from pathlib import Path

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult

BLOCK = bytes(range(256)) * 4096  # 1 MiB that no filesystem stores as a hole


class Analyzer(Base):
    def analyze(self, ctx):
        with open(_out_dir() / "fill.bin", "wb") as fh:
            for _ in range(ctx.params.fill_mb):
                fh.write(BLOCK)
                fh.flush()
        return ToyResult(message=f"wrote {ctx.params.fill_mb} MiB", frames_seen=0)


def _out_dir() -> Path:
    """The harness's --out (/out in a container; the toy has no other way to learn it on the local backend)."""
    argv = sys.argv
    return Path(argv[argv.index("--out") + 1]) if "--out" in argv else Path("/out")

"""Hostile toy: plants what the runner must never follow or swallow in its output folder.

``params.attack`` picks one; ``params.canary`` is a host path outside the workdir that the
links point at (a symlink's target is resolved wherever it is followed: by the host runner).
Attacks that replace ``result.json`` end the process before the harness writes its own.
"""
import json
import os
from pathlib import Path

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult

#: an error message that drives a terminal: retitle the window (OSC 0 + BEL), clear it, an 8-bit CSI,
#: a carriage return that overwrites the line, a backspace
TERMINAL_CODES = "\x1b]0;pwned by toy_hostile\x07\x1b[2J\x9b31mred\rrewritten\x08 end"
#: every name the runner has touched in out/<name>/, and one the cache would copy
RUNNER_NAMES = ("log.txt", ".result.json.runner.tmp", "result.json.tmp", "loot")


def _envelope_prefix(ctx) -> str:
    return (f'{{"analyzer": "{ctx.job.analyzer}", "analyzer_version": "{ctx.job.analyzer_version}", '
            f'"status": "ok", "result": ')


def _exit_now() -> None:
    """Leave without the harness writing result.json over what was planted."""
    os._exit(0)


class Analyzer(Base):
    def analyze(self, ctx):
        attack = ctx.params.attack
        canary = ctx.params.canary
        out = _out_dir(Path("/out"))
        seen = {"attack": attack}
        if attack == "symlinks":
            for name in RUNNER_NAMES:
                (out / name).symlink_to(canary)
            (out / "root_dir").symlink_to("/")
            (out / "kept.txt").write_text("a regular file")
        elif attack == "result_symlink":
            (out / "result.json").symlink_to(canary)
            _exit_now()
        elif attack == "hardlink":
            try:
                os.link(canary, out / "hard_canary")  # local backend: the canary is reachable
                seen["outside"] = "linked"
            except OSError as exc:  # in a container it is not: a link between two /out files
                seen["outside"] = f"refused: {type(exc).__name__}"
            (out / "a.txt").write_text("a")
            os.link(out / "a.txt", out / "b.txt")
        elif attack == "fifo":
            os.mkfifo(out / "result.json")
            os.mkfifo(out / "pipe")
            _exit_now()
        elif attack == "big_result":
            with open(out / "result.json", "wb") as fh:
                fh.truncate(2 * 2**30)  # sparse: 2 GB that costs nothing to write
            _exit_now()
        elif attack == "log_flood":
            block = (b"flood " * 174763)[: 2**20 - 1] + b"\n"
            for _ in range(ctx.params.flood_mb):
                os.write(1, block)
        elif attack == "deep":
            depth = 100_000
            (out / "result.json").write_text(_envelope_prefix(ctx) + "[" * depth + "]" * depth + "}")
            _exit_now()
        elif attack == "wide":
            entries = {f"k{i:07d}": i for i in range(1_000_000)}
            with open(out / "result.json", "w") as fh:
                fh.write(_envelope_prefix(ctx))
                json.dump({"message": "wide", "frames_seen": 0, "extra": entries}, fh)
                fh.write("}")
            _exit_now()
        elif attack == "many_files":
            for i in range(ctx.params.files):
                os.close(os.open(out / f"f{i:06d}", os.O_WRONLY | os.O_CREAT, 0o644))
        elif attack == "terminal_codes":
            raise RuntimeError(TERMINAL_CODES)
        else:
            raise ValueError(f"unknown attack {attack!r}")
        return ToyResult(message="planted", frames_seen=0, params=seen)


def _out_dir(default: Path) -> Path:
    """The harness's --out (the toy has no other way to learn it on the local backend)."""
    import sys

    argv = sys.argv
    if "--out" in argv:
        return Path(argv[argv.index("--out") + 1])
    return default

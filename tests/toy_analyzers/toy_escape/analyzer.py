import os
import socket
from pathlib import Path

from analyzers.base import Analyzer as Base
from analyzers.base import SkipAnalysis
from shared_schema.results.testing import ToyResult


def _attempt(fn) -> str:
    """'ALLOWED' when the escape worked, else 'blocked: <why>'."""
    try:
        fn()
    except Exception as exc:  # any refusal counts; the test reads which
        return f"blocked: {type(exc).__name__}: {exc}"[:200]
    return "ALLOWED"


def _write(path: Path):
    def go():
        path.write_text("escaped")
        path.unlink()  # leave nothing behind if a sandbox ever lets it through
    return go


class Analyzer(Base):
    def analyze(self, ctx):
        # Only meaningful in a container: on the local backend these writes would touch the host.
        if not Path("/.dockerenv").exists():
            raise SkipAnalysis("not_applicable", "toy_escape probes a container sandbox; not in a container")
        probes = {
            "net_tcp": _attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close()),
            "net_dns": _attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
            "write_root": _attempt(_write(Path("/escape-probe"))),
            "write_app": _attempt(_write(Path("/app/analyzers/toy_escape/escape-probe"))),
            "write_input": _attempt(_write(ctx.input_root / "escape-probe")),
            "write_input_media": _attempt(lambda: open(ctx.input_root / "media.json", "a").close()),
            "write_models": _attempt(_write((ctx.models_root or Path("/models")) / "escape-probe")),
            "setuid_root": _attempt(lambda: os.setuid(0)),
            "chown": _attempt(lambda: os.chown("/tmp", 0, 0)),
            "write_tmp": _attempt(_write(Path("/tmp/probe"))),
            "write_out": _attempt(_write(Path("/out/probe"))),
        }
        probes["uid"] = str(os.getuid())
        probes["euid"] = str(os.geteuid())
        return ToyResult(message="sandbox probes", frames_seen=0, params=probes)

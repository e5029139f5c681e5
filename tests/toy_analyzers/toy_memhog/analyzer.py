from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        mb = ctx.params.allocate_mb
        blocks = [bytearray(1024 * 1024) for _ in range(mb)]  # touch every page
        for b in blocks:
            b[::4096] = b"\x01" * len(b[::4096])
        return ToyResult(message=f"allocated {mb} MiB", frames_seen=0, params={"allocate_mb": str(mb)})

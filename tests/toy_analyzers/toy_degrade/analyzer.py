from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        mb = ctx.params.allocate_mb
        blocks = [bytearray(1024 * 1024) for _ in range(mb)]
        for b in blocks:  # touch every page so the allocation is real, not lazily mapped
            b[::4096] = b"\x01" * len(b[::4096])
        return ToyResult(message=f"allocated {mb} MiB", frames_seen=0,
                         params={"allocate_mb": str(mb), "attempt": str(ctx.job.attempt)})

import wave

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        frames = ctx.frames("sampled")
        seconds = None
        if ctx.job.audio:
            with wave.open(str(ctx.audio_path)) as w:
                seconds = w.getnframes() / w.getframerate()
        for i in range(len(frames)):  # every declared frame exists and is a JPEG
            assert ctx.frames("sampled").path(i).read_bytes()[:2] == b"\xff\xd8"
        return ToyResult(message=ctx.params.greeting, frames_seen=len(frames),
                         first_t=frames.times[0] if len(frames) else None,
                         last_t=frames.times[-1] if len(frames) else None, audio_seconds=seconds,
                         params={k: str(v) for k, v in ctx.params.items()})

"""cross_analyzer_intelligence: fuses every other analyzer's result (it runs last, as a final stage)."""
from __future__ import annotations

from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.cross import CrossResult

from ._fusion import build
from ._gather import gather


class Analyzer(Base):
    def analyze(self, ctx: Context) -> CrossResult:
        # a final analyzer's job lists every other selected analyzer as upstream
        envelopes = {name: ctx.upstream(name) for name in ctx.job.upstream}
        inputs = gather(envelopes, lambda name: ctx.upstream_result(name), ctx.media.duration_s)
        ctx.log.info("inputs used: %s; missing: %s", inputs.used, [m.name for m in inputs.missing])
        for m in inputs.missing:
            if m.status != "not_selected":  # selected but not ok: the result is partial, say so
                ctx.degrade(f"{m.name} was {m.status}: its signals are left out")
        return build(inputs, ctx.params)

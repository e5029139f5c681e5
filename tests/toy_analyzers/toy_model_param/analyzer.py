"""Toy: reads the store file ``params.model`` names; ``params.claim`` is the sha256 it says it used."""
from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        path, name, source = ctx.store_model(ctx.params.model)
        ctx.use_model(name, source, ctx.params.claim or None)
        return ToyResult(message=path.read_text().splitlines()[0][:200], frames_seen=0,
                         params={k: str(v) for k, v in ctx.params.items()})

import os

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        if ctx.params.abort:  # --set toy_abort.abort=false is "the fix"
            os.abort()
        return ToyResult(message="fixed", frames_seen=0)

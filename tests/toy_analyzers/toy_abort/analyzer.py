import os

from analyzers.base import Analyzer as Base


class Analyzer(Base):
    def analyze(self, ctx):
        os.abort()

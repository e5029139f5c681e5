import time

from analyzers.base import Analyzer as Base


class Analyzer(Base):
    def analyze(self, ctx):
        while True:
            time.sleep(1)

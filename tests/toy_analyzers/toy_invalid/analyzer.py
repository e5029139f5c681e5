from pydantic import BaseModel

from analyzers.base import Analyzer as Base


class NotTheResult(BaseModel):
    message: str
    frames_seen: int


class Analyzer(Base):
    def analyze(self, ctx):
        return NotTheResult(message="negative frames", frames_seen=-5)

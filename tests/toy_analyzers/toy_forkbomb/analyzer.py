import errno
import os
import signal
import time

from analyzers.base import Analyzer as Base
from shared_schema.results.testing import ToyResult


class Analyzer(Base):
    def analyze(self, ctx):
        children, refused = [], None
        for _ in range(ctx.params.max_children):
            try:
                pid = os.fork()
            except OSError as exc:  # EAGAIN: the pids cgroup is full
                refused = exc
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        code = errno.errorcode.get(refused.errno, str(refused.errno)) if refused else "none"
        return ToyResult(message=f"fork refused after {len(children)} children ({code})", frames_seen=0,
                         params={"children": str(len(children)), "refused": code})

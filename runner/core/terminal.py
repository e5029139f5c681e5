"""Text that came from a sandbox (an analyzer's error, a download's message, ffprobe's stderr), made
safe for a terminal: C0 control characters (but tab and newline), DEL and C1 control characters are
removed, so ``ESC]0;...`` (retitle the window), ``ESC[2J`` (clear it), a carriage return that
overwrites the line before, or the 8-bit CSI ``\\x9b`` reach the screen as nothing at all.

Everything the runner prints on a terminal that a sandbox could have written goes through
:func:`printable` (``runner.run.progress``, ``runner.run.live``, the batch lines, the CLI's
``error:`` line). HTML escaping of the same text is the page's job (``runner.report``).
"""
from __future__ import annotations

import re

__all__ = ["printable"]

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``text`` as a string without control characters (tab and newline are kept)."""
    return _CONTROL.sub("", text if isinstance(text, str) else str(text))

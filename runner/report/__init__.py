"""``report.html``: one self-contained page per report (facts, analyzer table, timelines, keyframes).

``model`` (lane records, defensive readers), ``lanes_visual`` / ``lanes_audio``
(one reader per timeline), ``timeline`` (the plotly figure), ``thumbs``
(keyframe thumbnails with ffmpeg), ``page`` (the HTML).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from shared_schema.report import Report

from runner.report.page import build_lanes, render

__all__ = ["render", "write_html", "build_lanes"]


def write_html(report: Report, path: Path, media_exec=None) -> Path:
    """Render ``report`` to ``path`` atomically (temp file + rename); returns ``path``. Thumbnails
    are taken through ``media_exec`` (see :mod:`runner.placement`)."""
    path = Path(path)
    if media_exec is None:  # decode where the run did: the media sandbox for a docker run, never the host
        from runner.placement import media_exec_for_report

        media_exec = media_exec_for_report(report)
    page = render(report, json_name=path.with_suffix(".json").name, media_exec=media_exec)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

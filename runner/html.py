"""``report.html`` beside ``report.json``: a one-page summary a person can read."""
from __future__ import annotations

import html
import json
from pathlib import Path

from shared_schema.envelope import Status
from shared_schema.report import Report

_COLOR = {Status.ok: "#1a7f37", Status.skipped: "#6e7781", Status.failed: "#cf222e",
          Status.invalid_output: "#cf222e", Status.oom: "#bc4c00", Status.timeout: "#bc4c00",
          Status.crashed: "#cf222e"}


def _esc(x) -> str:
    return html.escape(str(x))


def render(report: Report) -> str:
    r, m = report.run, report.media
    rows = []
    for name, e in report.analyzers.items():
        why = ""
        if e.error:
            why = _esc(e.error.message.splitlines()[0][:200])
            if e.error.fix:
                why += f"<br><code>{_esc(e.error.fix)}</code>"
        models = ", ".join(_esc(u.name) for u in e.models) or "-"
        summary = ""
        if e.result:
            summary = _esc(json.dumps(e.result)[:300])
        deg = " (degraded)" if e.degraded else ""
        rows.append(
            f"<tr><td>{_esc(name)}</td><td style='color:{_COLOR[e.status]}'><b>{e.status.value}</b>{deg}"
            f"{' / ' + e.skip_reason.value if e.skip_reason else ''}</td><td>{e.duration_s:.2f}s</td>"
            f"<td>{len(e.attempts)}</td><td>{models}</td><td>{why}</td>"
            f"<td><a href='out/{_esc(name)}/log.txt'>log</a></td><td class=r>{summary}</td></tr>")
    counts = ", ".join(f"{n} {s.value}" for s, n in report.counts.items() if n)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>report: {_esc(m.path)}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}}
.r{{font:11px monospace;max-width:40em;word-break:break-all;color:#57606a}}</style></head><body>
<h1>{_esc(Path(m.path).name)}</h1>
<p>{m.video.width}x{m.video.height}, {m.duration_s:.1f}s, {m.video.fps:g} fps,
{'audio ' + m.audio.codec if m.audio else 'no audio'}; sha256 <code>{m.sha256[:16]}...</code></p>
<p><b>{counts}</b> &middot; backend {_esc(r.backend)} &middot; total {r.timings.total_s:.1f}s
(probe {r.timings.probe_s:.2f}s, extract {r.timings.extract_s:.2f}s) &middot; runner {_esc(r.runner_version)}
{'&middot; <b>interrupted</b>' if r.interrupted else ''}</p>
<table><tr><th>analyzer</th><th>status</th><th>time</th><th>attempts</th><th>models</th><th>why / fix</th>
<th></th><th>result (start)</th></tr>
{''.join(rows)}</table>
<p>Full data: <a href="report.json">report.json</a></p></body></html>
"""


def write_html(report: Report, path: Path) -> Path:
    path.write_text(render(report), encoding="utf-8")
    return path

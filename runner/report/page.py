"""The page: facts, analyzer table, timelines, keyframes, key moments, texts. One self-contained file."""
from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import lru_cache
from pathlib import Path

import plotly.io as pio
import plotly.offline

from shared_schema.envelope import Envelope, Status
from shared_schema.report import Report

from runner.report import lanes_audio, lanes_visual
from runner.report.model import Lane, Missing, dicts, num, result_of, text, why_missing
from runner.report.thumbs import Strip, strip
from runner.report.timeline import FONT, figure

__all__ = ["render", "LANES", "build_lanes", "content_security_policy"]

#: the timelines, top to bottom (a plain tuple of readers)
LANES = (lanes_visual.cuts_lane, lanes_visual.camera_lane, lanes_visual.persons_lane, lanes_visual.text_lane,
         lanes_audio.speech_lane, lanes_audio.loudness_lane, lanes_audio.regions_lane, lanes_audio.pacing_lane,
         lanes_visual.vlm_lane)

_CSS = """
body{font:14px/1.45 %(font)s;color:#1f2328;background:#fff;margin:0}
main{max-width:1100px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.sub{color:#57606a;margin:0 0 12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
dl.facts dt{color:#57606a}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%%}
th,td{border-bottom:1px solid #d8dee4;padding:5px 8px;vertical-align:top;text-align:left}
th{background:#f6f8fa;font-weight:600}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.st{font-weight:600;white-space:nowrap}.st-ok{color:#1a7f37}.st-skipped{color:#6e7781}
.st-failed,.st-crashed,.st-invalid_output{color:#cf222e}.st-oom,.st-timeout{color:#bc4c00}
.badge{display:inline-block;font-size:11px;font-weight:600;border-radius:10px;padding:0 7px;margin-left:4px;
 background:#ddf4ff;color:#0969da}.badge.deg{background:#fff8c5;color:#9a6700}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:16em;white-space:pre-wrap}
.why{max-width:38em;word-break:break-word}
ul.missing{color:#57606a;margin:6px 0;padding-left:20px}
.strip{display:flex;gap:8px;overflow-x:auto;padding:4px 0 8px}
.strip figure{margin:0;flex:none;text-align:center;font-size:11px;color:#57606a}
.strip img{display:block;border-radius:3px;background:#eee}
.counts span{margin-right:12px}
table#moments,table#vlm{width:auto}
"""


def _e(x) -> str:
    return html.escape(str(x))


VENDOR = Path(__file__).parent / "vendor"


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    """plotly.js's basic bundle (scatter, bar: all the timelines use) when it matches the installed
    plotly's version, else the full bundle plotly ships (4x larger)."""
    basic = VENDOR / f"plotly-basic-{plotly.offline.get_plotlyjs_version()}.min.js"
    if basic.is_file():
        return basic.read_text(encoding="utf-8")
    return plotly.offline.get_plotlyjs()


#: the one script that draws the timeline: the same text on every page (so one hash allows it), reading
#: the figure from a JSON data block, which no browser executes
_DRAW_JS = ("(function(){var d=document.getElementById('timeline-data');if(!d||!window.Plotly)return;"
            "var f=JSON.parse(d.textContent);Plotly.newPlot('timeline',f.figure.data,f.figure.layout,f.config);})();")


def _sha256(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode() + "'"


@lru_cache(maxsize=2)
def content_security_policy(meta: bool = False) -> str:
    """The page's policy: nothing from the network, the two scripts it carries allowed by their sha256
    (plotly.js and the drawing script), no other script, no form, no ``<base>``, no framing. ``meta``:
    the form a ``<meta>`` element may carry (browsers ignore ``frame-ancestors`` there and say so)."""
    policy = (f"default-src 'none'; script-src {_sha256(_plotly_js())} {_sha256(_DRAW_JS)}; "
              "style-src 'unsafe-inline'; img-src data:; font-src data:; form-action 'none'; base-uri 'none'")
    return policy if meta else policy + "; frame-ancestors 'none'"


def _json_block(value_json: str) -> str:
    """JSON text made safe inside ``<script type=application/json>``: no ``<``, ``>`` or ``&`` (a
    ``</script>`` in a report string cannot end the block); the same value once parsed."""
    return value_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _figure_html(fig, config: dict) -> str:
    """The timeline's div, its figure as a JSON data block and the fixed drawing script."""
    data = '{"figure":' + pio.to_json(fig, validate=False) + ',"config":' + json.dumps(config) + "}"
    return (f"<div id=timeline class=plotly-graph-div style='height:{int(fig.layout.height)}px;width:100%'></div>"
            f"<script type=application/json id=timeline-data>{_json_block(data)}</script>"
            f"<script>{_DRAW_JS}</script>")


def build_lanes(report: Report) -> list[Lane | Missing]:
    """Every timeline reader's answer; a reader that raises becomes a Missing naming the error."""
    out: list[Lane | Missing] = []
    for reader in LANES:
        try:
            out.append(reader(report))
        except Exception as exc:  # a result shape nobody foresaw must not cost the page
            key = reader.__name__.removesuffix("_lane")
            out.append(Missing(key, key, f"could not be drawn: {type(exc).__name__}: {exc}"))
    return out


def _facts(report: Report) -> str:
    m, r = report.media, report.run
    v = m.video
    rows = [
        ("duration", f"{m.duration_s:.2f} s"),
        ("picture", f"{v.width}\u00d7{v.height}" + (f" (rotated {v.rotation}\u00b0)" if v.rotation else "")
         + f", {v.fps:g} fps, {_e(v.codec)}" + (f", {v.frame_count} frames" if v.frame_count else "")),
        ("sound", f"{_e(m.audio.codec)}, {m.audio.sample_rate} Hz, {m.audio.channels} ch" if m.audio
         else "no audio stream"),
        ("file", f"{_e(m.container)}, {m.size_bytes / 1e6:.2f} MB"
         + (f", {m.bit_rate / 1e3:.0f} kb/s" if m.bit_rate else "")),
        ("sha256", f"<code>{_e(m.sha256)}</code>"),
    ]
    if m.source_url:
        rows.append(("from", _e(m.source_url)))
    t = r.timings
    rows += [
        ("run", f"{_e(r.run_id)} on {_e(r.host)}, backend {_e(r.backend)}, runner {_e(r.runner_version)}"),
        ("when", f"{r.started_at:%Y-%m-%d %H:%M:%S %Z}, {t.total_s:.1f} s in all (probe {t.probe_s:.2f} s, "
                 f"extract {t.extract_s:.2f} s, merge {t.merge_s:.2f} s)"),
        ("workdir", f"<code>{_e(r.workdir)}</code>"),
    ]
    if r.interrupted:
        rows.append(("interrupted", "<b>yes</b>: the report holds what finished"))
    rows += [("notice", _e(n)) for n in r.notices]
    return "<dl class=facts id=facts>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _status_cell(e: Envelope) -> str:
    s = f"<span class='st st-{e.status.value}'><b>{e.status.value}</b></span>"
    if e.skip_reason:
        s += f" <span class=st-skipped>({e.skip_reason.value})</span>"
    if e.degraded:
        s += " <span class='badge deg'>degraded</span>"
    if e.cache is not None:
        s += (f" <span class=badge title='from run {_e(e.cache.run_id)} at {e.cache.created_at:%Y-%m-%d %H:%M}'>"
              "cached</span>")
    return s


def _why_cell(e: Envelope) -> str:
    parts = []
    if e.error:
        parts.append(f"<div class=err>{_e(e.error.type)}: {_e(e.error.message.strip()[:600])}</div>")
        if e.error.fix:
            parts.append(f"<div>fix: <code>{_e(e.error.fix)}</code></div>")
    if e.degraded_reasons:
        parts.append("<div>" + "; ".join(_e(x) for x in e.degraded_reasons) + "</div>")
    if e.cache is not None:
        parts.append(f"<div>result reused from run {_e(e.cache.run_id)}</div>")
    if e.status is not Status.ok and e.log_tail:
        parts.append(f"<details><summary>log tail</summary><pre>{_e(e.log_tail[-3000:])}</pre></details>")
    return "".join(parts)


def _attempts(e: Envelope) -> str:
    if len(e.attempts) <= 1:
        return str(len(e.attempts))
    chain = " \u2192 ".join(a.status.value for a in e.attempts)
    return f"{len(e.attempts)} <span class=sub>({chain})</span>"


def _table(report: Report) -> str:
    rows = []
    for name, e in report.analyzers.items():
        models = "<br>".join(f"<span title='{_e(u.source)}'>{_e(u.name)}</span>" for u in e.models) or "\u2013"
        rows.append(f"<tr data-analyzer='{_e(name)}' data-status='{e.status.value}' "
                    f"title='{_e(name)} {_e(e.analyzer_version)}'><td>{_e(name)}</td><td>{_status_cell(e)}</td>"
                    f"<td class=num>{e.duration_s:.2f} s</td><td class=num>{_attempts(e)}</td><td>{models}</td>"
                    f"<td class=why>{_why_cell(e)}</td></tr>")
    return ("<table id=analyzers><thead><tr><th>analyzer</th><th>status</th><th>time</th><th>attempts</th>"
            "<th>model</th><th>reason / notes</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _timelines(report: Report) -> tuple[str, bool]:
    """The figure's HTML (or a line saying there is none) and whether plotly's JS is needed."""
    got = build_lanes(report)
    lanes = [x for x in got if isinstance(x, Lane)]
    notes = [f"<li><b>{_e(x.title)}</b> not in this report: {_e(x.why)}</li>" for x in got if isinstance(x, Missing)]
    notes += [f"<li><b>{_e(lane.title)}</b>: {_e(n)}</li>" for lane in lanes for n in lane.notes]
    body = "<p>No timeline can be drawn from this report.</p>"
    if lanes:
        cuts = [m.t for lane in lanes if lane.key == "cuts" for m in lane.marks]
        try:
            fig = figure(lanes, max(report.media.duration_s, 0.01), cuts)
            div = _figure_html(fig, {"displaylogo": False, "responsive": True,
                                     "modeBarButtonsToRemove": ["select2d", "lasso2d"]})
        except Exception as exc:  # values plotly rejects must not cost the page
            notes.insert(0, f"<li>the timelines could not be drawn: {_e(type(exc).__name__)}: {_e(exc)}</li>")
            lanes = []
        else:
            body = ("<p class=sub>Every timeline shares the time axis (drag to zoom, double-click to reset); "
                    "dotted red lines are cuts; hover for values.</p>" + div)
    if notes:
        body += "<ul class=missing>" + "".join(notes) + "</ul>"
    return body, bool(lanes)


def _strip(s: Strip) -> str:
    figs = "".join(
        f"<figure><img src='{t.data_uri}' alt='{_e(t.caption)}' title='{t.t:.2f} s'><figcaption>{_e(t.caption)}"
        "</figcaption></figure>" for t in s.thumbs if t.data_uri)
    out = f"<p class=sub>from {_e(s.source)}</p><div class=strip id=keyframes>{figs}</div>" if figs else ""
    if s.notes:
        out += "<ul class=missing>" + "".join(f"<li>{_e(n)}</li>" for n in s.notes) + "</ul>"
    return out or "<p>No thumbnails.</p>"


def _moments(report: Report) -> str:
    cross = result_of(report, "cross_analyzer_intelligence")
    if cross is None:
        return ("<ul class=missing><li><b>Key moments</b> not in this report: "
                f"{_e(why_missing(report, 'cross_analyzer_intelligence'))}</li></ul>")
    rows = "".join(f"<tr><td class=num>{t:.2f} s</td><td class=num>{score:.2f}</td><td>{_e('; '.join(sig))}</td></tr>"
                   for t, score, sig in lanes_audio.key_moments(report))
    out = ("<table id=moments><thead><tr><th>time</th><th>score</th><th>what happens</th></tr></thead>"
           f"<tbody>{rows}</tbody></table>") if rows else "<p>No key moment stood out.</p>"
    hook = cross.get("hook") if isinstance(cross.get("hook"), dict) else None
    if hook:
        sig = [text(x) for x in hook.get("signals", []) if text(x)] if isinstance(hook.get("signals"), list) else []
        end, score = num(hook.get("end")), num(hook.get("score"))
        out += (f"<p><b>Hook</b> (first {f'{end:g}' if end is not None else '?'} s): score "
                f"{f'{score:.2f}' if score is not None else 'not measured'}{': ' + _e('; '.join(sig)) if sig else ''}</p>")
    missing = dicts(cross, "inputs_missing")
    lines = [f"<li>input {_e(m.get('name'))} not used: {_e(m.get('status'))}"
             f"{': ' + _e(m.get('reason')) if m.get('reason') else ''}</li>"
             for m in missing if m.get("status") != "not_selected"]
    unselected = [_e(m.get("name")) for m in missing if m.get("status") == "not_selected"]
    if unselected:
        lines.append(f"<li>inputs not selected in this run: {', '.join(unselected)}</li>")
    return out + ("<ul class=missing>" + "".join(lines) + "</ul>" if lines else "")


def _texts(report: Report) -> str:
    out = []
    tr = result_of(report, "speech_transcription")
    if tr is not None and text(tr.get("text")):
        out.append(f"<h3>Transcript</h3><p id=transcript>{_e(text(tr.get('text')))}</p>")
    ov = result_of(report, "text_overlay")
    if ov is not None and isinstance(ov.get("overlay_text"), list) and ov["overlay_text"]:
        out.append("<h3>Overlay text</h3><ul>" + "".join(f"<li>{_e(x)}</li>" for x in ov["overlay_text"]) + "</ul>")
    vlm = result_of(report, "qwen2_vl_temporal")
    if vlm is not None:
        summ = vlm.get("summary") if isinstance(vlm.get("summary"), dict) else {}
        rows = "".join(f"<tr><td class=num>{w.get('start', 0):.1f}\u2013{w.get('end', 0):.1f} s</td>"
                       f"<td>{_e(text(w.get('description')))}</td></tr>" for w in dicts(vlm, "windows")
                       if isinstance(w.get("start"), (int, float)) and isinstance(w.get("end"), (int, float)))
        out.append(f"<h3>Vision-language model ({_e(text(vlm.get('model')))})</h3>"
                   + (f"<p>{_e(text(summ.get('text')))}</p>" if text(summ.get("text")) else "")
                   + (f"<table id=vlm><tbody>{rows}</tbody></table>" if rows else ""))
    return "".join(out) or "<p class=sub>No transcript, overlay text or model description in this report.</p>"


def _counts(report: Report) -> str:
    return "<p class=counts>" + "".join(f"<span class='st st-{s.value}'>{n} {s.value}</span>"
                                        for s, n in report.counts.items() if n) + "</p>"


def render(report: Report, json_name: str = "report.json", media_exec=None) -> str:
    """The whole page as one string: no external scripts, styles, fonts or images. Thumbnails are
    taken through ``media_exec`` (the run's media sandbox on the docker backend; None: the host)."""
    m = report.media
    sections = [("sec-analyzers", "Analyzers", _table(report))]
    timelines, needs_js = _timelines(report)
    sections.append(("sec-timelines", "Timelines", timelines))
    try:
        sections.append(("sec-keyframes", "Keyframes", _strip(strip(report, media_exec=media_exec))))
    except Exception as exc:  # thumbnails are a nicety: never cost the page
        sections.append(("sec-keyframes", "Keyframes", "<ul class=missing><li>thumbnails left out: "
                                                       f"{_e(type(exc).__name__)}: {_e(exc)}</li></ul>"))
    sections.append(("sec-moments", "Key moments", _moments(report)))
    sections.append(("sec-texts", "Words and descriptions", _texts(report)))
    body = "".join(f"<section id={i}><h2>{t}</h2>{h}</section>" for i, t, h in sections)
    js = f"<script>{_plotly_js()}</script>" if needs_js else ""
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<meta http-equiv=Content-Security-Policy content=\"{content_security_policy(meta=True)}\">"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><link rel=icon href='data:,'>"
            f"<title>{_e(Path(m.path).name)}: analysis report</title><style>{_CSS % {'font': FONT}}</style>{js}</head>"
            f"<body><main><h1>{_e(Path(m.path).name)}</h1>"
            f"<p class=sub>{len(report.analyzers)} analyzers; data: <a href='{_e(json_name)}'>{_e(json_name)}</a></p>"
            f"{_counts(report)}{_facts(report)}{body}</main></body></html>\n")

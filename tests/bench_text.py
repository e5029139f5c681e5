"""On-screen text (issue 24): text_overlay now against 2.1.0 in the same run, and the whole pipeline's
wall time over the video's duration, on the committed clip (tests/text_clip.py) and the demo clip.

``make bench BENCH_ARGS=text`` (or ``.venv/bin/python -m tests.bench text``). Every run is
``runner analyze --backend local --no-cache`` in a subprocess with its own cache and work root.

- text_overlay alone (``--only text_overlay``), the working tree's version and 2.1.0 (its folder taken
  from git at ``OLD_COMMIT`` into a temporary analyzers folder; it runs in a temporary environment over the
  torch group's, plus the EasyOCR packages its requirements.txt pins, which no group has any more):
  CPU seconds of the analyzer's sandbox (its process group, sampled from /proc as in bench_demo), its
  duration, the captions of the clip it found (``TRUTH``: words read whole, overlapping their time),
  and its false segments (segments that read no text on the clip, drawn or photographed, whole, misread
  or in part: ``_known``);
- the whole pipeline (every analyzer) on the clip and on the demo: wall seconds over the duration, and
  CPU seconds of the whole process tree (wait4).

Wall-clock figures depend on the machine's load (printed with them): on a shared machine compare the CPU
seconds, and re-run on a quiet one for the wall times.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from runner.core.config import REPO_ROOT
from tests.bench_demo import RUNNER, _base_env, _demo_clip, _GroupCPU
from tests.text_clip import DURATION_S, TRUTH, make_clip

OLD_COMMIT = "52ab46b"  # main with text_overlay 2.1.0 (EasyOCR, sparse detection)
#: lettering in the clip's photos (scenetext01's sign and the notice under it, the bus): reading it, or a piece
#: of it (a word cut by the frame's edge under the pan), is no false segment
PHOTO_TEXT = ["NOTICE", "DOUBLE", "PARKING", "PROHIBITED", "AT ALL TIMES", "CERO EMISIONES", "MADRID", "ELECTRICA EMT",
              "10", "THE POST", "WASTINGE"]


def _words(s: str) -> list[str]:
    return re.sub(r"[^0-9A-Z]+", " ", s.upper()).split()


def _old_analyzer(root: Path) -> Path:
    """text_overlay's folder at OLD_COMMIT, as the only analyzer of a temporary analyzers folder."""
    dest = root / "old-analyzers"
    dest.mkdir()
    tar = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", OLD_COMMIT, "analyzers/text_overlay"],
                         check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest), "--strip-components=1"], input=tar, check=True)
    return dest


def _old_envs(root: Path, env: dict[str, str]) -> Path:
    """An envs folder whose torch environment is the torch group's (a .pth to its site-packages) plus what
    2.1.0's requirements.txt pins that the group lacks (EasyOCR and its model package)."""
    from runner.core.config import Settings

    base = Settings.from_env().envs_dir / "torch"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(base / "bin" / "python"), "-c", purelib], check=True, capture_output=True,
                          text=True).stdout.strip()
    envs = root / "old-envs"
    subprocess.run([str(base / "bin" / "python"), "-m", "venv", str(envs / "torch")], check=True)
    py = envs / "torch" / "bin" / "python"
    own = subprocess.run([str(py), "-c", purelib], check=True, capture_output=True, text=True).stdout.strip()
    Path(own, "torch-group.pth").write_text(site + "\n")
    reqs = subprocess.run(["git", "-C", str(REPO_ROOT), "show",
                           f"{OLD_COMMIT}:analyzers/text_overlay/requirements.txt"],
                          check=True, capture_output=True, text=True).stdout.split()
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *[r for r in reqs if r.split("==")[0].startswith("easyocr")]], env=env, check=True)
    return envs


def _run(video: Path, root: Path, tag: str, env: dict[str, str], only: str | None = None,
         extra: tuple[str, ...] = ()) -> dict:
    out = root / tag / "report.json"
    out.parent.mkdir(parents=True)
    run_env = {**env, "RUNNER_CACHE_DIR": str(root / tag / "cache"), "RUNNER_WORK_ROOT": str(root / tag / "runs")}
    sampler = _GroupCPU(str(root / tag))
    sampler.start()
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    args = [*RUNNER, "analyze", str(video), "--backend", "local", "--no-cache", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(args + (["--only", only] if only else []) + list(extra), env=run_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    sampler.stop.set()
    sampler.join()
    if not out.is_file():
        raise RuntimeError(f"{tag}: runner analyze exited {os.waitstatus_to_exitcode(status)}: "
                           f"{err.decode(errors='replace')[-2000:]}")
    report = json.loads(out.read_text())
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "report": report, "load": load,
            "analyzer_cpu": sampler.per_analyzer(), "duration": float(report["media"]["duration_s"] or 0)}


def _score(result: dict) -> tuple[int, int, int, list[str]]:
    """(captions found, captions drawn, false segments, the misses) of a text_overlay result on the clip."""
    segs = result.get("segments") or []
    caps = [t for t in TRUTH if t.kind == "overlay"]
    found, missed = 0, []
    for t in caps:
        want = _words(t.text)
        if any(_words(s["text"]) == want and s["start"] < t.end + 0.5 and s["end"] > t.start for s in segs):
            found += 1
        else:
            missed.append(t.text)
    false = sum(1 for s in segs if not _known(s["text"]))
    return found, len(caps), false, missed


def _known(text: str) -> bool:
    """Whether a segment reads text that is on the clip: a drawn text or the photos' lettering, whole or one of
    its words, misread (similarity >= 0.6, spaces ignored) or in part (2+ letters inside it)."""
    from difflib import SequenceMatcher

    got = "".join(_words(text))
    for known in [t.text for t in TRUTH] + PHOTO_TEXT:
        for whole in ["".join(_words(known)), *_words(known)]:
            if got and (SequenceMatcher(None, got, whole).ratio() >= 0.6 or (len(got) >= 2 and got in whole)):
                return True
    return False


def _text_line(name: str, r: dict) -> str:
    env = r["report"]["analyzers"]["text_overlay"]
    found, n, false, missed = _score(env.get("result") or {})
    res = env.get("result") or {}
    return (f"{name}: {env['status']}, {r['analyzer_cpu'].get('text_overlay', 0.0):.1f} CPU s in its sandbox, "
            f"duration {float(env.get('duration_s') or 0):.1f} s; captions found {found}/{n}"
            f"{' (missed: ' + ', '.join(missed) + ')' if missed else ''}; false segments {false}; "
            f"{len(res.get('segments') or [])} segments, detector runs {res.get('detector_runs')}, "
            f"recognitions {res.get('recognitions')} (load {r['load']:.1f})")


def _engines(frames: Path, env: dict[str, str], old_envs: Path) -> list[str]:
    """tests/text_engines.py in each engine's environment (EasyOCR: 2.1.0's), on the sampled frames of the run."""
    from runner.core.config import Settings

    out = []
    for engine, py in (("ppocr", Settings.from_env().envs_dir / "cpu" / "bin" / "python"),
                       ("easyocr", old_envs / "torch" / "bin" / "python")):
        if not frames.is_dir() or not py.exists():
            out.append(f"engine {engine}: not measured ({frames} or {py} missing)")
            continue
        p = subprocess.run([str(py), "-m", "tests.text_engines", engine, str(frames)], capture_output=True, text=True,
                           cwd=REPO_ROOT, env={**env, "PYTHONPATH": str(REPO_ROOT)})
        out.append(f"engine {engine}: " + (p.stdout.strip().splitlines()[-1] if p.returncode == 0 and p.stdout.strip()
                                           else f"failed: {p.stderr[-500:]}"))
    return out


def bench() -> list[str]:
    (REPO_ROOT / ".work").mkdir(exist_ok=True)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-text-", dir=REPO_ROOT / ".work") as tmp:
        root = Path(tmp)
        env = _base_env(root)
        clip = make_clip(root / "text_clip.mp4")
        lines.append(f"clip: tests/text_clip.py, {DURATION_S:.0f} s, 720x1280, {sum(t.kind == 'overlay' for t in TRUTH)} "
                     f"captions drawn; machine: {os.cpu_count()} cores")
        new = _run(clip, root, "new", env, only="text_overlay")
        old_envs = _old_envs(root, env)
        old = _run(clip, root, "old", {**env, "RUNNER_ANALYZERS_DIR": str(_old_analyzer(root)),
                                       "RUNNER_ENVS_DIR": str(old_envs)}, only="text_overlay")
        lines.append(_text_line("text_overlay (working tree)", new))
        lines.append(_text_line(f"text_overlay 2.1.0 ({OLD_COMMIT})", old))
        a, b = new["analyzer_cpu"].get("text_overlay", 0.0), old["analyzer_cpu"].get("text_overlay", 0.0)
        lines.append(f"  CPU now / 2.1.0: {a / b:.2f}x (same run)" if b else "  2.1.0 did not run")
        lines += _engines(Path(new["report"]["run"]["workdir"]) / "frames" / "sampled", env, old_envs)
        # the idle-core question: text_overlay on 1 thread (the manifest) or 2, in the whole pipeline
        runs = (("clip", clip, ()), ("clip, text_overlay.cpus=2", clip, ("--set", "text_overlay.cpus=2")),
                ("demo", _demo_clip(root), ()))
        for tag, video, extra in runs:
            r = _run(video, root, f"all-{tag.split(',')[0]}-{len(extra)}", env, extra=extra)
            bad = sorted(n for n, e in r["report"]["analyzers"].items() if e["status"] not in ("ok", "skipped"))
            top = sorted(r["analyzer_cpu"].items(), key=lambda kv: -kv[1])[:4]
            lines.append(f"whole pipeline, {tag} ({r['duration']:.1f} s): wall {r['wall']:.1f} s = "
                         f"{r['wall'] / max(r['duration'], 1e-6):.2f}x the duration, CPU {r['cpu']:.1f} s; load at start "
                         f"{r['load']:.1f}; not ok: {bad or 'none'}; most CPU: "
                         + ", ".join(f"{n} {c:.1f}" for n, c in top))
    return lines

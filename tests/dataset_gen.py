"""Many reports for the dataset's scale test, made from the real reports in tests/data/dataset.

Nothing here writes a result by hand: video ``i`` is a copy of one real seed report (rich, street,
talk or silent, made by :mod:`tests.dataset_seeds` from real runs on made clips) with

- its identity changed: the input's sha256 (the video_id), path, run id and timestamps;
- every float of its results (and its duration) multiplied by one factor per video, drawn from
  [0.9, 1.0] and rounded to 4 decimals as the analyzers round: orders, spans and ranges hold
  (start <= end, 0..1 stays 0..1, dBFS stays <= 0), and no two videos' numbers are the same bytes
  (copies would compress to nothing and make the dataset's size meaningless);
- for about one video in ten, one or two of its analyzers replaced by a real failure envelope from
  the ``faults`` seed (crashed, timeout, oom, invalid_output, or failed with ModelChecksumMismatch),
  renamed to that analyzer, and every analyzer that ``needs`` it (read from the analyzer.toml
  files) replaced by the seed's real ``skipped`` / ``upstream_failed`` envelope.

So every table gets the rows real runs give, in the mix of the seeds, and failures look as the
runner writes them. ``python -m tests.dataset_gen N OUT_DIR`` writes N report files.
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "tests" / "data" / "dataset"
#: seed -> share of the generated videos
MIX = {"rich": 0.35, "street": 0.25, "talk": 0.25, "silent": 0.15}
FAILURE_SHARE = 0.1
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def _seed_text(name: str) -> bytes:
    return gzip.decompress((SEEDS / f"{name}.report.json.gz").read_bytes())


def seed(name: str) -> dict:
    """A fresh copy of a seed report."""
    return json.loads(_seed_text(name))


def seed_names() -> list[str]:
    return sorted(p.name.split(".")[0] for p in SEEDS.glob("*.report.json.gz"))


@lru_cache(maxsize=None)
def _needed_by() -> dict[str, set[str]]:
    """analyzer -> the analyzers whose manifest ``needs`` it (transitively)."""
    import tomllib

    needs = {}
    for toml in (REPO / "analyzers").glob("*/analyzer.toml"):
        m = tomllib.loads(toml.read_text())
        needs[m["name"]] = set(m.get("needs", []))
    out: dict[str, set[str]] = {}
    for name in needs:
        todo, seen = [name], set()
        while todo:
            cur = todo.pop()
            for other, req in needs.items():
                if cur in req and other not in seen:
                    seen.add(other)
                    todo.append(other)
        out[name] = seen
    return out


def _failures() -> tuple[list[dict], dict]:
    envs = seed("faults")["analyzers"]
    failed = [e for e in envs.values() if e["status"] not in ("ok", "skipped")]
    skipped = next(e for e in envs.values() if e["skip_reason"] == "upstream_failed")
    return failed, skipped


def _graft(env: dict, name: str, version: str) -> dict:
    env = copy.deepcopy(env)
    env.update(analyzer=name, analyzer_version=version, result=None)
    return env


def _fail_some(report: dict, rng: random.Random) -> None:
    failed, skipped = _failures()
    analyzers = report["analyzers"]
    ok = sorted(n for n, e in analyzers.items() if e["status"] == "ok")
    for name in rng.sample(ok, k=min(len(ok), rng.choice((1, 1, 2)))):
        env = rng.choice(failed)
        analyzers[name] = _graft(env, name, analyzers[name]["analyzer_version"])
        for dep in sorted(_needed_by().get(name, ())):
            if dep in analyzers:
                sk = _graft(skipped, dep, analyzers[dep]["analyzer_version"])
                sk["error"] = {**sk["error"], "message": f"needs {name} ({env['status']})"}
                analyzers[dep] = sk
    counts = {s: 0 for s in report["counts"]}
    for e in analyzers.values():
        counts[e["status"]] += 1
    report["counts"] = counts


def _scale(x, k: float):
    if isinstance(x, float):
        return round(x * k, 4)
    if isinstance(x, list):
        return [_scale(v, k) for v in x]
    if isinstance(x, dict):
        return {key: _scale(v, k) for key, v in x.items()}
    return x


def make_report(i: int, run: int = 0) -> dict:
    """Generated video ``i``; ``run`` > 0 gives another run (later, other run id) of the same video."""
    rng = random.Random(i)
    name = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    report = seed(name)
    sha = hashlib.sha256(f"generated-video-{i}".encode()).hexdigest()
    started = T0 + timedelta(minutes=3 * i + 100_000 * run)
    took = report["run"]["timings"]["total_s"]
    report["media"].update(sha256=sha, path=f"/videos/generated/{i:06d}-{name}.mp4")
    report["run"].update(run_id=f"gen{i:06d}-r{run}-{sha[:6]}", started_at=started.isoformat(),
                         finished_at=(started + timedelta(seconds=took)).isoformat(),
                         workdir=f"/runs/gen{i:06d}-r{run}")
    report["run"]["input"].update(sha256=sha, path=report["media"]["path"])
    k = 0.9 + 0.1 * rng.random()
    report["media"]["duration_s"] = round(report["media"]["duration_s"] * k, 4)
    for env in report["analyzers"].values():
        env["result"] = _scale(env["result"], k)
    if rng.random() < FAILURE_SHARE:
        _fail_some(report, rng)
    return report


def reports(n: int, start: int = 0, run: int = 0) -> Iterator[dict]:
    for i in range(start, start + n):
        yield make_report(i, run)


def write(n: int, out: Path, start: int = 0, run: int = 0) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, rep in enumerate(reports(n, start, run), start):
        p = out / f"{i:06d}.json"
        p.write_text(json.dumps(rep))
        paths.append(p)
    return paths


if __name__ == "__main__":
    write(int(sys.argv[1]), Path(sys.argv[2]))

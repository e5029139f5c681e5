"""The result cache through the real pipeline and local backend.

"Executed" is read from the run's workdir (the executor writes ``jobs/<name>.json``
only when it launches an analyzer), independently of the envelopes' ``cache``
marker, and the two must agree.
"""
from __future__ import annotations

import json
import subprocess
import sys

from runner.cache.store import ResultCache
from runner.core.config import REPO_ROOT
from runner.run.pipeline import AnalyzeRequest, analyze
from runner.core.registry import load_registry
from shared_schema.envelope import Status

TOYS = ["toy_good", "toy_abort", "toy_dependent", "toy_final"]


def _run(settings, video, only, params=None, use_cache=True):
    registry = load_registry(settings.analyzers_dirs, include_test_only=True)
    return analyze(AnalyzeRequest(source=str(video), only=only, backend="local", params=params or {},
                                  use_cache=use_cache), settings, registry=registry)


def executed(outcome) -> set[str]:
    launched = {p.stem for p in (outcome.workdir / "jobs").glob("*.json")}
    from_cache = {n for n, e in outcome.report.analyzers.items() if e.cache is not None}
    assert not launched & from_cache, "an analyzer both ran and came from the cache"
    return launched


def cached(outcome) -> set[str]:
    return {n for n, e in outcome.report.analyzers.items() if e.cache is not None}


def test_rerun_reuses_every_ok_result_and_skips_extraction(settings, sample_video):
    first = _run(settings, sample_video, ["toy_good", "toy_final"])
    assert executed(first) == {"toy_good", "toy_final"} and not cached(first)
    assert (first.workdir / "frames" / "sampled").is_dir()

    second = _run(settings, sample_video, ["toy_good", "toy_final"])
    assert executed(second) == set()
    assert cached(second) == {"toy_good", "toy_final"}
    a1, a2 = first.report.analyzers, second.report.analyzers
    for name in ("toy_good", "toy_final"):
        assert a2[name].status is Status.ok and a2[name].result == a1[name].result
        assert a2[name].cache.run_id == first.report.run.run_id
    # nothing needed the frames, so nothing was extracted
    assert not (second.workdir / "frames").exists() and second.report.run.timings.extract_s == 0
    assert any("reused from the result cache" in n for n in second.report.run.notices)
    # the restored out/ is there for readers of the workdir; the log says where the result came from
    assert (second.workdir / "out" / "toy_good").is_dir()
    assert "reused from the result cache" in (second.workdir / "logs" / "toy_good.txt").read_text()
    assert json.loads((second.workdir / "results" / "toy_good.json").read_text())["cache"] is not None


def test_no_cache_runs_everything_again(settings, sample_video):
    _run(settings, sample_video, ["toy_good"])
    again = _run(settings, sample_video, ["toy_good"], use_cache=False)
    assert executed(again) == {"toy_good"} and not cached(again)


def test_fixing_a_failed_analyzer_reruns_only_it_and_its_dependents(settings, sample_video):
    broken = _run(settings, sample_video, TOYS)
    a = broken.report.analyzers
    assert a["toy_abort"].status is Status.crashed and a["toy_dependent"].status is Status.skipped
    assert executed(broken) == {"toy_good", "toy_abort", "toy_final"}

    fixed = _run(settings, sample_video, TOYS, params={"toy_abort": {"abort": False}})
    b = fixed.report.analyzers
    assert all(e.status is Status.ok for e in b.values()), {n: e.status for n, e in b.items()}
    # toy_good's result was ok and its inputs did not change; the rest read toy_abort
    assert cached(fixed) == {"toy_good"}
    assert executed(fixed) == {"toy_abort", "toy_dependent", "toy_final"}
    assert set(b["toy_final"].result["upstream_ok"]) == {"toy_good", "toy_abort", "toy_dependent"}

    # and a third run reuses all four
    assert executed(_run(settings, sample_video, TOYS, params={"toy_abort": {"abort": False}})) == set()


def test_params_change_reruns_only_that_analyzer_and_readers_of_its_result(settings, sample_video):
    only = ["toy_good", "toy_final"]
    _run(settings, sample_video, only)
    changed = _run(settings, sample_video, only, params={"toy_good": {"greeting": "bonjour"}})
    assert executed(changed) == {"toy_good", "toy_final"}
    assert changed.report.analyzers["toy_good"].result["message"] == "bonjour"
    # a resource change is not a result change
    again = _run(settings, sample_video, only, params={"toy_good": {"greeting": "bonjour", "timeout_s": 90}})
    assert executed(again) == set()


def test_another_input_is_another_key(settings, sample_video, silent_video):
    _run(settings, sample_video, ["toy_dependent", "toy_abort"], params={"toy_abort": {"abort": False}})
    other = _run(settings, silent_video, ["toy_dependent", "toy_abort"], params={"toy_abort": {"abort": False}})
    assert executed(other) == {"toy_abort", "toy_dependent"}


def test_changed_analyzer_source_invalidates_its_entries(settings, sample_video, tmp_path):
    """A code change without a version bump still misses: the local identity is the source digest."""
    import shutil

    toys = tmp_path / "toys"
    shutil.copytree(REPO_ROOT / "tests" / "toy_analyzers" / "toy_good", toys / "toy_good")
    s = settings.with_(analyzers_dirs=(toys,))
    assert executed(_run(s, sample_video, ["toy_good"])) == {"toy_good"}
    assert executed(_run(s, sample_video, ["toy_good"])) == set()
    src = toys / "toy_good" / "analyzer.py"
    src.write_text(src.read_text() + "\n# changed\n")
    assert executed(_run(s, sample_video, ["toy_good"])) == {"toy_good"}


def test_cache_cli_ls_and_prune(settings, sample_video, _result_cache):
    _run(settings, sample_video, ["toy_good", "toy_final"])
    assert {e.analyzer for e in ResultCache(_result_cache).entries()} == {"toy_good", "toy_final"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "runner.commands.main", "cache", *args], capture_output=True, text=True,
                              timeout=60)

    ls = cli("ls", "--json")
    assert ls.returncode == 0, ls.stderr
    rows = json.loads(ls.stdout)
    assert {r["analyzer"] for r in rows} == {"toy_good", "toy_final"}
    assert all(r["input_sha256"] for r in rows)
    bad = cli("prune")
    assert bad.returncode == 2 and "fix:" in bad.stderr and "Traceback" not in bad.stderr
    p = cli("prune", "--analyzer", "toy_final")
    assert p.returncode == 0 and "removed 1 entries" in p.stdout
    assert {e.analyzer for e in ResultCache(_result_cache).entries()} == {"toy_good"}
    again = _run(settings, sample_video, ["toy_good", "toy_final"])
    assert executed(again) == {"toy_final"}
    assert cli("prune", "--all").returncode == 0
    assert ResultCache(_result_cache).entries() == []

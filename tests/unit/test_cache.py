"""The result cache's store and keys, on hand-made envelopes."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from runner.cache.store import ResultCache
from runner.cache.keys import RunCache, result_digest
from runner.commands.cache import parse_duration
from runner.core.errors import UsageError
from runner.core.registry import Entry
from shared_schema.envelope import Attempt, Envelope, Status
from shared_schema.manifest import Manifest


def _env(name="a", result=None, status=Status.ok, **kw) -> Envelope:
    return Envelope(analyzer=name, analyzer_version="1.0.0", status=status,
                    result={"x": 1} if result is None and status is Status.ok else result, **kw)


def _entry(tmp_path: Path, name="an", **manifest) -> Entry:
    m = Manifest(name=name, version="1.0.0", description="d", result="shared_schema.results.testing:ToyResult",
                 **manifest)
    return Entry(manifest=m, path=tmp_path)


def _out(tmp_path: Path, files: dict[str, str]) -> Path:
    out = tmp_path / "out"
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


def test_put_then_get_restores_envelope_and_files(tmp_path):
    store = ResultCache(tmp_path / "c")
    out = _out(tmp_path, {"result.json": "{}", "log.txt": "log", "masks/0.png": "png"})
    assert store.put("ab" * 32, _env(), out, {"analyzer": "a", "run_id": "r1"})
    dest = tmp_path / "restored"
    env = store.get("ab" * 32, dest)
    assert env is not None and env.result == {"x": 1} and env.cache.run_id == "r1" and env.cache.key == "ab" * 32
    assert (dest / "masks" / "0.png").read_text() == "png" and (dest / "log.txt").read_text() == "log"
    assert not (dest / "result.json").exists()  # the runner writes the envelope itself
    assert store.get("cd" * 32, dest) is None


def test_second_put_of_a_key_keeps_the_first(tmp_path):
    store = ResultCache(tmp_path / "c")
    out = _out(tmp_path, {})
    assert store.put("k1" * 32, _env(result={"x": 1}), out, {"analyzer": "a"})
    assert not store.put("k1" * 32, _env(result={"x": 2}), out, {"analyzer": "a"})
    assert store.get("k1" * 32, tmp_path / "d").result == {"x": 1}


def test_concurrent_puts_of_one_key_leave_one_whole_entry(tmp_path):
    store = ResultCache(tmp_path / "c")
    out = _out(tmp_path, {f"f{i}.bin": "y" * 1000 for i in range(20)})
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.put("ee" * 32, _env(), out, {"analyzer": "a"})))
               for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(True) == 1
    entries = store.entries()
    assert len(entries) == 1 and len(list((entries[0].path / "out").iterdir())) == 20
    assert not list((store.base / "tmp").iterdir())


def test_prune_filters_and_lru_size(tmp_path):
    store = ResultCache(tmp_path / "c")
    out = _out(tmp_path, {"blob": "z" * 10_000})
    now = 1_000_000_000.0
    for i, (name, age_days) in enumerate([("a", 40), ("a", 1), ("b", 20), ("b", 2)]):
        key = f"{i:02d}" * 32
        store.put(key, _env(name), out, {"analyzer": name})
        t = now - age_days * 86400
        os.utime(store._dir(key) / "meta.json", (t, t))
    assert {e.key[:2] for e in store.prune(older_than_s=30 * 86400, now=now)} == {"00"}
    assert {e.key[:2] for e in store.prune(analyzer="b", older_than_s=10 * 86400, now=now)} == {"02"}
    one = store.entries()[0].size
    # two left (01 used 1 day ago, 03 used 2 days ago): the older one goes first
    assert {e.key[:2] for e in store.prune(max_bytes=one + 10, now=now)} == {"03"}
    assert [e.key[:2] for e in store.entries()] == ["01"]
    assert store.prune(everything=True) and store.entries() == []


def test_a_half_written_or_deleted_entry_is_a_miss(tmp_path):
    store = ResultCache(tmp_path / "c")
    store.put("ff" * 32, _env(), _out(tmp_path, {}), {"analyzer": "a"})
    (store._dir("ff" * 32) / "envelope.json").unlink()
    assert store.get("ff" * 32, tmp_path / "d") is None
    assert store.entries()[0].analyzer == "a"  # still listed, so prune can remove it


def _run_cache(tmp_path, **kw) -> RunCache:
    return RunCache(store=ResultCache(tmp_path / "c"), input_sha256="0" * 64,
                    frame_specs={"sampled": {"fps": 2.0}}, identity=lambda e: "local:abc", **kw)


def test_key_depends_on_what_determines_the_result(tmp_path):
    rc = _run_cache(tmp_path)
    e = _entry(tmp_path, inputs={"frames": ["sampled"]}, after=["u"])
    base = rc.key(e, {"p": 1}, "cpu", {"u": _env("u")})
    assert base == rc.key(e, {"p": 1}, "cpu", {"u": _env("u", duration_s=9.0, log_tail="other")})
    assert base != rc.key(e, {"p": 2}, "cpu", {"u": _env("u")})
    assert base != rc.key(e, {"p": 1}, "cuda:0", {"u": _env("u")})
    assert base != rc.key(e, {"p": 1}, "cpu", {"u": _env("u", result={"x": 2})})
    assert base != rc.key(e, {"p": 1}, "cpu", {"u": _env("u", status=Status.crashed)})
    assert base != rc.key(e, {"p": 1}, "cpu", {"u": None})
    other_input = RunCache(store=rc.store, input_sha256="1" * 64, frame_specs=rc.frame_specs, identity=rc.identity)
    assert base != other_input.key(e, {"p": 1}, "cpu", {"u": _env("u")})
    other_fps = RunCache(store=rc.store, input_sha256="0" * 64, frame_specs={"sampled": {"fps": 4.0}},
                         identity=rc.identity)
    assert base != other_fps.key(e, {"p": 1}, "cpu", {"u": _env("u")})
    rebuilt = RunCache(store=rc.store, input_sha256="0" * 64, frame_specs=rc.frame_specs, identity=lambda e: "x")
    assert base != rebuilt.key(e, {"p": 1}, "cpu", {"u": _env("u")})
    # frame sets it does not read do not matter
    e2 = _entry(tmp_path)
    assert rc.key(e2, {}, "cpu", {}) == other_fps.key(e2, {}, "cpu", {})


def test_key_sees_a_model_added_to_the_store(tmp_path):
    store_dir = tmp_path / "models"
    store_dir.mkdir()
    e = _entry(tmp_path, models=[{"name": "m", "path": "m.onnx", "source": "s", "optional": True}])
    rc = _run_cache(tmp_path, models_dir=store_dir)
    without = rc.key(e, {}, "cpu", {})
    (store_dir / "m.onnx").write_bytes(b"weights")
    assert rc.key(e, {}, "cpu", {}) != without


def test_no_identity_means_no_caching(tmp_path):
    rc = RunCache(store=ResultCache(tmp_path / "c"), input_sha256="0" * 64, frame_specs={},
                  identity=lambda e: None)
    assert rc.key(_entry(tmp_path), {}, "cpu", {}) is None

    def boom(e):
        raise RuntimeError("daemon gone")
    assert RunCache(store=rc.store, input_sha256="0", frame_specs={}, identity=boom).key(
        _entry(tmp_path), {}, "cpu", {}) is None


def test_only_clean_ok_results_are_saved(tmp_path):
    rc = _run_cache(tmp_path)
    out = _out(tmp_path, {})
    rc.save("a1" * 32, _env(status=Status.failed), out, "r", "v.mp4")
    rc.save("a2" * 32, _env(attempts=[Attempt(n=1, status=Status.oom),
                                      Attempt(n=2, status=Status.ok, overrides={"frames": 8})]), out, "r", "v.mp4")
    rc.save("a3" * 32, _env(), out, "r", "v.mp4")
    assert [e.key for e in rc.store.entries()] == ["a3" * 32] and rc.stored == ["a"]


def test_read_false_never_hits_but_still_stores(tmp_path):
    rc = _run_cache(tmp_path, read=False)
    rc.save("b1" * 32, _env(), _out(tmp_path, {}), "r", "v.mp4")
    assert rc.lookup("b1" * 32, tmp_path / "d") is None and len(rc.store.entries()) == 1


def test_result_digest_ignores_timing_and_logs():
    assert result_digest(_env(duration_s=1.0)) == result_digest(_env(duration_s=2.0, log_tail="x"))
    assert result_digest(_env()) != result_digest(_env(degraded=True))


@pytest.mark.parametrize("text,seconds", [("30d", 30 * 86400), ("12h", 43200), ("1.5m", 90), ("45s", 45)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_garbage():
    with pytest.raises(UsageError):
        parse_duration("soon")


def test_put_stores_no_link_no_hardlink_no_fifo_and_no_outside_bytes(tmp_path):
    outside = tmp_path / "secret"
    outside.write_text("SECRET")
    out = _out(tmp_path, {"keep.txt": "ok", "sub/keep2.txt": "ok2"})
    (out / "loot").symlink_to(outside)
    (out / "loot_dir").symlink_to(tmp_path)
    os.link(outside, out / "hard")
    os.mkfifo(out / "pipe")
    store = ResultCache(tmp_path / "c")
    assert store.put("ef" * 32, _env(), out, {"analyzer": "a"})
    stored = list((tmp_path / "c").rglob("*"))
    assert not any(p.is_symlink() for p in stored)
    assert all(b"SECRET" not in p.read_bytes() for p in stored if p.is_file())
    dest = tmp_path / "d"
    (dest / "stale").mkdir(parents=True)  # restored into a fresh folder: nothing of before survives
    store.get("ef" * 32, dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["keep.txt", "sub", "sub/keep2.txt"]

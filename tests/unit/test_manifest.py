"""analyzer.toml validation: unknown fields forbidden; errors name the file and the field."""
from pathlib import Path

import pytest

from shared_schema.manifest import ManifestError, load_manifest, parse_memory

GOOD = '''
name = "demo_an"
version = "1.2.3"
description = "d"
result = "shared_schema.results.testing:ToyResult"
[resources]
memory = "2g"
'''


def write(tmp_path: Path, text: str, folder: str = "demo_an") -> Path:
    d = tmp_path / folder
    d.mkdir()
    p = d / "analyzer.toml"
    p.write_text(text)
    return p


def test_good_manifest_loads(tmp_path):
    m = load_manifest(write(tmp_path, GOOD))
    assert m.resources.memory_bytes == 2 * 1024**3
    assert m.env == "cpu" and m.entrypoint == "analyzer:Analyzer"


@pytest.mark.parametrize("text, field", [
    ("bogus = 1\n" + GOOD, "bogus"),
    (GOOD.replace('memory = "2g"', 'memory = "lots"'), "resources.memory"),
    (GOOD.replace('[resources]', '[resources]\ntimeout = 3'), "resources.timeout"),
    (GOOD.replace('version = "1.2.3"', 'version = "one"'), "version"),
    (GOOD.replace('"shared_schema.results.testing:ToyResult"', '"os:system"'), "result"),
    (GOOD + '\n[inputs]\nframes = ["nope"]\n', "inputs.frames"),
], ids=["unknown-top", "bad-memory", "unknown-nested", "bad-version", "result-outside-schema", "unknown-frame-set"])
def test_errors_name_file_and_field(tmp_path, text, field):
    p = write(tmp_path, text)
    with pytest.raises(ManifestError) as exc:
        load_manifest(p)
    msg = str(exc.value)
    assert str(p) in msg and f"`{field}" in msg


def test_invalid_toml_names_file(tmp_path):
    p = write(tmp_path, "name = ")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest(p)


def test_name_must_match_folder(tmp_path):
    with pytest.raises(ManifestError, match="differs from its folder"):
        load_manifest(write(tmp_path, GOOD, folder="other"))


def test_self_dependency_refused(tmp_path):
    with pytest.raises(ManifestError, match="itself"):
        load_manifest(write(tmp_path, GOOD.replace('description = "d"', 'description = "d"\nafter = ["demo_an"]')))


@pytest.mark.parametrize("text, n", [("512m", 512 * 2**20), ("2g", 2 * 2**30), ("1.5G", int(1.5 * 2**30)),
                                     ("100", 100), ("64MiB", 64 * 2**20)])
def test_parse_memory(text, n):
    assert parse_memory(text) == n

"""`runner new`'s templates: a valid manifest and Python, pins its environment group already holds."""
from __future__ import annotations

import ast

import pytest

from runner.core.config import REPO_ROOT
from runner.core.registry import load_registry
from runner.commands.scaffold import BASES, PINS, Scaffold
from shared_schema.manifest import load_manifest


@pytest.mark.parametrize("base", BASES)
def test_the_pins_are_the_ones_its_group_holds(base):
    """So a new analyzer needs no environment rebuild, and its image shares the group's versions."""
    group = [e for e in load_registry([REPO_ROOT / "analyzers"]).values() if e.manifest.env == base]
    held = {ln.split("#")[0].strip() for e in group for ln in (e.path / "requirements.txt").read_text().splitlines()}
    assert set(PINS[base]) <= held, sorted(set(PINS[base]) - held)


@pytest.mark.parametrize("base", BASES)
def test_the_templates_render_a_valid_manifest_and_python(base, tmp_path):
    scaffold = Scaffold("demo_thing", base, tmp_path)
    for rel, text in scaffold.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
        if rel.suffix == ".py":
            ast.parse(text, str(rel))
    m = load_manifest(tmp_path / "analyzers/demo_thing/analyzer.toml")
    assert m.result == "shared_schema.results.demo_thing:DemoThingResult" and m.image.base == base == m.env
    assert m.params["threshold"].model_dump() == {"type": "float", "default": 0.5, "min": 0.0, "max": 1.0,
                                                  "choices": None, "description": m.params["threshold"].description}

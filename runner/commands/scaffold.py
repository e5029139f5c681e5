"""``runner new NAME``: a working analyzer to start from, in the six places one lives.

    analyzers/NAME/__init__.py, analyzer.toml, analyzer.py, requirements.txt
    shared_schema/results/NAME.py      the result model (analyzer.toml: result = "shared_schema.results.NAME:...")
    tests/analyzers/test_NAME.py       a test on a clip it makes

and compose/build.yaml regenerated (a unit test compares it with the manifests). What it writes
measures something real (the mean brightness of the sampled frames and where it jumps), passes
the contract tests and its own test, and builds with ``runner images build NAME`` unchanged. Its
pins are the ones its environment group already holds, so no environment needs rebuilding.
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass
from pathlib import Path
from string import Template

from runner.core.config import Settings
from runner.core.errors import UsageError
from runner.images.build import TORCH_VERSIONS, compose_file
from runner.core.registry import load_registry, registry_for
from shared_schema.manifest import NAME_RE, RESERVED_NAMES

BASES = ("cpu", "torch")
#: what each base's environment group already pins (a test keeps these in step with the group)
PINS = {
    "cpu": ("numpy==2.4.6", "opencv-python-headless==4.13.0.92"),
    "torch": (f"torch=={TORCH_VERSIONS[0]}", "numpy==2.4.6", "opencv-python-headless==4.13.0.92"),
}


@dataclass(frozen=True)
class Scaffold:
    name: str
    base: str
    root: Path

    @property
    def model(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_")) + "Result"

    @property
    def files(self) -> dict[Path, str]:
        """Where each file goes (under ``root``) and what it holds."""
        v = {"name": self.name, "model": self.model, "env": self.base, "base": self.base,
             **(_TORCH if self.base == "torch" else _CPU)}
        folder = Path("analyzers") / self.name
        return {
            folder / "__init__.py": Template(INIT).substitute(v),
            folder / "analyzer.toml": Template(TOML).substitute(v),
            folder / "analyzer.py": Template(ANALYZER).substitute(v),
            folder / "requirements.txt": "\n".join(PINS[self.base]) + "\n",
            Path("shared_schema/results") / f"{self.name}.py": Template(RESULT).substitute(v),
            Path("tests/analyzers") / f"test_{self.name}.py": Template(TEST).substitute(v),
        }


def check_name(name: str, base: str, root: Path, settings: Settings) -> Scaffold:
    """A :class:`Scaffold` for a new analyzer, or :class:`UsageError` (exit 2) saying why not."""
    if not NAME_RE.match(name) or keyword.iskeyword(name) or name in RESERVED_NAMES:
        raise UsageError(f"{name!r} is not a usable analyzer name",
                         fix="lower_snake_case, 2-63 characters, starting with a letter; not a Python keyword "
                             f"nor {', '.join(sorted(RESERVED_NAMES))} (the analyzer is the package analyzers.NAME)")
    if base not in BASES:
        raise UsageError(f"--base {base!r}: one of {', '.join(BASES)}")
    scaffold = Scaffold(name, base, root)
    folder = Path("analyzers") / name
    taken = [f"{folder}/"] if (root / folder).exists() else []
    taken += [str(p) for p in scaffold.files if p.parent != folder and (root / p).exists()]
    dirs = tuple(dict.fromkeys([root / "analyzers", *settings.analyzers_dirs]))
    if name in load_registry(dirs, include_test_only=True):
        taken.insert(0, f"an analyzer named {name!r}")
    if taken:
        raise UsageError(f"{name!r} exists already: {', '.join(dict.fromkeys(taken))}",
                         fix="choose another name (runner list shows the analyzers)")
    return scaffold


def write(scaffold: Scaffold) -> list[Path]:
    """Write the files, then compose/build.yaml from the manifests; returns what it wrote."""
    written = []
    for rel, text in scaffold.files.items():
        path = scaffold.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    compose = scaffold.root / "compose" / "build.yaml"
    if compose.is_file():  # what the committed file holds: the repo's analyzers, the default prefix
        defaults = Settings(repo_root=scaffold.root, analyzers_dirs=(scaffold.root / "analyzers",))
        compose.write_text(compose_file(defaults, registry_for(defaults)))
        written.append(compose)
    return written


# ---- templates (string.Template: $name, ${model}) ------------------------------------------

INIT = '''"""${name}: analyzer.toml declares what it needs, analyzer.py does the work.

The harness imports this folder as the package ``analyzers.${name}``.
"""
'''

TOML = '''name = "${name}"
version = "0.1.0"
description = "Mean brightness of the sampled frames and where it jumps (written by runner new: make it yours)."
result = "shared_schema.results.${name}:${model}"
env = "${env}"
# helpers = ["stride"]  # modules of analyzers/common it imports: only these reach its image and its digest
# after = ["cut_analysis"]  # runs after these when they are selected (ctx.upstream_result)

[inputs]
frames = ["sampled"]  # 2 fps colour JPEGs; also "dense" (30 fps grey) and "hires" (1 fps); audio = true: 16 kHz WAV

[resources]
memory = "${memory}"
cpus = 1
timeout_s = 120
${image}
[params.threshold]
type = "float"
default = 0.5
min = 0.0
max = 1.0
description = "brightness change (0 black .. 1 white) between neighbouring frames that counts as a jump"
'''

ANALYZER = '''"""${name}: the mean brightness of the sampled frames and where it jumps.

Written by ``runner new`` as a starting point: replace the measure, keep the shape. The harness
calls ``setup`` once (the network is off: load weights here), then ``analyze``, and validates what
it returns against ${model} (shared_schema/results/${name}.py). See docs/analyzers.md.
"""
from __future__ import annotations

import numpy as np

from analyzers.base import Analyzer as Base
from analyzers.base import Context
from shared_schema.results.common import TimedValue
from shared_schema.results.${name} import ${model}

FRAME_SET = "sampled"  # declared in analyzer.toml [inputs]: ctx.frames() refuses an undeclared set
METHOD = ("mean of each sampled frame's pixel values (0 black .. 1 white)${method}; a jump is a change "
          "above `threshold` from the previous frame")


class Analyzer(Base):
${setup}    def analyze(self, ctx: Context) -> ${model}:
        threshold = ctx.params.threshold  # typed and range-checked by the harness from [params.threshold]
        frames = ctx.frames(FRAME_SET)
        series = [TimedValue(t=entry.t, value=round(self._brightness(img), 4)) for entry, img in frames]
        jumps = [b.t for a, b in zip(series, series[1:]) if abs(b.value - a.value) > threshold]
        not_measured = {}
        if not series:  # what could not be measured is null with the reason, never a made-up 0
            not_measured["mean_brightness"] = "no frame was sampled (the video is shorter than one interval)"
        return ${model}(
            method=METHOD, frames_analyzed=len(series),
            mean_brightness=round(float(np.mean([p.value for p in series])), 4) if series else None,
            brightness=series, jumps=jumps, not_measured=not_measured)

    def _brightness(self, img: np.ndarray) -> float:
${brightness}
'''

_CPU = {
    "memory": "512m", "image": "", "method": "",
    "setup": "",
    "brightness": "        return float(img.mean()) / 255.0",
}

_TORCH = {
    "memory": "2g", "image": '\n[image]\nbase = "torch"  # the torch base image; the "torch" local environment\n',
    "method": ", on torch",
    "setup": '''    def setup(self, ctx: Context) -> None:
        import torch  # guarded: imported in the sandbox, after the harness set the thread variables

        torch.set_num_threads(ctx.threads)  # torch sees every core of the host otherwise
        self.torch, self.device = torch, ctx.device

''',
    "brightness": "        return float(self.torch.from_numpy(img).to(self.device).float().mean()) / 255.0",
}

RESULT = '''"""Result of ``${name}`` (analyzers/${name}). Times are seconds; null values say why in not_measured."""
from __future__ import annotations

from pydantic import Field

from shared_schema.results.common import ResultBase, TimedValue

__all__ = ["${model}"]


class ${model}(ResultBase):
    method: str = Field(description="how the numbers were made")
    frames_analyzed: int = Field(ge=0)
    mean_brightness: float | None = Field(default=None, ge=0, le=1,
                                          description="mean over the frames, 0 black .. 1 white; null: no frame")
    brightness: list[TimedValue] = Field(default_factory=list, description="per sampled frame, 0 .. 1")
    jumps: list[float] = Field(default_factory=list,
                               description="times of frames whose brightness changed by more than `threshold`")
    not_measured: dict[str, str] = Field(default_factory=dict, description="field -> why it is null")
'''

TEST = '''"""${name} on a clip this test makes: black for 2 s, then white, so one jump at 2 s."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared_schema.envelope import Status
from shared_schema.results.${name} import ${model}
from tests.conftest import require_env
from tests.media import ffmpeg

NAME = "${name}"


@pytest.fixture(scope="module")
def black_then_white(tmp_path_factory) -> Path:
    """4 s at 10 fps, 180x320: black for 2 s, then white."""
    path = tmp_path_factory.mktemp(NAME) / "black_white.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:size=180x320:rate=10:duration=2",
           "-f", "lavfi", "-i", "color=c=white:size=180x320:rate=10:duration=2",
           "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path


def _result(outcome) -> ${model}:
    env = outcome.report.analyzers[NAME]
    assert env.status is Status.ok, (env.status, env.error, env.log_tail)
    return ${model}.model_validate(env.result)


def test_finds_the_jump_from_black_to_white(run, settings, black_then_white):
    require_env(settings, "${env}")
    res = _result(run(black_then_white, [NAME]))
    assert res.frames_analyzed >= 7  # the sampled set is 2 fps
    assert res.brightness[0].value < 0.1 and res.brightness[-1].value > 0.9
    assert len(res.jumps) == 1 and abs(res.jumps[0] - 2.0) <= 0.5, res.jumps


def test_a_threshold_above_any_change_finds_no_jump(run, settings, black_then_white):
    require_env(settings, "${env}")
    res = _result(run(black_then_white, [NAME], **{NAME: {"threshold": 1.0}}))
    assert res.jumps == [] and res.mean_brightness is not None
'''

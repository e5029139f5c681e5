"""The cut benchmark's clips: made videos whose boundaries are known, and two real single shots.

``CLIPS`` is plain data (a label, the builder, its group); ``make(label, folder)`` writes the
clip and returns (video, truth). ``tests/bench_cuts.py`` scores cut_analysis on every clip,
``tests/cuts_blend_spread.py`` chooses the blend-spread threshold on them, and docs/cuts.md
quotes what ``python -m tests.bench_cuts --accuracy`` prints about them. Groups:

- ``cuts``: hard cuts, flashes, a revisit, equal-luma colour cuts, a hue drift (no cut);
- ``gradual``: dissolves (xfade, 0.3-1.5 s), fades through black, fades at the ends (no boundary);
- ``motion``: one shot each, a camera move (no boundary);
- ``foreground``: an occluder (a person, a car, a person right at the lens, one in a light shirt)
  crossing close to the lens before, after or across a hard cut, or in one shot: motion, never
  a dissolve or a fade;
- ``real``: tree.avi and vtest.avi, one continuous shot each.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.analyzers import media_cuts as mc
from tests.media import MEDIA

Truth = mc.Truth


def _instant(made: tuple[Truth, float]) -> Truth:
    """A fade whose boundary instant is known: scored as that instant, not its span."""
    return Truth(cuts=[made[1]])


@dataclass(frozen=True)
class BenchClip:
    label: str
    group: str
    build: Callable[[Path], tuple[Path, Truth]]  # folder -> (video, truth)


def _made(fn, name: str, *args, **kw):
    def build(folder: Path) -> tuple[Path, Truth]:
        path = folder / f"{name}.mp4"
        return path, fn(path, *args, **kw)
    return build


def _fade(fn, name: str):
    def build(folder: Path) -> tuple[Path, Truth]:
        path = folder / f"{name}.mp4"
        return path, _instant(fn(path))
    return build


def _no_boundary(fn, name: str, *args):
    def build(folder: Path) -> tuple[Path, Truth]:
        return fn(folder / f"{name}.mp4", *args), Truth()
    return build


def _real(name: str):
    return lambda folder: (MEDIA / name, Truth())


REVISIT = ("bus.jpg", "zidane.jpg", "bus.jpg", "scenetext01.jpg", "scenetext02.jpg")
CLIPS: list[BenchClip] = [
    BenchClip("hard cuts", "cuts", _made(mc.hard_cuts, "hard")),
    BenchClip("revisit", "cuts", _made(mc.hard_cuts, "revisit", (1.5,) * 5, REVISIT)),
    BenchClip("flashes", "cuts", _made(mc.hard_cuts, "flash", flashes=(0.8, 2.5))),
    BenchClip("red/green", "cuts", _made(mc.colour_cut, "rg", cut=1.8)),
    BenchClip("red/green +4", "cuts", _made(mc.colour_cut, "rg4", cut=2.3, luma_step=4)),
    BenchClip("hue cut", "cuts", _made(mc.hue_cut, "hue")),
    BenchClip("hue drift", "cuts", _no_boundary(mc.hue_drift, "drift")),
    BenchClip("dissolve+fade", "gradual", _made(mc.transitions, "trans")),
    BenchClip("dissolves 0.3-1.2 s", "gradual", _made(mc.dissolves, "diss1", (0.3, 0.6, 1.2))),
    BenchClip("dissolves 0.4-1.5 s", "gradual", _made(mc.dissolves, "diss2", (1.5, 0.4, 0.8))),
    BenchClip("fade in/out", "gradual", _no_boundary(mc.fade_in_out, "fades")),
    BenchClip("fade+black+cut", "gradual", _fade(mc.fade_out_cut, "fadecut")),
    BenchClip("fade out+in", "gradual", _fade(mc.fade_out_in, "fadeinout")),
    *[BenchClip(f"camera {m}", "motion", _no_boundary(mc.camera_move, f"cam_{m}", m))
      for m in ("pan_right", "tilt_down", "zoom_in", "handheld")],
    *[BenchClip(f"{kind} {when}", "foreground", _made(mc.foreground_crossing, f"fg_{kind}_{when}", when, kind))
      for kind, whens in (("person", ("before", "after", "across", "none")),
                          ("car", ("before", "after", "across", "none")),
                          ("near", ("before", "after", "none")),
                          ("near_light", ("before", "after", "none")))
      for when in whens],
    BenchClip("tree.avi", "real", _real("tree.avi")),
    BenchClip("vtest.avi", "real", _real("vtest.avi")),
]


def clips(groups: tuple[str, ...] | None = None) -> list[BenchClip]:
    """The clips (of these groups); the real ones only where the assets are."""
    return [c for c in CLIPS if (groups is None or c.group in groups)
            and (c.group != "real" or (MEDIA / c.label).exists())]

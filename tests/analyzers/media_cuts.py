"""Videos with known shot boundaries and camera motion, made with ffmpeg from real photos.

Every shot is a slow pan over a different real photo (so shots are not still
frames and a detector that mistakes motion for a cut is caught), joined by hard
cuts (``concat``) or ``xfade`` dissolves and fades whose spans are known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.media import MEDIA, ffmpeg

PHOTOS = ("bus.jpg", "zidane.jpg", "scenetext01.jpg", "scenetext02.jpg")
RATE = 30
SIZE = (320, 568)  # 9:16 like a short video


@dataclass(frozen=True)
class Truth:
    """Known boundaries: hard cuts at instants, gradual ones as (start, end, kind)."""

    cuts: list[float] = field(default_factory=list)
    gradual: list[tuple[float, float, str]] = field(default_factory=list)

    @property
    def boundaries(self) -> list[float]:
        """Every boundary as one instant (a gradual one at its middle)."""
        return sorted(self.cuts + [(s + e) / 2 for s, e, _ in self.gradual])


def _shot(photo: str, seconds: float, direction: int = 1) -> str:
    """A filter chain panning slowly across a photo (input index filled in by the caller)."""
    w, h = SIZE
    # scale the photo to twice the output height, then move a window across it
    speed = 40 * direction  # px/s on the scaled photo: visible motion, nothing like a cut
    x0 = "(iw-ow)/2"
    return (f"scale=-2:{2 * h},crop={w}:{h}:x='{x0}+{speed}*t':y='(ih-oh)/2',"
            f"fps={RATE},trim=duration={seconds},setpts=PTS-STARTPTS,settb=AVTB,format=yuv420p,setsar=1")


def _inputs(photos: list[str]) -> list[str]:
    args: list[str] = []
    for p in photos:
        args += ["-loop", "1", "-framerate", str(RATE), "-i", str(MEDIA / p)]
    return args


def _encode(path: Path, args: list[str], graph: str) -> None:
    ffmpeg(*args, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "20", "-pix_fmt", "yuv420p", "-r", str(RATE), str(path))


def hard_cuts(path: Path, seconds_each: tuple[float, ...] = (1.5, 2.0, 1.0, 1.5),
              photos: tuple[str, ...] | None = None, flashes: tuple[float, ...] = ()) -> Truth:
    """Panning shots of real photos (``PHOTOS`` in turn unless given) joined by hard cuts.

    ``flashes``: instants where one frame is white (a camera flash), which are no cuts.
    """
    photos = list(photos or [PHOTOS[i % len(PHOTOS)] for i in range(len(seconds_each))])
    chains = [f"[{i}:v]{_shot(p, s, 1 if i % 2 else -1)}[s{i}]"
              for i, (p, s) in enumerate(zip(photos, seconds_each))]
    n = len(photos)
    graph = ";".join(chains) + ";" + "".join(f"[s{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0"
    for t in flashes:
        graph += (f",drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill"
                  f":enable='between(t,{t - 0.3 / RATE},{t + 0.3 / RATE})'")
    _encode(path, _inputs(photos), graph + "[v]")
    cuts, t = [], 0.0
    for s in seconds_each[:-1]:
        t += s
        cuts.append(round(t, 4))
    return Truth(cuts=cuts)


def transitions(path: Path) -> Truth:
    """cut, dissolve (0.8 s), fade through black (1.0 s), dissolve (0.5 s): 5 shots.

    ``xfade`` overlaps the two shots: the transition runs over
    ``[offset, offset + duration]`` of the output.
    """
    photos = list(PHOTOS) + [PHOTOS[0]]
    lengths = [1.5, 2.0, 2.0, 2.2, 1.5]
    chains = [f"[{i}:v]{_shot(p, s, 1 if i % 2 else -1)}[s{i}]"
              for i, (p, s) in enumerate(zip(photos, lengths))]
    # first a hard cut (concat of shots 0 and 1), then xfades on the running stream
    steps = [("concat", 0.0), ("dissolve", 0.8), ("fadeblack", 1.0), ("dissolve", 0.5)]
    graph = ";".join(chains) + ";[s0][s1]concat=n=2:v=1:a=0[c1]"
    truth = Truth()
    length = lengths[0] + lengths[1]
    truth.cuts.append(lengths[0])
    prev = "c1"
    for k, (kind, dur) in enumerate(steps[1:], start=2):
        offset = length - dur
        xf = "fade" if kind == "dissolve" else kind
        out = "v" if k == len(lengths) - 1 else f"c{k}"
        graph += f";[{prev}][s{k}]xfade=transition={xf}:duration={dur}:offset={offset}[{out}]"
        truth.gradual.append((round(offset, 4), round(offset + dur, 4),
                              "fade" if kind == "fadeblack" else "dissolve"))
        length = offset + lengths[k]
        prev = out
    _encode(path, _inputs(photos), graph)
    return truth


def fade_in_out(path: Path, seconds: float = 4.0) -> Path:
    """One panning shot that fades in from black and out to black: no boundary at all."""
    chain = _shot(PHOTOS[1], seconds)
    graph = (f"[0:v]{chain},fade=t=in:st=0:d=0.7,fade=t=out:st={seconds - 0.8}:d=0.8[v]")
    _encode(path, _inputs([PHOTOS[1]]), graph)
    return path


def camera_move(path: Path, move: str, seconds: float = 3.0, photo: str = "bus.jpg") -> Path:
    """One shot over a real photo with a known camera move.

    ``pan_right``: the window moves right over the photo (content moves left);
    ``tilt_down``: the window moves down; ``zoom_in``: the window shrinks about
    the centre; ``handheld``: the window wobbles a few pixels at 2-6 Hz; ``static``: the
    window stays put.
    """
    w, h = SIZE
    big = f"scale=-2:{3 * h}"  # room to move; upscaled so sub-pixel steps stay smooth
    moves = {
        "pan_right": f"crop={w}:{h}:x='(iw-ow)/2-90+60*t':y='(ih-oh)/2'",
        "pan_left": f"crop={w}:{h}:x='(iw-ow)/2+90-60*t':y='(ih-oh)/2'",
        "tilt_down": f"crop={w}:{h}:x='(iw-ow)/2':y='(ih-oh)/2-90+60*t'",
        "static": f"crop={w}:{h}",
    }
    if move in ("zoom_in", "zoom_out"):
        # zoompan re-centres its window every frame (crop's size is fixed at start); the
        # photo is enlarged first so its integer window positions step smoothly
        z = f"pow(1.25,on/{RATE})" if move == "zoom_in" else f"pow(1.25,{seconds}-on/{RATE})"
        chain = (f"scale=-2:{4 * h},zoompan=z='{z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2'"
                 f":d=1:s={w}x{h}:fps={RATE}")
    elif move == "handheld":
        # two incommensurate wobbles per axis: a shaky hand, about 5 px at 320 px wide
        jx = "4*sin(2*PI*3.1*t)+2.5*sin(2*PI*5.3*t+1)"
        jy = "3*sin(2*PI*2.7*t+2)+2*sin(2*PI*6.1*t)"
        chain = f"{big},crop={w}:{h}:x='(iw-ow)/2+{jx}':y='(ih-oh)/2+{jy}'"
    else:
        chain = f"{big},{moves[move]}"
    graph = (f"[0:v]{chain},fps={RATE},trim=duration={seconds},setpts=PTS-STARTPTS,"
             f"format=yuv420p,setsar=1[v]")
    _encode(path, _inputs([photo]), graph)
    return path


def _black(seconds: float) -> str:
    w, h = SIZE
    return (f"color=c=black:s={w}x{h}:r={RATE}:d={seconds},setpts=PTS-STARTPTS,settb=AVTB,"
            f"format=yuv420p,setsar=1")


def fade_out_cut(path: Path, first: float = 2.4, fade: float = 1.0, black: float = 1.0,
                 second: float = 1.6) -> tuple[Truth, float]:
    """A shot fades to black, black holds, then a hard cut to the next shot.

    Returns the truth (one fade spanning the fade-out and the black) and the instant
    the next shot starts: the cut out of black.
    """
    chains = [f"[0:v]{_shot(PHOTOS[0], first)},fade=t=out:st={first - fade}:d={fade}[a]",
              f"{_black(black)}[k]", f"[1:v]{_shot(PHOTOS[1], second, -1)}[b]"]
    _encode(path, _inputs([PHOTOS[0], PHOTOS[1]]), ";".join(chains) + ";[a][k][b]concat=n=3:v=1:a=0[v]")
    cut = round(first + black, 4)
    return Truth(gradual=[(round(first - fade, 4), cut, "fade")]), cut


def fade_out_in(path: Path, first: float = 2.4, fade: float = 1.0, black: float = 0.6,
                second: float = 2.0) -> tuple[Truth, float]:
    """A shot fades to black, black holds, the next shot fades in: the boundary is the
    middle of the black (the darkest stretch)."""
    chains = [f"[0:v]{_shot(PHOTOS[0], first)},fade=t=out:st={first - fade}:d={fade}[a]",
              f"{_black(black)}[k]",
              f"[1:v]{_shot(PHOTOS[1], second, -1)},fade=t=in:st=0:d={fade}[b]"]
    _encode(path, _inputs([PHOTOS[0], PHOTOS[1]]), ";".join(chains) + ";[a][k][b]concat=n=3:v=1:a=0[v]")
    start, end = first - fade, first + black + fade
    return Truth(gradual=[(round(start, 4), round(end, 4), "fade")]), round(first + black / 2, 4)


# BT.601 limited-range YCbCr of red (255, 0, 0) and of the green (0, 130, 0) with the same luma
RED_YUV = (81, 90, 240)
GREEN_YUV = (81, 90, 80)


def colour_cut(path: Path, cut: float = 1.8, seconds: float = 4.0, luma_step: int = 0,
               back: float | None = None) -> Truth:
    """Flat red, then at ``cut`` flat green of the same luma (``luma_step`` grey levels
    brighter, to leave the small trace a real equal-luma cut leaves in the grey frames);
    with ``back``, red again from then on (a second colour cut)."""
    w, h = SIZE
    (y, cb, cr), (y2, cb2, cr2) = RED_YUV, GREEN_YUV
    y2 += luma_step
    green = f"gte(T,{cut})*lt(T,{back})" if back is not None else f"gte(T,{cut})"

    def at(a: int, b: int) -> str:
        return f"'if({green},{b},{a})'"

    src = (f"color=c=black:s={w}x{h}:r={RATE}:d={seconds},format=yuv420p,"
           f"geq=lum={at(y, y2)}:cb={at(cb, cb2)}:cr={at(cr, cr2)}")
    ffmpeg("-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
           "-pix_fmt", "yuv420p", "-r", str(RATE), str(path))
    return Truth(cuts=[cut] if back is None else [cut, back])


def hue_cut(path: Path, first: float = 2.2, second: float = 2.0, photo: str = "zidane.jpg",
            degrees: float = 150) -> Truth:
    """One panning shot of a real photo, then at ``first`` the same pan with its hue turned
    ``degrees``: ffmpeg's ``hue`` turns Cb/Cr only, so the luma is exactly the same and the
    cut is one only colour shows (a colour-filter change in an edit)."""
    seconds = first + second
    chain = _shot(photo, seconds)
    graph = f"[0:v]{chain},hue=h={degrees}:enable='gte(t,{first})'[v]"
    _encode(path, _inputs([photo]), graph)
    return Truth(cuts=[first])


def hue_drift(path: Path, seconds: float = 5.0, photo: str = "bus.jpg", turn_s: float = 4.0) -> Path:
    """One panning shot whose hue turns steadily (a full turn every ``turn_s``): no cut."""
    graph = f"[0:v]{_shot(photo, seconds)},hue=H=2*PI*t/{turn_s}[v]"
    _encode(path, _inputs([photo]), graph)
    return path


@dataclass(frozen=True)
class Occluder:
    """Something passing close to the lens: a crop of a real photo, darkened (it is back-lit) and
    blurred (far out of focus), with an elliptic outline softened by the blur."""

    photo: str
    crop: tuple[float, float, float, float]  # x, y, w, h as shares of the photo
    size: tuple[float, float]  # w, h as shares of the frame
    top: float  # its top edge, as a share of the frame height
    cross_s: float  # seconds to cross the frame from edge to edge
    blur: float  # Gaussian sigma as a share of the frame width
    shade: float = 0.3  # its brightness against the photo's


OCCLUDERS = {
    # a person walking close past the lens: taller than the frame, dark, out of focus
    "person": Occluder("zidane.jpg", (0.05, 0.1, 0.35, 0.9), (0.75, 1.5), -0.25, 0.7, 0.06),
    # a car or van passing close: a wide band over the lower part of the frame, faster
    "car": Occluder("bus.jpg", (0.0, 0.25, 1.0, 0.5), (1.8, 0.65), 0.4, 0.45, 0.04),
    # a person right at the lens: wider than the frame, its edge blurred over half of it
    "near": Occluder("zidane.jpg", (0.05, 0.1, 0.35, 0.9), (1.3, 2.0), -0.5, 1.0, 0.2),
    # the same in a light shirt: it never gets dark enough to look like black
    "near_light": Occluder("zidane.jpg", (0.55, 0.45, 0.3, 0.5), (1.3, 2.0), -0.5, 1.0, 0.2, 0.9),
}


def foreground_crossing(path: Path, when: str = "before", kind: str = "person",
                        first: float = 2.0, second: float = 2.0) -> Truth:
    """Two panning shots joined by a hard cut at ``first`` s, with an occluder (``OCCLUDERS``)
    crossing close to the lens: ``before`` the cut (leaving the frame at the cut), ``after`` it
    (entering at the cut), ``across`` it (a third of the way into the frame at the cut), or in a
    single shot (``when="none"``: no cut at all). Motion, not a blend: no dissolve, no fade."""
    w, h = SIZE
    occ = OCCLUDERS[kind]
    cx, cy, cw, ch = occ.crop
    bw, bh = int(round(occ.size[0] * w)) // 2 * 2, int(round(occ.size[1] * h)) // 2 * 2
    travel = w + bw  # from just outside the left edge to just outside the right
    start = {"before": first - occ.cross_s, "after": first, "across": first - occ.cross_s / 3,
             "none": first - occ.cross_s / 2}[when]
    x = f"-{bw}+{travel / occ.cross_s:.3f}*(t-{start:.3f})"
    alpha = "255*lte(pow((X-W/2)/(W/2),2)+pow((Y-H/2)/(H/2),2),1)"  # an ellipse, softened by the blur
    occluder = (f"[2:v]crop=iw*{cw}:ih*{ch}:iw*{cx}:ih*{cy},scale={bw}:{bh},format=yuva420p,"
                f"geq=lum='p(X,Y)*{occ.shade}':cb=128:cr=128:a='{alpha}',gblur=sigma={occ.blur * w:.1f},"
                f"fps={RATE},setpts=PTS-STARTPTS[o]")
    if when == "none":
        shots = f"[0:v]{_shot(PHOTOS[2], first + second)}[base]"
        truth = Truth()
    else:
        shots = (f"[0:v]{_shot(PHOTOS[2], first)}[s0];[1:v]{_shot(PHOTOS[3], second, -1)}[s1];"
                 "[s0][s1]concat=n=2:v=1:a=0[base]")
        truth = Truth(cuts=[round(first, 4)])
    graph = (f"{shots};{occluder};[base][o]overlay=x='{x}':y={int(round(occ.top * h))}:eval=frame"
             f":shortest=1,format=yuv420p[v]")
    _encode(path, _inputs([PHOTOS[2], PHOTOS[3], occ.photo]), graph)
    return truth


def dissolves(path: Path, durations: tuple[float, ...] = (0.3, 0.6, 1.2), shot_s: float = 3.0) -> Truth:
    """Panning shots of the four photos in turn joined by ``xfade`` dissolves of these lengths."""
    n = len(durations) + 1
    photos = [PHOTOS[i % len(PHOTOS)] for i in range(n)]
    chains = [f"[{i}:v]{_shot(p, shot_s, 1 if i % 2 else -1)}[s{i}]" for i, p in enumerate(photos)]
    graph, prev, length, truth = ";".join(chains), "s0", shot_s, Truth()
    for k, dur in enumerate(durations, start=1):
        offset = length - dur
        out = "v" if k == n - 1 else f"c{k}"
        graph += f";[{prev}][s{k}]xfade=transition=fade:duration={dur}:offset={offset}[{out}]"
        truth.gradual.append((round(offset, 4), round(offset + dur, 4), "dissolve"))
        length, prev = offset + shot_s, out
    _encode(path, _inputs(photos), graph)
    return truth

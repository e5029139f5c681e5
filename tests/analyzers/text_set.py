"""The labelled set of text_overlay's caption-vs-scene classifier (issue 25): clips made from the assets.

Two halves split by source: every video, photo, font and caption text belongs to one half only, so a
held-out clip shares nothing with a fitted one but the rules that made it. What each half is made from:
tests/analyzers/text_set_sources.py (fit: vtest.avi, bus.jpg, scenetext01.jpg, DejaVu and Noto Sans CJK;
held out: tree.avi, zidane.jpg, scenetext02.jpg in new segments and crops, Liberation, FreeFont, Noto
and Noto Serif CJK).

Categories (each clip is one; ``LABEL`` says what its drawn or pasted text is):
  caption_moving, caption_still  captions over footage or fast pans and zooms / over a held photo (several
                   fonts, styles, places)
  word_pops        3-4 words shown one after another, 0.5-0.7 s each
  boxed            captions on a box (drawtext box=1)
  two_line_shadow  two-line captions with a drop shadow
  handle           small @handles in a corner
  tripod_sign      a sign fixed in a tripod shot while people move past (and in front of) it
  vehicle_sign     a sign or lettering on a vehicle driving through a still shot
  handheld         a sign or a phone screen held in a shaking hand
  pan_zoom         sign photos under pans and zooms
  caption_zh       Chinese captions (plain, outlined or boxed; analysed with languages en + zh)
Every line read in a clip whose text matches the clip's drawn text gets the clip's label; any other line
(lettering in the photos) is scene text.

Frames are made here (numpy, cv2, PIL for the phone screens) at 360x640 and 10 fps, 3 s a clip, and
encoded by ffmpeg, which also draws the captions (drawtext).
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.analyzers.text_set_sources import COUNTS, FONT_ROOT, HALVES, LABEL, ZH

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO.parent / "shared" / "assets" / "media"
W, H, FPS, SECONDS = 360, 640, 10, 3.0
N = int(FPS * SECONDS)
STYLES = ["fontcolor=white:borderw=3:bordercolor=black", "fontcolor=yellow:borderw=2:bordercolor=black",
          "fontcolor=white:shadowx=3:shadowy=3:shadowcolor=black", "fontcolor=white", "fontcolor=red:borderw=2:bordercolor=white"]
BOXES = ["fontcolor=black:box=1:boxcolor=white@0.9:boxborderw=8", "fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6",
         "fontcolor=white:box=1:boxcolor=0xE0245E:boxborderw=10"]
PLACES = [("(w-tw)/2", "h*0.78"), ("(w-tw)/2", "h*0.12"), ("(w-tw)/2", "(h-th)/2"), ("w*0.06", "h*0.68")]


@dataclass
class Clip:
    name: str
    half: str
    category: str
    texts: list[str] = field(default_factory=list)   # what was drawn or pasted with the clip's label
    sources: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABEL[self.category]

    @property
    def languages(self) -> tuple[str, ...]:
        return ("en", "zh") if self.category in ZH else ("en",)


# -- backgrounds: 30 frames of 360x640 BGR ------------------------------------------------------------------

def _cover(img: np.ndarray, w: int = W, h: int = H) -> np.ndarray:
    import cv2

    s = max(w / img.shape[1], h / img.shape[0])
    big = cv2.resize(img, (int(np.ceil(img.shape[1] * s)), int(np.ceil(img.shape[0] * s))), interpolation=cv2.INTER_AREA)
    y, x = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return big[y:y + h, x:x + w].copy()


def _font(half: str, k: int) -> str:
    fonts = HALVES[half]["fonts"]
    return fonts[k % len(fonts)]


def footage(half: str, t0: float, dt: float, k: int) -> list[np.ndarray]:
    """3 s of the half's video at 10 fps, scaled to cover 360x640 (decoded by ffmpeg: OpenCV's reader stops
    early in tree.avi's Cinepak). fit: from t0 + dt * k, the centre crop; held out: other segments (start
    shifted and wrapped in the video), crops from the left, middle or right, mirrored."""
    r = HALVES[half]
    name, start = r["footage"], t0 + dt * k
    crop = f"crop={W}:{H}"
    if r["mirror"]:
        start = (t0 + r["shift"] + 0.8 * dt * k) % 25.5
        crop = f"crop={W}:{H}:(iw-{W})*{(k % 3) / 2}:0,hflip"
    vf = f"fps={FPS},scale=-2:{H},{crop}"
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", str(start), "-i", str(MEDIA / name), "-t",
                          str(SECONDS + 0.5), "-vf", vf, "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)
    if len(frames) < N:
        raise ValueError(f"{name} has no {SECONDS} s from {start} s")
    return [f.copy() for f in frames[:N]]


def photo(name: str, half: str = "fit") -> np.ndarray:
    """A photo as the half sees it (held out: its own crop of the file, zidane.jpg mirrored)."""
    import cv2

    img = cv2.imread(str(MEDIA / name))
    crop = HALVES[half]["crops"].get(name)
    if crop:
        img = img[crop[1]:crop[3], crop[0]:crop[2]]
    return np.ascontiguousarray(img[:, ::-1]) if name in HALVES[half]["mirror_photos"] else img


def still(name: str, letterbox: bool = False, half: str = "fit") -> list[np.ndarray]:
    import cv2

    img = photo(name, half)
    if letterbox:
        s = W / img.shape[1]
        small = cv2.resize(img, (W, int(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        frame = np.zeros((H, W, 3), np.uint8)
        y = (H - small.shape[0]) // 2
        frame[y:y + small.shape[0]] = small[:H]
    else:
        frame = _cover(img)
    return [frame.copy() for _ in range(N)]


def pan_zoom(name: str, k: int, half: str = "fit") -> list[np.ndarray]:
    """A pan (left, right, up) or a zoom (in, out) over a photo (held out: other motions and sizes per k)."""
    import cv2

    img = photo(name, half)
    k = k if half == "fit" else k + 2
    motion = ("right", "left", "up", "zoom_in", "zoom_out")[k % 5]
    big = cv2.resize(img, None, fx=(1000 + 150 * (k % 3)) / img.shape[0], fy=(1000 + 150 * (k % 3)) / img.shape[0],
                     interpolation=cv2.INTER_AREA)
    bh, bw = big.shape[:2]
    out = []
    for i in range(N):
        f = i / (N - 1)
        if motion.startswith("zoom"):
            z = 1 + 0.6 * (f if motion == "zoom_in" else 1 - f)
            cw, ch = int(bw / z), int(bw / z * H / W)
            ch = min(ch, bh)
            cw = int(ch * W / H)
            x, y = (bw - cw) // 2, (bh - ch) // 2
            out.append(cv2.resize(big[y:y + ch, x:x + cw], (W, H), interpolation=cv2.INTER_AREA))
            continue
        span_x, span_y = max(0, bw - W), max(0, bh - H)
        x = int(span_x * (f if motion == "right" else 1 - f) if motion != "up" else span_x / 2)
        y = int(span_y * (1 - f) if motion == "up" else span_y / 2)
        out.append(big[y:y + H, x:x + W].copy())
    return out


def _paste(frame: np.ndarray, obj: np.ndarray, x: int, y: int, mask: np.ndarray | None = None) -> None:
    """Paste ``obj`` with its top-left at (x, y), clipped to the frame (``mask``: where it is opaque)."""
    h, w = obj.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(frame.shape[1], x + w), min(frame.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    part = obj[y0 - y:y1 - y, x0 - x:x1 - x]
    if mask is None:
        frame[y0:y1, x0:x1] = part
    else:
        m = mask[y0 - y:y1 - y, x0 - x:x1 - x, None]
        frame[y0:y1, x0:x1] = np.where(m, part, frame[y0:y1, x0:x1])


def _sign(half: str, width: int, which: str = "sign") -> np.ndarray:
    import cv2

    name, (x1, y1, x2, y2) = HALVES[half][which]
    crop = photo(name)[y1:y2, x1:x2]  # the sign's box is in the file's own pixels
    return cv2.resize(crop, (width, int(crop.shape[0] * width / crop.shape[1])), interpolation=cv2.INTER_AREA)


# -- scene text composited into the picture ---------------------------------------------------------------

def tripod_sign(half: str, k: int) -> list[np.ndarray]:
    """A sign fixed in a tripod shot while people move past. fit: scenetext01's sign pasted on the wall of
    vtest.avi's fixed shot, the walkers (what differs from the shot's median) drawn in front of it;
    held_out: scenetext02 held still while a person from zidane.jpg walks across in front of its sign."""
    import cv2

    if half == "fit":
        frames = footage(half, 3.0, 6, k)
        bg = np.median(np.stack(frames[::3]), axis=0).astype(np.uint8)
        sign = _sign(half, 110 + 12 * (k % 4))
        x, y = 40 + 37 * (k % 5), 240 + 30 * (k % 4)
        out = []
        for f in frames:
            walker = cv2.dilate((np.abs(f.astype(int) - bg).max(axis=2) > 30).astype(np.uint8), np.ones((5, 5), np.uint8))
            g = f.copy()
            _paste(g, sign, x, y)
            g[walker > 0] = f[walker > 0]
            out.append(g)
        return out
    base = still(HALVES[half]["sign"][0], half=half)[0]
    person = photo(HALVES[half]["photo"], half)[40:720, 80 + 270 * (k % 2):480 + 270 * (k % 2)]
    person = cv2.resize(person, (150, 255), interpolation=cv2.INTER_AREA)
    mask = np.zeros(person.shape[:2], np.uint8)
    cv2.ellipse(mask, (75, 128), (60, 125), 0, 0, 360, 1, -1)
    speed = 70 + 25 * (k % 4)
    out = []
    for i in range(N):
        g = base.copy()
        x = int(-150 + speed * i / FPS) if k % 2 == 0 else int(W - speed * i / FPS)
        _paste(g, person, x, 330 - 25 * (k % 4), mask.astype(bool))
        out.append(g)
    return out


def vehicle_sign(half: str, k: int) -> list[np.ndarray]:
    """Lettering on a vehicle driving through a still shot: fit: the bus of bus.jpg over a still frame of
    vtest.avi; held_out: scenetext02's sign board (on a truck) over a still frame of tree.avi."""
    base = footage(half, 2.0, 4, k)[0]
    obj = _sign(half, 240 + 30 * (k % 3), "vehicle")
    speed = 120 + 60 * (k % 3)
    y = 260 + 40 * (k % 4)
    back = half != "fit" and k % 2 == 1  # held out: every other vehicle drives left to right
    out = []
    for i in range(N):
        g = base.copy()
        _paste(g, obj, int(-obj.shape[1] + 40 + speed * i / FPS) if back else int(W - 40 - speed * i / FPS), y)
        out.append(g)
    return out


def _screen(half: str, k: int) -> np.ndarray:
    """A phone's lock screen (dark rounded panel, white text), drawn with the half's font."""
    from PIL import Image, ImageDraw, ImageFont

    text = HALVES[half]["screens"][k % len(HALVES[half]["screens"])]
    font = ImageFont.truetype(str(FONT_ROOT / _font(half, k)), 20)
    img = Image.new("RGB", (190, 300), (240, 240, 240))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((6, 6, 184, 294), radius=18, fill=(25, 30, 40))
    d.text((95, 120), "12:4" + str(k % 10), font=ImageFont.truetype(str(FONT_ROOT / _font(half, k)), 36),
           fill=(255, 255, 255), anchor="mm")
    d.text((95, 180), text, font=font, fill=(255, 255, 255), anchor="mm")
    return np.asarray(img)[:, :, ::-1].copy()


def handheld(half: str, k: int) -> list[np.ndarray]:
    """A sign (even k) or a phone screen (odd k) held in a shaking hand over the half's footage."""
    import cv2

    frames = footage(half, 1.0, 5, k)
    obj = _sign(half, 150) if k % 2 == 0 else _screen(half, k)
    rng = np.random.default_rng(k)
    pos = np.cumsum(rng.normal(0, 5 + k % 3 * 3, (N, 2)), axis=0)
    out = []
    for i, f in enumerate(frames):
        m = cv2.getRotationMatrix2D((obj.shape[1] / 2, obj.shape[0] / 2), float(rng.normal(0, 2)), 1.0)
        o = cv2.warpAffine(obj, m, (obj.shape[1], obj.shape[0]), borderMode=cv2.BORDER_REPLICATE)
        g = f.copy()
        x0, y0 = (100, 220) if half == "fit" else (40 + 30 * (k % 5), 160 + 40 * (k % 4))
        _paste(g, o, int(x0 + pos[i, 0]), int(y0 + pos[i, 1]))
        out.append(g)
    return out


# -- captions (ffmpeg drawtext) -------------------------------------------------------------------------------

def _draw(text: str, font: str, size: int, style: str, x: str, y: str, start: float = 0.0, end: float = 99.0) -> str:
    return (f"drawtext=fontfile={FONT_ROOT / font}:text='{text}':fontsize={size}:{style}:x={x}:y={y}"
            f":enable='gte(t,{start:.2f})*lt(t,{end:.2f})'")


def _captions(half: str, category: str, k: int) -> tuple[list[str], list[str]]:
    """(drawtext filters, the texts they draw) of an overlay clip."""
    r = HALVES[half]
    font, caps = _font(half, k), r["captions"]
    a, b = caps[k % len(caps)], caps[(k + 3) % len(caps)]
    start = 0.5 if k % 2 else 0.0
    size = (22, 26, 30)[k % 3]
    if category in ("caption_moving", "caption_still"):
        x, y = PLACES[k % 4]
        return ([_draw(a, font, size, STYLES[k % 5], x, y, start),
                 _draw(b, font, size - 2, STYLES[(k + 2) % 5], "(w-tw)/2", "h*0.12" if "0.12" not in y else "h*0.80")],
                [a, b])
    if category == "caption_zh":  # Chinese captions (analysed with languages en + zh)
        zc, x, y = r["zh_captions"], *PLACES[k % 3]
        a, b = zc[k % len(zc)], zc[(k + 2) % len(zc)]
        return ([_draw(a, r["zh_font"], size + 4, STYLES[k % 5], x, y, start),
                 _draw(b, r["zh_font"], size, BOXES[k % 3] if k % 2 else STYLES[(k + 3) % 5], "(w-tw)/2",
                       "h*0.12" if "0.12" not in y else "h*0.80")], [a, b])
    if category == "boxed":
        return ([_draw(a, font, size, BOXES[k % 3], "(w-tw)/2", "h*0.74", start),
                 _draw(b, font, size - 4, BOXES[(k + 1) % 3], "w*0.08", "h*0.18")], [a, b])
    if category == "two_line_shadow":
        words = (a + " " + b).split()
        half_n = len(words) // 2
        l1, l2 = " ".join(words[:half_n]), " ".join(words[half_n:])
        shadow = f"fontcolor=white:shadowx={2 + k % 3}:shadowy={2 + k % 3}:shadowcolor=black@0.8"
        return ([_draw(l1, font, size, shadow, "(w-tw)/2", "h*0.70", start),
                 _draw(l2, font, size, shadow, "(w-tw)/2", f"h*0.70+{int(size * 1.35)}", start)], [l1, l2])
    if category == "handle":
        hs = r["handles"]
        h1, h2 = hs[k % len(hs)], hs[(k + 1) % len(hs)]
        style = ("fontcolor=white", "fontcolor=white@0.85:shadowx=1:shadowy=1", "fontcolor=white:borderw=1:bordercolor=black")[k % 3]
        return ([_draw(h1, font, 16 + k % 3, style, "w*0.05", "h*0.90"),
                 _draw(h2, font, 15 + k % 3, style, "w-tw-12", "h*0.05")], [h1, h2])
    # word pops: each word 0.5-0.7 s, one after another
    words, t, draws = r["pops"][k % len(r["pops"])], 0.3, []
    for i, wd in enumerate(words):
        d = 0.5 + 0.1 * ((k + i) % 3)
        draws.append(_draw(wd, font, 44 + 4 * (k % 3), STYLES[k % 3], "(w-tw)/2", "h*0.45", t, t + d))
        t += d
    return draws, list(words)


# -- the set ----------------------------------------------------------------------------------------------------

def _background(half: str, category: str, k: int, frames: bool = True) -> tuple[list[np.ndarray], list[str]]:
    """(the clip's frames, its sources); with ``frames`` False only the sources (the clip exists)."""
    sources = _background_sources(half, category, k)
    if not frames:
        return [], sources
    if category == "tripod_sign":
        return tripod_sign(half, k), sources
    if category == "vehicle_sign":
        return vehicle_sign(half, k), sources
    if category == "handheld":
        return handheld(half, k), sources
    if category in ("pan_zoom", "caption_still") or (category == "caption_moving" and k % 3 == 2):
        name = sources[0]
        if category == "caption_still":  # a caption over a still picture (maybe one that holds a sign)
            return still(name, letterbox=k % 2 == 1, half=half), sources
        return pan_zoom(name, k, half), sources  # signs under pans and zooms; captions over fast motion
    if category in ("word_pops", "handle", "caption_zh") and k % 2 == 1:
        return still(sources[0], letterbox=k % 4 == 3, half=half), sources
    return footage(half, 1.5, 4.5, k), sources


def _background_sources(half: str, category: str, k: int) -> list[str]:
    r = HALVES[half]
    if category == "tripod_sign":
        return [r["footage"], r["sign"][0]] if half == "fit" else [r["sign"][0], r["photo"]]
    if category == "vehicle_sign":
        return [r["footage"], r["vehicle"][0]]
    if category == "handheld":
        return [r["footage"]] + ([r["sign"][0]] if k % 2 == 0 else [])
    if category == "pan_zoom":
        return [r["sign"][0] if k < 6 or half == "held_out" else r["photo"]]
    if category == "caption_still":
        return [r["sign"][0] if k % 3 == 2 else r["photo"]]
    if category == "caption_moving" and k % 3 == 2:
        return [r["photo"]]
    if category in ("word_pops", "handle", "caption_zh") and k % 2 == 1:
        return [r["photo"]]
    return [r["footage"]]


def _encode(frames: list[np.ndarray], draws: list[str], out: Path) -> None:
    vf = ",".join([*draws, "format=yuv420p"])
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{W}x{H}",
           "-r", str(FPS), "-i", "-", "-vf", vf, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", str(out)]
    data = b"".join(np.ascontiguousarray(f[:H, :W]).tobytes() for f in frames)
    subprocess.run(cmd, input=data, check=True)


def clip_sources(half: str, category: str, k: int) -> list[str]:
    """Every file a clip is made from: its video or photos and the fonts it draws with."""
    fonts = []
    if LABEL[category] == "overlay" or category == "handheld":
        fonts.append(_font(half, k))
    if category == "caption_zh":
        fonts.append(HALVES[half]["zh_font"])
    return _background_sources(half, category, k) + fonts


def make_set(out: Path, halves: tuple[str, ...] = tuple(HALVES)) -> list[tuple[Clip, Path]]:
    """Every clip of the halves asked for (made once: an existing file is kept), with its path."""
    out.mkdir(parents=True, exist_ok=True)
    clips = []
    for half in halves:
        for category, n in COUNTS[half].items():
            for k in range(n):
                draws, texts = _captions(half, category, k) if LABEL[category] == "overlay" else ([], [])
                path = out / f"{half}_{category}_{k:02d}.mp4"
                frames, _ = _background(half, category, k, frames=not path.exists())
                if not path.exists():
                    _encode(frames, draws, path)
                clips.append((Clip(path.stem, half, category, texts, clip_sources(half, category, k)), path))
    return clips


def all_clips() -> list[Clip]:
    """Every clip of both halves with its sources and drawn texts, without making any."""
    return [Clip(f"{h}_{c}_{k:02d}", h, c, _captions(h, c, k)[1] if LABEL[c] == "overlay" else [],
                 clip_sources(h, c, k)) for h in HALVES for c, n in COUNTS[h].items() for k in range(n)]


def check_split(clips: list[Clip]) -> None:
    """No source (video, photo, font) and no drawn text in both halves."""
    for what in ("sources", "texts"):
        used = {h: {s for c in clips if c.half == h for s in getattr(c, what)} for h in HALVES}
        both = used["fit"] & used["held_out"]
        if both:
            raise AssertionError(f"{what} in both halves: {sorted(both)}")

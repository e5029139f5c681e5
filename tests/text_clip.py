"""The on-screen-text benchmark clip of issue 24: 36 s, 720x1280, six text appearances whose truth is known.

Made with ffmpeg from the real footage and photos in ../shared/assets (``make_clip``); the bench
(tests/bench_text.py) and the analyzer tests read ``TRUTH``. Six shots of 6 s, joined by hard cuts:

  0-6 s   vtest.avi (people walking), letterboxed: caption "WAIT FOR IT" 1.0-4.0 s over the moving picture
  6-12 s  scenetext01.jpg held still, letterboxed (its signs are scene text from 6.0 s): the pattern 2.1.0
          missed, a bold centred caption "PART 2 IS HERE" one second after the cut, 7.0-11.0 s
  12-18 s tree.avi (handheld): word pops "THIS" "IS" "SO" "GOOD", 0.6 s each from 12.5 s
  18-24 s bus.jpg held still: a "TAXI" roof sign on a car driving through, on screen 20.0-20.6 s
  24-30 s bus.jpg under a fast pan (80 px/s on the sampled frame): caption "LINK IN BIO" 24.5-29.5 s
  30-36 s vtest.avi again, letterboxed, with nothing drawn on it

The sign's words and the car's are scene text; everything else is an overlay caption.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.media import MEDIA, ffmpeg

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SIZE = (720, 1280)
RATE = 30
SHOT_S = 6.0
DURATION_S = 36.0


@dataclass(frozen=True)
class Text:
    """One text appearance: its words, when it is on screen and what it is."""

    text: str
    start: float
    end: float
    kind: str  # overlay | scene


WORD_POPS = [Text(w, 12.5 + 0.6 * i, 13.1 + 0.6 * i, "overlay") for i, w in enumerate(["THIS", "IS", "SO", "GOOD"])]
TRUTH: list[Text] = [
    Text("WAIT FOR IT", 1.0, 4.0, "overlay"),
    Text("PARKING", 6.0, 12.0, "scene"),            # scenetext01's sign (DOUBLE PARKING PROHIBITED)
    Text("PART 2 IS HERE", 7.0, 11.0, "overlay"),
    *WORD_POPS,
    Text("TAXI", 20.0, 20.6, "scene"),
    Text("LINK IN BIO", 24.5, 29.5, "overlay"),
]
CUTS = [6.0, 12.0, 18.0, 24.0, 30.0]


def _caption(text: str, start: float, end: float, y: str = "h*0.72", size: int = 64) -> str:
    return (f"drawtext=fontfile={FONT}:text='{text}':fontsize={size}:fontcolor=white:borderw=4:bordercolor=black:"
            f"x=(w-tw)/2:y={y}:enable='gte(t,{start:.3f})*lt(t,{end:.3f})'")


def _shots() -> tuple[list[str], list[str]]:
    """(ffmpeg inputs, one filter chain per shot, each 6 s at 720x1280 and 30 fps, on its own clock from 0)."""
    w, h = SIZE
    fps = f"fps={RATE},trim=duration={SHOT_S},setpts=PTS-STARTPTS"
    letterbox = f"scale={w}:-2,pad={w}:{h}:0:(oh-ih)/2"
    photo = ["-loop", "1", "-framerate", str(RATE)]
    inputs = ["-i", str(MEDIA / "vtest.avi"),
              *photo, "-i", str(MEDIA / "scenetext01.jpg"),
              "-i", str(MEDIA / "tree.avi"),
              *photo, "-i", str(MEDIA / "bus.jpg"),
              *photo, "-i", str(MEDIA / "bus.jpg"),
              "-ss", "20", "-i", str(MEDIA / "vtest.avi")]
    # the car's lit roof sign, driving right to left at 900 px/s for 0.6 s (on the shot's own clock)
    car_t0, car_t1 = 2.0, 2.6
    car = (f"drawtext=fontfile={FONT}:text='TAXI':fontsize=72:fontcolor=black:box=1:boxcolor=yellow:"
           f"boxborderw=10:x='520-(t-{car_t0})*900':y=660:"
           f"enable='gte(t,{car_t0})*lt(t,{car_t1})'")
    # text is drawn after the frame rate is fixed, so that it is on screen exactly over its span
    chains = [
        f"{letterbox},{fps},{_caption('WAIT FOR IT', 1.0, 4.0)}",
        f"{letterbox},{fps},{_caption('PART 2 IS HERE', 1.0, 5.0, y='h*0.62', size=72)}",
        f"scale=-2:{h},crop={w}:{h},{fps},"
        + ",".join(_caption(p.text, p.start - 12.0, p.end - 12.0, y="h*0.45", size=96) for p in WORD_POPS),
        f"scale=-2:{h},crop={w}:{h}:(iw-ow)/2:0,{fps},{car}",
        f"scale=-2:{int(h * 1.6)},crop={w}:{h}:'min(iw-ow,t*160)':'(ih-oh)/2',{fps},"
        f"{_caption('LINK IN BIO', 0.5, 5.5, y='h*0.15')}",
        f"{letterbox},{fps}",
    ]
    chains = [f"{c},format=yuv420p,setsar=1" for c in chains]
    return inputs, chains


def make_clip(out: Path) -> Path:
    """Write the 36 s benchmark clip to ``out`` (H.264, 30 fps) with a sound track like a TikTok's:
    JFK's speech (jfk.flac, looped) over quiet music (macroform-cold_day.wav, looped), mono AAC, so
    the whole pipeline's figure includes the audio analyzers."""
    inputs, chains = _shots()
    n = len(chains)
    graph = ";".join(f"[{i}:v]{c}[s{i}]" for i, c in enumerate(chains))
    graph += ";" + "".join(f"[s{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[v]"
    graph += (f";[{n}:a]aresample=44100,aformat=channel_layouts=mono,volume=1.0[sp]"
              f";[{n + 1}:a]aresample=44100,aformat=channel_layouts=mono,volume=0.25[mu]"
              f";[sp][mu]amix=inputs=2:duration=longest:normalize=0[a]")
    audio = ["-stream_loop", "-1", "-i", str(MEDIA / "jfk.flac"),
             "-stream_loop", "-1", "-i", str(MEDIA / "macroform-cold_day.wav")]
    ffmpeg(*inputs, *audio, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-t", str(DURATION_S),
           "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-r", str(RATE),
           "-c:a", "aac", "-b:a", "96k", str(out))
    return out


if __name__ == "__main__":
    import sys

    print(make_clip(Path(sys.argv[1] if len(sys.argv) > 1 else "text_clip.mp4")))

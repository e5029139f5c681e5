"""Measure content_quality's bitrate reference (``full_bpp``): the bits per pixel where H.264 stops losing.

``python -m tests.quality_bpp`` (ffmpeg only; about 4 CPU minutes). Six 2 s 720x1280 clips made
from the real assets (photos panned, tilted and zoomed; the street video and the tree video as 9:16
crops) are encoded losslessly (FFV1) as the reference,
then by libx264 (preset medium, the encoder's default) at a ladder of bits per pixel per frame
(``LADDER``), and each encode's SSIM (luma) against the reference is measured by ffmpeg's ``ssim``
filter. Each clip's reference is the bits per pixel where its SSIM reaches ``SSIM_FULL`` (0.98:
differences that hold at close inspection only), found by interpolating in log bits per pixel
between the rungs around it; ``full_bpp`` is the median over the clips, to 2 significant figures.
The content_quality manifest's ``full_bpp`` default must be this value
(``tests/analyzers/test_nulls.py`` re-measures it).
"""
from __future__ import annotations

import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.media import MEDIA

W, H, FPS, SECONDS = 720, 1280, 30, 2.0
LADDER = (0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
SSIM_FULL = 0.98
CROP = f"crop='min(iw,ih*{W}/{H})':'min(ih,iw*{H}/{W})'"
#: name -> (input args, filter chain to a 720x1280 30 fps picture). No added grain: a phone's image
#: processing denoises, and temporal grain (ffmpeg noise=c0s=5:allf=t) never reached SSIM 0.98
#: against its grainy reference even at 0.3 bpp (0.92-0.95): it measures the grain, not the encoder.
CLIPS = {
    "bus pan": (["-loop", "1", "-i", str(MEDIA / "bus.jpg")],
                f"scale=-2:{2 * H},crop={W}:{H}:x='(iw-ow)/2+120*t':y='(ih-oh)/2'"),
    "zidane pan": (["-loop", "1", "-i", str(MEDIA / "zidane.jpg")],
                   f"scale=-2:{2 * H},crop={W}:{H}:x='(iw-ow)/2-120*t':y='(ih-oh)/2'"),
    "scenetext02 tilt": (["-loop", "1", "-i", str(MEDIA / "scenetext02.jpg")],
                         f"scale=-2:{H + 320},crop={W}:{H}:x='(iw-ow)/2':y='(ih-oh)/2-80+80*t'"),
    "scenetext01 zoom": (["-loop", "1", "-i", str(MEDIA / "scenetext01.jpg")],
                         f"scale=-2:{2 * H},zoompan=z='1+0.1*on/{FPS}':x='iw/2-iw/zoom/2':"
                         f"y='ih/2-ih/zoom/2':d=1:s={W}x{H}:fps={FPS}"),
    "vtest street": (["-ss", "20", "-i", str(MEDIA / "vtest.avi")], f"{CROP},scale={W}:{H}"),
    "tree": (["-ss", "5", "-i", str(MEDIA / "tree.avi")], f"{CROP},scale={W}:{H}"),
}


def _ffmpeg(*args: str) -> str:
    return subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-y", *args], check=True,
                          capture_output=True, text=True).stderr


def _reference(folder: Path, name: str, inputs: list[str], chain: str) -> Path:
    ref = folder / f"{re.sub(r'[^a-z0-9]+', '_', name)}.mkv"
    _ffmpeg(*inputs, "-t", f"{SECONDS}", "-vf", f"{chain},fps={FPS},format=yuv420p,setsar=1",
            "-c:v", "ffv1", str(ref))
    return ref


def ssim_at(ref: Path, bpp: float, folder: Path) -> float:
    """SSIM (luma) of libx264 at ``bpp`` bits per pixel per frame against the reference."""
    rate = bpp * W * H * FPS
    out = folder / "enc.mp4"
    _ffmpeg("-i", str(ref), "-c:v", "libx264", "-preset", "medium", "-threads", "1", "-b:v", f"{rate:.0f}",
            "-maxrate", f"{1.5 * rate:.0f}", "-bufsize", f"{2 * rate:.0f}", "-pix_fmt", "yuv420p", str(out))
    # frames paired by number: the two containers' timestamps differ, and ssim pairs by timestamp
    pair = f"[0:v]setpts=N/{FPS}/TB[a];[1:v]setpts=N/{FPS}/TB[b];[a][b]ssim"
    log = _ffmpeg("-i", str(out), "-i", str(ref), "-lavfi", pair, "-f", "null", "-")
    return float(re.search(r"SSIM Y:([\d.]+)", log).group(1))


def full_bpp_of(curve: list[tuple[float, float]]) -> float | None:
    """Where SSIM crosses SSIM_FULL, interpolated in log bpp; None when it never does."""
    for (b0, s0), (b1, s1) in zip(curve, curve[1:]):
        if s0 < SSIM_FULL <= s1:
            f = (SSIM_FULL - s0) / (s1 - s0)
            return math.exp(math.log(b0) + f * (math.log(b1) - math.log(b0)))
    return curve[0][0] if curve and curve[0][1] >= SSIM_FULL else None


def measure(log=print) -> tuple[float, dict[str, float | None]]:
    folder = Path(tempfile.mkdtemp(prefix="quality_bpp_"))
    try:
        per_clip = {}
        for name, (inputs, chain) in CLIPS.items():
            ref = _reference(folder, name, inputs, chain)
            curve = [(b, ssim_at(ref, b, folder)) for b in LADDER]
            per_clip[name] = full_bpp_of(curve)
            log(f"{name:20s} " + " ".join(f"{b:g}:{s:.4f}" for b, s in curve)
                + f"  -> SSIM {SSIM_FULL} at {per_clip[name] and round(per_clip[name], 4)} bpp")
        found = [v for v in per_clip.values() if v is not None]
        return float(f"{statistics.median(found):.2g}"), per_clip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    if not shutil.which("ffmpeg"):
        print("ffmpeg missing", file=sys.stderr)
        return 2
    value, _ = measure()
    print(f"full_bpp = {value} (median over {len(CLIPS)} clips, libx264 preset medium, SSIM Y {SSIM_FULL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

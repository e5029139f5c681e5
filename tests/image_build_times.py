"""How long each image of a sequential build took, read from the daemon after the build.

`runner images build` (and so `make ci-images`) builds one image after another; each image's
``Created`` time is when its last layer was committed, so the gap to the image committed before it
is that image's build time (the first one's gap is from the image named by ``--since``). Only a
sequential build on an otherwise idle daemon gives clean gaps: an image built by someone else in
between shows up in the list, and its gap is taken out of the next one's.

    .venv/bin/python -m tests.image_build_times                              # every localhost/tiktok-runner image
    .venv/bin/python -m tests.image_build_times --since base-torch:2.14.1-0.29.1 --prefix localhost/tiktok-runner
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime


def images(prefix: str) -> list[tuple[datetime, str, int]]:
    out = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter",
                          f"reference={prefix}/*"], capture_output=True, text=True, check=True).stdout.split()
    rows = []
    for ref in out:
        created, size = subprocess.run(["docker", "image", "inspect", "-f", "{{.Created}} {{.Size}}", ref],
                                       capture_output=True, text=True, check=True).stdout.split()
        rows.append((datetime.fromisoformat(created[:26].rstrip("Z")), ref.removeprefix(prefix + "/"), int(size)))
    return sorted(rows)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefix", default="localhost/tiktok-runner")
    ap.add_argument("--since", help="start from this image (name:tag without the prefix)")
    args = ap.parse_args(argv)
    rows = images(args.prefix)
    if args.since:
        rows = rows[[name for _, name, _ in rows].index(args.since):]
    for (t0, _, _), (t1, name, size) in zip(rows, rows[1:]):
        print(f"{t1:%H:%M:%S}  {name:<45} {(t1 - t0).total_seconds() / 60:5.1f} min  {size / 1e9:5.2f} GB")
    if len(rows) > 1:
        print(f"{len(rows) - 1} images after {rows[0][1]} in {(rows[-1][0] - rows[0][0]).total_seconds() / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The bytes of ``runner models pull``: HTTP downloads that show progress and resume with ``Range``, copies
from a mirror folder, and archives unpacked so that no member lands outside its folder."""
from __future__ import annotations

import http.client
import shutil
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import TextIO

CHUNK = 1 << 16
TIMEOUT_S = 30.0


class PullError(Exception):
    """One model could not be put in the store (the store is unchanged)."""


# ---------------------------------------------------------------- progress
class Progress:
    def __init__(self, label: str, total: int | None, stream: TextIO, start: int = 0):
        self.label, self.total, self.stream, self.done = label, total, stream, start
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0
        self._last_pct = -1

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty and now - self._last > 0.2:
            self._last = now
            self.stream.write(f"\r  {self.label}: {self._text()}")
            self.stream.flush()
        elif not self.tty and self.total:
            pct = int(self.done * 4 / self.total) * 25
            if pct != self._last_pct and pct < 100:
                self._last_pct = pct
                self.stream.write(f"  {self.label}: {self._text()}\n")

    def end(self) -> None:
        self.stream.write(("\r" if self.tty else "") + f"  {self.label}: {self._text()}\n")
        self.stream.flush()

    def _text(self) -> str:
        mib = self.done / 2**20
        if self.total:
            return f"{mib:.1f}/{self.total / 2**20:.1f} MiB ({100 * self.done / self.total:.0f}%)"
        return f"{mib:.1f} MiB"


# ---------------------------------------------------------------- sources
def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def _join(base: str, rel: str) -> str:
    return base.rstrip("/") + "/" + urllib.parse.quote(rel)


def download(url: str, part: Path, label: str, stream: TextIO, opener=urllib.request.urlopen) -> None:
    """Fetch ``url`` into ``part``, continuing a partial ``part`` with a Range request."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "tiktok-runner-models-pull"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = opener(req, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part is whole (checked by the caller)
            return
        raise PullError(f"HTTP {exc.code} {exc.reason} from {url}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise PullError(f"cannot reach {url}: {reason}") from None
    with resp:
        status = getattr(resp, "status", 200)
        length = resp.headers.get("Content-Length")
        if have and status == 206:
            rng = resp.headers.get("Content-Range", "")
            if not rng.startswith(f"bytes {have}-"):
                raise PullError(f"{url} answered a resume with the wrong range ({rng!r})")
            total = int(rng.rsplit("/", 1)[1]) if rng.rsplit("/", 1)[-1].isdigit() else None
            mode, start = "ab", have
            stream.write(f"  {label}: resuming at {have / 2**20:.1f} MiB\n")
        else:  # a fresh download, or a server that ignores Range: start over
            total = int(length) if length and length.isdigit() else None
            mode, start = "wb", 0
        prog = Progress(label, total, stream, start)
        got = start
        try:
            with open(part, mode) as fh:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    fh.write(block)
                    got += len(block)
                    prog.add(len(block))
        except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
            raise PullError(f"download of {url} cut at {got} of {total or '?'} bytes ({type(exc).__name__}); "
                            f"run the same command again to resume") from None
        if total is not None and got < total:
            raise PullError(f"download of {url} cut at {got} of {total} bytes; run the same command again to resume")
        prog.end()


def _copy_file(src: Path, dst: Path, label: str, stream: TextIO) -> None:
    prog = Progress(label, src.stat().st_size, stream)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while block := fi.read(1 << 20):
            fo.write(block)
            prog.add(len(block))
    prog.end()


def _safe_extract(archive: Path, dest: Path) -> None:
    """Unpack regular files and folders only, never outside ``dest`` (no links, devices, absolute paths)."""
    def check(name: str) -> Path:
        p = PurePosixPath(name)
        if p.is_absolute() or ".." in p.parts:
            raise PullError(f"archive {archive.name} has an unsafe member {name!r}")
        return dest.joinpath(*p.parts)

    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                for info in z.infolist():
                    out = check(info.filename)
                    if info.is_dir():
                        out.mkdir(parents=True, exist_ok=True)
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(info) as fi, open(out, "wb") as fo:
                        shutil.copyfileobj(fi, fo)
        else:
            with tarfile.open(archive) as t:
                for info in t:
                    out = check(info.name)
                    if info.isdir():
                        out.mkdir(parents=True, exist_ok=True)
                    elif info.isfile():
                        out.parent.mkdir(parents=True, exist_ok=True)
                        with t.extractfile(info) as fi, open(out, "wb") as fo:  # type: ignore[union-attr]
                            shutil.copyfileobj(fi, fo)
                    else:
                        raise PullError(f"archive {archive.name} has a link or special file {info.name!r}")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise PullError(f"archive {archive.name} cannot be read: {exc}") from None


def _archive_root(unpacked: Path, rel: str) -> Path:
    """The folder in an unpacked archive that is the model: its own name, the only top folder, or all."""
    base = PurePosixPath(rel).name
    kids = list(unpacked.iterdir())
    if (unpacked / base).is_dir():
        return unpacked / base
    if len(kids) == 1 and kids[0].is_dir():
        return kids[0]
    return unpacked

"""``runner models pull``: put declared store models into the store, verified, or leave it as it was.

A model comes from a mirror (``--from``: an http(s) base URL or a folder laid out like the store) or,
without one, from its manifest's ``url``. Bytes land in a staging folder on the store's filesystem
(``<store parent>/.<store name>.pull/``), as ``<key>.part``; a cut download is resumed with an HTTP
``Range`` request on the next call. The sha256 (of the file, or of a folder's manifest of file hashes:
:func:`shared_schema.checksum.sha256_path`) is checked before the model is renamed into the store in
one ``os.replace``; on any failure (wrong sha256, cut connection, 404, a bad archive) the store is
untouched and the error is one line. Folder models come from a mirror folder or from an archive
(``.tar.gz``, ``.tgz``, ``.tar``, ``.zip``): ``url``, or ``<mirror>/<path>.tar.gz`` on an http mirror.
A model with no download (an export made from other weights) is reported with the command that makes it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

from runner.models.transfer import PullError, _archive_root, _copy_file, _is_url, _join, _safe_extract, download
from runner.core.registry import Registry
from shared_schema.checksum import sha256_path
from shared_schema.manifest import ModelRequirement

ARCHIVES = (".tar.gz", ".tgz", ".tar", ".zip")
COMPANIONS = ("metadata.yaml",)  # an Ultralytics export's metadata beside a declared file (class names, imgsz)
CHUNK = 1 << 16
TIMEOUT_S = 30.0


class NotFetchable(PullError):
    """No download exists for it: it is made by a command (an export, another tool)."""


@dataclass(frozen=True)
class Target:
    analyzers: tuple[str, ...]
    model: ModelRequirement

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def rel(self) -> str:
        return self.model.path.rstrip("/")  # type: ignore[union-attr]

    @property
    def folder(self) -> bool:
        """A folder model: the manifest's path ends with ``/`` or names no file extension it could be."""
        return self.model.path.endswith("/") or not PurePosixPath(self.rel).suffix  # type: ignore[union-attr]


def pull_fix(name: str) -> str:
    return f"runner models pull {name}"


def targets(registry: Registry, names: list[str] | None = None) -> list[Target]:
    """The store models to pull: every declared one, or those named (model or analyzer names)."""
    by_path: dict[str, tuple[list[str], ModelRequirement]] = {}
    for an, entry in sorted(registry.items()):
        for m in entry.manifest.models:
            if m.path:
                by_path.setdefault(m.path.rstrip("/"), ([], m))[0].append(an)
    out = [Target(tuple(a), m) for a, m in by_path.values()]
    if not names:
        return out
    picked, unknown = [], []
    for n in names:
        hit = [t for t in out if t.name == n or n in t.analyzers]
        if not hit:
            unknown.append(n)
        picked += [t for t in hit if t not in picked]
    if unknown:
        known = sorted({t.name for t in out})
        raise PullError(f"no store model or analyzer named {', '.join(unknown)} (store models: {', '.join(known)})")
    return picked


def manual_command(m: ModelRequirement) -> str | None:
    """The by-hand command in a manifest's ``fix`` (after ``or by hand:``), or the whole fix."""
    if not m.fix:
        return None
    fix = m.fix
    marker = "or by hand: "
    if marker in fix:
        return fix.split(marker, 1)[1]
    return None if fix.startswith("runner models pull") else fix


# ---------------------------------------------------------------- the pull
class Puller:
    def __init__(self, store: Path, mirror: str | None = None, stream: TextIO | None = None,
                 opener: Callable = urllib.request.urlopen):
        self.store = store
        self.mirror = mirror
        self.stream = stream or sys.stderr
        self.opener = opener
        if mirror and not _is_url(mirror) and not Path(mirror).is_dir():
            raise PullError(f"--from {mirror}: not an http(s) URL or a folder")

    # the staging folder sits on the store's filesystem, so the final rename is atomic
    def staging(self) -> Path:
        parent = self.store.parent
        parent.mkdir(parents=True, exist_ok=True)
        st = parent / f".{self.store.name}.pull"
        if self.store.exists() and parent.stat().st_dev != self.store.stat().st_dev:
            st = self.store / ".pull"  # the store is a mount point: stage inside it (hidden, removed after)
        st.mkdir(parents=True, exist_ok=True)
        return st

    def present_ok(self, t: Target) -> bool | None:
        """True: in the store and verified (or nothing to verify); False: present but wrong; None: absent."""
        p = self.store / t.rel
        if not p.exists():
            return None
        if not t.model.sha256:
            return True
        return sha256_path(p) == t.model.sha256

    def pull(self, t: Target) -> str:
        """Put ``t`` in the store. Returns a one-line outcome; raises :class:`PullError`."""
        state = self.present_ok(t)
        if state:
            return "already in the store" + (", sha256 ok" if t.model.sha256 else "")
        if t.rel.startswith("/") or ".." in PurePosixPath(t.rel).parts:
            raise PullError(f"{t.name}: store path {t.rel!r} leaves the store")
        stage = self.staging()
        key = hashlib.sha256(f"{t.rel}|{t.model.sha256}".encode()).hexdigest()[:16]
        local_file = bool(self.mirror and not _is_url(self.mirror) and (Path(self.mirror) / t.rel).is_file())
        if t.folder and not local_file:
            got = self._fetch_folder(t, stage, key)
        else:
            got = self._fetch_file(t, stage, key)
        try:
            actual = sha256_path(got)
            if t.model.sha256 and actual != t.model.sha256:
                raise PullError(f"{t.name}: sha256 mismatch: expected {t.model.sha256}, got {actual}; "
                                f"the store is unchanged")
            self._install(t, got, stage, key)
        finally:
            if got.exists() and got.is_dir():
                shutil.rmtree(got, ignore_errors=True)
            elif got.exists():
                got.unlink()
            self._tidy(stage)
        note = "sha256 ok" if t.model.sha256 else f"sha256 {actual} (the manifest declares none to check)"
        return f"{'replaced' if state is False else 'pulled'} into {self.store / t.rel}, {note}"

    def _fetch_file(self, t: Target, stage: Path, key: str) -> Path:
        part = stage / f"{key}.part"
        if self.mirror and not _is_url(self.mirror):
            src = Path(self.mirror) / t.rel
            if not src.is_file():
                raise PullError(f"{t.name}: {src} is not in the mirror")
            _copy_file(src, part, t.name, self.stream)
            return part
        url = _join(self.mirror, t.rel) if self.mirror else t.model.url
        if not url:
            raise self._not_fetchable(t)
        download(url, part, t.name, self.stream, self.opener)
        if t.model.sha256 and sha256_path(part) != t.model.sha256:
            actual = sha256_path(part)
            part.unlink()  # wrong bytes: a resume would not mend them
            raise PullError(f"{t.name}: sha256 mismatch for {url}: expected {t.model.sha256}, got {actual}; "
                            f"the store is unchanged")
        return part

    def _fetch_folder(self, t: Target, stage: Path, key: str) -> Path:
        dest = stage / f"{key}.dir"
        shutil.rmtree(dest, ignore_errors=True)
        if self.mirror and not _is_url(self.mirror):
            src = Path(self.mirror) / t.rel
            if not src.is_dir():
                raise PullError(f"{t.name}: {src} is not a folder in the mirror")
            self.stream.write(f"  {t.name}: copying the folder {src}\n")
            shutil.copytree(src, dest, symlinks=True)
            if any(p.is_symlink() for p in dest.rglob("*")):
                shutil.rmtree(dest, ignore_errors=True)
                raise PullError(f"{t.name}: {src} holds symbolic links; copy real files into the mirror")
            return dest
        if self.mirror:
            urls = [_join(self.mirror, t.rel) + ext for ext in (".tar.gz", ".zip")]
        elif t.model.url:
            urls = [t.model.url]
        else:
            raise self._not_fetchable(t)
        errors = []
        for url in urls:
            ext = next((e for e in ARCHIVES if urllib.parse.urlparse(url).path.endswith(e)), None)
            if ext is None:
                raise PullError(f"{t.name}: {url} is not an archive ({', '.join(ARCHIVES)}) and the model is a folder")
            part = stage / f"{key}{ext}.part"
            try:
                download(url, part, t.name, self.stream, self.opener)
            except PullError as exc:
                errors.append(str(exc))
                if self.mirror and "HTTP 404" in str(exc):
                    continue
                raise PullError(f"{t.name}: {exc}") from None
            archive = part.with_name(part.name.removesuffix(".part"))
            os.replace(part, archive)
            unpacked = stage / f"{key}.unpack"
            shutil.rmtree(unpacked, ignore_errors=True)
            unpacked.mkdir()
            try:
                _safe_extract(archive, unpacked)
                os.replace(_archive_root(unpacked, t.rel), dest)
            finally:
                archive.unlink(missing_ok=True)
                shutil.rmtree(unpacked, ignore_errors=True)
            return dest
        raise PullError(f"{t.name}: " + "; ".join(errors))

    def _companions(self, t: Target, into: Path) -> list[Path]:
        """An export's metadata.yaml beside a declared file, from the same source (absent: nothing)."""
        got = []
        for name in COMPANIONS:
            rel = str(PurePosixPath(t.rel).parent / name)
            if (self.store / rel).exists():
                continue
            dst = into / f"{hashlib.sha256(rel.encode()).hexdigest()[:16]}.companion"
            if self.mirror and not _is_url(self.mirror):
                src = Path(self.mirror) / rel
                if src.is_file():
                    shutil.copyfile(src, dst)
                    got.append(dst)
                continue
            base = self.mirror and _join(self.mirror, rel)
            if not base and t.model.url:
                base = t.model.url.rsplit("/", 1)[0] + "/" + name
            if not base:
                continue
            try:
                download(base, dst, f"{t.name} {name}", self.stream, self.opener)
                got.append(dst)
            except PullError:
                dst.unlink(missing_ok=True)
        return got

    def _install(self, t: Target, got: Path, stage: Path, key: str) -> None:
        final = self.store / t.rel
        companions = [] if t.folder else self._companions(t, stage)
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists() and final.is_dir():  # a wrong folder in the way: swap, then drop it
            old = stage / f"{key}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
        os.replace(got, final)
        for c, name in zip(companions, COMPANIONS):
            os.replace(c, final.parent / name)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _not_fetchable(self, t: Target) -> NotFetchable:
        how = manual_command(t.model)
        msg = f"{t.name}: no download is declared for it"
        if how:
            msg += f"; make it with: {how}"
        return NotFetchable(msg + f" (or pull it from a mirror: runner models pull {t.name} --from URL|DIR)")

    def _tidy(self, stage: Path) -> None:
        """Drop the staging folder when nothing (no partial download) is left in it."""
        try:
            stage.rmdir()
        except OSError:
            pass


def pull_all(store: Path, tlist: list[Target], mirror: str | None, stream: TextIO,
             opener: Callable = urllib.request.urlopen) -> int:
    """Pull each target; one line per model on ``stream``. Returns the exit code (0: all in place)."""
    puller = Puller(store, mirror, stream, opener)
    failed = 0
    for t in tlist:
        try:
            outcome = puller.pull(t)
            stream.write(f"ok   {t.name}: {outcome}\n")
        except (PullError, OSError) as exc:  # OSError: the store or its staging folder is not writable
            failed += 1
            msg = str(exc) if isinstance(exc, PullError) else f"cannot write: {exc}; the store is unchanged"
            stream.write(f"FAIL {msg if msg.startswith(t.name + ':') else t.name + ': ' + msg}\n")
        stream.flush()
    return 1 if failed else 0

"""The one definition of a model's checksum, shared by the host (``runner models``, the check before
a launch) and the analyzers (the sha256 they record in their envelope), so the two always agree.

- A file: the sha256 of its bytes.
- A folder (an OpenVINO export, a Hugging Face snapshot, a CTranslate2 Whisper, a model pack): the
  sha256 of its manifest, one line ``<sha256 of the file>  <path relative to the folder>`` per file,
  in sorted path order, each ending in a newline: exactly what ``sha256sum`` prints, so a renamed,
  added, removed or changed file changes it, and a shell can reproduce it::

      cd FOLDER && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum

:func:`model_digest` remembers what it hashed in this process by the files' identity (path, size,
mtime_ns, ctime_ns, inode, device), so an analyzer that records the same model twice (a retry, two
entries for one pack) hashes it once, and a file that changed in between is hashed again.
"""
from __future__ import annotations

import hashlib
import threading
from pathlib import Path

__all__ = ["file_sha256", "folder_manifest", "identity", "model_digest", "sha256_path"]

_lock = threading.Lock()
_memo: dict[tuple, str] = {}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _files(folder: Path) -> list[tuple[str, Path]]:
    """(relative posix path, path) of every file under ``folder``, sorted by the relative path."""
    return sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())


def folder_manifest(folder: Path) -> list[tuple[str, str]]:
    """``[(relative path, sha256), ...]`` of every file in ``folder``, in sorted path order."""
    return [(rel, file_sha256(p)) for rel, p in _files(folder)]


def _manifest_digest(manifest: list[tuple[str, str]]) -> str:
    return hashlib.sha256("".join(f"{sha}  {rel}\n" for rel, sha in manifest).encode()).hexdigest()


def sha256_path(path: Path) -> str:
    """sha256 of a file, or of a folder's manifest of file hashes (module docstring)."""
    path = Path(path)
    if path.is_dir():
        return _manifest_digest(folder_manifest(path))
    return file_sha256(path)


def identity(path: Path) -> tuple:
    """What must stay equal for an earlier hash of ``path`` to still hold (for a folder: each file's)."""
    def one(p: Path, rel: str) -> tuple:
        st = p.stat()
        return (rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    path = Path(path)
    if path.is_dir():
        return (str(path), "dir", *(one(p, rel) for rel, p in _files(path)))
    return (str(path), "file", one(path, ""))


def model_digest(path: Path) -> str:
    """:func:`sha256_path`, remembered in this process by the files' identity."""
    ident = identity(path)
    with _lock:
        if ident in _memo:
            return _memo[ident]
    value = sha256_path(path)
    if identity(path) == ident:  # changed while it was hashed: do not remember it
        with _lock:
            _memo[ident] = value
    return value

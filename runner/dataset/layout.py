"""The dataset folder: its manifest (``dataset.json``), its locks, and which versions it reads.

```
DATASET_DIR/dataset.json                  the manifest: schema version, and the file groups that are live
DATASET_DIR/<table>/<group>.parquet       one file per table per export run (a "group"); compaction may
                                          write a table of one group as several files
DATASET_DIR/.write.lock, .commit.lock     one writer at a time; readers never see a half-done commit
```

The manifest is the commit point: a group's files are written first under new names, then the
manifest is replaced atomically (temp file, fsync, rename), then the files it no longer lists are
removed. A crash at any step leaves either the old dataset or the new one, plus unlisted files that
the next writer removes. Readers take ``.commit.lock`` shared while they read; a writer deletes
only when it can take it exclusively at once, else it leaves the files for a later commit, so a
query never loses a file and a writer never waits for a query (a batch is not held up by a slow
pager). Globbing ``<table>/*.parquet`` gives the same rows whenever no export is running and no
query was reading during the last commit; the manifest's list is always right.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.dataset.schemas import FORMAT, SCHEMA_VERSION, TABLE_NAMES
from runner.core.errors import RunnerError

MANIFEST = "dataset.json"
WRITE_LOCK, COMMIT_LOCK = ".write.lock", ".commit.lock"
MAX_MANIFEST_BYTES = 256 * 1024**2
_FILE = re.compile(r"^(?P<table>[a-z_]+)/[A-Za-z0-9._-]+\.parquet$")


class DatasetError(RunnerError):
    """A dataset folder that cannot be read or written as asked."""

    exit_code = 2


class DatasetVersionError(DatasetError):
    def __init__(self, root: Path, found: str, message: str, fix: str):
        self.root, self.found = root, found
        super().__init__(f"{root}: {message}", fix=fix)


class Group(BaseModel):
    """The files one export run (or a rewrite of one, or a compaction) wrote: every table."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    created_at: datetime
    schema_version: str
    runner_version: str
    videos: int = Field(ge=0)
    rows: dict[str, int]
    files: dict[str, list[str]]

    @field_validator("files")
    @classmethod
    def _inside(cls, files: dict[str, list[str]]) -> dict[str, list[str]]:
        for table, names in files.items():
            for name in names:
                m = _FILE.match(name)
                if not m or m["table"] != table:
                    raise ValueError(f"file {name!r} of table {table!r} is not <table>/<name>.parquet")
        return files


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: str
    schema_version: str
    groups: list[Group] = Field(default_factory=list)

    def files(self, table: str) -> list[str]:
        return [name for g in self.groups for name in g.files.get(table, [])]


def new_group_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def _version(text: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)", text)
    return (int(m[1]), int(m[2])) if m else None


def check_version(root: Path, found: str, *, write: bool) -> None:
    """Same MAJOR: read (a column added by a later MINOR reads as NULL). Writing also needs the
    dataset's MINOR <= ours. Anything else is refused with what to do."""
    ours, theirs = _version(SCHEMA_VERSION), _version(found)
    reexport = "export the reports again into a new folder: runner export REPORTS... --to NEW_DIR"
    if theirs is None:
        raise DatasetVersionError(root, found, f"unknown export schema version {found!r}", reexport)
    if theirs[0] < ours[0]:
        raise DatasetVersionError(root, found, f"written with export schema {found}; this runner reads "
                                  f"{ours[0]}.x (a column was removed, renamed or changed type since)", reexport)
    if theirs[0] > ours[0] or (write and theirs > ours):
        raise DatasetVersionError(root, found, f"written by a newer runner (export schema {found}; this one "
                                  f"{'reads' if not write else 'writes'} {SCHEMA_VERSION})",
                                  "upgrade the runner (pip install -U, or make setup in a newer checkout)")


def read_manifest(root: Path) -> Manifest | None:
    """The manifest, or None when the folder holds none; a damaged one is an error that says so."""
    path = root / MANIFEST
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        return None
    if len(data) > MAX_MANIFEST_BYTES:
        raise DatasetError(f"{path}: over {MAX_MANIFEST_BYTES} bytes; not a manifest this runner wrote")
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        check_version(root, str(raw.get("schema_version")), write=False)
        return Manifest.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        raise DatasetError(f"{path}: not a dataset manifest this runner reads: {str(exc).splitlines()[0]}",
                           fix="point at a folder made by `runner export`, or export into a new one") from exc


def write_manifest(root: Path, manifest: Manifest) -> None:
    tmp = root / f".{MANIFEST}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(manifest.model_dump_json(indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / MANIFEST)
    dfd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def open_for_write(root: Path) -> Manifest:
    """The manifest of ``root`` to append to (a new one for a new or empty folder); refuses a folder
    that holds other things, or a dataset this runner cannot write."""
    refuse_foreign(root)
    manifest = read_manifest(root)
    if manifest is None:
        return Manifest(format=FORMAT, schema_version=SCHEMA_VERSION)
    check_version(root, manifest.schema_version, write=True)
    return manifest


def refuse_foreign(root: Path) -> None:
    """A folder that holds things but no manifest is not ours: nothing is written in it (not even a lock)."""
    if root.is_dir() and not (root / MANIFEST).exists():
        stray = sorted(p.name for p in root.iterdir() if p.name not in (WRITE_LOCK, COMMIT_LOCK))
        if stray:
            raise DatasetError(f"{root} is not empty and holds no {MANIFEST}: not a dataset "
                               f"({', '.join(stray[:3])}{' ...' if len(stray) > 3 else ''})",
                               fix="export into a new or empty folder")


def unlisted(root: Path, manifest: Manifest) -> list[Path]:
    """Files in the table folders the manifest does not list: left by a crashed or superseded write."""
    live = {name for t in TABLE_NAMES for name in manifest.files(t)}
    return [p for t in TABLE_NAMES if (root / t).is_dir() for p in (root / t).iterdir()
            if p.is_file() and p.suffix in (".parquet", ".tmp") and f"{t}/{p.name}" not in live]


@contextmanager
def _flock(path: Path, mode: int, blocking: bool = True) -> Iterator[bool]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:                     # a read-only dataset: nobody can write it either
        yield True
        return
    try:
        try:
            fcntl.flock(fd, mode | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """The one writer of ``root``, for a whole export (or batch) session."""
    refuse_foreign(root)
    root.mkdir(parents=True, exist_ok=True)
    with _flock(root / WRITE_LOCK, fcntl.LOCK_EX, blocking=False) as got:
        if not got:
            raise DatasetError(f"{root} is being written by another export or batch",
                               fix="wait for it to finish, or export into another folder")
        yield


@contextmanager
def commit_lock(root: Path, *, shared: bool, blocking: bool = True) -> Iterator[bool]:
    """Shared while a query reads the files; exclusive (without waiting) while a writer deletes files
    the manifest no longer lists. Yields whether it got the lock."""
    with _flock(root / COMMIT_LOCK, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, blocking) as got:
        yield got

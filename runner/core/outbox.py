"""Read what a sandbox wrote as data, never as a path to follow.

Everything under ``out/<name>/`` was written by untrusted code. It is read
through directory file descriptors without following links: each entry is
``lstat``-ed relative to its parent's fd, opened with ``O_NOFOLLOW|O_NONBLOCK``
(directories with ``O_DIRECTORY|O_NOFOLLOW``) and checked again with ``fstat``
on the open fd. Only regular files with one link, under a size cap per file and
caps per analyzer (total bytes, file count, depth), are kept; at most cap + 1
bytes of any file are ever read. Everything else (symlinks, hardlinks, FIFOs,
sockets, devices, oversized files, too deep, too many) is dropped and reported.
"""
from __future__ import annotations

import errno
import itertools
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

#: how many dropped entries are listed one by one (the rest are summed up in one line)
MAX_REPORTED = 50
_CHUNK = 1 << 20
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Limits:
    """Caps on one analyzer's output (see ``runner.core.config.Settings``)."""

    max_file_bytes: int = 1 << 30        # one file
    max_total_bytes: int = 1 << 30       # every kept file together
    max_files: int = 10_000              # kept files
    max_depth: int = 32                  # folders below out/<name>/
    max_result_bytes: int = 32 << 20     # result.json
    max_json_nodes: int = 500_000        # values in result.json
    max_log_bytes: int = 8 << 20         # the runner's log of one analyzer


class OutboxError(Exception):
    """A file that is not a readable regular single-link file under its cap; ``why`` says which."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Dropped:
    path: str
    why: str


@dataclass
class Outbox:
    """What a walk kept (relative paths and sizes) and what it dropped."""

    files: dict[str, int] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    n_dropped: int = 0
    total_bytes: int = 0

    def keep(self, rel: str, size: int) -> None:
        self.files[rel] = size
        self.total_bytes += size

    def drop(self, path: str, why: str) -> None:
        self.n_dropped += 1
        if len(self.dropped) < MAX_REPORTED:
            self.dropped.append(Dropped(path, why))

    def report(self) -> list[Dropped]:
        """The dropped entries, with one summary line when there were more than can be listed."""
        more = self.n_dropped - len(self.dropped)
        return self.dropped + ([Dropped("...", f"and {more} more entries dropped")] if more > 0 else [])


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "not a regular file"


def _check_regular(st: os.stat_result, cap: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise OutboxError(f"{_kind(st.st_mode)}, not a regular file")
    if st.st_nlink != 1:
        raise OutboxError(f"hard link ({st.st_nlink} links)")
    if st.st_size > cap:
        raise OutboxError(f"{st.st_size} bytes, over the {cap}-byte cap")


def open_regular(name: str, dir_fd: int, cap: int) -> tuple[int, os.stat_result]:
    """An fd on ``name`` (relative to ``dir_fd``) that is a regular single-link file of at most
    ``cap`` bytes, opened without following a link; else :class:`OutboxError`."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise OutboxError("missing") from None
    except OSError as exc:
        raise OutboxError(f"cannot stat: {exc.strerror}") from None
    _check_regular(st, cap)  # never open a FIFO or a device, even non-blocking
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        why = "symlink, not a regular file" if exc.errno == errno.ELOOP else f"cannot open: {exc.strerror}"
        raise OutboxError(why) from None
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
            raise OutboxError("replaced while it was read")
        _check_regular(fst, cap)
    except BaseException:
        os.close(fd)
        raise
    return fd, fst


def read_fd(fd: int, cap: int) -> bytearray:
    """At most ``cap`` bytes of ``fd``, read into one buffer (never chunks joined into a second
    copy); :class:`OutboxError` when there are more."""
    buf = bytearray(min(cap, max(0, os.fstat(fd).st_size)) + 1)  # room for the byte that says "more"
    n = 0
    while True:
        if n == len(buf):
            if n > cap:
                raise OutboxError(f"more than {cap} bytes, over the cap")
            buf.extend(bytes(min(_CHUNK, cap + 1 - n)))  # it grew since fstat
        got = os.readv(fd, [memoryview(buf)[n:]])
        if not got:
            del buf[n:]
            return buf
        n += got


def read_file(path: Path, cap: int) -> bytearray:
    """The bytes of ``path`` (a file in a runner-owned folder, e.g. ``out/<name>/result.json``),
    read without following a link, when it is a regular single-link file of at most ``cap`` bytes."""
    path = Path(path)
    try:
        dfd = os.open(path.parent, _DIR_FLAGS)
    except OSError as exc:
        raise OutboxError("missing" if exc.errno == errno.ENOENT else f"cannot open its folder: {exc.strerror}") from None
    try:
        fd, _ = open_regular(path.name, dfd, cap)
    finally:
        os.close(dfd)
    try:
        return read_fd(fd, cap)
    finally:
        os.close(fd)


#: one JSON token a parser turns into an object: a string (group 1 set when it is a key), an opening
#: bracket, a closing one, a number or a literal. A string is matched atomically (no backtracking
#: state kept per escape: 640 MiB for a 32 MiB string of escapes otherwise) and an unterminated one
#: runs to the end, so the scan never restarts from the next quote (linear in the bytes).
_JSON_TOKEN = re.compile(rb'"(?>[^"\\]*+(?:\\.[^"\\]*+)*+)"?(\s*:)?|([\[{])|([\]}])|-?(?:[0-9][0-9eE.+-]*|Infinity)|'
                         rb'true|false|null|NaN')


def json_shape_error(data: bytes, max_nodes: int, max_depth: int) -> str | None:
    """Why the JSON text ``data`` holds too many values or nests too deep, or None: counted on the
    bytes, before any object is built (keys are not values; a malformed text is over-counted, never
    under). It stops at the first cap passed: valid JSON has at most one key and one closing bracket
    per value, so more than three tokens per allowed value is over the cap too, and the scan costs
    O(max_nodes) steps whatever the text."""
    too_many = f"more than {max_nodes} JSON values (the cap, RUNNER_MAX_JSON_NODES)"
    n = depth = tokens = 0
    for m in _JSON_TOKEN.finditer(data):
        tokens += 1
        if tokens > 3 * max_nodes + 3:
            return too_many
        key, opening, closing = m.group(1, 2, 3)
        if closing is not None:
            depth = max(0, depth - 1)
        elif key is None:
            n += 1
            if n > max_nodes:
                return too_many
            if opening is not None:
                depth += 1
                if depth > max_depth:
                    return f"nested deeper than {max_depth} levels"
    return None


def load_json(data: bytearray, max_nodes: int, max_depth: int):
    """The JSON value of the UTF-8 text ``data`` once :func:`json_shape_error` has passed it; else
    :class:`OutboxError` (``why`` starts with ``too large:`` or ``not JSON:``). ``data`` is emptied
    once decoded, so the bytes, the text and the objects are never all held at once."""
    why = json_shape_error(data, max_nodes, max_depth)
    if why is not None:
        raise OutboxError(f"too large: {why}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OutboxError(f"not JSON: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    finally:
        data.clear()
    try:
        return json.loads(text)
    except RecursionError:
        raise OutboxError("too large: nested too deeply to parse") from None
    except ValueError as exc:
        raise OutboxError(f"not JSON: {exc}") from None


def copy_fd(fd: int, dest: Path, cap: int) -> int:
    """Copy at most ``cap`` bytes from ``fd`` into a new file ``dest`` (never through a link)."""
    n = 0
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        while True:
            b = os.read(fd, min(_CHUNK, cap + 1 - n))
            if not b:
                return n
            n += len(b)
            if n > cap:
                raise OutboxError(f"more than {cap} bytes, over the cap")
            os.write(out, b)
    except BaseException:
        os.close(out)
        out = -1
        os.unlink(dest)
        raise
    finally:
        if out >= 0:
            os.close(out)


def walk(root: Path, limits: Limits, sink: Callable[[str, int, os.stat_result], int] | None = None,
         skip: Callable[[str], bool] | None = None) -> Outbox:
    """Walk ``root`` without following links; ``sink(rel, fd, st)`` (when given) consumes each
    kept file from its open fd and returns the bytes it kept. ``skip(rel)`` leaves a file out
    silently (e.g. ``result.json``, handled elsewhere). Returns what was kept and dropped."""
    box = Outbox()
    try:
        rfd = os.open(root, _DIR_FLAGS)
    except FileNotFoundError:
        return box
    except OSError as exc:
        box.drop(".", f"cannot open the output folder: {exc.strerror}")
        return box
    seen = [0]  # entries looked at, kept or not: bounds the work on 100,000 files
    budget = limits.max_files * 2 + 1000
    try:
        _walk_dir(rfd, "", 0, limits, box, sink, skip, seen, budget)
    finally:
        os.close(rfd)
    return box


def _entries(dfd: int, limit: int) -> list[str]:
    """At most ``limit`` names of the folder (never the whole of a folder of millions), sorted."""
    with os.scandir(dfd) as it:
        return sorted(e.name for e in itertools.islice(it, max(0, limit)))


def _walk_dir(dfd, prefix, depth, limits, box, sink, skip, seen, budget) -> None:
    for name in _entries(dfd, budget - seen[0] + 1):
        rel = f"{prefix}{name}"
        seen[0] += 1
        if seen[0] > budget:
            box.drop(prefix or ".", f"more than {budget} entries: the rest was not read")
            return
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except OSError as exc:
            box.drop(rel, f"cannot stat: {exc.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth + 1 > limits.max_depth:
                box.drop(rel + "/", f"deeper than {limits.max_depth} folders")
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=dfd)
            except OSError as exc:
                box.drop(rel + "/", f"cannot open: {exc.strerror}")
                continue
            try:
                _walk_dir(sub, rel + "/", depth + 1, limits, box, sink, skip, seen, budget)
            finally:
                os.close(sub)
            if seen[0] > budget:
                return
            continue
        if skip is not None and skip(rel):
            continue
        if len(box.files) >= limits.max_files:
            box.drop(rel, f"more than {limits.max_files} files")
            continue
        room = limits.max_total_bytes - box.total_bytes
        try:
            fd, fst = open_regular(name, dfd, limits.max_file_bytes)
        except OutboxError as exc:
            box.drop(rel, exc.why)
            continue
        try:
            if fst.st_size > room:
                raise OutboxError(f"{fst.st_size} bytes: the output would pass its "
                                  f"{limits.max_total_bytes}-byte cap")
            box.keep(rel, sink(rel, fd, fst) if sink is not None else fst.st_size)
        except OutboxError as exc:
            box.drop(rel, exc.why)
        finally:
            os.close(fd)


def copy_tree(root: Path, dest: Path, limits: Limits, skip: Callable[[str], bool] | None = None) -> Outbox:
    """Copy the kept files of ``root`` into ``dest`` (a new, runner-owned folder) from their fds."""
    dest.mkdir(parents=True, exist_ok=True)

    def sink(rel: str, fd: int, st: os.stat_result) -> int:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        n = copy_fd(fd, target, min(limits.max_file_bytes, st.st_size))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        return n

    return walk(root, limits, sink, skip)

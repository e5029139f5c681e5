"""The lock of the runner's own environment (``requirements/*.lock``), read as data.

``make lock`` writes the files (``uv pip compile --universal --generate-hashes``); ``make setup``,
CI and the API image install them with ``pip install --require-hashes``. This module reads them so
that the fetch image takes its yt-dlp (version and hashes) from the same lock, and so that
``runner doctor`` can say when what is installed has drifted from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from runner.core.config import REPO_ROOT
from runner.core.errors import RunnerError

RUNNER_LOCK = REPO_ROOT / "requirements" / "runner.lock"
API_LOCK = REPO_ROOT / "requirements" / "api.lock"
FIX = "make setup (installs requirements/runner.lock); after editing pyproject.toml: make lock"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: str            # normalised (PEP 503): lower case, runs of -_. as one -
    version: str
    marker: str | None   # e.g. "sys_platform == 'win32'"; None: every platform
    hashes: tuple[str, ...]

    def line(self) -> str:
        """The requirement as pip reads it in hash-checking mode."""
        marker = f" ; {self.marker}" if self.marker else ""
        return f"{self.name}=={self.version}{marker} " + " ".join(f"--hash={h}" for h in self.hashes)

    def applies(self) -> bool:
        """Whether this pin is for this interpreter and platform."""
        if not self.marker:
            return True
        from packaging.markers import Marker

        return Marker(self.marker).evaluate()


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = RUNNER_LOCK) -> dict[str, Pin]:
    """``{name: Pin}`` of a lock file; a line that is neither a pin, a hash, a comment nor blank
    is an error naming the file and the line (a hand edit, or a format this reader does not know)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise RunnerError(f"cannot read the lock {path}: {exc.strerror}", fix=FIX) from exc
    pins: dict[str, Pin] = {}
    current: list | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            if current is None:
                raise RunnerError(f"{path}:{n}: a hash before any pin", fix=FIX)
            current[3].extend(_HASH.findall(line))
            continue
        m = _PIN.match(line)
        if not m:
            raise RunnerError(f"{path}:{n}: not a pinned requirement: {line[:80]!r}", fix=FIX)
        name = normalise(m.group(1))
        current = [name, m.group(2), (m.group(3) or "").strip() or None, []]
        pins[name] = current  # filled in as its hash lines follow
    out = {}
    for name, (n_, version, marker, hashes) in pins.items():
        if not hashes:
            raise RunnerError(f"{path}: {name}=={version} has no hash", fix=FIX)
        out[name] = Pin(n_, version, marker, tuple(hashes))
    return out


def pin(name: str, path: Path = API_LOCK) -> Pin:
    """One package's pin, e.g. ``pin("yt-dlp")`` for the fetch image."""
    pins = read_lock(path)
    try:
        return pins[normalise(name)]
    except KeyError:
        raise RunnerError(f"{name} is not in {path}", fix=FIX) from None


@dataclass(frozen=True)
class Drift:
    name: str
    locked: str
    installed: str | None   # None: not installed (an extra left out)


def drift(path: Path = RUNNER_LOCK, installed=None) -> list[Drift]:
    """Every pin for this platform whose installed version differs from the lock, or that is not
    installed. ``installed(name) -> version | None`` defaults to this interpreter's metadata."""
    def _installed(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    look = installed or _installed
    out = []
    for p in read_lock(path).values():
        if not p.applies():
            continue
        have = look(p.name)
        if have != p.version:
            out.append(Drift(p.name, p.version, have))
    return sorted(out, key=lambda d: d.name)


def drift_line(path: Path = RUNNER_LOCK, installed=None) -> tuple[bool, str]:
    """``(matches?, detail)`` for ``runner doctor``: a version that differs from the lock fails;
    a locked package that is not installed is only listed (an extra left out, as in the API image)."""
    try:
        found = drift(path, installed)
        total = sum(p.applies() for p in read_lock(path).values())
    except RunnerError as exc:
        return False, f"{exc} ({exc.fix})"
    changed = [d for d in found if d.installed is not None]
    absent = [d for d in found if d.installed is None]
    parts = []
    if changed:
        shown = ", ".join(f"{d.name} {d.installed} (lock {d.locked})" for d in changed[:8])
        more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
        parts.append(f"differs from {path.name}: {shown}{more}; fix: {FIX}")
    else:
        parts.append(f"installed = {path.name} ({total - len(absent)} of {total} pins installed)")
    if absent:
        names = ", ".join(d.name for d in absent[:5]) + (", ..." if len(absent) > 5 else "")
        parts.append(f"not installed (extras left out?): {names}")
    return not changed, "; ".join(parts)

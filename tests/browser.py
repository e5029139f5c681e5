"""A real headless Chromium driven over the Chrome DevTools Protocol, for tests of pages we write.

``Browser`` starts ``chromium --headless=new`` with its own profile, speaks CDP
over one websocket (flattened sessions) and opens pages in fresh tabs.
``Browser.load(url)`` returns a :class:`PageLoad`: every console error,
uncaught exception, error log entry and network request (other than
file:/data:/blob:/about:) seen while the page loaded and settled, and a
full-page PNG screenshot.
"""
from __future__ import annotations

import base64
import io
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["find_chromium", "Browser", "PageLoad", "BrowserError", "blank_share", "LOCAL_SCHEMES"]

LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:")
_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
          "--disable-extensions", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
          "--disable-features=Translate,MediaRouter,OptimizationHints", "--remote-debugging-port=0")


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """``/usr/bin/chromium`` (Debian's package) or another chromium/chrome on PATH."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageLoad:
    url: str
    errors: list[str] = field(default_factory=list)      # console errors, exceptions, error log entries
    requests: list[str] = field(default_factory=list)    # network requests to anything but LOCAL_SCHEMES
    screenshot: bytes = b""                               # PNG of the whole page
    load_s: float = 0.0                                   # navigation to the load event


class Browser:
    """``with Browser() as b: page = b.load("file:///...")``; ``b.evaluate(js)`` runs in the last page."""

    def __init__(self, executable: str | None = None, width: int = 1200, height: int = 900, timeout_s: float = 60):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("chromium not found: apt-get install chromium")
        self.width, self.height, self.timeout_s = width, height, timeout_s
        self._ids = itertools.count(1)
        self._events: list[dict] = []
        self._session: str | None = None
        self._target: str | None = None

    # ---- process and socket ---------------------------------------------------
    def __enter__(self) -> "Browser":
        import websocket  # websocket-client, in the test extra

        self._dir = Path(tempfile.mkdtemp(prefix="cdp-"))
        self._log = open(self._dir / "stderr.txt", "wb")
        self._proc = subprocess.Popen([self.executable, *_FLAGS, f"--user-data-dir={self._dir / 'profile'}",
                                       f"--window-size={self.width},{self.height}", "about:blank"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        try:
            port_file = self._dir / "profile" / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    raise BrowserError(f"chromium did not start: {self._stderr_tail()}")
                time.sleep(0.05)
            port, path = port_file.read_text().splitlines()[:2]
            self._ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=self.timeout_s,
                                                   suppress_origin=True, enable_multithread=False)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _stderr_tail(self) -> str:
        try:
            return (self._dir / "stderr.txt").read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        """One CDP command; events that arrive meanwhile are kept for :meth:`_drain`."""
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session and self._session:
            msg["sessionId"] = self._session
        self._ws.send(json.dumps(msg))
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            data = json.loads(self._ws.recv())
            if data.get("id") == msg_id:
                if "error" in data:
                    raise BrowserError(f"{method}: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self._events.append(data)
        raise BrowserError(f"{method}: no answer in {self.timeout_s}s")

    def _pump(self, seconds: float) -> None:
        """Read events for ``seconds``."""
        import websocket

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._ws.settimeout(max(0.01, left))
            try:
                data = json.loads(self._ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            finally:
                self._ws.settimeout(self.timeout_s)
            if "method" in data:
                self._events.append(data)

    def _wait_event(self, method: str, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if any(e["method"] == method and e.get("sessionId") == self._session for e in self._events):
                return True
            self._pump(min(0.2, end - time.monotonic()))
        return False

    # ---- pages ----------------------------------------------------------------
    def evaluate(self, expression: str) -> Any:
        """The value of a JS expression in the current page (promises awaited)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in res:
            raise BrowserError(f"evaluate failed: {res['exceptionDetails'].get('text')}: "
                               f"{res['exceptionDetails'].get('exception', {}).get('description')}")
        return res.get("result", {}).get("value")

    def load(self, url: str, ready: str = "true", settle_s: float = 0.8, headers: dict | None = None) -> PageLoad:
        """Open ``url`` in a new tab; wait for the load event, then until the JS ``ready`` is true, then settle."""
        if self._target:
            self.send("Target.closeTarget", {"targetId": self._target}, session=False)
        self._target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": self._target, "flatten": True},
                                  session=False)["sessionId"]
        self._events.clear()
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable")
        if headers:
            self.send("Network.setExtraHTTPHeaders", {"headers": headers})
        self.send("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": False})
        t0 = time.monotonic()
        nav = self.send("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise BrowserError(f"navigate {url}: {nav['errorText']}")
        if not self._wait_event("Page.loadEventFired", self.timeout_s):
            raise BrowserError(f"{url}: no load event in {self.timeout_s}s")
        load_s = time.monotonic() - t0
        deadline = time.monotonic() + self.timeout_s
        while not self.evaluate(f"Boolean({ready})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url}: not ready ({ready}) in {self.timeout_s}s")
            self._pump(0.1)
        self._pump(settle_s)
        page = PageLoad(url=url, load_s=load_s)
        self._collect(page)
        page.screenshot = self.screenshot()
        return page

    def screenshot(self) -> bytes:
        """PNG of the whole page (beyond the viewport)."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
        return base64.b64decode(data["data"])

    def _collect(self, page: PageLoad) -> None:
        for e in self._events:
            if e.get("sessionId") != self._session:
                continue
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                page.errors.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                page.errors.append(f"console.{p['type']}: {args}")
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                page.errors.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Network.requestWillBeSent":
                u = p.get("request", {}).get("url", "")
                if not u.startswith(LOCAL_SCHEMES):
                    page.requests.append(u)


def blank_share(png: bytes, box: tuple[int, int, int, int] | None = None) -> float:
    """Share of the pixels (in ``box`` = left, top, right, bottom, if given) that have the commonest colour.

    1.0 is one flat colour; a page with content is well below.
    """
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    if box:
        img = img.crop(box)
    img = img.reduce(2) if img.width * img.height > 4_000_000 else img
    colors = img.getcolors(maxcolors=img.width * img.height)
    return max(n for n, _ in colors) / (img.width * img.height)

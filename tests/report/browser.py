"""Headless Chromium driven over the DevTools protocol, to look at the report as a reader does.

The protocol runs over `--remote-debugging-pipe` (file descriptors 3 and 4, messages ended
by NUL), so no WebSocket client and no debugging port are needed. Every request that is not a
`file:`/`data:`/`blob:` URL is failed on purpose and recorded, and the network is emulated
offline: a report that reaches for a CDN shows up as a failed request.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-pipe",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# Each chart's SVG and how much it drew (`dataMarks`: the marks drawn from data, not axes,
# legends or titles); `rendered` is set by the report once vega-embed is done.
CHARTS_JS = """[...document.querySelectorAll('.vega-chart')].map(el => {
  const svg = el.querySelector('svg');
  return {id: el.id, rendered: el.dataset.rendered === '1',
          marks: svg ? svg.querySelectorAll('path, rect, line, text, symbol').length : 0,
          dataMarks: svg ? [...svg.querySelectorAll('.role-mark')]
            .filter(g => !g.closest('.role-axis, .role-legend, .role-title'))
            .filter(g => !/mark-group/.test(g.getAttribute('class')))
            .reduce((n, g) => n + g.children.length, 0) : 0,
          width: svg ? svg.getBoundingClientRect().width : 0,
          height: svg ? svg.getBoundingClientRect().height : 0};
})"""


class BrowserError(RuntimeError):
    """Chromium died, or did not answer in time."""


@dataclass
class PageVisit:
    """What happened while a page loaded.

    Attributes:
        requests: every URL the page asked for.
        refused: requests to anything but a local file (failed on purpose).
        failed: requests that failed, with the reason (`Network.loadingFailed`).
        errors: console errors, uncaught exceptions and error log entries.
        charts: per `.vega-chart` element: id, rendered, marks, width, height.
    """

    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)


def find_chromium() -> str | None:
    """The Chromium binary on PATH (Debian's `chromium`), if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One headless Chromium with a fresh profile, driven over the pipe."""

    def __init__(self, binary: str, *, width: int = 1100, height: int = 900) -> None:
        self._profile = tempfile.mkdtemp(prefix="report-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def _wire_fds() -> None:  # in the child: the protocol wants exactly fds 3 and 4
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            # dup2 in the child clears close-on-exec on 3 and 4 only; the pipes' own fds are
            # close-on-exec (Python's default), so nothing else of ours leaks into Chromium.
            preexec_fn=_wire_fds,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop this browser (only the process started here) and remove its profile."""
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close", session=False, timeout=5)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def send(
        self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 15
    ) -> dict[str, Any]:
        """Send one command and wait for its answer; events met meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._on_event(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for a while (a harmless round trip keeps the loop simple)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.send("Runtime.evaluate", {"expression": "1"})
            time.sleep(0.05)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise BrowserError("chromium did not answer (exited or timed out)")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError("chromium closed the protocol pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if event.get("method") == "Fetch.requestPaused":  # answer at once, or the page hangs
            params = event["params"]
            url = params["request"]["url"]
            if url.startswith(LOCAL_SCHEMES):
                self._fire("Fetch.continueRequest", {"requestId": params["requestId"]})
            else:
                self._fire(
                    "Fetch.failRequest",
                    {"requestId": params["requestId"], "errorReason": "AccessDenied"},
                )

    def _fire(self, method: str, params: dict) -> None:
        self._next_id += 1
        message = {
            "id": self._next_id,
            "method": method,
            "params": params,
            "sessionId": self.session,
        }
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")

    def open_page(self) -> None:
        """A new tab, attached, with console, log, network and request interception on."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )
        self.session = attached["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(method)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})


def visit(
    binary: str, page: Path, *, timeout: float = 15.0, screenshot: Path | None = None
) -> PageVisit:
    """Load a file in headless Chromium with the network refused; report what happened.

    Args:
        binary: the Chromium executable.
        page: the HTML file.
        timeout: seconds to wait for every chart to render.
        screenshot: where to write a full-page PNG, if wanted.

    Returns:
        The requests, failures, errors and charts seen.
    """
    with Chromium(binary) as browser:
        browser.open_page()
        browser.send("Page.navigate", {"url": page.resolve().as_uri()})
        deadline = time.monotonic() + timeout
        charts: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            charts = _evaluate(browser, CHARTS_JS)
            if _loaded(browser) and all(chart["rendered"] for chart in charts):
                break
            time.sleep(0.1)
        browser.pump(0.3)  # late console errors and requests
        if screenshot is not None:
            _screenshot(browser, screenshot)
        return _summarize(browser.events, charts)


def _loaded(browser: Chromium) -> bool:
    return any(e.get("method") == "Page.loadEventFired" for e in browser.events)


def _evaluate(browser: Chromium, expression: str) -> Any:
    result = browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    return result.get("result", {}).get("value")


def _screenshot(browser: Chromium, path: Path) -> None:
    import base64

    metrics = browser.send("Page.getLayoutMetrics")
    size = metrics["cssContentSize"]
    shot = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
        timeout=30,
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _summarize(events: list[dict[str, Any]], charts: list[dict[str, Any]]) -> PageVisit:
    seen = PageVisit(charts=charts)
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            seen.requests.append(params["request"]["url"])
        elif method == "Fetch.requestPaused" and not params["request"]["url"].startswith(
            LOCAL_SCHEMES
        ):
            seen.refused.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            seen.failed.append(f"{params.get('type')}: {params.get('errorText')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            seen.errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            seen.errors.append(
                str(params["exceptionDetails"].get("exception", {}).get("description"))
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            seen.errors.append(f"{params['entry'].get('url')}: {params['entry']['text']}")
    return seen

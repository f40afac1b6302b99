"""Headless Chromium driven over the DevTools protocol, with a stdlib-only websocket client.

No npm and no pip package: the test command runs on a fresh machine with Debian's chromium alone.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from urllib.parse import urlparse

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--remote-debugging-port=0"]


class WebSocket:
    """RFC 6455 client side, text frames only: enough for the DevTools protocol."""

    def __init__(self, url, timeout=60.0):
        parts = urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (parts.path, parts.hostname, parts.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError("websocket handshake refused: %r" % head[:200])

    def _exact(self, size):
        data = bytearray()
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("websocket closed")
            data.extend(chunk)
        return bytes(data)

    def _send(self, opcode, payload):
        header = bytearray([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header.append(0x80 | size)
        elif size < 65536:
            header.append(0x80 | 126)
            header.extend(struct.pack("!H", size))
        else:
            header.append(0x80 | 127)
            header.extend(struct.pack("!Q", size))
        mask = os.urandom(4)
        header.extend(mask)
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text):
        self._send(0x1, text.encode("utf-8"))

    def recv(self):
        message = bytearray()
        while True:
            first, second = self._exact(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exact(8))[0]
            mask = self._exact(4) if second & 0x80 else None
            payload = self._exact(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            message.extend(payload)
            if first & 0x80:
                return message.decode("utf-8")

    def close(self):
        self.sock.close()


class Browser:
    """One headless Chromium with a fresh profile and one page; collects console errors and exceptions."""

    def __init__(self, width=1280, height=1600):
        self.profile = tempfile.mkdtemp(prefix="tcptune-chromium-")
        self.process = subprocess.Popen(
            [CHROMIUM] + FLAGS + ["--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height),
                                  "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.events = []
        try:
            port = self._port()
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as answer:
                targets = json.load(answer)
            page = [t for t in targets if t.get("type") == "page"][0]
            self.ws = WebSocket(page["webSocketDebuggerUrl"])
            for domain in ("Page", "Runtime", "Log"):
                self.call(domain + ".enable")
        except Exception:
            self.close()
            raise

    def _port(self, timeout=30.0):
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as handle:
                    first = handle.readline().strip()
                if first:
                    return int(first)
            if self.process.poll() is not None:
                raise RuntimeError("chromium exited with %s" % self.process.returncode)
            time.sleep(0.05)
        raise TimeoutError("chromium wrote no DevToolsActivePort")

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method, timeout=60.0):
        deadline = time.monotonic() + timeout
        for index, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(index)
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == method:
                return message
            self.events.append(message)
        raise TimeoutError(method)

    def open(self, url):
        """Navigate and wait for load and two animation frames; returns the milliseconds from navigation
        start to then (the page is parsed, scripted, laid out and painted)."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        return self.evaluate("new Promise(function(done){requestAnimationFrame(function(){"
                             "requestAnimationFrame(function(){done(performance.now())})})})")

    def open_timed(self, url):
        """Navigate like ``open``; returns {first_paint_ms, ready_ms}: the first contentful paint and the
        moment after load and two animation frames, both from navigation start (Paint Timing API)."""
        ready = self.open(url)
        first = self.evaluate(
            "new Promise(function(done){new PerformanceObserver(function(list,observer){"
            "list.getEntries().forEach(function(e){if(e.name==='first-contentful-paint'){observer.disconnect();"
            "done(e.startTime)}})}).observe({type:'paint',buffered:true})})")
        return {"first_paint_ms": first, "ready_ms": ready}

    def timed_click(self, selector):
        """Click like ``click``; returns the milliseconds from just before the mouse press until two
        animation frames after the click was handled (the page has drawn its answer)."""
        self.evaluate("window.__tcptuneClick=performance.now()")
        self.click(selector)
        return self.evaluate("new Promise(function(done){requestAnimationFrame(function(){"
                             "requestAnimationFrame(function(){done(performance.now()-window.__tcptuneClick)})})})")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError("page script failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")

    def click(self, selector):
        """A real mouse click at the middle of the element (scrolled into view first)."""
        box = self.evaluate("(function(){var e=document.querySelector(%s);e.scrollIntoView({block:'center'});"
                            "var r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()"
                            % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path):
        self.evaluate("window.scrollTo(0,0)")
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def errors(self):
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (params["type"], " ".join(
                    str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))))
            elif method == "Runtime.exceptionThrown":
                out.append("exception: %s" % params.get("exceptionDetails", {}).get("exception", {}).get(
                    "description", params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append("log: %s" % params["entry"].get("text"))
        return out

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

#!/usr/bin/env python3
"""Drives headless Chromium through chromedriver (W3C WebDriver over HTTP/JSON, stdlib only):
opens the `scratchnet serve` page, draws a digit on the canvas with pointer events, waits for
the prediction, checks the page shows a digit 0-9 and ten bars, and saves a screenshot.

Usage: drive.py PAGE_URL DRIVER_URL SCREENSHOT.png [STROKE]
STROKE is "one" (a vertical bar, the default) or "seven". WINDOW=W,H sets the browser's
size (default 960,620; a convolutional model's maps need about 1200,1400). Prints one line
per check; exits 1 if a check fails.
"""
import base64
import json
import os
import sys
import tempfile
import time
import urllib.request

STROKES = {
    # Canvas coordinates (280x280 canvas): polylines to draw.
    "one": [[(150, 40), (140, 240)]],
    "seven": [[(70, 50), (210, 50), (120, 240)]],
}


def call(driver, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(driver + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as res:
        return json.loads(res.read().decode())["value"]


def run_js(driver, session, script, *args):
    return call(driver, "POST", f"/session/{session}/execute/sync", {"script": script, "args": list(args)})


DRAW = """
const pad = document.getElementById('pad');
const r = pad.getBoundingClientRect();
const sx = r.width / pad.width, sy = r.height / pad.height;
const fire = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {
  bubbles: true, pointerId: 1, pointerType: 'mouse', isPrimary: true, buttons: 1,
  clientX: r.left + x * sx, clientY: r.top + y * sy}));
for (const line of arguments[0]) {
  fire('pointerdown', line[0][0], line[0][1]);
  for (let k = 1; k < line.length; k++) {
    const [x0, y0] = line[k - 1], [x1, y1] = line[k];
    for (let t = 1; t <= 20; t++) fire('pointermove', x0 + (x1 - x0) * t / 20, y0 + (y1 - y0) * t / 20);
  }
  fire('pointerup', line[line.length - 1][0], line[line.length - 1][1]);
}
return true;
"""

READ = """
const bars = document.querySelectorAll('#bars .bar').length;
const neurons = document.querySelectorAll('#layers .neuron').length;
const maps = document.querySelectorAll('#layers canvas.map').length;
return {digit: document.getElementById('digit').textContent, bars: bars, neurons: neurons, maps: maps,
        status: document.getElementById('status').textContent};
"""


def main():
    page, driver, shot = sys.argv[1:4]
    stroke = sys.argv[4] if len(sys.argv) > 4 else "one"
    profile = tempfile.mkdtemp(prefix="scratchnet-chromium-")
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", f"--window-size={os.environ.get('WINDOW', '960,620')}"]
    caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": "/usr/bin/chromium", "args": args}}}}
    session = call(driver, "POST", "/session", caps)["sessionId"]
    failed = False
    try:
        call(driver, "POST", f"/session/{session}/url", {"url": page})
        title = call(driver, "GET", f"/session/{session}/title")
        print(f"page title: {title}")
        run_js(driver, session, DRAW, STROKES[stroke])
        deadline = time.time() + 20
        seen = run_js(driver, session, READ)
        while seen["digit"] == "?" and time.time() < deadline:
            time.sleep(0.2)
            seen = run_js(driver, session, READ)
        print(f"drew a '{stroke}'; page shows digit {seen['digit']!r}, {seen['bars']} bars, "
              f"{seen['neurons']} hidden neurons, {seen['maps']} feature maps; "
              f"status {seen['status']!r}")
        if seen["digit"] not in list("0123456789") or seen["bars"] != 10:
            print("FAIL: no prediction on the page")
            failed = True
        else:
            print("ok: the page shows a prediction")
        png = base64.b64decode(call(driver, "GET", f"/session/{session}/screenshot"))
        with open(shot, "wb") as f:
            f.write(png)
        print(f"screenshot: {shot} ({len(png)} bytes)")
        expected = {"one": "1", "seven": "7"}[stroke]
        print(f"bonus: drawn {expected}, read {seen['digit']}"
              f" ({'right' if seen['digit'] == expected else 'wrong'})")
    finally:
        call(driver, "DELETE", f"/session/{session}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

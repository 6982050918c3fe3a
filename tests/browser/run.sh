#!/usr/bin/env bash
# Browser test for `scratchnet serve`: draws a digit in headless Chromium and checks the page
# shows a prediction. Installs Debian's chromium and chromium-driver if they are missing.
#
# Usage: tests/browser/run.sh [SCREENSHOT_DIR]
#   MODEL=file.bin     use this model; otherwise one is trained for 1 epoch on MNIST_DIR
#   MNIST_DIR=dir      MNIST files (default ../shared/mnist)
#   WINDOW=W,H         the browser's size (default 960,620)
set -euo pipefail
cd "$(dirname "$0")/../.."
shots=${1:-target/browser}
mkdir -p "$shots"
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "installing chromium and chromium-driver (this takes a while)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

cargo build --release --quiet
bin=target/release/scratchnet
model=${MODEL:-}
if [ -z "$model" ]; then
    model=$work/model.bin
    echo "training a quick model (1 epoch) for the test"
    "$bin" train --data "${MNIST_DIR:-../shared/mnist}" --epochs 1 --out "$model" >/dev/null
fi

"$bin" serve "$model" --port 0 > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q http "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/serve.log")
echo "server: $url"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chromedriver --port="$port" > "$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/status')" 2>/dev/null && break
    sleep 0.1
done

status=0
for stroke in one seven; do
    python3 tests/browser/drive.py "$url" "http://127.0.0.1:$port" "$shots/serve-$stroke.png" "$stroke" || status=1
done
exit $status

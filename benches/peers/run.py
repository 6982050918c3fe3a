#!/usr/bin/env python3
"""Times the benches' networks in scratchnet and in its usual peers, in turns, and prints one table.

    python3 benches/peers/run.py [--rounds N] [--reps N] [--quick] [--only NAME]...
                                 [--python PATH] [--no-build]

Each timing is one subprocess: a warm-up, then REPS timed training epochs, reporting their
median wall time. A round runs every contender once for every (network, threads) case, the
contenders in an order that rotates from round to round; the table shows the median over the
rounds. Standard library only: numpy and torch are imported by the contender subprocesses, whose
interpreter is --python, and a contender whose library is missing shows "not installed".
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the repository
import harness  # noqa: E402  (after the line above)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = [(network, threads) for network in harness.NETWORKS for threads in (1, 2)]
# name -> the contender's script and arguments after NETWORK THREADS REPS (None: scratchnet).
CONTENDERS = {
    "scratchnet": None,
    "numpy-loop": ["numpy_net.py", "loop"],
    "numpy-batched": ["numpy_net.py", "batched"],
    "torch": ["torch_net.py"],
}
# One image at a time through 784-800-800-10 takes minutes per 50,000 images: not timed.
SKIPPED = {("numpy-loop", "large"): "skipped (per image)"}
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, help="rounds of turns (default 3, --quick 2)")
    p.add_argument("--reps", type=int, help="timed epochs per subprocess (default 3, --quick 1)")
    p.add_argument("--quick", action="store_true", help="2 rounds of 1 timed epoch")
    p.add_argument("--only", action="append", choices=list(CONTENDERS), metavar="NAME",
                   help=f"time only these contenders (and scratchnet): {', '.join(CONTENDERS)}")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter for the numpy and torch contenders (default: this one)")
    p.add_argument("--no-build", action="store_true",
                   help="use target/release/examples/epoch_time as it is")
    args = p.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.reps = args.reps or (1 if args.quick else 3)
    return args


def command_output(command, **kwargs):
    """The command's stripped stdout, or None if it cannot run or fails."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def epoch_time_binary(build):
    """Builds examples/epoch_time.rs (unless not `build`); its path, or None if missing."""
    if build:
        cargo = shlex.split(os.environ.get("CARGO", "cargo"))
        command = cargo + ["build", "--release", "--example", "epoch_time"]
        print("building:", " ".join(command), file=sys.stderr)
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            return None
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "release" / "examples" / "epoch_time"
    return binary if binary.exists() else None


def child_environment(threads):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    return env


def time_scratchnet(binary, network, threads, reps):
    """{"median_ms"} from epoch_time's "wall X ms", or {"error"}."""
    if binary is None:
        return {"error": "not built"}
    command = [str(binary), network, str(threads), str(reps)]
    done = subprocess.run(command, capture_output=True, text=True, env=child_environment(threads))
    wall = re.search(r"wall ([0-9.]+) ms", done.stdout)
    if done.returncode != 0 or wall is None:
        return {"error": f"failed: {done.stderr.strip()[-200:]}"}
    return {"median_ms": float(wall.group(1))}


def time_peer(python, script, network, threads, reps):
    """The contender's JSON line, {"error": "not installed"}, or {"error": "failed ..."}."""
    command = [python, str(HERE / script[0]), network, str(threads), str(reps)] + script[1:]
    done = subprocess.run(command, capture_output=True, text=True, env=child_environment(threads))
    if done.returncode == harness.NOT_INSTALLED:
        return {"error": "not installed"}
    if done.returncode != 0:
        return {"error": f"failed: {done.stderr.strip()[-200:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_rounds(args, binary):
    """{(name, network, threads): [result of each round]}, running the contenders in turns."""
    names = [n for n in CONTENDERS if n == "scratchnet" or not args.only or n in args.only]
    results = {}
    missing = set()  # contenders found not installed: not started again
    for round_index in range(args.rounds):
        turn = names[round_index % len(names):] + names[:round_index % len(names)]
        for network, threads in CASES:
            for name in turn:
                if (name, network) in SKIPPED or name in missing:
                    continue
                print(f"round {round_index + 1}/{args.rounds}: {network}, {threads} thread(s), "
                      f"{name}", file=sys.stderr)
                if name == "scratchnet":
                    result = time_scratchnet(binary, network, threads, args.reps)
                else:
                    result = time_peer(args.python, CONTENDERS[name], network, threads, args.reps)
                if result.get("error") == "not installed":
                    missing.add(name)
                results.setdefault((name, network, threads), []).append(result)
    return names, results, missing


def summary(rounds):
    """(median ms, "min–max" over the rounds, cost check, version), or the first error."""
    errors = [r["error"] for r in rounds if "error" in r]
    if errors:
        return errors[0], "", "", None
    medians = [r["median_ms"] for r in rounds]
    spread = f"{min(medians):.0f}–{max(medians):.0f}" if len(medians) > 1 else ""
    cost = ""
    if "cost" in rounds[-1]:
        before, after = rounds[-1]["cost"]
        cost = f"{before:.3f} → {after:.3f}" + ("" if after < before else " (did not fall!)")
    return statistics.median(medians), spread, cost, rounds[-1].get("version")


def table_rows(names, results, missing):
    """The table's rows, and the versions the contenders reported."""
    rows, versions = [], {}
    for network, threads in CASES:
        sizes, batch, n = harness.NETWORKS[network]
        label = f"{'-'.join(map(str, sizes))} ({n:,} images)"
        base = summary(results.get(("scratchnet", network, threads), [{"error": "—"}]))[0]
        for name in names:
            if (name, network) in SKIPPED:
                median, spread, cost = SKIPPED[(name, network)], "", ""
            elif name in missing:
                median, spread, cost = "not installed", "", ""
            else:
                median, spread, cost, version = summary(results[(name, network, threads)])
                versions[name.split("-")[0]] = version
            timed = isinstance(median, float)
            ratio = f"{median / base:.2f}" if timed and isinstance(base, float) else ""
            shown = f"{median:.1f}" if timed else median
            rows.append([label, str(batch), str(threads), name, shown, spread, ratio, cost])
    return rows, versions


def header(args, load_before, versions):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load_after = os.getloadavg()
    rustc = command_output(["rustc", "--version"]) or "rustc not found"
    python = command_output([args.python, "--version"]) or args.python
    known = [v for v in (versions.get("numpy"), versions.get("torch")) if v]
    return [
        f"date: {datetime.datetime.now().isoformat(timespec='minutes')}; "
        f"machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "load average (1, 5, 15 min): "
        f"{' '.join(f'{x:.2f}' for x in load_before)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in load_after)} at the end",
        f"versions: {rustc}; {python}; " + ("; ".join(known) or "no peer installed"),
        f"command: python3 benches/peers/run.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}",
        f"median of {args.rounds} rounds, each the median of {args.reps} timed epoch(s) after "
        "a warm-up; wall clock; ratio = median / scratchnet's",
    ]


def print_table(rows):
    titles = ["network", "batch", "threads", "contender", "median ms", "rounds' range",
              "× scratchnet", "cost start → end"]
    print("| " + " | ".join(titles) + " |")
    print("|" + "|".join("---" for _ in titles) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main():
    args = parse_args()
    load_before = os.getloadavg()
    binary = epoch_time_binary(not args.no_build)
    names, results, missing = run_rounds(args, binary)
    rows, versions = table_rows(names, results, missing)
    print("\n".join(header(args, load_before, versions)))
    print()
    print_table(rows)


if __name__ == "__main__":
    main()

"""What every contender shares: the networks, the command line, and the timing loop.

Standard library only: run.py imports it too, and a contender imports numpy or torch itself,
after the driver has set the thread-count variables in its environment.

A contender is run as `python3 CONTENDER.py NETWORK THREADS REPS [VARIANT]` and prints one
JSON line: {"median_ms", "epochs_ms", "cost", "version"}; exit code 3 means its library is not
installed.
"""

import importlib
import json
import statistics
import sys
import time

# The benches' networks (benches/common/synthetic.rs): sizes, mini-batch size, and images per
# "epoch" (a tenth of MNIST's 50,000 for the large one, as examples/epoch_time.rs does).
NETWORKS = {
    "writeup": ([784, 20, 10, 10], 10, 50_000),
    "large": ([784, 800, 800, 10], 100, 5_000),
}
ETA = 3.0
SEED = 7
# The cost is checked on the first images, before the warm-up and after the last timed epoch.
COST_IMAGES = 1_000
NOT_INSTALLED = 3


def require(module):
    """Imports `module`, or exits with NOT_INSTALLED so that the driver prints "not installed"."""
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"not installed: {module}", file=sys.stderr)
        sys.exit(NOT_INSTALLED)


def parse_args():
    """(sizes, batch, n, threads, reps, variant) from `NETWORK THREADS REPS [VARIANT]`."""
    usage = "usage: CONTENDER.py writeup|large THREADS REPS [VARIANT]"
    args = sys.argv[1:]
    if len(args) not in (3, 4) or args[0] not in NETWORKS:
        sys.exit(usage)
    sizes, batch, n = NETWORKS[args[0]]
    variant = args[3] if len(args) == 4 else None
    return sizes, batch, n, int(args[1]), int(args[2]), variant


def run(train_epoch, cost, reps, n, version):
    """Times `reps` calls of `train_epoch(n)` after a warm-up on a tenth of the images.

    `train_epoch(count)` shuffles and trains on `count` images in mini-batches; `cost()` is the
    quadratic cost on the first COST_IMAGES images. Prints the JSON line.
    """
    cost_before = cost()
    train_epoch(n // 10)
    epochs_ms = []
    for _ in range(max(reps, 1)):
        start = time.perf_counter()
        train_epoch(n)
        epochs_ms.append((time.perf_counter() - start) * 1e3)
    result = {
        "median_ms": statistics.median(epochs_ms),
        "epochs_ms": epochs_ms,
        "cost": [cost_before, cost()],
        "version": version,
    }
    print(json.dumps(result))

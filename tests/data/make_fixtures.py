#!/usr/bin/env python3
"""Writes the small IDX and gzip fixtures in this script's folder (from any working
directory): `python3 tests/data/make_fixtures.py`. Needs only python3 and the `gzip` tool.
See README.md."""
import os
import shutil
import struct
import subprocess

os.chdir(os.path.dirname(os.path.abspath(__file__)))

# Three 2×3 images (row-major, 0 = background, 255 = ink) and their labels.
PIXELS = bytes([0, 128, 255, 255, 128, 0,
                1, 2, 3, 4, 5, 6,
                255, 0, 255, 0, 255, 0])
LABELS = bytes([7, 2, 1])


def images(count, rows, cols, pixels, magic=2051):
    return struct.pack(">IIII", magic, count, rows, cols) + pixels


def labels(count, values, magic=2049):
    return struct.pack(">II", magic, count) + values


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def gzip(name):
    """gzip -9 -k -n: no name or time stored, so the output is reproducible."""
    subprocess.run(["gzip", "-9", "-k", "-n", "-f", name], check=True)
    return open(name + ".gz", "rb").read()


# Valid files, raw and gzipped.
write("tiny-images-idx3-ubyte", images(3, 2, 3, PIXELS))
write("tiny-labels-idx1-ubyte", labels(3, LABELS))
tiny_images_gz = gzip("tiny-images-idx3-ubyte")
gzip("tiny-labels-idx1-ubyte")

# A complete four-file folder under mixed names (canonical .gz, raw, dotted raw).
os.makedirs("tiny", exist_ok=True)
shutil.copy("tiny-images-idx3-ubyte.gz", "tiny/train-images-idx3-ubyte.gz")
shutil.copy("tiny-labels-idx1-ubyte.gz", "tiny/train-labels-idx1-ubyte.gz")
shutil.copy("tiny-images-idx3-ubyte", "tiny/t10k-images.idx3-ubyte")
shutil.copy("tiny-labels-idx1-ubyte", "tiny/t10k-labels-idx1-ubyte")

# The same folder, but the training labels hold 2 labels for 3 images.
os.makedirs("mismatch", exist_ok=True)
shutil.copy("tiny-images-idx3-ubyte.gz", "mismatch/train-images-idx3-ubyte.gz")
write("mismatch/train-labels-idx1-ubyte", labels(2, LABELS[:2]))
shutil.copy("tiny-images-idx3-ubyte", "mismatch/t10k-images-idx3-ubyte")
shutil.copy("tiny-labels-idx1-ubyte", "mismatch/t10k-labels-idx1-ubyte")

# IDX errors.
write("bad-magic-idx3-ubyte", images(3, 2, 3, PIXELS, magic=2052))
write("truncated-idx3-ubyte", images(3, 2, 3, PIXELS[:-5]))
write("trailing-idx3-ubyte", images(3, 2, 3, PIXELS + b"\0"))
write("huge-count-idx3-ubyte", images(4_000_000_000, 28, 28, PIXELS))
write("zero-rows-idx3-ubyte", images(3, 0, 3, b""))
write("bad-label-idx1-ubyte", labels(3, bytes([7, 10, 1])))

# gzip errors, all made from tiny-images-idx3-ubyte.gz (header is 10 bytes with -n).
gz = bytearray(tiny_images_gz)
assert gz[3] == 0, "expected no header flags with gzip -n"
write("truncated-gzip-idx3-ubyte.gz", bytes(gz[:-12]))
corrupt = bytearray(gz)
corrupt[10] |= 0b110  # the first block's BTYPE bits (bits 1-2) become 11: invalid type 3
write("corrupt-deflate-idx3-ubyte.gz", bytes(corrupt))
bad_crc = bytearray(gz)
bad_crc[-8] ^= 0xFF  # first byte of the CRC-32 trailer
write("bad-crc-idx3-ubyte.gz", bytes(bad_crc))
bad_isize = bytearray(gz)
bad_isize[-4] ^= 0x01  # first byte of the ISIZE trailer
write("bad-isize-idx3-ubyte.gz", bytes(bad_isize))

# Every fixture is committed with a ".fixture" suffix, so that no file in the repository
# looks like (or could be mistaken for) a real MNIST file; the tests strip it again.
for folder, _, names in os.walk("."):
    for name in names:
        if name.endswith(("-ubyte", "-ubyte.gz")):
            os.replace(os.path.join(folder, name), os.path.join(folder, name + ".fixture"))

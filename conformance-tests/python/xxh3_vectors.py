"""Prints `LENGTH HASH` lines: this package's XXH3-64 of deterministic inputs of many lengths, so that a
test can compare it with another implementation across every branch of the algorithm (0-16, 17-128,
129-240 bytes, and multi-block inputs)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from aotcache.xxh3 import xxh3_64  # noqa: E402

LENGTHS = list(range(0, 300)) + [511, 512, 513, 1023, 1024, 1025, 1087, 1088, 1089, 2048, 2049, 4096, 4152, 5000]


def sample(n: int) -> bytes:
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


if __name__ == "__main__":
    for n in LENGTHS:
        print(n, f"{xxh3_64(sample(n)):016x}")

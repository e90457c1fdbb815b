"""XXH3-64 with seed 0 and the default secret, in plain Python.

FORMAT.md names XxHash3-64 (xxHash 0.8, seed 0) for every checksum and hash in the file; the standard
library has no xxHash, so this is written from the algorithm description in xxHash's
doc/xxhash_spec.md. Only the 64-bit variant with seed 0 is needed: the seed terms of the description
vanish and are left out. Speed is not a goal (a few MB/s is plenty for test files).
"""

MASK64 = (1 << 64) - 1

PRIME32_1 = 0x9E3779B1
PRIME32_2 = 0x85EBCA77
PRIME32_3 = 0xC2B2AE3D
PRIME64_1 = 0x9E3779B185EBCA87
PRIME64_2 = 0xC2B2AE3D27D4EB4F
PRIME64_3 = 0x165667B19E3779F9
PRIME64_4 = 0x85EBCA77C2B2AE63
PRIME64_5 = 0x27D4EB2F165667C5
PRIME_MX1 = 0x165667919E3779F9
PRIME_MX2 = 0x9FB21C651E98DF25

SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1c"
    "ded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221"
    "b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea3"
    "71644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d"
    "8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb"
    "170ddd51b7f0da49d316552629d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce"
    "45cb3a8f95160428afd7fbcabb4b407e"
)
assert len(SECRET) == 192

STRIPE = 64
STRIPES_PER_BLOCK = (len(SECRET) - STRIPE) // 8  # 16
BLOCK = STRIPE * STRIPES_PER_BLOCK  # 1024


def _u32(b: bytes, at: int) -> int:
    return int.from_bytes(b[at:at + 4], "little")


def _u64(b: bytes, at: int) -> int:
    return int.from_bytes(b[at:at + 8], "little")


def _rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK64


def _bswap32(x: int) -> int:
    return int.from_bytes(x.to_bytes(4, "little"), "big")


def _bswap64(x: int) -> int:
    return int.from_bytes(x.to_bytes(8, "little"), "big")


def _fold128(a: int, b: int) -> int:
    """Low and high halves of the 128-bit product, xor-ed."""
    product = a * b
    return (product & MASK64) ^ (product >> 64)


def _avalanche(x: int) -> int:
    x ^= x >> 37
    x = (x * PRIME_MX1) & MASK64
    return x ^ (x >> 32)


def _avalanche_xxh64(x: int) -> int:
    x ^= x >> 33
    x = (x * PRIME64_2) & MASK64
    x ^= x >> 29
    x = (x * PRIME64_3) & MASK64
    return x ^ (x >> 32)


def _mix16(data: bytes, at: int, secret_at: int) -> int:
    return _fold128(_u64(data, at) ^ _u64(SECRET, secret_at), _u64(data, at + 8) ^ _u64(SECRET, secret_at + 8))


def _small(data: bytes) -> int:
    n = len(data)
    if n == 0:
        return _avalanche_xxh64(_u64(SECRET, 56) ^ _u64(SECRET, 64))
    if n <= 3:
        combined = data[n - 1] | (n << 8) | (data[0] << 16) | (data[n >> 1] << 24)
        return _avalanche_xxh64((_u32(SECRET, 0) ^ _u32(SECRET, 4)) ^ combined)
    if n <= 8:
        first, last = _u32(data, 0), _u32(data, n - 4)
        combined = last | (first << 32)
        value = (_u64(SECRET, 8) ^ _u64(SECRET, 16)) ^ combined
        value ^= _rotl64(value, 49) ^ _rotl64(value, 24)
        value = (value * PRIME_MX2) & MASK64
        value ^= (value >> 35) + n
        value = (value * PRIME_MX2) & MASK64
        return value ^ (value >> 28)
    low = (_u64(SECRET, 24) ^ _u64(SECRET, 32)) ^ _u64(data, 0)
    high = (_u64(SECRET, 40) ^ _u64(SECRET, 48)) ^ _u64(data, n - 8)
    value = (n + _bswap64(low) + high + _fold128(low, high)) & MASK64
    return _avalanche(value)


def _medium(data: bytes) -> int:
    n = len(data)
    acc = (n * PRIME64_1) & MASK64
    if n <= 128:
        rounds = ((n - 1) >> 5) + 1
        for i in range(rounds - 1, -1, -1):
            acc += _mix16(data, i * 16, i * 32)
            acc += _mix16(data, n - i * 16 - 16, i * 32 + 16)
        return _avalanche(acc & MASK64)
    for i in range(8):
        acc += _mix16(data, i * 16, i * 16)
    acc = _avalanche(acc & MASK64)
    for i in range(8, n >> 4):
        acc += _mix16(data, i * 16, (i - 8) * 16 + 3)
    acc += _mix16(data, n - 16, 119)
    return _avalanche(acc & MASK64)


def _accumulate(acc: list, data: bytes, at: int, secret_at: int) -> None:
    for i in range(8):
        lane = _u64(data, at + 8 * i)
        value = lane ^ _u64(SECRET, secret_at + 8 * i)
        acc[i ^ 1] = (acc[i ^ 1] + lane) & MASK64
        acc[i] = (acc[i] + (value & 0xFFFFFFFF) * (value >> 32)) & MASK64


def _scramble(acc: list) -> None:
    for i in range(8):
        a = acc[i]
        a ^= a >> 47
        a ^= _u64(SECRET, len(SECRET) - 64 + 8 * i)
        acc[i] = (a * PRIME32_1) & MASK64


def _large(data: bytes) -> int:
    n = len(data)
    acc = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1]
    # Whole blocks, but always leave the last block (even a full one) to the final round.
    blocks = (n - 1) // BLOCK
    for b in range(blocks):
        for s in range(STRIPES_PER_BLOCK):
            _accumulate(acc, data, b * BLOCK + s * STRIPE, s * 8)
        _scramble(acc)
    last = blocks * BLOCK
    for s in range((n - last - 1) // STRIPE):
        _accumulate(acc, data, last + s * STRIPE, s * 8)
    _accumulate(acc, data, n - STRIPE, len(SECRET) - 71)
    result = (n * PRIME64_1) & MASK64
    for i in range(4):
        result += _fold128(acc[2 * i] ^ _u64(SECRET, 11 + 16 * i), acc[2 * i + 1] ^ _u64(SECRET, 11 + 16 * i + 8))
    return _avalanche(result & MASK64)


def xxh3_64(data: bytes) -> int:
    """XXH3-64 of data with seed 0, as an unsigned integer."""
    data = bytes(data)
    if len(data) <= 16:
        return _small(data)
    if len(data) <= 240:
        return _medium(data)
    return _large(data)

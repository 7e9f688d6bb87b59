"""xxHash (``XXH32``, ``XXH64``), as HAProxy's ``xxh32``/``xxh64`` converters and
its dynamic persistence cookies (``srv_set_dyncookie()``) compute them: the
reference algorithm, little-endian reads."""

from __future__ import annotations

_P32 = (2654435761, 2246822519, 3266489917, 668265263, 374761393)
_P64 = (
    11400714785074694791,
    14029467366897019727,
    1609587929392839161,
    9650029242287828579,
    2870177450012600261,
)
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


def _rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def xxh32(data: bytes, seed: int = 0) -> int:
    p1, p2, p3, p4, p5 = _P32
    n = len(data)
    i = 0
    seed &= _M32
    if n >= 16:
        v = [(seed + p1 + p2) & _M32, (seed + p2) & _M32, seed, (seed - p1) & _M32]
        while i + 16 <= n:
            for k in range(4):
                lane = int.from_bytes(data[i : i + 4], "little")
                v[k] = (_rotl32((v[k] + lane * p2) & _M32, 13) * p1) & _M32
                i += 4
        h = (_rotl32(v[0], 1) + _rotl32(v[1], 7) + _rotl32(v[2], 12) + _rotl32(v[3], 18)) & _M32
    else:
        h = (seed + p5) & _M32
    h = (h + n) & _M32
    while i + 4 <= n:
        h = (h + int.from_bytes(data[i : i + 4], "little") * p3) & _M32
        h = (_rotl32(h, 17) * p4) & _M32
        i += 4
    while i < n:
        h = (h + data[i] * p5) & _M32
        h = (_rotl32(h, 11) * p1) & _M32
        i += 1
    h ^= h >> 15
    h = (h * p2) & _M32
    h ^= h >> 13
    h = (h * p3) & _M32
    h ^= h >> 16
    return h


def _round64(acc: int, lane: int) -> int:
    acc = (acc + lane * _P64[1]) & _M64
    return (_rotl64(acc, 31) * _P64[0]) & _M64


def _merge64(h: int, v: int) -> int:
    h ^= _round64(0, v)
    return (h * _P64[0] + _P64[3]) & _M64


def xxh64(data: bytes, seed: int = 0) -> int:
    p1, p2, p3, p4, p5 = _P64
    n = len(data)
    i = 0
    seed &= _M64
    if n >= 32:
        v = [(seed + p1 + p2) & _M64, (seed + p2) & _M64, seed, (seed - p1) & _M64]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round64(v[k], int.from_bytes(data[i : i + 8], "little"))
                i += 8
        h = (_rotl64(v[0], 1) + _rotl64(v[1], 7) + _rotl64(v[2], 12) + _rotl64(v[3], 18)) & _M64
        for lane in v:
            h = _merge64(h, lane)
    else:
        h = (seed + p5) & _M64
    h = (h + n) & _M64
    while i + 8 <= n:
        h ^= _round64(0, int.from_bytes(data[i : i + 8], "little"))
        h = (_rotl64(h, 27) * p1 + p4) & _M64
        i += 8
    if i + 4 <= n:
        h ^= (int.from_bytes(data[i : i + 4], "little") * p1) & _M64
        h = (_rotl64(h, 23) * p2 + p3) & _M64
        i += 4
    while i < n:
        h ^= (data[i] * p5) & _M64
        h = (_rotl64(h, 11) * p1) & _M64
        i += 1
    h ^= h >> 33
    h = (h * p2) & _M64
    h ^= h >> 29
    h = (h * p3) & _M64
    h ^= h >> 32
    return h

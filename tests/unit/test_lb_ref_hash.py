"""Hashing against the binary: map-based and consistent ``balance source``,
server removal and weight changes, ids, hash functions, bounded load, and the
round-robin fallback when the hash input is missing (``balance hash
var(txn.nope)``, a variable never set).

Every scenario below was run on the reference binary, HAProxy 2.6.12, and
the answers are pasted as literals; how, is told in ``lbfakes``.
"""

from __future__ import annotations

import pytest
from lbfakes import OBSERVED_IPS, Scenario, expected, replay

# source address lists (the 127.x.y.z ones of the rand_* runs were drawn at random)
IPS_0 = (
    "127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1 "
    "127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1 "
    "127.0.0.1 127.0.0.1"
)
IPS_1 = (
    "127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4 127.0.1.5 "
    "127.0.1.6 127.0.1.7 127.0.1.8 127.0.2.1 127.0.2.2 "
    "127.0.2.3 127.0.2.4 127.0.2.5 127.0.2.6 127.0.2.7 "
    "127.0.2.8 127.0.3.1 127.0.3.2 127.0.3.3 127.0.3.4 "
    "127.0.3.5 127.0.3.6 127.0.3.7 127.0.3.8"
)
IPS_2 = (
    "127.0.1.1 127.0.1.2 127.0.1.3 127.0.1.4 127.0.1.5 "
    "127.0.1.6 127.0.1.7 127.0.1.8 127.0.2.1 127.0.2.2"
)
IPS_3 = (
    "127.0.2.3 127.0.2.4 127.0.2.5 127.0.2.6 127.0.2.7 "
    "127.0.2.8 127.0.3.1 127.0.3.2 127.0.3.3 127.0.3.4 "
    "127.0.3.5 127.0.3.6 127.0.3.7 127.0.3.8"
)
IPS_4 = (
    "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 "
    "127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9 127.0.0.10 "
    "127.0.0.11 127.0.0.12"
)
IPS_5 = "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8"
IPS_6 = (
    "127.163.250.28 127.154.149.181 127.63.170.209 127.104.147.114 127.46.197.82 "
    "127.123.148.48 127.96.95.9 127.133.243.18 127.45.66.225 127.76.19.216 "
    "127.41.200.215 127.141.120.218 127.110.214.149 127.140.230.127 127.182.42.84 "
    "127.59.249.151"
)
IPS_7 = (
    "127.255.201.151 127.17.245.63 127.206.212.171 127.88.187.141 127.191.44.113 "
    "127.55.83.134 127.201.189.126 127.15.240.12 127.157.201.166 127.87.86.129 "
    "127.116.6.198 127.102.118.104 127.176.180.118 127.137.2.99 127.66.105.110 "
    "127.28.246.223"
)
IPS_8 = (
    "127.142.255.129 127.181.232.231 127.236.179.146 127.233.249.169 127.113.166.209 "
    "127.85.137.198 127.245.158.78 127.208.159.188 127.106.250.132 127.187.38.201 "
    "127.174.4.233 127.97.54.16 127.25.139.152 127.116.54.194 127.69.136.63 "
    "127.107.30.109"
)
IPS_9 = (
    "127.14.143.254 127.83.167.247 127.53.108.163 127.136.145.32 127.32.246.219 "
    "127.247.45.89 127.34.210.230 127.77.10.76 127.218.212.224 127.60.22.155 "
    "127.23.193.184 127.169.142.130 127.120.18.80 127.3.39.28 127.16.101.249 "
    "127.208.149.157"
)
IPS_10 = (
    "127.34.211.234 127.103.225.71 127.94.182.112 127.164.101.232 127.165.51.215 "
    "127.31.117.72 127.121.62.85 127.90.148.118 127.13.21.92 127.42.146.189 "
    "127.167.9.83 127.147.164.248 127.78.210.221 127.39.150.159 127.98.227.75 "
    "127.69.128.98"
)
IPS_11 = (
    "127.241.90.15 127.131.11.244 127.183.206.5 127.214.187.97 127.4.231.12 "
    "127.92.100.31 127.125.236.89 127.181.128.199 127.236.55.151 127.188.151.10 "
    "127.221.46.54 127.174.185.236 127.75.174.71 127.47.159.176 127.162.156.46 "
    "127.40.76.185"
)

SCENARIOS: dict[str, Scenario] = {
    "chash_bounded": Scenario(
        "source",
        ["a weight 1", "b weight 1", "c weight 1"],
        [("hold_src", IPS_0, "b c b c b c b c b c b c")],
        extra=["hash-type consistent", "hash-balance-factor 150"],
    ),
    "chash_bounded_stale_cw": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3", "d weight 2"],
        [
            ("cli", "disable server L/a"),
            ("cli", "set weight L/c 1"),
            ("hold_src", IPS_1, "b c d d b d c d b b b c b d d d c d b b b d d b"),
        ],
        extra=["hash-type consistent", "hash-balance-factor 101"],
    ),
    "chash_bounded_up_later": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3", "d weight 2"],
        [
            ("cli", "disable server L/b"),
            ("hold_src", IPS_2, "d a c c c d c d c c"),
            ("cli", "enable server L/b"),
            ("hold_src", IPS_3, "b b d a d c b b b d b d c b"),
        ],
        extra=["hash-type consistent", "hash-balance-factor 110"],
    ),
    "chash_bounded_w": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("hold_src", IPS_4, "c a b c c c b c b b c c")],
        extra=["hash-type consistent", "hash-balance-factor 101"],
    ),
    "chash_rr_backup_last": Scenario(
        "hash var(txn.nope)",
        ["a", "d", "b backup", "c backup"],
        [
            ("cli", "disable server L/a"),
            ("cli", "disable server L/d"),
            ("seq", "b c c b c"),
            ("cli", "enable server L/a"),
            ("seq", "a a"),
            ("cli", "enable server L/d"),
            (
                "seq",
                ("c b c b b b b b c b b c b c c b c b c c b b c b c c c d a a a d a a a d d a d a"),
            ),
        ],
        extra=["hash-type consistent", "option allbackups"],
    ),
    "chash_rr_fallback": Scenario(
        "hash var(txn.nope)",
        ["a weight 1", "b weight 1", "c weight 1"],
        [("seq", "c c b a c a a b c a a a b b c a c c b c")],
        extra=["hash-type consistent"],
    ),
    "chash_rr_fallback_w": Scenario(
        "hash var(txn.nope)",
        ["a weight 1", "b weight 2", "c weight 3"],
        [
            ("seq", "c c c c c c c c c c c b a c a c a b c a a c a b b c c c a c"),
            ("cli", "disable server L/c"),
            ("seq", "a b b a b b b a b b"),
        ],
        extra=["hash-type consistent"],
    ),
    "chash_rr_maxconn": Scenario(
        "hash var(txn.nope)",
        ["a weight 1 maxconn 1", "b weight 1 maxconn 2", "c weight 1"],
        [("hold", "c c b a c b c c"), ("release", [0]), ("hold", "c c c c")],
        extra=["hash-type consistent"],
    ),
    "chash_rr_single_active": Scenario(
        "hash var(txn.nope)",
        ["a", "b backup", "c backup"],
        [
            ("cli", "disable server L/a"),
            ("seq", "c c b c b"),
            ("cli", "enable server L/a"),
            ("seq", "a a a a a"),
        ],
        extra=["hash-type consistent", "option allbackups"],
    ),
    "chash_src_changes": Scenario(
        "source",
        ["a weight 1", "b weight 1", "c weight 1"],
        [
            ("src", OBSERVED_IPS, "b a c a b a c a a c b c c c a a a c a a c a c b"),
            ("cli", "disable server L/b"),
            ("src", OBSERVED_IPS, "c a c a c a c a a c a c c c a a a c a a c a c c"),
            ("cli", "enable server L/b"),
            ("src", OBSERVED_IPS, "b a c a b a c a a c b c c c a a a c a a c a c b"),
            ("cli", "set weight L/c 3"),
            ("src", OBSERVED_IPS, "c a c a c c c a c c c c c c c a a c a c c a c b"),
        ],
        extra=["hash-type consistent"],
    ),
    "chash_src_djb2_aval": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("src", OBSERVED_IPS, "b b b b b b b b b b b b b b b b b b b b b b b b")],
        extra=["hash-type consistent djb2"],
    ),
    "chash_src_ids": Scenario(
        "source",
        ["a id 7", "b id 300", "c id 12 weight 4"],
        [("src", OBSERVED_IPS, "c c c b c c c b c c c a c c c a a c c c a c a a")],
        extra=["hash-type consistent"],
    ),
    "map_hash_single_backup_quirk": Scenario(
        "hash var(txn.nope)",
        ["x", "a weight 2 backup", "b weight 3 backup"],
        [("seq", "x x x"), ("cli", "disable server L/x"), ("seq", "a a a a a a")],
    ),
    "map_rr_avoid_weights": Scenario(
        "hash var(txn.nope)",
        ["a weight 2", "!b weight 3", "c weight 1"],
        [("seq", "a a c a a c a a c a a c")],
        extra=["option redispatch", "retries 3"],
    ),
    "map_rr_fallback": Scenario(
        "hash var(txn.nope)",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("seq", "a c b c b c a c b c b c")],
    ),
    "map_src_aval": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("src", OBSERVED_IPS, "c c a c c a c b c c c a c b a b a c b c b c c c")],
        extra=["hash-type map-based sdbm avalanche"],
    ),
    "map_src_backup_single": Scenario(
        "source",
        ["a weight 2 backup", "b weight 3 backup"],
        [("src", IPS_5, "a a a a a a a a")],
    ),
    "map_src_changes": Scenario(
        "source",
        ["a weight 1", "b weight 2", "c weight 3"],
        [
            ("src", OBSERVED_IPS, "c a c b c b c a c b c b c a c b c b c a c a a b"),
            ("cli", "disable server L/b"),
            ("src", OBSERVED_IPS, "c c c a c c c a c c c a c c c a c c c a c c c c"),
            ("cli", "set weight L/a 0"),
            ("src", OBSERVED_IPS, "c c c c c c c c c c c c c c c c c c c c c c c c"),
        ],
    ),
    "rand_chash_0": Scenario(
        "source",
        [
            "a weight 1",
            "b weight 5",
            "c weight 9",
            "d weight 8",
            "e weight 7",
            "f weight 5",
            "g weight 8 backup",
        ],
        [
            ("src", IPS_6, "d e d e f e b c f b e b f e c c"),
            ("cli", "disable server L/b"),
            ("src", IPS_6, "d e d e f e e c f f e e f e c c"),
            ("cli", "set weight L/b 12"),
            ("src", IPS_6, "d e d e f e e c f f e e f e c c"),
            ("cli", "disable server L/c"),
            ("src", IPS_6, "d e d e f e e e f f e e f e f e"),
            ("cli", "enable server L/g"),
            ("src", IPS_6, "d e d e f e e e f f e e f e f e"),
            ("cli", "set weight L/f 1"),
        ],
        extra=["hash-type consistent"],
    ),
    "rand_chash_1": Scenario(
        "source",
        [
            "a weight 2",
            "b weight 5",
            "c weight 2",
            "d weight 8",
            "e weight 8 backup",
            "f weight 8 backup",
        ],
        [
            ("src", IPS_7, "c d b a b d a d b b b c b d c b"),
            ("cli", "enable server L/a"),
            ("src", IPS_7, "c d b a b d a d b b b c b d c b"),
            ("cli", "set weight L/d 6"),
            ("src", IPS_7, "c d b a b d a d b b b c b d c b"),
            ("cli", "disable server L/c"),
            ("src", IPS_7, "d d b a b d a d b b b d b d d b"),
            ("cli", "disable server L/a"),
            ("src", IPS_7, "d d b b b d b d b b b d b d d b"),
            ("cli", "set weight L/a 10"),
        ],
        extra=["hash-type consistent", "option allbackups"],
    ),
    "rand_chash_2": Scenario(
        "source",
        ["a weight 2", "b weight 6", "c weight 3"],
        [
            ("src", IPS_8, "b b b b c b b b b c a b a b b b"),
            ("cli", "set weight L/a 9"),
            ("src", IPS_8, "b a a b a b a b b c a a a b a a"),
            ("cli", "disable server L/a"),
            ("src", IPS_8, "b b b b c b b b b c b b b b b b"),
            ("cli", "disable server L/c"),
            ("src", IPS_8, "b b b b b b b b b b b b b b b b"),
            ("cli", "enable server L/c"),
            ("src", IPS_8, "b b b b c b b b b c b b b b b b"),
            ("cli", "disable server L/a"),
        ],
        extra=["hash-type consistent"],
    ),
    "rand_chash_3": Scenario(
        "source",
        [
            "a weight 9",
            "b weight 3",
            "c weight 6",
            "d weight 10",
            "e weight 8 backup",
            "f weight 10 backup",
        ],
        [
            ("src", IPS_9, "c a c d a d a c a c a c d b a a"),
            ("cli", "disable server L/d"),
            ("src", IPS_9, "c a c a a a a c a c a c c b a a"),
            ("cli", "disable server L/b"),
            ("src", IPS_9, "c a c a a a a c a c a c c a a a"),
            ("cli", "disable server L/e"),
            ("src", IPS_9, "c a c a a a a c a c a c c a a a"),
            ("cli", "set weight L/b 3"),
            ("src", IPS_9, "c a c a a a a c a c a c c a a a"),
            ("cli", "enable server L/e"),
        ],
        extra=["hash-type consistent", "option allbackups"],
    ),
    "rand_chash_4": Scenario(
        "source",
        ["a weight 2", "b weight 7", "c weight 8", "d weight 3", "e weight 2 backup"],
        [
            ("src", IPS_10, "a d c b c b a b d b b a c c c b"),
            ("cli", "set weight L/e 4"),
            ("src", IPS_10, "a d c b c b a b d b b a c c c b"),
            ("cli", "set weight L/e 5"),
            ("src", IPS_10, "a d c b c b a b d b b a c c c b"),
            ("cli", "enable server L/a"),
            ("src", IPS_10, "a d c b c b a b d b b a c c c b"),
            ("cli", "set weight L/a 10"),
            ("src", IPS_10, "a a a b c a a a a b b a c c c b"),
            ("cli", "enable server L/b"),
        ],
        extra=["hash-type consistent"],
    ),
    "rand_chash_5": Scenario(
        "source",
        [
            "a weight 6",
            "b weight 9",
            "c weight 1",
            "d weight 8",
            "e weight 4",
            "f weight 1 backup",
            "g weight 3 backup",
        ],
        [
            ("src", IPS_11, "b b b d a b d e b d b a d a e b"),
            ("cli", "set weight L/g 3"),
            ("src", IPS_11, "b b b d a b d e b d b a d a e b"),
            ("cli", "disable server L/e"),
            ("src", IPS_11, "b b b d a b d a b d b a d a b b"),
            ("cli", "set weight L/b 6"),
            ("src", IPS_11, "b b b d a b d a b d b a d a b b"),
            ("cli", "set weight L/g 12"),
            ("src", IPS_11, "b b b d a b d a b d b a d a b b"),
            ("cli", "set weight L/g 1"),
        ],
        extra=["hash-type consistent", "option allbackups"],
    ),
    "rand_maphash_0": Scenario(
        "source",
        [
            "a weight 1",
            "b weight 5",
            "c weight 9",
            "d weight 8",
            "e weight 7",
            "f weight 5",
            "g weight 8 backup",
        ],
        [
            ("src", IPS_6, "d b e c d d c c f d f b b e b f"),
            ("cli", "disable server L/b"),
            ("src", IPS_6, "e f f e d c d c c f c c d c a c"),
            ("cli", "set weight L/b 0"),
            ("src", IPS_6, "e f f e d c d c c f c c d c a c"),
            ("cli", "disable server L/c"),
            ("src", IPS_6, "f e e d e e d e d d d d d f d d"),
            ("cli", "enable server L/g"),
            ("src", IPS_6, "f e e d e e d e d d d d d f d d"),
            ("cli", "set weight L/f 0"),
        ],
    ),
    "rand_maphash_1": Scenario(
        "source",
        [
            "a weight 2",
            "b weight 5",
            "c weight 2",
            "d weight 8",
            "e weight 8 backup",
            "f weight 8 backup",
        ],
        [
            ("src", IPS_7, "b d d d d d d b c d c a d d a d"),
            ("cli", "enable server L/a"),
            ("src", IPS_7, "b d d d d d d b c d c a d d a d"),
            ("cli", "set weight L/d 100%"),
            ("src", IPS_7, "b d d d d d d b c d c a d d a d"),
            ("cli", "disable server L/c"),
            ("src", IPS_7, "d b d d b d d b b d b d d d d d"),
            ("cli", "disable server L/a"),
            ("src", IPS_7, "b b d b b d d d d d d b d b b d"),
            ("cli", "set weight L/a 0"),
        ],
        extra=["option allbackups"],
    ),
    "rand_maphash_2": Scenario(
        "source",
        ["a weight 2", "b weight 6", "c weight 3"],
        [
            ("src", IPS_8, "b b c c a c b b c b b c c a a b"),
            ("cli", "set weight L/a 100%"),
            ("src", IPS_8, "b b c c a c b b c b b c c a a b"),
            ("cli", "disable server L/a"),
            ("src", IPS_8, "c b b b b b c b b b b b c c c b"),
            ("cli", "disable server L/c"),
            ("src", IPS_8, "b b b b b b b b b b b b b b b b"),
            ("cli", "enable server L/c"),
            ("src", IPS_8, "c b b b b b c b b b b b c c c b"),
            ("cli", "disable server L/a"),
        ],
    ),
    "rand_maphash_3": Scenario(
        "source",
        [
            "a weight 9",
            "b weight 3",
            "c weight 6",
            "d weight 10",
            "e weight 8 backup",
            "f weight 10 backup",
        ],
        [
            ("src", IPS_9, "d d c a a b c a c c d d d d a b"),
            ("cli", "disable server L/d"),
            ("src", IPS_9, "b a a c a a b c b a c b a c a c"),
            ("cli", "disable server L/b"),
            ("src", IPS_9, "a c a a c a a a a c c a a c a a"),
            ("cli", "disable server L/e"),
            ("src", IPS_9, "a c a a c a a a a c c a a c a a"),
            ("cli", "set weight L/b 100%"),
            ("src", IPS_9, "a c a a c a a a a c c a a c a a"),
            ("cli", "enable server L/e"),
        ],
        extra=["option allbackups"],
    ),
    "rand_maphash_4": Scenario(
        "source",
        ["a weight 2", "b weight 7", "c weight 8", "d weight 3", "e weight 2 backup"],
        [
            ("src", IPS_10, "d b a c b c b c b c b c b b c c"),
            ("cli", "set weight L/e 0"),
            ("src", IPS_10, "d b a c b c b c b c b c b b c c"),
            ("cli", "set weight L/e 100%"),
            ("src", IPS_10, "d b a c b c b c b c b c b b c c"),
            ("cli", "enable server L/a"),
            ("src", IPS_10, "d b a c b c b c b c b c b b c c"),
            ("cli", "set weight L/a 100%"),
            ("src", IPS_10, "d b a c b c b c b c b c b b c c"),
            ("cli", "enable server L/b"),
        ],
    ),
    "rand_maphash_5": Scenario(
        "source",
        [
            "a weight 6",
            "b weight 9",
            "c weight 1",
            "d weight 8",
            "e weight 4",
            "f weight 1 backup",
            "g weight 3 backup",
        ],
        [
            ("src", IPS_11, "b b d e a e d d b a c b a a b d"),
            ("cli", "set weight L/g 100%"),
            ("src", IPS_11, "b b d e a e d d b a c b a a b d"),
            ("cli", "disable server L/e"),
            ("src", IPS_11, "d a d b d d b d d d c d a d d d"),
            ("cli", "set weight L/b 0"),
            ("src", IPS_11, "a d d a d d d d d d d a a d d a"),
            ("cli", "set weight L/g 100%"),
            ("src", IPS_11, "a d d a d d d d d d d a a d d a"),
            ("cli", "set weight L/g 100%"),
        ],
        extra=["option allbackups"],
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_picks_as_haproxy(name: str) -> None:
    """Each source address lands where the binary sent it."""
    sc = SCENARIOS[name]
    assert replay(sc) == expected(sc)

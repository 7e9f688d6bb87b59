"""leastconn and first against the binary, with connections held open and
released one at a time (the release order decides ties), maxconn, weight
changes and disable/enable.

Every scenario below was run on the reference binary, HAProxy 2.6.12
(Debian 12), on loopback, and the answers are pasted as literals. The config
was::

    global
        stats socket <sock> level admin
    defaults
        mode tcp
        timeout connect 1s
        timeout client 5s
        timeout server 5s
    listen L
        bind 127.0.0.1:18000
        balance <balance>
        <extra lines>
        server <name> 127.0.0.1:<port> <server line tail>

with one small TCP server per server line that writes its name and waits for
the client to close. ``cli`` ops went to the stats socket. The harness that
replays them is ``lbfakes.replay``.
"""

from __future__ import annotations

import pytest
from lbfakes import Scenario, expected, replay

SCENARIOS: dict[str, Scenario] = {
    "first_backup": Scenario(
        "first",
        ["a maxconn 1", "b maxconn 1 backup", "c maxconn 1 backup"],
        [("hold", "a"), ("cli", "disable server L/a"), ("hold", "b -")],
    ),
    "first_down": Scenario(
        "first",
        ["a maxconn 1", "b maxconn 1", "c"],
        [
            ("hold", "a b"),
            ("cli", "disable server L/a"),
            ("hold", "c c"),
            ("cli", "enable server L/a"),
            ("hold", "c c"),
        ],
    ),
    "first_ids": Scenario(
        "first",
        ["a id 3 maxconn 2", "b id 1 maxconn 2", "c id 2 maxconn 2"],
        [("hold", "b b c c a a")],
    ),
    "first_nomaxconn": Scenario(
        "first",
        ["a weight 1", "b weight 100"],
        [("hold", "a a a a"), ("seq", "a a a")],
    ),
    "first_redispatch": Scenario(
        "first",
        ["!a maxconn 2", "b maxconn 2", "c"],
        [("hold", "b b c c c")],
        extra=["option redispatch", "retries 3"],
    ),
    "first_release": Scenario(
        "first",
        ["a maxconn 2", "b maxconn 2", "c maxconn 2"],
        [
            ("hold", "a a b"),
            ("release", [0]),
            ("hold", "a b"),
            ("release", [1, 2]),
            ("hold", "a b c"),
        ],
    ),
    "first_weight0": Scenario(
        "first",
        ["a weight 0 maxconn 1", "b maxconn 1", "c maxconn 1"],
        [("hold", "b c")],
    ),
    "lc_backup_all": Scenario(
        "leastconn",
        ["a", "b weight 2 backup", "c weight 1 backup"],
        [
            ("cli", "disable server L/a"),
            ("hold", "b c b b c b"),
            ("cli", "enable server L/a"),
            ("hold", "a a"),
        ],
        extra=["option allbackups"],
    ),
    "lc_held_change": Scenario(
        "leastconn",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("hold", "a b c c b c"), ("cli", "set weight L/c 1"), ("hold", "b a b b a b")],
    ),
    "lc_held_down_up": Scenario(
        "leastconn",
        ["a weight 2", "b weight 1"],
        [
            ("hold", "a b a a"),
            ("cli", "disable server L/a"),
            ("hold", "b b b"),
            ("cli", "enable server L/a"),
            ("hold", "a a a a"),
        ],
    ),
    "lc_maxconn": Scenario(
        "leastconn",
        ["a weight 3 maxconn 2", "b weight 1 maxconn 1", "c weight 1"],
        [("hold", "a b c a c c c")],
    ),
    "lc_redispatch": Scenario(
        "leastconn",
        ["a weight 2", "!b weight 3", "c weight 1"],
        [("hold", "a c a a c a a c")],
        extra=["option redispatch", "retries 3"],
    ),
    "lc_release": Scenario(
        "leastconn",
        ["a weight 1", "b weight 1", "c weight 1"],
        [
            ("hold", "a b c a b c"),
            ("release", [0, 3]),
            ("hold", "a a b c"),
            ("release", [1, 2, 5]),
            ("hold", "c a b c"),
        ],
    ),
    "lc_seq": Scenario(
        "leastconn",
        ["a weight 1", "b weight 2", "c weight 3"],
        [("seq", "a b c a b c")],
    ),
    "rand_lc_0": Scenario(
        "leastconn",
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
            ("hold", "a b c"),
            ("release", [0]),
            ("cli", "set weight L/c 2"),
            ("hold", "d e"),
            ("release", [1, 2]),
            ("cli", "set weight L/a 2"),
            ("hold", "f b"),
            ("cli", "enable server L/f"),
            ("hold", "c a d e d"),
            ("cli", "set weight L/f 4"),
            ("hold", "b e d f e"),
            ("cli", "set weight L/c 2"),
            ("hold", "b"),
            ("cli", "set weight L/b 12"),
            ("hold", "b"),
            ("release", [6]),
            ("cli", "disable server L/e"),
            ("hold", "b"),
            ("release", [7]),
            ("cli", "set weight L/c 6"),
            ("hold", "c c b c"),
            ("cli", "disable server L/a"),
            ("hold", "b b d c b"),
            ("cli", "disable server L/d"),
        ],
    ),
    "rand_lc_1": Scenario(
        "leastconn",
        [
            "a weight 2",
            "b weight 5",
            "c weight 2",
            "d weight 8",
            "e weight 8 backup",
            "f weight 8 backup",
        ],
        [
            ("hold", "a b c"),
            ("release", [2]),
            ("cli", "set weight L/c 7"),
            ("hold", "d c d"),
            ("cli", "disable server L/e"),
            ("hold", "c d b c d"),
            ("release", [7, 9]),
            ("cli", "set weight L/b 11"),
            ("hold", "b b"),
            ("release", [1]),
            ("cli", "enable server L/c"),
            ("hold", "b"),
            ("cli", "set weight L/a 8"),
            ("hold", "a"),
            ("release", [3, 4]),
            ("cli", "set weight L/e 3"),
            ("hold", "c a d"),
            ("release", [5]),
            ("cli", "set weight L/e 3"),
            ("hold", "d c b"),
            ("release", [10, 14]),
            ("cli", "set weight L/a 1"),
            ("hold", "d d b"),
            ("release", [6, 13]),
            ("cli", "set weight L/c 12"),
            ("hold", "c c c c b"),
            ("release", [19]),
            ("cli", "set weight L/a 4"),
        ],
        extra=["option allbackups"],
    ),
    "rand_lc_2": Scenario(
        "leastconn",
        ["a weight 2", "b weight 6", "c weight 3"],
        [
            ("hold", "a"),
            ("cli", "set weight L/a 4"),
            ("hold", "b"),
            ("cli", "set weight L/a 1"),
            ("hold", "c"),
            ("cli", "set weight L/a 3"),
            ("hold", "b b"),
            ("cli", "set weight L/a 4"),
            ("hold", "a c"),
            ("cli", "set weight L/c 11"),
            ("hold", "c"),
            ("release", [3, 5]),
            ("cli", "set weight L/b 9"),
            ("hold", "b c b c a"),
            ("cli", "enable server L/b"),
            ("hold", "c b c b c"),
            ("release", [15]),
            ("cli", "enable server L/a"),
            ("hold", "c a b"),
            ("cli", "set weight L/a 9"),
            ("hold", "a a a a c"),
            ("release", [10, 16]),
            ("cli", "set weight L/b 5"),
        ],
    ),
    "rand_lc_3": Scenario(
        "leastconn",
        [
            "a weight 9",
            "b weight 3",
            "c weight 6",
            "d weight 10",
            "e weight 8 backup",
            "f weight 10 backup",
        ],
        [
            ("hold", "a b c"),
            ("release", [2]),
            ("cli", "set weight L/c 6"),
            ("hold", "d c d"),
            ("release", [3]),
            ("cli", "set weight L/e 7"),
            ("hold", "d a d c a"),
            ("cli", "disable server L/e"),
            ("hold", "d a c"),
            ("release", [10, 11, 12]),
            ("cli", "set weight L/c 7"),
            ("hold", "a d a"),
            ("release", [0]),
            ("cli", "enable server L/e"),
            ("hold", "a d a"),
            ("cli", "set weight L/e 11"),
            ("hold", "c d"),
            ("cli", "disable server L/c"),
            ("hold", "b a d a"),
            ("release", [21]),
            ("cli", "disable server L/c"),
            ("hold", "d d a d"),
            ("cli", "disable server L/f"),
            ("hold", "b"),
            ("release", [8, 20]),
            ("cli", "set weight L/e 10"),
        ],
        extra=["option allbackups"],
    ),
    "rand_lc_4": Scenario(
        "leastconn",
        ["a weight 2", "b weight 7", "c weight 8", "d weight 3", "e weight 2 backup"],
        [
            ("hold", "a b c d c"),
            ("release", [2]),
            ("cli", "disable server L/c"),
            ("hold", "b"),
            ("release", [1, 4]),
            ("cli", "enable server L/e"),
            ("hold", "b"),
            ("release", [3, 6]),
            ("cli", "set weight L/a 1"),
            ("hold", "d b"),
            ("release", [0]),
            ("cli", "disable server L/e"),
            ("hold", "a b"),
            ("cli", "enable server L/c"),
            ("hold", "c c c c"),
            ("release", [7]),
            ("cli", "set weight L/d 7"),
            ("hold", "d d d b"),
            ("cli", "set weight L/d 4"),
            ("hold", "c b c b"),
            ("release", [15]),
            ("cli", "set weight L/a 5"),
            ("hold", "a a d"),
            ("release", [16]),
            ("cli", "set weight L/b 7"),
            ("hold", "d a c"),
            ("release", [10]),
            ("cli", "set weight L/c 10"),
        ],
    ),
    "rand_lc_5": Scenario(
        "leastconn",
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
            ("hold", "a b c"),
            ("release", [0, 1, 2]),
            ("cli", "enable server L/e"),
            ("hold", "d e a b"),
            ("cli", "set weight L/e 6"),
            ("hold", "c b d"),
            ("release", [6]),
            ("cli", "enable server L/f"),
            ("hold", "b"),
            ("release", [3, 5]),
            ("cli", "enable server L/e"),
            ("hold", "a d"),
            ("cli", "set weight L/a 7"),
            ("hold", "a e b"),
            ("release", [14]),
            ("cli", "enable server L/e"),
            ("hold", "e d"),
            ("release", [10, 15, 17]),
            ("cli", "set weight L/d 7"),
            ("hold", "b b"),
            ("cli", "set weight L/e 3"),
            ("hold", "a d b b"),
            ("cli", "set weight L/e 9"),
            ("hold", "e e e a d"),
            ("release", [25]),
            ("cli", "enable server L/c"),
        ],
        extra=["option allbackups"],
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_picks_as_haproxy(name: str) -> None:
    """The pick sequence, with held connections and runtime changes, is the binary's."""
    sc = SCENARIOS[name]
    assert replay(sc) == expected(sc)

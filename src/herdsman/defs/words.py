"""Words that are nearly keywords: HAProxy's "did you mean" distance (``tools.c``
``make_word_fingerprint()``, ``word_fingerprint_distance()``,
``cfg_find_best_match()``, ``action_suggest()``)."""

from __future__ import annotations

from collections.abc import Iterable


def fingerprint(words: Iterable[str]) -> list[int]:
    """``update_word_fingerprint()`` over ``words``: character transition counts."""
    fp = [0] * 1024
    for word in words:
        frm = 28  # begin
        for ch in word.lower():
            if "a" <= ch <= "z":
                to = ord(ch) - ord("a") + 1
            elif "0" <= ch <= "9":
                to = 27
            else:
                to = 28
            fp[to] = 1
            fp[32 * frm + to] += 1
            frm = to
        fp[32 * frm + 28] += 1  # end
    return fp


def fingerprint_distance(a: list[int], b: list[int]) -> int:
    """``word_fingerprint_distance()``."""
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def best_match(word: str, candidates: Iterable[str]) -> str | None:
    """``cfg_find_best_match()``: the closest candidate, or None if too far."""
    sig = fingerprint([word])
    best: str | None = None
    best_dist = 1 << 62
    for cand in candidates:
        dist = fingerprint_distance(sig, fingerprint([cand]))
        if dist < best_dist:
            best_dist, best = dist, cand
    if best_dist > 2 * len(word) or (best is not None and best_dist > 2 * len(best)):
        return None
    return best


def action_suggest(word: str, keywords: Iterable[str]) -> str | None:
    """``action_suggest()``: like ``best_match()``, with one more length of
    tolerance for keywords matched by prefix (listed with "(*)")."""
    if not word:
        return None
    sig = fingerprint([word])
    best: str | None = None
    prefix = False
    best_dist = 1 << 62
    for kw in keywords:
        name = kw[:-3] if kw.endswith("(*)") else kw
        dist = fingerprint_distance(sig, fingerprint([name]))
        if dist < best_dist:
            best_dist, best, prefix = dist, name, kw.endswith("(*)")
    factor = 3 if prefix else 2
    if best is not None and (best_dist > factor * len(word) or best_dist > factor * len(best)):
        return None
    return best

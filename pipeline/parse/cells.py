"""Cells the PDF-to-text tool interleaved: one cell's fragments out of order, a run repeated.

What belongs here: rebuilding the reading order of one cell's fragments (the lines of
an activity's ``Actions réalisées`` narrative) where the text proves it, and nothing
where it does not. The proof is in the words: a fragment whose last words are another
fragment's first words (a repeated run of at least :data:`MIN_OVERLAP_WORDS`) is
followed by that fragment, the repeat dropped; a fragment left in the middle of a
sentence (no final punctuation, an opened « ») goes before the only fragment that
starts in the middle of one (a lowercase word, a closing »). Where fragments lie
inside a rebuilt stretch and the text does not say where they go, the cell is kept as
it is. Pure functions of strings: the findings are written by the caller.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

#: Words (with letters) a run must have, repeated at one fragment's end and another's start, to
#: prove that they are one text cut and copied: shorter runs (« de la mise en oeuvre ») recur
#: in any text (the seed's repeat has 8).
MIN_OVERLAP_WORDS = 6
#: Characters the repeated run must have as well (five short words prove little).
MIN_OVERLAP_CHARS = 30
#: What ends a sentence or a list item: a fragment ending otherwise stops mid-sentence.
SENTENCE_END = (".", "!", "?", "…", ";", ":")
OPEN_QUOTES = ("«", "“")
CLOSE_QUOTES = ("»", "”")


@dataclass
class CellRepair:
    """What the text proves about one cell's fragments.

    Attributes:
        texts: the cell's fragments in reading order, repeats dropped (as given when not proven).
        proven: whether the order was rebuilt; False when the fragments are kept as given.
        moved: indexes (in the input) of the fragments involved: linked, moved or left in doubt.
        repeats: the runs of words dropped, in reading order.
    """

    texts: list[str]
    proven: bool
    moved: list[int]
    repeats: list[str]


def repair_cell(fragments: list[str]) -> CellRepair | None:
    """Rebuild the reading order of a cell's fragments; None when no fragment repeats another's words."""
    if not any(_stops_mid_sentence(f) for f in fragments):
        return None  # only a fragment left mid-sentence can be continued by another (see _longest_overlap)
    words = [f.split() for f in fragments]
    links, ambiguous = _overlaps(words, "\n".join(fragments))
    if ambiguous:
        return _unproven(fragments, sorted(ambiguous))
    if not links:
        return None
    chains = _chains(len(fragments), links)
    if chains is None:
        return _unproven(fragments, sorted(set(links) | {y for y, _ in links.values()}))
    units = _pair_open_ends(fragments, chains)
    doubtful = _interleaved(units)
    involved = sorted({i for unit in units if len(unit) > 1 for i in unit} | doubtful)
    if doubtful:
        return _unproven(fragments, involved)
    texts, repeats = [], []
    for unit in sorted(units, key=min):
        texts.append(_join_unit(unit, words, links, repeats))
    return CellRepair(texts, True, involved, repeats)


def _stops_mid_sentence(fragment: str) -> bool:
    """Whether a fragment's last word does not end a sentence (what :func:`_longest_overlap`
    asks of a fragment before looking at its words), found without splitting it."""
    text = fragment.rstrip()
    return bool(text) and not text.endswith(SENTENCE_END)


def _unproven(fragments: list[str], involved: list[int]) -> CellRepair:
    return CellRepair(list(fragments), False, involved, [])


def _overlaps(words: list[list[str]], cell: str) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """For each fragment that another continues, ``x -> (y, repeated words)``; and the fragments
    of ambiguous links (a fragment continued twice, or continuing two).

    One pass over every fragment's words, each looked up among the fragments' first words.
    """
    starts: dict[str, list[int]] = {}
    for y, wy in enumerate(words):
        if len(wy) > MIN_OVERLAP_WORDS:
            starts.setdefault(wy[0], []).append(y)
    links: dict[int, tuple[int, int]] = {}
    followed: dict[int, int] = {}
    ambiguous: set[int] = set()
    for x, wx in enumerate(words):
        hits, n = _longest_overlap(x, wx, words, starts, cell)
        if not hits:
            continue
        if len(hits) > 1 or hits[0] in followed:
            ambiguous.update([x, *hits] + ([followed[hits[0]]] if hits[0] in followed else []))
            continue
        links[x] = (hits[0], n)
        followed[hits[0]] = x
    return links, ambiguous


def _longest_overlap(
    x: int, wx: list[str], words: list[list[str]], starts: dict[str, list[int]], cell: str
) -> tuple[list[int], int]:
    """The fragments whose first words are ``wx``'s last ones, longest run first, and the run's
    length in words; ``([], 0)`` when none. The run must be long (:data:`MIN_OVERLAP_WORDS`
    words with letters, :data:`MIN_OVERLAP_CHARS` characters) and appear in the cell only
    there: a phrase the cell writes elsewhere too (a ministry's name) proves nothing; and
    ``wx`` must stop mid-sentence."""
    n = len(wx)
    if n and wx[-1].endswith(SENTENCE_END):
        return [], 0  # a cut leaves its fragment mid-sentence; a finished sentence repeated may be the text's own
    for p in range(1, n - MIN_OVERLAP_WORDS + 1):
        if wx[p] not in starts:
            continue
        run = wx[p:]
        hits = [y for y in starts[wx[p]] if y != x and len(words[y]) > len(run) and words[y][: len(run)] == run]
        if not hits:
            continue
        text = " ".join(run)
        if len(text) < MIN_OVERLAP_CHARS or sum(any(c.isalnum() for c in w) for w in run) < MIN_OVERLAP_WORDS:
            return [], 0
        if cell.count(text) != 1 + len(hits):
            return [], 0
        return hits, len(run)
    return [], 0


def _chains(count: int, links: dict[int, tuple[int, int]]) -> list[list[int]] | None:
    """Fragments grouped into chains along the links; None when the links make a cycle."""
    followed = {y for y, _ in links.values()}
    chains, seen = [], set()
    for head in range(count):
        if head in followed:
            continue
        chain = [head]
        while chain[-1] in links:
            chain.append(links[chain[-1]][0])
        chains.append(chain)
        seen.update(chain)
    return chains if len(seen) == count else None


def _pair_open_ends(fragments: list[str], chains: list[list[int]]) -> list[list[int]]:
    """Join the chain left mid-sentence to the only chain that starts mid-sentence, both within
    the stretch of text the repeated runs span (elsewhere the order is the text's own)."""
    linked = [i for c in chains if len(c) > 1 for i in c]
    lo, hi = min(linked), max(linked)
    inside = [c for c in chains if lo <= min(c) and max(c) <= hi]
    open_ends = [c for c in inside if _ends_open(fragments[c[-1]])]
    if len(open_ends) != 1:
        return chains
    (before,) = open_ends
    after = [c for c in inside if c is not before and _starts_open(fragments[c[0]])]
    if len(after) != 1:
        return chains
    (nxt,) = after
    return [c for c in chains if c is not before and c is not nxt] + [before + nxt]


def _ends_open(text: str) -> bool:
    """Whether a fragment stops in the middle of a sentence (no final punctuation, or an unclosed «)."""
    text = text.rstrip()
    return not text.endswith(SENTENCE_END) or _quote_balance(text) > 0


def _starts_open(text: str) -> bool:
    """Whether a fragment starts in the middle of a sentence (a lowercase word, or a » it did not open)."""
    text = text.lstrip()
    return (text[:1].isalpha() and text[:1].islower()) or _first_quote_closes(text)


def _quote_balance(text: str) -> int:
    return sum(text.count(q) for q in OPEN_QUOTES) - sum(text.count(q) for q in CLOSE_QUOTES)


def _first_quote_closes(text: str) -> bool:
    for c in text:
        if c in OPEN_QUOTES:
            return False
        if c in CLOSE_QUOTES:
            return True
    return False


def _interleaved(units: list[list[int]]) -> set[int]:
    """Fragments of a unit lying inside another unit's stretch of the text: their place is unproven.

    The stretches are sorted once and each unit is looked up by bisection, so that a cell of
    many fragments costs no more than its length times a logarithm.
    """
    spans = sorted((min(u), max(u)) for u in units if len(u) > 1)
    if not spans:
        return set()
    starts = [lo for lo, _ in spans]
    reach, furthest = [], -1
    for _, hi in spans:
        furthest = max(furthest, hi)
        reach.append(furthest)
    doubtful: set[int] = set()
    for unit in units:
        k = bisect.bisect_left(starts, min(unit)) - 1  # the spans starting before the unit
        if k >= 0 and reach[k] > max(unit):
            doubtful.update(unit)
    return doubtful


def _join_unit(unit: list[int], words: list[list[str]], links: dict[int, tuple[int, int]], repeats: list[str]) -> str:
    """One unit's text: its fragments in order, each repeated run once."""
    parts = [" ".join(words[unit[0]])]
    for prev, cur in itertools.pairwise(unit):
        link = links.get(prev)
        drop = link[1] if link is not None and link[0] == cur else 0
        if drop:
            repeats.append(" ".join(words[cur][:drop]))
        parts.append(" ".join(words[cur][drop:]))
    return " ".join(p for p in parts if p)

"""How alike two readings of a line are: normalized text, whole-string and fragment similarity."""
from __future__ import annotations

import difflib
import re

_NON_WORD = re.compile(r"[\W_]+")  # letters and digits of any script are kept
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def norm_text(s: str) -> str:
    return _NON_WORD.sub(" ", s.lower()).strip()


def is_word(s: str) -> bool:
    """Worth a line of its own: two letters or digits, or one Chinese character (a lone Latin letter or
    digit is mostly a piece of texture, or of a word cut off at the frame's edge)."""
    n = norm_text(s).replace(" ", "")
    return len(n) >= 2 or bool(_CJK.search(n))


def ratio(a: str, b: str) -> float:
    a, b = norm_text(a), norm_text(b)
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def partial_ratio(a: str, b: str) -> float:
    """How well the shorter text fits inside the longer one ("FOLLO" in "FOLLOW FOR PART 2")."""
    a, b = norm_text(a), norm_text(b)
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    m = difflib.SequenceMatcher(None, a, b)
    return sum(bl.size for bl in m.get_matching_blocks()) / len(a)


def same_line_text(new: str, known: str, may_grow: bool = False, fragments: bool = True) -> float:
    """Similarity of a new reading to a line's known text (0..1).

    The whole-string ratio, or, for a fragment of 4+ characters that fits inside the known text (a
    word the detector cut off), how well it fits (``fragments``). A reading that is the known text
    plus 3 or more characters is a new caption (captions that build up word by word): 0, unless
    ``may_grow`` (the line is at the frame's edge, entering the picture). Texts under 4 characters
    must be equal.
    """
    na, nb = norm_text(new), norm_text(known)
    if min(len(na), len(nb)) < 4:
        # short words (word-by-word captions: "IS" after "THIS") are the same line only when they read the same
        return 1.0 if na == nb else 0.0
    if len(na) >= len(nb) + 3 and nb and partial_ratio(nb, na) >= 0.9:
        return 0.95 if may_grow else 0.0
    r = ratio(na, nb)
    if fragments and min(len(na), len(nb)) >= 4 and len(na) <= len(nb):
        pr = partial_ratio(na, nb)
        if pr >= 0.9:
            r = max(r, 0.95 * pr)
    return r

"""Questions: how a query reads as a question, and the word families a question's French words widen to.

A question ("Peut-on avoir deux passeports ?", "comment immatriculer un tracteur") is seldom a statement's
own words: its frame words ("règles", "avoir", "consiste") are not in the answer, so requiring every word
(AND first, right for a remembered lookup) buries the answer under pages that happen to hold them all. A
query is a question when it holds a question mark or opens with an interrogative word; the engine then
ranks it as a sentence (``search.ranking.Signals.sentence``) whatever its length.

A question also asks with a verb what a page says with a noun or a participle ("immatriculer" /
"immatriculation", "payer" / "paiement", "hériter" / "hérité"). The index's French stemmer is deliberately
light (plural and feminine only, ``indexer.analysis.stem_fr``), so those forms are different terms. Snowball's
French stemmer (PyStemmer, already there for English) groups such derivations: a French word of a question
also matches the indexed terms of its Snowball stem, found in the field's lexicon from that stem as a prefix,
at a discount (``search.ranking.FAMILY_WEIGHT``). Lookups are left as typed: their words are the statement's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import Stemmer

from indexer.analysis import fold

_SNOWBALL_FR = Stemmer.Stemmer("french")
MAX_FAMILY = 8  # derived terms a word widens to at most (the most frequent forms are found first anyway)
MIN_STEM = 4  # letters: a shorter Snowball stem ("mar", "pai") gathers unrelated words through its prefix
INTERROGATIVES = frozenset({
    "comment", "pourquoi", "combien", "quand", "quel", "quelle", "quels", "quelles", "lequel", "laquelle",
    "lesquels", "lesquelles", "qu", "que", "quoi", "qui", "est", "peut", "doit", "faut", "how", "what",
    "when", "where", "which", "who", "whom", "whose", "why",
})
_FIRST_WORD = re.compile(r"[^\W\d_]+")


def is_question(query: str) -> bool:
    """Whether a query reads as a question: a question mark, or an interrogative first word ("comment",
    "qu'est-ce", "peut-on", "how")."""
    if "?" in query:
        return True
    first = _FIRST_WORD.search(query)
    if first is None or first.start() >= 2 or (len(first.group()) > 1 and first.group().isupper()):
        return False  # an acronym is a name, not a question word: "WHO pandemic declaration"
    return fold(first.group()) in INTERROGATIVES


def family(term: str, expand_prefix: Callable[[str], Iterable[bytes | str]]) -> tuple[str, ...]:
    """The other indexed terms of a French field with ``term``'s Snowball stem ("immatriculer" ->
    "immatriculation"), found among the terms that start with that stem (``expand_prefix``: the field's
    lexicon); at most MAX_FAMILY."""
    if not term.isalpha():
        return ()
    stem = _SNOWBALL_FR.stemWord(term)
    if len(stem) < MIN_STEM or not term.startswith(stem):
        return ()
    out: list[str] = []
    for found in expand_prefix(stem):
        other = found.decode("utf-8") if isinstance(found, bytes) else found
        if other != term and other.isalpha() and _SNOWBALL_FR.stemWord(other) == stem:
            out.append(other)
            if len(out) >= MAX_FAMILY:
                break
    return tuple(out)

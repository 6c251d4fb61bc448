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

from indexer.analysis import fold, stem_fr

_SNOWBALL_FR = Stemmer.Stemmer("french")
MAX_FAMILY = 8  # derived terms a word widens to at most (the most frequent forms are found first anyway)
MIN_STEM = 4  # letters: a shorter Snowball stem ("mar", "pai") gathers unrelated words through its prefix
INTERROGATIVES = frozenset({
    "comment", "pourquoi", "combien", "quand", "quel", "quelle", "quels", "quelles", "lequel", "laquelle",
    "lesquels", "lesquelles", "qu", "que", "quoi", "qui", "peut", "doit", "faut", "how", "what",
    "when", "where", "which", "who", "whom", "whose", "why",
})
INVERTED = frozenset({"est"})  # also a word of its own ("Est": east): a question only before its subject
_THIRD = "il|elle|on|ils|elles"  # the pronouns a French question puts after "est" ("est-il"), and "ce"
_SUBJECTS = f"{_THIRD}|je|tu|nous|vous"  # after any other verb ("peut-on", "dois-je")
_INVERSION = re.compile(rf"\s*[-‐‑ ]\s*(?:t\s*-\s*)?(?:ce|{_THIRD})\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_INVERTED_WORD = re.compile(rf"[^\W\d_]+(?:[-‐‑]t)?[-‐‑](?:{_SUBJECTS})",
                            re.IGNORECASE)  # a verb and its subject, inverted: "peut-on", "a-t-il"
_PARTS = re.compile(r"[-‐‑'’ʼ]")  # a typed word's joiners: elision, hyphenated compounds
# Queries of more plain words than this, with stopwords among them, read as sentences, as questions do: AND-
# first is not forced on them. Keyword lookups (no stopword, no "?") always get the all-word matches first.
LONG_QUERY_WORDS = 3
SENTENCE_STOPWORDS = 1


def is_question(query: str) -> bool:
    """Whether a query reads as a question: a question mark, or an interrogative first word ("comment",
    "qu'est-ce", "peut-on", "how"); "est" only before its subject ("est-ce", "est-il"), as "Est" is also
    east ("Est de l'Ukraine")."""
    if "?" in query:
        return True
    first = _FIRST_WORD.search(query)
    if first is None or first.start() >= 2 or (len(first.group()) > 1 and first.group().isupper()):
        return False  # an acronym is a name, not a question word: "WHO pandemic declaration"
    word = fold(first.group())
    if word in INVERTED:  # "Est-ce que", "est-il", not "Est de l'Ukraine" (east): a subject pronoun follows
        return _INVERSION.match(query, first.end()) is not None
    return word in INTERROGATIVES


def reads_as_sentence(words: Iterable[str], stopwords: int, query: str) -> bool:
    """Whether a query is ranked as a sentence, its any-word matches not pushed below its all-word ones:
    more than LONG_QUERY_WORDS distinct plain ``words`` with SENTENCE_STOPWORDS ``stopwords`` among them,
    or a question (:func:`is_question`). Both the embedded index and the engine read queries so."""
    return (len(set(words)) > LONG_QUERY_WORDS and stopwords >= SENTENCE_STOPWORDS) or is_question(query)


def is_inversion(word: str) -> bool:
    """Whether a typed word is a French question's inverted verb and subject ("peut-on", "doit-il",
    "sont-elles", "a-t-on"): the verb is conjugated for the question, not as the answer says it ("vous
    pouvez"), so the answer seldom holds it."""
    return _INVERTED_WORD.fullmatch(word) is not None


def family(term: str, expand_prefix: Callable[[str], Iterable[bytes | str]],
           word: str = "") -> tuple[str, ...]:
    """The other indexed terms of a French field with the Snowball stem of ``word`` (the typed word whose
    indexed form is ``term``; ``term`` itself when not given): "immatriculer" -> "immatriculation", found
    among the terms that start with that stem (``expand_prefix``: the field's lexicon); at most MAX_FAMILY.

    Indexed terms are light-stemmed (``indexer.analysis.stem_fr``: "assurance" -> "assuranc"), and Snowball
    reads such a truncated form as another word ("assuranc" -> "assuranc", "retrait" -> "retr", where the
    words give "assur" and "retrait"): the stem is taken from the typed word, and a lexicon term belongs
    when it, or it with the final "e" the light stemmer removed, has that stem."""
    if not term.isalpha():
        return ()
    stem = snowball_fr(part_indexed_as(word, term))
    if len(stem) < MIN_STEM or not term.startswith(stem):
        return ()
    out: list[str] = []
    for found in expand_prefix(stem):
        other = found.decode("utf-8") if isinstance(found, bytes) else found
        if other != term and other.isalpha() and stem in (snowball_fr(other), snowball_fr(other + "e")):
            out.append(other)
            if len(out) >= MAX_FAMILY:
                break
    return tuple(out)


def part_indexed_as(word: str, term: str) -> str:
    """The part of a typed word ("s'installe", "doit-il") that the analyzer indexes as ``term``; the term
    itself when no part is ("" typed, a corrected typo)."""
    for part in _PARTS.split(word):
        if part and stem_fr(fold(part)) == term:
            return part
    return term


def snowball_fr(word: str) -> str:
    """Snowball's French stem of a word, folded ("Immatriculées" -> "immatricul")."""
    return _SNOWBALL_FR.stemWord(fold(word))

"""The language of a query, inferred from its words, and the soft preference for statements in it.

Both vocabularies are in the index (``title_fr``/``body_fr``, ``title_en``/``body_en``), so each word of a
query carries evidence: how often its French form occurs in French statements against how often its English
form occurs in English ones, each relative to the number of statements in that language (a log-likelihood
ratio, smoothed and bounded per word). The most common function words of each language ("de", "la", "the",
:data:`corpus.language.STOPWORDS`; not the analyzers' long lists, where English "ours" is French "bear"),
French elisions ("l'economie") and English possessives count as fixed evidence. Short folded queries are
judged well this way ("securite alimentaire": French words are rare in English texts, and the reverse);
names and numbers, common to both, add nothing, and a query with too little evidence has no language (no
preference). py3langid's character n-grams were measured beside it on the generated lookups (bench/
knownitem.py): on 3-5 folded words they are wrong 3-6% of the time and add nothing to the index's evidence,
so they are not used (and their model's load, 0.3-1.7 s, is not paid).

The preference (:func:`prefer`) is soft: a statement not in the query's language keeps
``1 - LANG_PENALTY`` of its score, so it falls below comparable matches in the query's language but stays
above much weaker ones. The pair of versions of one statement is folded by :mod:`search.results`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from corpus.language import STOPWORDS
from indexer.analysis import fold
from search.query import analyse_query
from search.ranking import Ranked

QUERY_LANGS = ("fr", "en")
SMOOTHING = 0.5  # added to each document frequency: a word seen in neither language says nothing
WORD_CAP = 4.0  # the most one word can weigh (nats): one odd word does not decide a long query
# A word found in this share of the statements of both languages is a word of both ("publication",
# "vaccination", "conservation"): its stems are not comparable (English stems "publication" to "public"),
# so it weighs less the more common it is in the rarer language, nothing from this share up.
SHARED_SHARE = 0.02
SHARED_DOCS = 3  # ... and at least this many (a small index: one odd page is not a vocabulary)
FUNCTION_WORD = 2.0  # evidence of a word only one language's stopword list holds, of an elision
MARGIN = 2.0  # the evidence (nats) a language needs over the other to be the query's (tune halves of the
# generated lookups: Yukon 97% right, none wrong; NSB 95% right, 0.3% wrong; the rest undecided)
LANG_PENALTY = 0.2  # a statement in the other language keeps 80% of its score (0 to 0.35: the same MRR on
# the NSB tune half, where the pairs are folded anyway; it orders one-language statements among others)

_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_FIELD = re.compile(r"\b\w+:")  # title:, source:, lang:, date: (syntax, not words)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ET", "OU", "SAUF"})
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]\w", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\w['’]s$", re.IGNORECASE)
_FUNCTION = {lang: frozenset(fold(w) for w in STOPWORDS[lang]) for lang in QUERY_LANGS}


def query_words(query: str) -> list[str]:
    """The words of a query, its syntax (field prefixes, operators) left out."""
    text = _FIELD.sub(" ", query)
    return [w for w in _TOKEN.findall(text) if w not in _OPERATORS]


def _function_word(word: str) -> float:
    """Fixed evidence (positive: French) of a common function word, an elision, a possessive."""
    low = word.lower()
    if _ELISION.match(low):
        return FUNCTION_WORD
    if _POSSESSIVE.search(low):
        return -FUNCTION_WORD
    fr, en = fold(low) in _FUNCTION["fr"], fold(low) in _FUNCTION["en"]
    return FUNCTION_WORD if fr and not en else -FUNCTION_WORD if en and not fr else 0.0


class QueryLanguage:
    """Infers a query's language from one index's per-language document frequencies."""

    def __init__(self, searcher, stats=None) -> None:
        self.reader = searcher.reader()
        # document frequencies: the searcher's cache (search.ranking.IndexStats) when given
        self.doc_frequency = stats.df if stats is not None else self.reader.doc_frequency
        self.docs = {lang: self.reader.doc_frequency("lang", lang) for lang in QUERY_LANGS}
        # How many statements of a language make a word one of its words too (see SHARED_SHARE).
        self.common = {lang: max(SHARED_SHARE * n, SHARED_DOCS) for lang, n in self.docs.items()}

    def _df(self, word: str, lang: str) -> int | None:
        """How many ``lang`` statements hold the word (title or body); None when it is a stopword there."""
        terms = [t for _, t in analyse_query(word, lang)]
        if not terms:
            return None
        fields = (f"title_{lang}", f"body_{lang}")
        return max(self.doc_frequency(f, t) for t in terms for f in fields)

    def word_evidence(self, word: str) -> float:
        """Log-odds (nats) that one word is French rather than English."""
        fixed = _function_word(word)
        if fixed:
            return fixed
        df = {lang: self._df(word, lang) for lang in QUERY_LANGS}
        if None in df.values():
            return 0.0  # a stopword of one analyzer only, not a common function word: no evidence
        share = {lang: (df[lang] + SMOOTHING) / (self.docs[lang] + 2 * SMOOTHING) for lang in QUERY_LANGS}
        both = min(1.0, min(df[lang] / self.common[lang] for lang in QUERY_LANGS))  # 1: a word of both
        return (1.0 - both) * max(-WORD_CAP, min(WORD_CAP, math.log(share["fr"] / share["en"])))

    def evidence(self, query: str) -> float:
        """Log-odds (nats) that the query is French rather than English: > 0 French, < 0 English."""
        return sum(self.word_evidence(w) for w in query_words(query))

    def infer(self, query: str) -> str | None:
        """"fr" or "en" when the words say so by MARGIN; None otherwise (names, numbers, one language)."""
        if not all(self.docs.values()):
            return None  # a one-language index: nothing to prefer
        score = self.evidence(query)
        return "fr" if score >= MARGIN else "en" if score <= -MARGIN else None


def prefer(ranked: Ranked, lang: str | None, lang_of: Callable[[int], str]) -> Ranked:
    """``ranked`` re-sorted with statements not in ``lang`` keeping 1 - LANG_PENALTY of their score."""
    if not lang or len(ranked) < 2:
        return ranked
    kept = 1.0 - LANG_PENALTY
    scored = [(d, s if lang_of(d) == lang else s * kept) for d, s in ranked]
    return sorted(scored, key=lambda x: -x[1])

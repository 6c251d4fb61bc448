"""The analysis chain, defined once: it serves indexing, query parsing and snippet highlighting alike.

A chain is a Whoosh pipeline ``WordTokenizer | CompoundFilter | NormalizeFilter(lang)``:

- ``WordTokenizer`` finds words, keeping inner apostrophes and hyphens ("d’Asie", "COVID-19", "Xi’an");
- ``CompoundFilter`` drops French elided articles (l’ d’ qu’ jusqu’ …) and English possessives, and makes a
  hyphenated or apostrophised word findable both whole and in parts;
- ``NormalizeFilter`` folds case and accents (unidecode semantics), removes stopwords and stems.

``normalize(word, lang)`` is the same per-word function the filter uses; the highlighter calls it so that
what is marked in a snippet is exactly what the index matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import NamedTuple

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Composable, Filter, Token, Tokenizer

from indexer.stopwords import ENGLISH_STOPWORDS, FRENCH_STOPWORDS

LANGS = ("fr", "en", "xx")  # "xx": every other language, folded but neither stopped nor stemmed

# A word: letters/digits, optionally joined by apostrophes or hyphens (both ASCII and typographic forms).
WORD = re.compile(r"\w+(?:[-‐‑'’ʼ]\w+)*")
_APOSTROPHES = "'’ʼ"
JOINERS = re.compile(r"[-‐‑'’ʼ]")
_ELISION = re.compile(r"(\w+)['’ʼ]")

ELIDED_FR = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"}
)
# Words that keep their apostrophe: they are one word, not an elision.
_KEEP_WHOLE_FR = frozenset({"aujourd'hui", "prud'homme", "prud'hommes", "prud'homal", "prud'homale"})


_STOPS = {"fr": FRENCH_STOPWORDS, "en": ENGLISH_STOPWORDS, "xx": frozenset()}


class WordTokenizer(Tokenizer):
    """Yield words with their character offsets and positions."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        pos = start_pos
        for match in WORD.finditer(value):
            t.text = match.group()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
                pos += 1
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t


def split_word(word: str, lang: str) -> tuple[str, list[tuple[int, str]]]:
    """Split a joined word into (whole, parts): parts are (offset in word, text) after elision.

    "d’Asie-Pacifique" -> ("Asie-Pacifique", [(2, "Asie"), (7, "Pacifique")]); a simple word has no parts.
    """
    offset = 0
    if lang == "fr":
        # Elision: strip leading elided articles, possibly chained ("qu’aujourd’hui" keeps "aujourd’hui").
        while True:
            m = _ELISION.match(word, offset)
            if not m or m.group(1).lower() not in ELIDED_FR or m.end() == len(word):
                break
            offset = m.end()
    elif lang == "en":
        # Possessive 's / ’s / s’: "Yukon’s" -> "Yukon".
        low = word.lower()
        if len(low) > 2 and low[-2] in _APOSTROPHES and low[-1] == "s":
            word = word[:-2]
        elif len(low) > 1 and low[-1] in _APOSTROPHES:
            word = word[:-1]
    whole = word[offset:]
    if not JOINERS.search(whole):
        return whole, []
    if whole.replace("’", "'").replace("ʼ", "'").lower() in _KEEP_WHOLE_FR:
        return whole, []
    parts: list[tuple[int, str]] = []
    start = 0
    for m in JOINERS.finditer(whole):
        if m.start() > start:
            parts.append((offset + start, whole[start:m.start()]))
        start = m.end()
    if start < len(whole):
        parts.append((offset + start, whole[start:]))
    return whole, parts


class CompoundFilter(Filter):
    """Elision and compounds: "l’économie" -> "économie"; "COVID-19" -> "COVID19" (whole), "COVID", "19".

    At index time the whole (joiners removed) shares the position of the first part and the parts take
    consecutive positions; at query time only the parts are produced, so "Asie-Pacifique" typed in a query
    is a phrase of its parts, while "AsiePacifique" or "Xian" still find the whole.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self.stops = _STOPS[lang]

    def __reduce__(self):
        return (CompoundFilter, (self.lang,))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.lang == self.lang

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        lang = self.lang
        shift = 0  # extra positions taken by the parts of earlier compounds
        for t in tokens:
            text = t.text
            if t.positions:
                t.pos += shift
            if not JOINERS.search(text):
                yield t
                continue
            whole, parts = split_word(text, lang)
            start = t.startchar if t.chars else 0
            if not parts:  # elided article or possessive gone, one word left
                if t.chars:
                    t.startchar = start + text.index(whole) if lang == "fr" else start
                    t.endchar = t.startchar + len(whole)
                t.text = whole
                yield t
                continue
            base = t.pos if t.positions else 0
            wants_whole = t.mode != "query" and not all(fold(p) in self.stops for _, p in parts)
            if wants_whole:
                t.text = JOINERS.sub("", whole)
                if t.chars:
                    t.startchar = start + parts[0][0]
                    t.endchar = start + parts[-1][0] + len(parts[-1][1])
                yield t
            for i, (off, part) in enumerate(parts):
                t.text = part
                if t.positions:
                    t.pos = base + i
                if t.chars:
                    t.startchar = start + off
                    t.endchar = start + off + len(part)
                yield t
            shift += len(parts) - 1


def fold(word: str) -> str:
    """Case and accent folding with unidecode semantics: "Sécurité" -> "securite", "œuvre" -> "oeuvre"."""
    folded = word.lower() if word.isascii() else unidecode(word).lower()
    if "'" in folded:  # a word kept whole despite its apostrophe: "aujourd’hui" = "aujourdhui"
        folded = folded.replace("'", "")
    return folded


def stem_fr(word: str) -> str:
    """A light French stemmer on folded words: plural and feminine forms meet their singular masculine.

    "cooperations" -> "cooperation", "economiques" -> "economiqu" = "economique", "nationaux" -> "national",
    "premieres" -> "premier". Deliberately lighter than Snowball, which conflates unrelated words.
    """
    n = len(word)
    if n < 4 or not word.isalpha():
        return word
    if word.endswith("aux") and n > 4:
        word = word[:-3] + "al"
    elif word[-1] in "sx" and not word.endswith(("ss", "is", "us", "ys", "os")):
        word = word[:-1]
    for suffix, repl in _FR_FEMININE:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


_FR_FEMININE = (
    ("ieres", "ier"), ("iere", "ier"), ("euses", "eur"), ("euse", "eur"),
    ("trices", "teur"), ("trice", "teur"),
    ("ives", "if"), ("ive", "if"), ("elles", "el"), ("elle", "el"), ("ennes", "en"), ("enne", "en"),
    ("ettes", "et"), ("ette", "et"), ("ees", "e"), ("ee", "e"),
)

_english_stemmer = Stemmer.Stemmer("english")


def stem_en(word: str) -> str:
    """Snowball English (Porter2) through PyStemmer's C implementation."""
    if not word.isalpha():
        return word
    return _english_stemmer.stemWord(word)




_STEMS = {"fr": stem_fr, "en": stem_en, "xx": lambda w: w}


def _make_normalizer(lang: str):
    stops = _STOPS[lang]
    stem = _STEMS[lang]

    @lru_cache(maxsize=200_000)
    def normalize(word: str) -> str:
        folded = fold(word)
        if folded in stops:
            return ""
        return stem(folded)

    return normalize


_NORMALIZERS = {lang: _make_normalizer(lang) for lang in LANGS}


def normalize(word: str, lang: str) -> str:
    """The indexed form of one word in a language ("" for a stopword). Cached: words repeat."""
    return _NORMALIZERS[lang](word)


class NormalizeFilter(Filter):
    """Fold, drop stopwords and stem, through one cached lookup per word.

    Positions are renumbered over the words that remain, so a phrase typed with stopwords ("ministre de la
    santé") matches the indexed text, where the stopwords are gone too.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self._normalize = _NORMALIZERS[lang]

    def __reduce__(self):  # Whoosh pickles the schema: store the language, not the cache
        return (NormalizeFilter, (self.lang,))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.lang == self.lang

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        normalize = self._normalize
        last_pos = None
        new_pos = -1
        for t in tokens:
            text = normalize(t.text)
            if not text:
                if t.removestops:
                    continue
                text = fold(t.text)
                t.stopped = True
            else:
                t.stopped = False
            t.text = text
            if t.positions:
                if t.pos != last_pos:  # a compound's whole and first part share a position
                    last_pos = t.pos
                    new_pos += 1
                t.pos = new_pos
            yield t


@cache
def analyzer(lang: str) -> Composable:
    """The analysis chain of a language: "fr", "en", or "xx" (any other language: folding only)."""
    if lang not in LANGS:
        lang = "xx"
    return WordTokenizer() | CompoundFilter(lang) | NormalizeFilter(lang)


class WordToken(NamedTuple):
    """A token of one word: its offsets and position within the word, and its indexed text."""

    start: int
    end: int
    pos: int
    text: str


@lru_cache(maxsize=200_000)
def word_tokens(word: str, lang: str) -> tuple[WordToken, ...]:
    """The tokens the chain makes of one word of ``WORD``, offsets and positions counted from the word.

    Cached: the chain keeps nothing from one word to the next, so a text's tokens are its words' (offsets
    and positions shifted), and words recur from text to text: each distinct word goes through the chain
    once. Snippets and the distributed engine's re-ranking read texts this way."""
    return tuple(WordToken(t.startchar, t.endchar, t.pos, t.text)
                 for t in analyzer(lang)(word, chars=True, positions=True))


WORD_CACHE = 300_000  # words remembered per language by word_terms; the cache starts over past this


_TERMS: dict[str, dict[str, str | tuple[tuple[int, str], ...]]] = {lang: {} for lang in LANGS}


def word_terms(word: str, lang: str) -> str | tuple[tuple[int, str], ...]:
    """The tokens the chain makes of one word of ``WORD``: its indexed text when it makes one token (most
    words), else the (position within the word, indexed text) of each, () for a stopword. A plain dict per
    language, not ``lru_cache``: it is looked up for every word of every text a build indexes."""
    cache = _TERMS[lang]
    terms = cache.get(word)
    if terms is None:
        if len(cache) >= WORD_CACHE:  # bounded: a build's memory must not grow with its vocabulary
            cache.clear()
        made = tuple((t.pos, t.text) for t in analyzer(lang)(word, positions=True))
        terms = cache[word] = made[0][1] if len(made) == 1 else made
    return terms


def index_positions(text: str, lang: str) -> dict[str, list[int]]:
    """Each indexed text of ``text`` with its positions, in first-occurrence order: exactly what the
    chain gives in index mode (``analyzer(lang)(text, positions=True)``, stopwords removed), built a word
    at a time from :func:`word_terms`. This holds because the chain keeps nothing from one word to the
    next but the position count: a word's positions, renumbered over the words that remain, follow those
    of the words before it (tests/test_build_analysis.py compares both on real statements)."""
    if lang not in LANGS:
        lang = "xx"
    poses: dict[str, list[int]] = {}
    base = 0
    cache = _TERMS[lang]
    for word in WORD.findall(text):
        terms = cache.get(word)
        if terms is None:
            terms = word_terms(word, lang)
        if terms.__class__ is str:  # one token, at the word's position
            found = poses.get(terms)
            if found is None:
                poses[terms] = [base]
            else:
                found.append(base)
            base += 1
            continue
        if not terms:
            continue
        for pos, term in terms:
            found = poses.get(term)
            if found is None:
                poses[term] = [base + pos]
            else:
                found.append(base + pos)
        base += terms[-1][0] + 1
    return poses


def analyze(text: str, lang: str) -> list[str]:
    """The terms a text is indexed under, in order (handy for tests and debugging)."""
    return [t.text for t in analyzer(lang)(text)]

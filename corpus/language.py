"""Language of a statement: the text decides; a declared language is only a hint for very short texts."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

# The languages press statements of our sources are written in; restricting py3langid to them avoids
# exotic guesses on short or name-heavy texts while still telling German or Italian apart.
CANDIDATES = ("fr", "en", "de", "it", "es", "nl", "pt")
PREFIX_CHARS = 1000  # enough for a sure answer; keeps detection cost flat on long statements
MIN_CONFIDENT_CHARS = 200

_WORD = re.compile(r"\w+")  # (digits and "_" do no harm to counting function words; [^\W\d_] costs 30% more)
STOPWORDS = {
    "fr": set(
        "le la les des du de et est une un pour dans sur au aux par que qui avec ce cette il elle nous "
        "vous sont ont été pas ne se sa son ses leur".split()
    ),
    "en": set(
        "the and of to in is for on that with are was be by this it as at from have has will "
        "an its their which".split()
    ),
    "de": set(
        "der die das und ist nicht ein eine zu den mit von für auf dem des sich im auch wird sind "
        "werden bei".split()
    ),
}


@lru_cache(maxsize=1)
def _identifier():
    # Lazy: loading the model costs ~0.3 s, paid only when a statement is actually read.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CANDIDATES))
    return ident


def normalize_lang(value: str) -> str:
    """ "fr-CA", "FR_ca", "fra", "eng", "français" → "fr"; "" when unknown."""
    value = (value or "").strip().lower().replace("_", "-")
    if not value:
        return ""
    head = value.split("-")[0]
    three = {
        "fra": "fr",
        "fre": "fr",
        "eng": "en",
        "deu": "de",
        "ger": "de",
        "ita": "it",
        "spa": "es",
        "nld": "nl",
        "dut": "nl",
        "por": "pt",
        "french": "fr",
        "english": "en",
        "français": "fr",
        "francais": "fr",
        "anglais": "en",
        "german": "de",
        "deutsch": "de",
    }
    return three.get(head, head if len(head) == 2 and head.isalpha() else "")


def stopword_guess(text: str) -> tuple[str, int]:
    """(language, hits) by counting common function words: steadier than n-grams on a few words."""
    counts = Counter(_WORD.findall(text[:PREFIX_CHARS].lower()))
    scores = {lang: sum(map(counts.__getitem__, stop & counts.keys())) for lang, stop in STOPWORDS.items()}
    lang = max(scores, key=scores.__getitem__)
    return (lang, scores[lang]) if scores[lang] else ("", 0)


def _sample(text: str) -> str:
    """A bounded sample: the start, plus the middle and the end of a long text, so that an English greeting
    at the top of a French speech does not decide alone."""
    if len(text) <= 2 * PREFIX_CHARS:
        return text[:PREFIX_CHARS]
    half, quarter, mid = PREFIX_CHARS // 2, PREFIX_CHARS // 4, len(text) // 2
    return " ".join((text[:half], text[mid : mid + quarter], text[-quarter - 200 : -200]))


def detect(text: str, declared: str = "") -> str:
    """The language the text is written in (ISO 639-1); the declared one when the text is too short."""
    sample = _sample(text)
    # Counting letters is only needed to tell a short text; a long prefix is long enough.
    letters = MIN_CONFIDENT_CHARS if len(sample) > 2 * MIN_CONFIDENT_CHARS else sum(map(str.isalpha, sample))
    if letters == 0:
        return declared or ""
    if letters < MIN_CONFIDENT_CHARS:
        guess, hits = stopword_guess(sample)
        if declared and (not guess or hits < 2 or guess == declared):
            return declared
        if guess and hits >= 2:
            return guess
    if declared and stopword_guess(sample)[0] == declared:
        # The function words agree with the declaration: n-grams could not overrule it (see below), so
        # py3langid, which reads its sample byte by byte in Python (the ingester's largest cost), is skipped.
        return declared
    lang, prob = _identifier().classify(sample)
    if declared and lang != declared:
        # Overruling a declaration needs the function words to agree: lists of names and places (officer
        # promotions with German names in a French release) fool n-grams, not "de", "du", "au grade".
        guess, hits = stopword_guess(sample)
        if guess == declared or (prob < 0.9 and guess != lang):
            return declared
    return lang

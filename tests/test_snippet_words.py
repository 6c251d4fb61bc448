"""The snippet vocabulary's shortcut for words without joiners gives the analysis chain's own terms."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest

from indexer.analysis import WORD, word_tokens
from search.snippets import word_terms
from tests.corpora import SAMPLE, SHARED, items_of

NSB = SHARED / "corpus" / "nsb" / "nsb.jsonl.gz"


def _words() -> set[str]:
    texts = [s.title + " " + s.body for s in items_of(SAMPLE / "vie-publique.jsonl") if hasattr(s, "body")]
    if NSB.exists():  # read at test time only, a few hundred records
        with gzip.open(NSB, "rt", encoding="utf-8") as f:
            texts += [json.dumps(json.loads(line), ensure_ascii=False) for line in itertools.islice(f, 400)]
    return {w for t in texts for w in WORD.findall(t)}


@pytest.mark.parametrize("lang", ["fr", "en", "xx", "de"])
def test_word_terms_are_the_chains_tokens_for_every_word_of_real_texts(lang):
    words = _words()
    assert len(words) > 5_000
    assert any("-" in w or "’" in w for w in words) and any(w.isupper() for w in words)
    for w in words:
        assert word_terms(w, lang) == tuple(t.text for t in word_tokens(w, lang)), w


def test_a_snippet_is_its_fragments_joined_for_real_statements():
    """snippet() builds its fragments' spans without their HTML; it is still exactly the fragments joined."""
    from indexer.analysis import analyze
    from search.snippets import ELLIPSIS, Snippeter

    sn = Snippeter()
    checked = 0
    for s in items_of(SAMPLE / "vie-publique.jsonl"):
        if not getattr(s, "body", ""):
            continue
        terms = frozenset(analyze(s.title, "fr")[:3])
        frags = sn.fragments(s.body, "fr", terms)
        if not frags:
            continue
        joined = [span for i, f in enumerate(frags) for span in [(ELLIPSIS, False)][:i] + list(f.spans)]
        got = sn.snippet(s.body, s.title, "fr", terms)
        assert [tuple(x) for x in got.spans] == [tuple(x) for x in joined]
        assert got == ELLIPSIS.join(frags)  # the HTML: fragments' HTML, ellipses between
        checked += 1
    assert checked > 20

"""One statement, one result: the query's language inferred, its version shown first, the other version as
its translation; --lang and --bilingual unchanged; "N statements in English" when --lang finds none.

On real Yukon EN/FR pairs (tests/bilingual_corpus.py), indexed by ``indexer.update``."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from search import Searcher
from search.language import QueryLanguage, query_words
from tests.bilingual_corpus import fixtures

WORD = re.compile(r"[^\W\d_]{4,}")


index_dir, searcher = fixtures("bilingual")


def fold(text: str) -> str:
    import unicodedata

    nfd = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in nfd if not unicodedata.combining(c))


def pairs(searcher) -> list[tuple[dict, dict]]:
    """(English, French) stored fields of every linked pair in the index."""
    out = []
    for d in searcher.store.searcher.reader().all_doc_ids():
        f = searcher.store.fields(d)
        if f.get("lang") == "en" and f.get("translation"):
            out.append((f, searcher.store.by_id(f["translation"])))
    return out


def title_query(fields: dict) -> str:
    """What a person types: the first three long words of the title, folded."""
    return " ".join(fold(w) for w in WORD.findall(fields["title"])[:3])


def test_query_language_is_inferred_from_the_words(searcher):
    ql = QueryLanguage(searcher.store.searcher)
    checked = right = 0
    for en, fr in pairs(searcher):
        for fields, lang in ((en, "en"), (fr, "fr")):
            q = title_query(fields)
            if len(query_words(q)) < 2:
                continue
            guess = ql.infer(q)
            checked += 1
            right += guess == lang
            assert guess in (lang, None), (q, guess)  # never the wrong language on real titles
    assert checked >= 40 and right >= 0.6 * checked  # a 63-statement index: thin statistics, often undecided
    assert ql.infer("securite alimentaire") == "fr" and ql.infer("wildfire update") == "en"
    for ambiguous in ("2019", "Yukon", ""):  # a number, a name in both languages, nothing
        assert ql.infer(ambiguous) is None


def assert_one_result_per_statement(hits: list[dict]) -> None:
    ids = {h["id"] for h in hits}
    for h in hits:
        assert not {t["id"] for t in h["translations"]} & ids, h["id"]


def test_one_result_per_pair_in_the_query_language(searcher):
    for en, fr in pairs(searcher):
        for fields, lang in ((en, "en"), (fr, "fr")):
            q = title_query(fields)
            res = searcher.search(q, limit=10)
            assert_one_result_per_statement(res.hits)
            if res.extra["query_lang"] == lang:
                assert res.hits[0]["lang"] == lang, q  # the version in the query's language, first
            for h in res.hits:
                assert h["matched_in"] in ("en", "fr")
                assert len(h["translations"]) <= 1


def test_the_other_version_is_the_translation_of_the_hit(searcher):
    en_hit = searcher.search("wildfire").hits[0]
    fr_hit = searcher.search("feux de foret").hits[0]
    for hit, other in ((en_hit, "fr"), (fr_hit, "en")):
        assert [t["lang"] for t in hit["translations"]] == [other]
        assert searcher.statement(hit["translations"][0]["id"])["translation"] == hit["id"]


def test_total_counts_statements_not_versions(searcher):
    """A word in both versions of many statements: the pages hold exactly ``total`` statements."""
    res = searcher.search("caribou", limit=1000)
    both = searcher.search("caribou", lang="en").total + searcher.search("caribou", lang="fr").total
    assert res.total == len(res.hits) < both
    assert_one_result_per_statement(res.hits)
    paged = [h["id"] for page in (1, 2, 3) for h in searcher.search("caribou", limit=5, page=page).hits]
    assert paged == [h["id"] for h in res.hits][:15]


def test_statements_in_one_language_only_are_still_found(searcher):
    english_only = [h for h in searcher.search("caribou", limit=1000).hits if not h["translations"]]
    assert english_only and all(h["lang"] == "en" for h in english_only)
    res = searcher.search("caribou", lang="fr", bilingual=True, limit=1000)
    assert {h["id"] for h in english_only} <= {h["id"] for h in res.hits}


def test_lang_filter_and_bilingual_view_unchanged(searcher):
    fr = searcher.search("caribou", lang="fr", limit=100)
    assert fr.hits and all(h["lang"] == "fr" for h in fr.hits)
    assert "bilingual" not in fr.extra
    bi = searcher.search("wildfire", lang="fr", bilingual=True, limit=100)
    assert bi.extra["bilingual"] is True and bi.hits
    # An English word finds the French version of each statement through its English one.
    assert all(h["lang"] == "fr" and h["matched_in"] == "en" for h in bi.hits)
    assert all(h["translations"][0]["lang"] == "en" for h in bi.hits)
    assert_one_result_per_statement(bi.hits)


def test_none_in_the_language_asked_says_how_many_in_the_other(searcher, index_dir):
    english = searcher.search("wildfire", lang="en").total
    res = searcher.search("wildfire", lang="fr")
    assert english and res.total == 0 and res.extra["other_languages"] == {"en": english}
    assert searcher.search("wildfire", lang="en").extra["other_languages"] == {}
    assert searcher.search("zzqxjw", lang="fr").extra["other_languages"] == {}

    from cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["search", "wildfire", "--lang", "fr", "--index", str(index_dir)])
    assert out.exit_code == 0, out.output
    assert f"{english} statements in English (--lang en)" in out.output
    out = runner.invoke(main, ["search", "wildfire", "--lang", "fr", "--index", str(index_dir), "--json"])
    assert json.loads(out.output)["other_languages"] == {"en": english}


def test_the_page_says_so_too(index_dir):
    from search.web.app import create_app

    english = Searcher(index_dir).search("wildfire", lang="en").total
    client = create_app(str(index_dir)).test_client()
    page = client.get("/", query_string={"q": "wildfire", "lang": "fr", "ui": "fr"}).get_data(as_text=True)
    assert f"{english} communiqués en anglais" in page and "lang=en" in page
    page = client.get("/", query_string={"q": "wildfire", "lang": "fr", "ui": "en"}).get_data(as_text=True)
    assert f"{english} statements in English" in page
    api = client.get("/api/search", query_string={"q": "wildfire", "lang": "fr"}).get_json()
    assert api["other_languages"] == {"en": english}
    api = client.get("/api/search", query_string={"q": "caribou"}).get_json()
    assert_one_result_per_statement(api["results"])


def test_pairs_across_segments_of_an_updated_index(tmp_path):
    """English pages indexed first, their French twins added later (another segment, links rewritten): the
    pairs still fold, and the totals count statements."""
    import shutil

    from indexer import update
    from tests.bilingual_corpus import YUKON, pick_pages

    paired, _ = pick_pages()
    for page in paired[:12]:
        rel = page.relative_to(YUKON / "en")
        for lang, src in (("en", page), ("fr", YUKON / "fr" / rel)):
            dest = tmp_path / lang / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    index_dir = tmp_path / "ix"
    update([tmp_path / "en"], index_dir)
    update([tmp_path / "en", tmp_path / "fr"], index_dir)
    with Searcher(index_dir) as s:
        reader = s.store.searcher.reader()
        assert len(reader.leaf_readers()) > 1 or reader.has_deletions()
        fresh = s.search("yukon", limit=1000).total  # a fresh searcher's first search
        partner = s.pairs.partner()  # the table of every pair
        for d in range(len(partner)):
            fields = s.store.fields(d) if not s.store.searcher.reader().is_deleted(d) else {}
            want = s.store.docnum(fields.get("translation")) if fields.get("translation") else None
            assert (int(partner[d]) if partner[d] >= 0 else None) == want
        assert s.store.ids() is not None  # ids are now looked up in the table read with the pairs
        reader = s.store.searcher.reader()
        for d in range(reader.doc_count_all()):  # the same live document as a search of the id field
            if not reader.is_deleted(d):
                sid = s.store.fields(d)["id"]
                assert s.store.docnum(sid) == s.store.searcher.document_number(id=sid) == d
        assert s.store.docnum("no-such-id") is None
        res = s.search("yukon", limit=1000)
        assert res.total == len(res.hits) == s.search("yukon", lang="en").total == fresh
        assert_one_result_per_statement(res.hits)

"""Facets a newsroom expects, through the library, /api/search and the page's HTML: several values of a facet
(any of them), excluded values, the date histogram of every match, relative ranges (last 7 days, 30 days,
12 months) and the language choice both / FR / EN. The index: real Yukon releases in both languages and
vie-publique statements (tests.test_web_app.web_index, built by `indexer.update`); relative ranges on an
index of statements dated relative to today."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.test_web_app import web_index

YK_EN, YK_FR, VP = "Government of Yukon", "Gouvernement du Yukon", "vie-publique.fr"


@pytest.fixture(scope="module")
def client():
    from search.web.app import create_app

    app = create_app(str(web_index()), threads=2)
    app.testing = True
    return app.test_client()


def api(client, **params) -> dict:
    r = client.get("/api/search?" + urlencode(params, doseq=True))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def every_hit(client, **params) -> list[dict]:
    """Every match of a search (not one page), as the JSON Lines export lists them."""
    r = client.get("/export.jsonl?" + urlencode(params, doseq=True))
    assert r.status_code == 200
    return [json.loads(line) for line in r.get_data(as_text=True).splitlines()]


# ------------------------------------------------------------------------------------------- the library

def test_options_take_one_value_or_several():
    from search.options import OptionError, SearchOptions

    one = SearchOptions.make("x", lang="FR", source=YK_EN)
    assert (one.lang, one.source, one.langs, one.sources) == ("fr", YK_EN, (), ())
    several = SearchOptions.make("x", source=[YK_EN, YK_FR, YK_EN], year=["2019", 2020], not_source=VP)
    assert several.source is None and several.source_values == (YK_EN, YK_FR)
    assert several.years == (2019, 2020) and several.not_source == (VP,) and several.filtered
    with pytest.raises(OptionError):
        SearchOptions.make("x", year="20x9")
    with pytest.raises(OptionError):
        SearchOptions.make("x", last="7 days")


def test_relative_range_starts_counted_back_from_today():
    from search.options import last_since

    today = dt.date(2024, 3, 31)
    assert last_since("7d", today) == dt.datetime(2024, 3, 24)
    assert last_since("2w", today) == dt.datetime(2024, 3, 17)
    assert last_since("1m", today) == dt.datetime(2024, 2, 29)  # the month's last day, not March 2
    assert last_since("12m", today) == last_since("1y", today) == dt.datetime(2023, 3, 31)


def test_fast_and_whoosh_matchers_filter_alike():
    from search import Searcher

    cases = [dict(source=[YK_EN, VP]), dict(not_source=YK_FR), dict(year=[2019], not_lang="en"),
             dict(lang=["en", "fr"], not_year=2020), dict(source=YK_FR, year=[2019, 2020], not_lang="fr")]
    with Searcher(web_index()) as fast, Searcher(web_index(), fast=False) as slow:
        for kwargs in cases:
            a, b = fast.search("yukon", **kwargs), slow.search("yukon", **kwargs)
            assert (a.total, a.facets, a.extra["histogram"]) == (
                b.total, b.facets, b.extra["histogram"]), kwargs
            assert a.total or kwargs.get("not_lang") == "fr", kwargs


# ---------------------------------------------------------------------------------------------- the API

def test_several_values_of_a_facet_are_any_of_them(client):
    alone = {src: api(client, q="covid", source=src)["facets"]["source"] for src in (YK_EN, VP)}
    both = api(client, q="covid", source=[YK_EN, VP])
    assert both["facets"]["source"] == {YK_EN: alone[YK_EN][YK_EN], VP: alone[VP][VP]}
    assert {h["source"] for h in every_hit(client, q="covid", source=[YK_EN, VP])} <= {YK_EN, VP}


def test_facets_combine_with_and_and_an_excluded_value_is_left_out(client):
    everything = api(client, q="yukon")
    assert {YK_EN, YK_FR} <= set(everything["facets"]["source"])
    without = api(client, q="yukon", not_source=YK_EN)
    assert YK_EN not in without["facets"]["source"]
    assert without["facets"]["source"][YK_FR] == everything["facets"]["source"][YK_FR]
    narrowed = api(client, q="yukon", source=[YK_EN, YK_FR], year="2019", not_lang="fr")
    assert narrowed["facets"]["lang"] == {"en": narrowed["facets"]["source"][YK_EN]}
    assert set(narrowed["facets"]["year"]) == {"2019"} and narrowed["total"] > 0
    hits = every_hit(client, q="yukon", source=[YK_EN, YK_FR], year="2019", not_lang="fr")
    assert hits and all(h["date"].startswith("2019") and h["lang"] == "en" for h in hits)
    no_2020 = every_hit(client, q="yukon", not_year="2020")
    assert no_2020 and not [h for h in no_2020 if h["date"].startswith("2020")]


def test_facet_options_count_a_facets_values_without_its_own_selection(client):
    everything = api(client, q="covid")
    one = api(client, q="covid", source=VP)
    assert set(one["facets"]["source"]) == {VP}  # the search's own facets: its matches only
    assert one["facet_options"]["source"] == everything["facets"]["source"]  # the choices: all sources
    assert one["facet_options"]["year"] == one["facets"]["year"]  # no year chosen: the search's own
    excluded = api(client, q="covid", source=VP, not_source=YK_FR)
    assert YK_FR not in excluded["facet_options"]["source"]


def test_every_search_answer_has_a_histogram_of_every_match(client):
    data = api(client, q="yukon", limit=5)
    hist = data["histogram"]
    assert hist["unit"] == "month" and len(data["results"]) == 5
    assert sum(b["count"] for b in hist["bins"]) + hist["undated"] == sum(data["facets"]["year"].values())
    keys = [b["key"] for b in hist["bins"]]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    for b in hist["bins"]:  # a bin's dates narrow the search to its matches
        assert b["since"].startswith(b["key"]) and b["until"].startswith(b["key"])
        if b["count"]:
            inside = api(client, q="yukon", since=b["since"], until=b["until"])
            assert sum(inside["facets"]["lang"].values()) == b["count"], b
    empty = api(client, q="zzzqqqxxx")
    assert empty["total"] == 0 and empty["histogram"] == {"unit": None, "bins": [], "undated": 0}


def test_a_histogram_over_more_than_three_years_counts_years(tmp_path):
    from corpus.statement import Statement
    from search import Searcher
    from tests.indexes import index_statements

    dates = ["2012-05-02", "2012-09-30", "2016-01-15", "2019-12-31"]
    index_statements([Statement(id=f"s{i}", origin="test", title=f"Budget {i}", lang="en", date=d,
                                body=f"The budget of {d} was tabled.", source="Finance")
                      for i, d in enumerate(dates)], tmp_path / "index")
    with Searcher(tmp_path / "index") as s:
        hist = s.search("budget").extra["histogram"]
    assert hist["unit"] == "year"
    assert [(b["key"], b["count"]) for b in hist["bins"]] == [("2012", 2), ("2013", 0), ("2014", 0),
                                                                ("2015", 0), ("2016", 1), ("2017", 0),
                                                                ("2018", 0), ("2019", 1)]
    assert (hist["bins"][0]["since"], hist["bins"][0]["until"]) == ("2012-01-01", "2012-12-31")


@pytest.fixture(scope="module")
def recent_client(tmp_path_factory):
    """An index of statements dated 3, 20, 200 and 800 days before today."""
    from corpus.statement import Statement
    from search.web.app import create_app
    from tests.indexes import index_statements

    today = dt.date.today()
    statements = [Statement(id=f"r{days}", origin="test", title=f"Ferry schedule {days}",
                            body=f"The ferry schedule changes in {days} days.", lang="en", source="Transport",
                            date=(today - dt.timedelta(days=days)).isoformat()) for days in (3, 20, 200, 800)]
    index_dir = index_statements(statements, tmp_path_factory.mktemp("recent") / "index")
    app = create_app(str(index_dir), threads=1)
    app.testing = True
    return app.test_client()


def test_relative_ranges_count_back_from_today(recent_client):
    ids = {last: {h["id"] for h in api(recent_client, q="ferry", last=last)["results"]}
           for last in ("", "7d", "30d", "12m")}
    assert ids == {"": {"r3", "r20", "r200", "r800"}, "7d": {"r3"}, "30d": {"r3", "r20"},
                   "12m": {"r3", "r20", "r200"}}
    page = unescape(recent_client.get("/?q=ferry&last=30d").get_data(as_text=True))
    assert 'aria-current="true" data-last="30d"' in page and "Last 30 days" in page  # marked, and a chip
    assert unescape(recent_client.get("/?q=ferry").get_data(as_text=True)).count('data-last="') == 3


@pytest.mark.parametrize("query, word", [("year=20x9", "year"), ("last=forever", "last"),
                                         ("lang=english", "lang"), ("not_year=1", "not_year"),
                                         ("source=" + "&source=".join(map(str, range(21))), "source")])
def test_bad_facet_parameters_are_a_clear_400(client, query, word):
    r = client.get("/api/search?q=yukon&" + query)
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert word in text and "Traceback" not in text


# --------------------------------------------------------------------------------------------- the page

def _links(page: str, cls: str) -> list[tuple[str, str]]:
    """(href, data-value or data-lang or data-key) of the page's links of a class."""
    found = re.findall(rf'<a class="{cls}[^"]*" href="([^"]+)"[^>]*?data-(?:value|lang|key)="([^"]+)"', page)
    return [(unescape(h), unescape(v)) for h, v in found]


def test_facet_links_add_a_value_take_it_out_or_exclude_it(client):
    page = client.get("/?" + urlencode({"q": "covid", "source": VP})).get_data(as_text=True)
    adds = dict((v, h) for h, v in _links(page, "facet-link"))
    assert parse_qs(urlsplit(adds[YK_EN]).query)["source"] == [VP, YK_EN]  # added: any of the two
    assert "source" not in parse_qs(urlsplit(adds[VP]).query)  # the chosen one: taken out
    excludes = dict((v, h) for h, v in _links(page, "facet-exclude"))
    assert parse_qs(urlsplit(excludes[YK_FR]).query)["not_source"] == [YK_FR]
    assert 'aria-current="true" data-value="vie-publique.fr"' in page
    followed = client.get(excludes[YK_FR]).get_data(as_text=True)
    assert f"Source is not {YK_FR}" in unescape(followed)  # the chip that takes the exclusion back


def test_language_choice_both_fr_en(client):
    both = client.get("/?q=covid").get_data(as_text=True)
    choice = dict((v, h) for h, v in _links(both, "sort-option"))
    assert set(choice) == {"both", "fr", "en"}
    assert 'current" href="/?q=covid" aria-current="true"' in both  # both languages: the default
    fr = client.get(choice["fr"]).get_data(as_text=True)
    assert {"French"} == set(re.findall(r'<span class="badge">(\w+)</span>', fr))
    assert dict((v, h) for h, v in _links(fr, "sort-option"))["both"] == "/?q=covid"
    assert "Also in English" in both or "Also in French" in both  # one result, its other version beside


def test_histogram_bars_link_to_their_dates(client):
    page = client.get("/?q=yukon").get_data(as_text=True)
    bars = _links(page, "bar")
    data = api(client, q="yukon")
    assert [k for _, k in bars] == [b["key"] for b in data["histogram"]["bins"] if b["count"]]
    href, key = bars[0]
    args = parse_qs(urlsplit(href).query)
    assert args["since"][0].startswith(key) and args["until"][0].startswith(key) and args["q"] == ["yukon"]
    narrowed = client.get(href).get_data(as_text=True)
    assert re.search(rf'<a class="bar current" href="[^"]+"[^>]*data-key="{key}"', narrowed)


def test_exports_and_feed_keep_several_values(client):
    r = client.get("/export.csv?" + urlencode({"q": "covid", "source": [YK_EN, VP]}, doseq=True))
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows and {row["source"] for row in rows} <= {YK_EN, VP}
    assert len(rows) == api(client, q="covid", source=[YK_EN, VP])["total"]
    feed = client.get("/feed?" + urlencode({"q": "covid", "source": [YK_EN, VP]}, doseq=True))
    ident = unescape(re.search(r"<id>(tag:[^<]+)</id>", feed.get_data(as_text=True)).group(1))
    assert ident == "tag:presse,2024:feed?" + urlencode({"q": "covid", "source": [YK_EN, VP]}, doseq=True)


def test_cli_repeats_source_and_leaves_one_out():
    from click.testing import CliRunner

    from cli import main

    def facets(*options: str) -> dict:
        r = CliRunner().invoke(main, ["search", "yukon", "--index", str(web_index()), "--json", *options])
        assert r.exit_code == 0, r.output
        return json.loads(r.output)["facets"]["source"]

    everything = facets()
    assert facets("--source", "government yukon", "--source", "gouvernement yukon") == {
        YK_EN: everything[YK_EN], YK_FR: everything[YK_FR]}
    assert YK_EN not in facets("--not-source", "government yukon")
    r = CliRunner().invoke(main, ["search", "yukon", "--index", str(web_index()), "--last", "forever"])
    assert r.exit_code == 2 and "Bad last 'forever'" in r.output


def test_cli_year_and_language_filters_match_the_library():
    from click.testing import CliRunner

    from cli import main
    from search import Searcher

    def run(*options: str) -> dict:
        r = CliRunner().invoke(main, ["search", "yukon", "--index", str(web_index()), "--json", *options])
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    everything = run()["facets"]
    years = sorted(everything["year"])[:2]
    two = run("--year", years[0], "--year", years[1], "--not-lang", "fr")
    assert set(two["facets"]["year"]) == set(years) and set(two["facets"]["lang"]) == {"en"}
    with Searcher(web_index()) as s:
        assert two["total"] == s.search("yukon", year=years, not_lang="fr").total
    without = run("--not-year", years[0])
    assert years[0] not in without["facets"]["year"] and without["total"] < run()["total"]
    r = CliRunner().invoke(main, ["search", "yukon", "--index", str(web_index()), "--year", "19x"])
    assert r.exit_code == 2 and "Bad year '19x'" in r.output


def test_a_bad_date_names_every_accepted_form_and_links_keep_repeated_values(client):
    r = client.get("/api/search?q=yukon&since=2020-13")
    assert r.status_code == 400 and "YYYY, YYYY-MM or YYYY-MM-DD" in r.get_data(as_text=True)
    query = urlencode({"q": "covid", "source": [YK_EN, VP]}, doseq=True)
    page = client.get("/?" + query).get_data(as_text=True)
    switch = unescape(re.search(r'<nav class="ui-switch"[^>]*>\s*<a href="([^"]+)"', page).group(1))
    assert parse_qs(urlsplit(switch).query) == {"q": ["covid"], "source": [YK_EN, VP], "ui": ["fr"]}
    hidden = re.findall(r'<input type="hidden" name="source" value="([^"]+)">', page)
    assert hidden[:2] == [YK_EN, VP]  # the search box keeps both sources

# ruff: noqa: E501  (the site templates below are long HTML lines)
"""Extraction quality: token F1 of presse's body and of trafilatura's text against reference bodies.

    python -m bench.extraction            # print the table
    python -m bench.extraction --build    # rebuild bench/reference/ from ../shared (yukon, vie-publique)
    python -m bench.extraction --worst 20 # the tune half's 20 worst pages for presse, trafilatura beside

Groups:
- article-extraction: 181 English news and blog pages of ../shared/eval/article-extraction (scrapinghub's
  benchmark, MIT); reference = the expected article text (articleBody: the headline is not in it), so presse's
  body is scored, as trafilatura's text (which has no title); "presse+title" (title + body, the measure of
  earlier runs and of issue 18's first table) is shown beside.
  Reported whole and in two fixed halves (a seeded split of the page names): presse's rules are tuned on
  "tune" only; "test" says how they carry to pages they were not tuned on.
- yukon: 20 Yukon pages; reference = the page's body, quotes, quick facts and media contact fields.
- canada: the 4 canada.ca half-masting pages; reference = the intro and the notices table, computed at run time
  from the page (canada.ca text is not redistributable, so it is not stored here).
- synthetic: vie-publique fragments wrapped in 5 different site chromes; reference = the fragment's text.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import lxml.html

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
SHARED = HERE.parent.parent / "shared"
_WORD = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def token_prf(candidate: str, reference: str) -> tuple[float, float, float]:
    """Bag-of-words (precision, recall, F1) over lower-case word tokens."""
    cand, ref = tokens(candidate), tokens(reference)
    common = sum((cand & ref).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(cand.values()), common / sum(ref.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def token_f1(candidate: str, reference: str) -> float:
    return token_prf(candidate, reference)[2]


def _text(el) -> str:
    return " ".join(el.text_content().split())


# ---- reference building ---------------------------------------------------------------------------------

YUKON_FIELDS = (
    "field--name-body",
    "field--name-field-news-quote",
    "field--name-field-quick-facts",
    "field--name-field-contact",
)


def yukon_reference(html: bytes) -> str:
    doc = lxml.html.fromstring(html)
    parts = []
    for field in YUKON_FIELDS:
        for el in doc.xpath(f'//article//div[contains(concat(" ", @class, " "), " {field} ")]'):
            parts.append(_text(el))
    return "\n\n".join(p for p in parts if p)


def canada_reference(html: bytes) -> str:
    doc = lxml.html.fromstring(html)
    main = doc.xpath("//main")[0]
    intro = main.xpath('.//div[contains(@class, "mwsgeneric-base-html")]//p')
    rows = main.xpath('.//table[@id="eventslist"]/tbody/tr')
    parts = [_text(p) for p in intro]
    for row in rows:
        for hidden in row.xpath('.//span[contains(@class, "hidden")]'):
            hidden.drop_tree()
        parts.append(_text(row))
    return "\n\n".join(parts)


CHROMES = [
    # (name, before, after): realistic site templates around the statement
    (
        "ministry",
        """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title} - Ministère</title>
<script>var _paq = window._paq || [];</script><style>.menu{{display:flex}}</style></head><body>
<div id="cookie-banner" class="cookie-consent"><p>Ce site utilise des cookies pour mesurer l'audience.</p>
<button>Accepter</button><button>Refuser</button></div>
<header class="site-header"><a href="/" class="logo">Gouvernement</a><nav class="main-nav"><ul>
<li><a href="/actualites">Actualités</a></li><li><a href="/ministere">Le ministère</a></li>
<li><a href="/publications">Publications</a></li><li><a href="/contact">Contact</a></li></ul></nav>
<form class="search" action="/recherche"><input name="q" placeholder="Rechercher"><button>OK</button></form>
<a class="lang-switch" href="/en">English</a></header>
<nav class="breadcrumb"><a href="/">Accueil</a> › <a href="/actualites">Actualités</a> › Communiqué</nav>
<main><article><h1>{title}</h1><p class="date">Publié le {date_fr}</p>""",
        """</article><div class="share"><span>Partager :</span><a href="#">Facebook</a><a href="#">Twitter</a>
<a href="#">LinkedIn</a><a href="#">Courriel</a></div></main>
<footer class="site-footer"><ul><li><a href="/mentions">Mentions légales</a></li><li><a href="/access">
Accessibilité</a></li><li><a href="/plan">Plan du site</a></li></ul><p>© République française</p></footer>
</body></html>""",
    ),
    (
        "newsportal",
        """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<meta property="og:title" content="{title}"><title>{title}</title></head><body>
<div class="top-bar"><a href="#content" class="skip-link">Aller au contenu</a></div>
<div class="navbar"><ul><li><a href="/">Une</a></li><li><a href="/politique">Politique</a></li>
<li><a href="/economie">Économie</a></li><li><a href="/monde">Monde</a></li><li><a href="/culture">Culture</a></li>
</ul></div><div class="layout"><div id="content" class="content"><h1>{title}</h1>
<div class="meta">{date_fr} · Rédaction</div><div class="article-body">""",
        """</div><div class="tags"><a href="/t/1">gouvernement</a> <a href="/t/2">politique</a>
<a href="/t/3">France</a></div></div>
<div class="sidebar"><h3>Articles liés</h3><ul><li><a href="/a/1">Le Premier ministre en déplacement à Lyon</a></li>
<li><a href="/a/2">Budget 2021 : les grandes lignes</a></li><li><a href="/a/3">Conseil des ministres du 2 septembre
</a></li><li><a href="/a/4">Plan de relance : ce qui change</a></li></ul>
<h3>Les plus lus</h3><ol><li><a href="/p/1">Réforme des retraites</a></li><li><a href="/p/2">Couvre-feu</a></li>
<li><a href="/p/3">Vaccins</a></li></ol></div></div>
<div class="newsletter"><p>Recevez notre lettre d'information chaque matin</p><form><input type="email">
<button>S'abonner</button></form></div>
<div class="footer"><p>Tous droits réservés — Nous contacter — Publicité</p></div></body></html>""",
    ),
    (
        "blogcms",
        """<html><head><title>{title} | Blog officiel</title></head><body class="single-post">
<div id="masthead" class="site-header"><h2 class="site-title"><a href="/">Blog officiel</a></h2>
<div id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li><a href="/">Accueil</a></li><li><a href="/a-propos">À propos</a></li><li><a href="/archives">Archives</a></li>
</ul></div></div><div id="primary" class="content-area"><div class="entry-header"><h1 class="entry-title">{title}</h1>
<span class="posted-on">{date_fr}</span></div><div class="entry-content">""",
        """</div><div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Partager :</h3><ul>
<li><a href="#">Imprimer</a></li><li><a href="#">Facebook</a></li><li><a href="#">X</a></li></ul></div>
<div id="comments" class="comments-area"><h3>Laisser un commentaire</h3><p>Votre adresse e-mail ne sera pas
publiée.</p></div></div><div id="secondary" class="widget-area"><section class="widget"><h2>Articles récents</h2>
<ul><li><a href="/1">Discours du 14 juillet</a></li><li><a href="/2">Vœux aux Français</a></li>
<li><a href="/3">Conférence de presse</a></li></ul></section></div>
<div id="colophon" class="site-footer">Fièrement propulsé par WordPress</div></body></html>""",
    ),
    (
        "tablelayout",
        """<html><head><title>{title}</title></head><body><table width="100%"><tr>
<td class="leftmenu" width="180"><a href="/">Accueil</a><br><a href="/presse">Presse</a><br>
<a href="/agenda">Agenda</a><br><a href="/liens">Liens</a><br></td><td class="main-cell">
<div class="bandeau">Préfecture — Services de l'État</div><h1>{title}</h1><p><i>{date_fr}</i></p>""",
        """<p class="retour"><a href="/presse">Retour à la liste des communiqués</a></p></td></tr></table>
<div class="pied">Préfecture · 1 rue de la République · Mentions légales · Plan du site</div></body></html>""",
    ),
    (
        "modern",
        """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}"}}</script></head><body>
<div role="banner" class="fr-header"><div class="fr-header__brand">République Française</div>
<div class="fr-header__tools"><a href="/connexion">Se connecter</a></div></div>
<div class="fr-breadcrumb"><ol><li><a href="/">Accueil</a></li><li><a href="/discours">Discours</a></li></ol></div>
<div role="main"><div class="fr-container"><h1>{title}</h1><p class="fr-text--sm">Mis en ligne le {date_fr}</p>""",
        """<div class="fr-share"><p>Partager la page</p><a href="#">Facebook</a><a href="#">Twitter</a>
<a href="#">LinkedIn</a><button>Copier le lien</button></div>
<div class="fr-follow"><p>Abonnez-vous à notre lettre d'information</p><form><input><button>S'abonner</button>
</form></div></div></div><div role="contentinfo" class="fr-footer"><p>legifrance.gouv.fr · gouvernement.fr ·
service-public.fr · data.gouv.fr</p><p>Sauf mention contraire, tous les contenus de ce site sont sous licence
etalab-2.0</p></div><div class="fr-consent-banner"><p>Nous utilisons des cookies.</p><button>Tout accepter
</button></div></body></html>""",
    ),
]

FR_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def fragment_reference(fragment: str) -> str:
    doc = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for br in doc.iter("br"):
        br.tail = " " + (br.tail or "")
    return _text(doc)


def build() -> None:
    """Write bench/reference/ from ../shared: Yukon references and the synthetic pages."""
    rng = random.Random(3)
    yukon = SHARED / "corpus" / "yukon"
    cases = []
    pages = sorted((yukon / "en").rglob("*.html"))
    for path in sorted(rng.sample(pages, 10)):
        for lang in ("en", "fr"):
            rel = path.relative_to(yukon / "en")
            src = yukon / lang / rel
            name = f"yukon-{lang}-{rel.stem}.txt"
            (REFERENCE / name).write_text(yukon_reference(src.read_bytes()) + "\n", encoding="utf-8")
            cases.append(
                {"group": "yukon", "input": f"shared:corpus/yukon/{lang}/{rel.as_posix()}", "reference": name}
            )
    for path in sorted((SHARED / "corpus" / "canada").glob("*.html")):
        cases.append({"group": "canada", "input": f"shared:corpus/canada/{path.name}", "reference": "canada"})
    lines = (SHARED / "corpus" / "vie-publique" / "statements.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    records = [r for r in records if len(r["html"]) > 1500]
    for i, record in enumerate(rng.sample(records, 10)):
        name, before, after = CHROMES[i % len(CHROMES)]
        y, m, d = record["date"][:10].split("-")
        date_fr = f"{int(d)} {FR_MONTHS[int(m) - 1]} {y}"
        title = record["title"].replace('"', "'")
        html = before.format(title=title, date_fr=date_fr) + record["html"] + after
        page = f"synthetic-{i:02d}-{name}.html"
        (REFERENCE / page).write_text(html, encoding="utf-8")
        (REFERENCE / page.replace(".html", ".txt")).write_text(
            fragment_reference(record["html"]) + "\n", encoding="utf-8"
        )
        cases.append({"group": "synthetic", "input": page, "reference": page.replace(".html", ".txt")})
    (REFERENCE / "cases.json").write_text(
        json.dumps(cases, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# ---- measuring ------------------------------------------------------------------------------------------


EXTRACTORS = ("presse", "trafilatura")
WITH_TITLE = "presse+title"  # article pages only: title + body, the measure of earlier runs
UNDER = 0.5  # a page whose recall is under this lost most of its text


def _load(case: dict) -> tuple[bytes, str] | None:
    source = case["input"]
    path = SHARED / source.removeprefix("shared:") if source.startswith("shared:") else REFERENCE / source
    if not path.exists():
        return None
    html = path.read_bytes()
    reference = (
        canada_reference(html)
        if case["reference"] == "canada"
        else (REFERENCE / case["reference"]).read_text(encoding="utf-8")
    )
    return html, reference


SPLIT_SEED = 18  # the article-extraction pages' fixed tune/test halves: tune on "tune", report both


def article_split(keys: list[str]) -> dict[str, str]:
    """Page name -> "tune" or "test": a seeded shuffle of the sorted names, the first half tunes."""
    order = sorted(keys)
    random.Random(SPLIT_SEED).shuffle(order)
    half = (len(order) + 1) // 2
    return {key: "tune" if i < half else "test" for i, key in enumerate(order)}


def article_cases() -> list[tuple[str, bytes, str]]:
    """(group, page, reference) of the article-extraction benchmark; [] when ../shared lacks it.
    The group is "article-extraction/tune" or "article-extraction/test" (article_split)."""
    return [(group, html, reference) for group, _, html, reference in named_article_cases()]


def named_article_cases() -> list[tuple[str, str, bytes, str]]:
    """(group, page name, page, reference) of the article-extraction benchmark, as article_cases()."""
    articles = SHARED / "eval" / "article-extraction"
    truth = articles / "ground-truth.json"
    if not truth.exists():
        return []
    expected = json.loads(truth.read_text(encoding="utf-8"))
    halves = article_split(list(expected))
    return [(f"{ARTICLES}/{halves[key]}", key, gzip.decompress((articles / "html" / f"{key}.html.gz").read_bytes()),
             expected[key]["articleBody"]) for key in sorted(expected)]


def press_cases() -> list[tuple[str, bytes, str]]:
    cases = json.loads((REFERENCE / "cases.json").read_text(encoding="utf-8"))
    return [(case["group"], *loaded) for case in cases if (loaded := _load(case)) is not None]


def presse_text(html: bytes, with_title: bool = False) -> str:
    """What presse keeps of a page as the statement's text: its body and media contact (a field of its own,
    which the press references count), and its title when the reference has it."""
    from corpus import Statement, extract_html

    item = extract_html(html, origin="bench")
    if not isinstance(item, Statement):
        return ""
    return "\n\n".join(p for p in (item.title if with_title else "", item.body, *item.contacts) if p)


def trafilatura_text(html: bytes) -> str:
    import trafilatura

    return trafilatura.extract(html, include_tables=True, include_comments=False, favor_recall=True) or ""


ARTICLES = "article-extraction"


def page_scores(cases: list[tuple[str, bytes, str]]) -> dict[str, dict[str, list[tuple[float, float, float]]]]:
    """Per group, per extractor: each page's token (precision, recall, F1), in case order."""
    scores: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for group, html, reference in cases:
        article = group.startswith(ARTICLES)
        per = scores.setdefault(group, {name: [] for name in (*EXTRACTORS, *((WITH_TITLE,) if article else ()))})
        per["presse"].append(token_prf(presse_text(html), reference))
        if article:
            per[WITH_TITLE].append(token_prf(presse_text(html, True), reference))
        per["trafilatura"].append(token_prf(trafilatura_text(html), reference))
    return scores


def run() -> dict[str, dict]:
    """Per group: {"pages": n, "presse": F1, "trafilatura": F1, "detail": {extractor: {"precision", "recall",
    "f1", "under"}}}: mean token precision, recall, F1, and the pages under 50% recall. The article-extraction
    group is the whole set; its "halves" hold the same for its tune and test halves."""
    scores = page_scores(article_cases() + press_cases())
    halves = {group.split("/")[1]: scores.pop(group) for group in list(scores) if group.startswith(ARTICLES)}
    if halves:
        whole = {name: [v for half in halves.values() for v in half[name]] for name in next(iter(halves.values()))}
        scores = {ARTICLES: whole, **scores}
    out = {group: _summary(per) for group, per in scores.items()}
    if halves:
        out[ARTICLES]["halves"] = {half: _summary(halves[half]) for half in ("tune", "test") if half in halves}
    return out


def _summary(per: dict[str, list[tuple[float, float, float]]]) -> dict:
    detail = {name: _mean(values) for name, values in per.items()}
    return {"pages": len(per["presse"]), **{name: d["f1"] for name, d in detail.items()}, "detail": detail}


def _mean(values: list[tuple[float, float, float]]) -> dict[str, float]:
    n = len(values)
    return {"precision": sum(v[0] for v in values) / n, "recall": sum(v[1] for v in values) / n,
            "f1": sum(v[2] for v in values) / n, "under": sum(1 for v in values if v[1] < UNDER)}


def worst(n: int, half: str = "tune") -> list[tuple[str, tuple[float, float, float], float]]:
    """The n article-extraction pages of one half where presse scores worst: (name, presse's P/R/F1,
    trafilatura's F1). Tuning looks at the tune half only."""
    cases = [c for c in named_article_cases() if c[0].endswith("/" + half)]
    rows = []
    for _, name, html, reference in cases:
        mine = token_prf(presse_text(html), reference)
        rows.append((name, mine, token_f1(trafilatura_text(html), reference)))
    return sorted(rows, key=lambda r: r[1][2])[:n]


def main(argv: list[str]) -> None:
    if "--build" in argv:
        build()
    if "--worst" in argv:
        n = int(argv[argv.index("--worst") + 1]) if len(argv) > argv.index("--worst") + 1 else 20
        for name, (p, r, f), theirs in worst(n):
            print(f"{name[:16]}  P {p:.3f} R {r:.3f} F1 {f:.3f}   trafilatura F1 {theirs:.3f}")
        return
    results = run()
    print(f"{'group':<26}{'pages':>6}  {'extractor':<12}{'P':>7}{'R':>7}{'F1':>7}{'R<50%':>7}")
    for name, group in results.items():
        rows = [(name, group)] + [(f"{name}/{half}", g) for half, g in group.get("halves", {}).items()]
        for label, g in rows:
            for extractor, r in g["detail"].items():
                print(f"{label:<26}{g['pages']:>6}  {extractor:<12}{r['precision']:>7.3f}{r['recall']:>7.3f}"
                      f"{r['f1']:>7.3f}{r['under']:>7}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Main content: which part of a pruned page holds the statement.

Two opinions are asked and reconciled:
- the markup's: itemprop=articleBody, <article>, <main>, id="content". Press templates (Yukon, canada.ca) say
  it plainly, and keep there the date line, quick facts and the media contact;
- a readability-style score: every paragraph (25+ characters, few links) credits its parent fully and its
  grandparent by half; the best-credited block, with its siblings that score alike, is the article.
The markup's block wins when it holds the scored article and not much else but links (which are dropped).
When what is kept is under WIDEN_SHARE of the page's own text (not links), a wider block is taken instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bs4 import CData, NavigableString, Tag

from .metadata import clean

_TEXT_TYPES = (NavigableString, CData)
# Tags that make a <div> a container rather than a paragraph (readability's DIV_TO_P_ELEMS, and more).
_BLOCKS = frozenset(
    "p div section article main ul ol dl table blockquote pre h1 h2 h3 h4 h5 h6 figure header footer "
    "aside form fieldset address details hr".split()
)
_ALWAYS_PARAGRAPH = frozenset(("p", "pre"))
_MAYBE_PARAGRAPH = frozenset(("div", "td", "li", "dd", "blockquote", "section", "article", "span", "font",
                              "center"))
MIN_PARAGRAPH = 25  # characters: shorter lines (bylines, buttons) credit nobody
# Class/id words that make a block more (or less) likely to be the article (readability's weights).
POSITIVE = re.compile(r"article|body|content|entry|hentry|main|page|post|story|text|blog|h-entry", re.I)
NEGATIVE = re.compile(
    r"hidden|banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|promo|"
    r"related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget|recirc|newsletter|"
    r"trending|popular|teaser|most-read|more-stories",
    re.I,
)
_TAG_WEIGHT = {"div": 5, "pre": 3, "td": 3, "blockquote": 3, "address": -3, "ol": -3, "ul": -3, "dl": -3,
               "dd": -3, "dt": -3, "li": -3, "form": -3, "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5,
               "h6": -5, "th": -5}
CLIMB_SHARE = 1.05  # a parent holding little more than the best block is that block with its heading
CLIMB_SLACK = 30  # characters: a heading and a date line
SIBLING_SHARE = 0.2  # a sibling scoring this share of the best block is part of the article (readability)
MARKUP_SHARE = 1.15  # a named block holding little more than the scored article is the article
ARTICLE_SHARE = 2.0  # an <article> around it is the article more surely: its other blocks are its own
WIDEN_SHARE = 0.3  # under this share of the page's own text kept, a wider block is taken (and reported)


class Measure:
    """Text and link lengths of every tag under a root, computed once bottom-up.

    Asking each block for its own text (get_text) walks its subtree again: nested blocks make that quadratic
    (1,000 nested divs with a link each took 20 s). The numbers equal len(clean(tag.get_text(" "))) and a walk
    over the links: clean() of strings joined by a space is the cleaned strings joined by one space.
    """

    def __init__(self, root: Tag) -> None:
        # id(tag) -> [characters of its cleaned strings, non-blank strings, links below, their characters,
        #             commas below, whether a block tag is among its children, <p> below, <li> below,
        #             characters of the strings right in it (not in a child)]
        self.data: dict[int, list[int]] = {}
        self.depth: dict[int, int] = {}
        self.tags: list[Tag] = []  # document order
        self._index: dict[int, int] = {}  # id(tag) -> its place in self.tags, built when first needed
        stack: list[tuple[Tag, Any]] = [(root, iter(root.children))]
        self.depth[id(root)] = 0
        self.data[id(root)] = [0, 0, 0, 0, 0, 0, 0, 0, 0]
        self.tags.append(root)
        while stack:
            tag, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if stack:
                    mine, parent = self.data[id(tag)], self.data[id(stack[-1][0])]
                    parent[0] += mine[0]
                    parent[1] += mine[1]
                    parent[2] += mine[2] + (tag.name == "a")
                    parent[3] += mine[3] + (self.text_len(tag) if tag.name == "a" else 0)
                    parent[4] += mine[4]
                    parent[6] += mine[6] + (tag.name == "p")
                    parent[7] += mine[7] + (tag.name == "li")
                continue
            if isinstance(child, Tag):
                self.data[id(child)] = [0, 0, 0, 0, 0, 0, 0, 0, 0]
                if child.name in _BLOCKS:
                    self.data[id(tag)][5] = 1
                self.depth[id(child)] = len(stack)
                self.tags.append(child)
                stack.append((child, iter(child.children)))
            elif type(child) in _TEXT_TYPES:
                text = clean(child)
                if text:
                    entry = self.data[id(tag)]
                    entry[0] += len(text)
                    entry[1] += 1
                    entry[4] += text.count(",")
                    entry[8] += len(text)

    def text_len(self, tag: Tag) -> int:
        """len(clean(tag.get_text(" "))), for a tag under the root."""
        chars, strings = self.data[id(tag)][:2]
        return chars + strings - 1 if strings else 0

    def links(self, tag: Tag) -> tuple[int, int]:
        """(links under the tag, characters of their text)."""
        entry = self.data[id(tag)]
        return entry[2], entry[3]

    def under(self, root: Tag) -> list[Tag]:
        """The tags below root, in document order (they follow it in self.tags, deeper than it)."""
        if not self._index:
            self._index = {id(t): i for i, t in enumerate(self.tags)}
        start, depth = self._index[id(root)], self.depth[id(root)]
        out = []
        for tag in self.tags[start + 1:]:
            if self.depth[id(tag)] <= depth:
                break
            out.append(tag)
        return out

    def own_text(self, tag: Tag) -> int:
        """Characters of text that is not a link's."""
        return max(0, self.text_len(tag) - self.data[id(tag)][3])

    def link_density(self, tag: Tag) -> float:
        n = self.text_len(tag)
        return min(1.0, self.data[id(tag)][3] / n) if n else 0.0


def _class_weight(tag: Tag) -> int:
    labels = " ".join([*(tag.get("class") or ()), str(tag.get("id") or "")])
    if not labels.strip():
        return 0
    if tag.get("itemprop") == "articleBody":
        return 50
    return 25 * (bool(POSITIVE.search(labels)) - bool(NEGATIVE.search(labels)))


def paragraph_scores(measure: Measure) -> dict[int, float]:
    """id(tag) -> readability score of the blocks credited by the paragraphs they hold."""
    scores: dict[int, float] = {}
    for tag in measure.tags:
        name = tag.name
        entry = measure.data[id(tag)]
        if not (name in _ALWAYS_PARAGRAPH or (name in _MAYBE_PARAGRAPH and not entry[5])):
            # Text written right in a container, between its blocks (<br>-separated paragraphs), is the
            # container's own paragraph, as readability wraps such text in a <p>.
            if entry[8] >= 4 * MIN_PARAGRAPH and name in _MAYBE_PARAGRAPH:
                own = (1 + min(entry[8] // 100, 3)) * 2
                scores[id(tag)] = scores.get(id(tag), _TAG_WEIGHT.get(name, 0) + _class_weight(tag)) + own
            continue
        n = measure.text_len(tag)
        if n < MIN_PARAGRAPH:
            continue
        score = (1 + entry[4] + min(n // 100, 3)) * (1 - measure.link_density(tag))
        for share, holder in zip((1.0, 0.5), (tag.parent, tag.parent.parent if tag.parent else None),
                                 strict=True):
            if holder is None or id(holder) not in measure.data:
                break
            if id(holder) not in scores:
                scores[id(holder)] = _TAG_WEIGHT.get(holder.name, 0) + _class_weight(holder)
            scores[id(holder)] += score * share
    return scores


@dataclass
class Content:
    """The blocks that hold the statement, in page order, and how they were chosen."""

    roots: list[Tag]
    how: str  # "markup", "score", "wide"
    note: str = ""  # why a wider block was taken


def scored_article(measure: Measure) -> list[Tag]:
    """The best-scored block and its siblings that score alike (readability's sibling pass)."""
    scores = paragraph_scores(measure)
    if not scores:
        return []
    by_id = {id(t): t for t in measure.tags}
    final = {k: v * (1 - measure.link_density(by_id[k])) for k, v in scores.items()}
    top = by_id[max(final, key=final.__getitem__)]
    found = final[id(top)]
    # A block that is its parent's only content: the parent is the same article, with its heading and date.
    limit = measure.own_text(top) * CLIMB_SHARE + CLIMB_SLACK
    while top.parent is not None and id(top.parent) in measure.data \
            and top.parent.name not in ("body", "html") and measure.own_text(top.parent) <= limit:
        top = top.parent
    parent = top.parent
    if parent is None or id(parent) not in measure.data:
        return [top]
    best = final.get(id(top), scores.get(id(top), 0.0))
    threshold = max(10.0, best * SIBLING_SHARE)
    top_class = top.get("class")
    kept = []
    for sib in (c for c in parent.children if isinstance(c, Tag)):
        if sib is top:
            kept.append(sib)
            continue
        score = final.get(id(sib), 0.0) + (best * 0.2 if top_class and sib.get("class") == top_class else 0)
        n, density = measure.text_len(sib), measure.link_density(sib)
        # The article in sections cut by figures: a wrapper like the top one, whose paragraphs score alike.
        inner = max((final.get(id(t), 0.0) for t in measure.under(sib)), default=0.0) if top_class else 0.0
        if sib.get("class") == top_class and density < 0.25 and inner >= found * SIBLING_SHARE:
            kept.append(sib)
            continue
        sentence = 0 < n <= 80 and density == 0 and clean(sib.text).endswith(".")
        if score >= threshold or (sib.name == "p" and ((n > 80 and density < 0.25) or sentence)):
            kept.append(sib)
    return kept


def _contains(outer: Tag, inner: Tag) -> bool:
    return outer is inner or any(p is outer for p in inner.parents)


def markup_blocks(measure: Measure) -> list[Tag]:
    """What the markup names as content, most specific first: articleBody, <article>, <main>, id=content."""
    tags = measure.tags
    named = [t for t in tags if t.get("itemprop") == "articleBody"]
    named += sorted((t for t in tags if t.name == "article"), key=measure.text_len, reverse=True)
    named += [t for t in tags if t.name == "main" or t.get("role") == "main"]
    named += [t for t in tags if t.get("id") in ("content", "main-content", "maincontent", "main")]
    return [t for t in named if measure.text_len(t) > 0]


def main_content(soup: Tag, measure: Measure | None = None) -> Content:
    """The part of the page that holds the statement (see the module's docstring)."""
    measure = measure or Measure(soup)
    body = soup.find("body") if soup.name != "body" else soup
    page = body if isinstance(body, Tag) and id(body) in measure.data else soup
    scored = scored_article(measure)
    marked = markup_blocks(measure)
    kept = sum(measure.own_text(t) for t in scored)
    if scored:
        # The smallest named block around the scored article, when it holds little else but links.
        around = [m for m in marked if all(_contains(m, t) for t in scored)]
        around.sort(key=measure.text_len)
        for block in around:
            article = block.name == "article" or block.get("itemprop") == "articleBody"
            share = ARTICLE_SHARE if article else MARKUP_SHARE
            if measure.own_text(block) <= share * kept + 200:
                return _widened(Content([block], "markup"), measure, page)
        # A named block elsewhere with more text than the scored one: the score was fooled (a comment thread).
        elsewhere = not any(_contains(t, marked[0]) for t in scored) if marked else False
        if elsewhere and measure.own_text(marked[0]) > 2 * kept:
            return _widened(Content([marked[0]], "markup"), measure, page)
        return _widened(Content(scored, "score"), measure, page)
    if marked:
        return _widened(Content([marked[0]], "markup"), measure, page)
    return Content([page], "markup")


def _widened(content: Content, measure: Measure, page: Tag) -> Content:
    """The content, or the whole page when it keeps under WIDEN_SHARE of a page that is not mostly links."""
    total = measure.own_text(page)
    kept = sum(measure.own_text(t) for t in content.roots)
    if total and kept < WIDEN_SHARE * total and measure.link_density(page) < 0.5:
        note = f"main content kept {kept / total:.0%} of the page's text: the whole page was taken"
        return Content([page], "wide", note)
    return content


LINK_BLOCKS = ("ul", "ol", "div", "section", "p", "table")
CLEAN_BLOCKS = frozenset(("div", "section", "ul", "ol", "table", "aside", "figure", "dl"))
# Class/id words of what sits inside an article but is not it; a press page's contact block is not among them.
AWAY = re.compile(
    r"related|share|sharing|social|promo|sponsor|outbrain|taboola|recirc|newsletter|trending|popular|"
    r"most-read|more-stories|read-more|recommend|advert|(?:^|[-_ ])ads?(?:$|[-_ ])|comment|byline|"
    r"author|caption|credit|tags|breadcrumb", re.I)


# A press page's media contact block is mostly mailto links: furniture to keep, not a link list to drop.
CONTACT_HINT = re.compile(r"contact", re.I)
CONTACT_TEXT = re.compile(r"@[\w-]+\.|\b\d{3}[-. ]\d{3}[-. ]\d{4}\b|\(\d{3}\) ?\d{3}")


def clean_conditionally(root: Tag, measure: Measure) -> None:
    """Inside the article, remove blocks that look like something else (readability's conditional clean):
    a class saying related/share/promo, or, for a block with few commas, mostly links or more items than
    paragraphs. When that would remove most of the article's own text, the article is left as it is."""
    doomed: list[Tag] = []
    gone: set[int] = set()
    for tag in measure.under(root):
        if tag.parent is not None and id(tag.parent) in gone:
            gone.add(id(tag))
            continue
        if tag.name in CLEAN_BLOCKS and not tag.__dict__.get("_decomposed") and _looks_away(tag, measure):
            doomed.append(tag)
            gone.add(id(tag))
    if sum(measure.own_text(t) for t in doomed) > 0.5 * measure.own_text(root):
        return
    for tag in doomed:
        tag.decompose()


def _looks_away(tag: Tag, measure: Measure) -> bool:
    labels = " ".join([*(tag.get("class") or ()), str(tag.get("id") or "")])
    weight = 25 if POSITIVE.search(labels) else 0
    if labels.strip() and AWAY.search(labels) and not weight:
        return True
    entry = measure.data[id(tag)]
    if entry[4] >= 10 or CONTACT_HINT.search(labels):
        return False
    density, paragraphs, items = measure.link_density(tag), entry[6], entry[7]
    linky = (items > paragraphs + 1 and tag.name not in ("ul", "ol") and density > 0.2) or \
        (weight < 25 and density > 0.25) or density > 0.5
    return linky and not CONTACT_TEXT.search(tag.get_text())


def drop_link_lists(root: Tag, measure: Measure) -> None:
    """Remove blocks that are mostly links (menus, "related articles", tag clouds) in the main content."""
    root_total = measure.text_len(root)
    # Outermost first: a block inside one removed is gone with it. The counts are the page's before any
    # removal, as an outer block's must be.
    candidates = sorted((t for t in measure.under(root) if t.name in LINK_BLOCKS),
                        key=lambda t: measure.depth[id(t)])
    for tag in candidates:
        n_links, linked = measure.links(tag)
        if n_links < 3 or tag.__dict__.get("_decomposed"):
            continue
        total = measure.text_len(tag)
        # Never the bulk of the content: a statement that is a list of links stays a statement.
        if total and linked / total > 0.6 and total < 2000 and total < 0.5 * root_total:
            tag.decompose()

"""From one HTML page, fragment or text to one Statement, as a sequence of plainly named steps:

    decode → parse → read metadata → prune boilerplate → pick the main content (corpus/content.py)
           → text blocks → furniture apart (corpus/furniture.py) → assemble

A fragment without chrome (NSB's records) is read by lxml directly and skips pruning and scoring; a text
statement (.txt, .md) is never parsed. Like trafilatura, but tuned for press statements: quotes, lists and
tables stay in the body; the date line, media contact, release number, related links and credits are kept
as fields of their own.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import warnings
from typing import Any

import lxml.etree
import lxml.html
from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, NavigableString, Tag

from .content import Measure, clean_conditionally, drop_link_lists, main_content
from .dates import date_from_text, parse_iso
from .decode import decode_bytes, looks_binary, repair_surrogates
from .furniture import Furniture, related_links_in, split_furniture, take_captions
from .language import detect, normalize_lang
from .metadata import clean, read_metadata, release_from_text
from .statement import Problem, Statement

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

RECORD_FIELDS = ("id", "url", "title", "date", "lang", "source", "place", "html", "text")

# Never text a reader sees.
DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "button",
    "input",
    "select",
    "textarea",
    "object",
    "embed",
    "canvas",
    "link",
    "meta",
    "head",
    "title",
    "dialog",
    "map",
    "video",
    "audio",
    "picture",
    "img",
]
# Site chrome wherever it is.
CHROME_TAGS = ["nav", "aside", "menu"]
CHROME_ROLES = {
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "complementary",
    "menu",
    "menubar",
    "dialog",
    "toolbar",
}
# Class/id words of site chrome. Matched against whole words of a class or id ("share-bar", "wb-lng").
CHROME_WORDS = re.compile(
    r"(?:^|[-_ ])(nav|navbar|navigation|menu|menus|breadcrumbs?|cookies?|consent|gdpr|share|sharing|social|"
    r"sidebar|side-bar|related|recommended|newsletter|subscribe|subscription|skip|skiplinks?|search|"
    r"lang-toggle|language|languages|langs?|wb-lng|wb-srch|wb-bc|wb-tphp|pagedetails|page-details|"
    r"report-problem|feedback|banner|popup|modal|toolbar|comments?|advert|promo|"
    r"archived?|outdated|pager|pagination|cta)(?:$|[-_ ])",
    re.IGNORECASE,
)
# A block whose class or id also says it holds the article is kept whatever else it says ("l-sidebar-fixed
# l-article-body-segment", "content-with-sidebar"), as readability does; comment threads are not.
CONTENT_WORDS = re.compile(r"article|body|column|content|main|story|entry", re.IGNORECASE)
COMMENT_WORDS = re.compile(r"comment|disqus|reply|replies", re.IGNORECASE)
# A form holding this much text wraps the page (ASP.NET's <form id=...> around everything), not a search box.
FORM_TEXT = 500
# "header"/"footer" words and tags are chrome only outside the main content: an article's own footer holds
# the date line ("Published April 14, 2020") and a quote's footer its author.
FRAME_WORDS = re.compile(r"(?:^|[-_ ])(header|footer|masthead|site-info|copyright)(?:$|[-_ ])", re.IGNORECASE)
HIDDEN_CLASSES = {
    "hidden",
    "wb-inv",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "d-none",
    "screen-reader-text",
    "element-invisible",
    "offscreen",
}
# Short lines of chrome that slip through markup rules.
CHROME_LINES = re.compile(
    r"^(report a problem.*|signaler un problème.*|share this page|partager cette page|share|partager|"
    r"date modified:?.*|date de modification\s*:?.*|this news release has been archived.*|"
    r"ce communiqué a été archivé.*|skip to main content|passer au contenu principal|"
    r"(accept|refuse|reject) (all )?cookies.*|.*\buses cookies\b.*|.*utilise des cookies.*|back to top|"
    r"haut de la page|print|imprimer|english|français|menu|search|rechercher|advert|advertisement|publicité|"
    r"this slideshow requires javascript\.?|(?:read|see|watch) (?:more|also|next)\s*:.*|don['’]t miss:?|"
    r"(?:[àa] )?lire aussi\s*:.*|comments?(?: \(\+\))?|like this:?|like loading\.*|text size|"
    r"you are here:?|vous êtes ici\s*:?|"
    # a blog post's and a news site's own lines: "Posted in Open thread | Permalink |", "Filed under: …"
    r"posted in [^|]{1,80}\|\s*permalink\s*\|?|filed under\s*:.*|share this (?:story|article|post)|"
    r"blog comments powered by disqus|more great \w+ stories|click here to get the .{1,40} app|"
    r"anzeige|iklan|pubblicit[àa]|publicidad|реклама|learn more|tags?\s*:.*|mots[- ]cl[ée]s\s*:.*|"
    r"related(?: articles?| stories| coverage)?\s*:.*|\(?(?:leggi anche|lee tambi[ée]n|lesen sie auch|"
    r"ler tamb[ée]m)(?: su)?\s*:.*|"
    # reading time and counters: "Tempo de leitura: 1 minuto", "4 min read", "Temps de lecture : 3 min"
    r"(?:reading time|temps de lecture|tempo de leitura|tiempo de lectura|lesezeit)\s*:?\s*\d.*|"
    r"\d+\s*min(?:ute)?s?\s+read)$",
    re.IGNORECASE,
)
# A short block that asks the reader to subscribe: "Sign up for The Water Coolest … newsletter …".
CALL_TO_SUBSCRIBE = re.compile(
    r"\b(?:sign[\s-]?up|subscribe|inscrivez-vous|abonnez-vous)\b.{0,150}\b(?:newsletters?|inbox|lettre d['’]"
    r"information|infolettre)\b|\b(?:newsletters?|infolettre)\b.{0,150}\b(?:sign[\s-]?up|subscribe|inscri|abonne)"
    r"|\bsubscribe to .{1,40} on youtube\b|\byour inbox\b",
    re.IGNORECASE)
CALL_MAX = 300
# A site's rules for its readers' comments: "As you comment, please be respectful … We reserve the right to
# remove any comment …", "Comments are moderated", "Les commentaires sont modérés".
COMMENT_POLICY = re.compile(
    r"\b(?:comment(?:ing)?\s+(?:policy|guidelines)|comments?\s+(?:are|is)\s+moderated|as\s+you\s+comment|"
    r"commentaires?\s+(?:sont|est)\s+mod[ée]r[ée]s?|reserve\s+the\s+right\s+to\s+(?:remove|delete|edit)\b"
    r"[^.]{0,40}\bcomments?)\b", re.IGNORECASE)
POLICY_MAX = 700
# Every call to subscribe has one of these (newsletter, lettre, infolettre, inbox): looked for before the
# pattern, whose search would cost 4% of reading NSB.
_CALL_HINTS = ("etter", "ETTER", "ettre", "ETTRE", "nbox", "ouTube")
BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "figure",
    "figcaption",
    "address",
    "header",
    "footer",
    "aside",
    "fieldset",
    "details",
    "summary",
    "hr",
    "caption",
    "center",
    "body",
    "html",
    "nav",
    "cite",
    "gcds-date-modified",
}
# A fragment with none of these has no site chrome: skip the pruning pass (NSB's 59,000 fragments).
_CHROME_HINT = re.compile(
    r"<(?:(?:html|body|head|nav|header|footer|aside|script|style|form|main|article|menu)\b"
    r"|[a-z][^>]*?\s(?:class|id|role|hidden|aria-hidden)\b)",  # inside a tag: not "msg-id=" in a URL
    re.IGNORECASE,
)
# The largest real pages hold ~5,500 elements; a page with more than this is not a statement.
MAX_ELEMENTS = 200_000
_ELEMENT = re.compile(r"<[A-Za-z]")
# A run of white space that is not already one space: sub() then leaves the text's single spaces alone, and
# costs half as much as replacing every space by itself (a third of the ingester's time over NSB).
_SPACE_RUNS = ("  ", "\n", "\t", "\r", "\f", "\v")  # what _INLINE_SPACE changes starts with one of these
_INLINE_SPACE = re.compile(r"[\t\r\n\f\v][ \t\r\n\f\v]*| [ \t\r\n\f\v]+")
_LINE_BREAK = "\u2028"  # stands for <br> until whitespace is collapsed
_PARAGRAPH_BREAK = re.compile("\u2028 ?\u2028[\u2028 ]*")


def parse(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "lxml")


def _gone(tag: Tag) -> bool:
    # bs4's `decomposed` property falls back to a slow find() on live tags: read the flag directly.
    return bool(tag.__dict__.get("_decomposed"))


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = tag.get("style")
    if style and re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", str(style), re.I):
        return True
    return any(c in HIDDEN_CLASSES for c in (tag.get("class") or ()))


def _labels(tag: Tag) -> str:
    return " ".join([*(tag.get("class") or ()), str(tag.get("id") or "")])


def _own_labels(tag: Tag) -> str:
    """The class words that say what the tag itself is: of a BEM name ("article-body__newsletter"), the
    element after "__", not the block it belongs to (which says "body" of every part of an article)."""
    return " ".join([*(c.rsplit("__", 1)[-1] for c in tag.get("class") or ()), str(tag.get("id") or "")])


_DROP = frozenset(DROP_TAGS)
_CHROME = frozenset(CHROME_TAGS)


def prune(soup: BeautifulSoup) -> None:
    """Remove what is never the statement: code, hidden text, menus, banners, the site's header and footer."""
    # One walk lists every node; bs4's find_all matching costs ~10 µs a node a call, and prune made five.
    nodes = list(soup.descendants)
    tags = [n for n in nodes if isinstance(n, Tag)]
    for tag in tags:
        if tag.name in _DROP and not _gone(tag):
            tag.decompose()
    for node in nodes:
        if isinstance(node, Comment) and not _gone(node):
            node.extract()
    for tag in tags:
        if tag.name in _CHROME and not _gone(tag):
            tag.decompose()
    # A wrapper of the main content is never chrome, whatever its class says ("news-release-archive").
    # Each ancestor and each descendant is visited once, however deeply <main>/<article> nest (10k levels).
    mains = [t for t in tags if t.name in ("main", "article") and not _gone(t)]
    keep: set[int] = set()
    inside: set[int] = set()
    for m in mains:
        for p in m.parents:
            if id(p) in keep:
                break
            keep.add(id(p))
        if id(m) not in inside:  # a nested one's descendants are already there
            inside.update(id(t) for t in m.descendants if isinstance(t, Tag))
    for tag in tags:
        if _gone(tag) or tag.name in ("html", "body", "main", "article") or id(tag) in keep:
            continue
        if _is_hidden(tag) or tag.get("role") in CHROME_ROLES:
            tag.decompose()
            continue
        if tag.name == "form" and len(tag.get_text()) < FORM_TEXT:
            tag.decompose()
            continue
        labels = _own_labels(tag)
        if labels.strip() and CHROME_WORDS.search(labels) and (
                not CONTENT_WORDS.search(labels) or COMMENT_WORDS.search(labels)):
            tag.decompose()
            continue
        if id(tag) not in inside and (
            tag.name in ("header", "footer") or (labels.strip() and FRAME_WORDS.search(labels)
                                                 and not CONTENT_WORDS.search(labels))
        ):
            tag.decompose()


class BlockWriter:
    """Collects text pieces into blocks: flush() ends a block; <br> lines and <br><br> paragraphs kept."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buffer: list[str] = []
        self.any_text = False  # whether the buffer holds more than white space

    def add(self, piece: str) -> None:
        self.buffer.append(piece)
        self.any_text = self.any_text or bool(piece.strip())

    def open(self, tag: str) -> None:
        """A tag begins: a cell is separated from the one before, a block starts afresh."""
        if tag in ("td", "th"):
            if self.any_text:  # not "".join(buffer).strip(): a row of 40k cells made that quadratic
                self.add(" | ")
        elif tag in BLOCK_TAGS:
            self.flush()
            if tag == "li":
                self.add("- ")

    def flush(self) -> None:
        if not self.buffer:
            return
        raw = "".join(self.buffer)
        if any(space in raw for space in _SPACE_RUNS):  # (most blocks have none: no regex pass over them)
            raw = _INLINE_SPACE.sub(" ", raw)
        self.buffer.clear()
        self.any_text = False
        if _LINE_BREAK not in raw:  # most blocks: no <br> to split at
            text = raw.strip()
            if text and text not in ("-", "|"):
                self.blocks.append(text)
            return
        # <br><br> separates paragraphs (vie-publique writes whole speeches that way); one <br> is a line.
        for para in _PARAGRAPH_BREAK.split(raw):
            lines = [line.strip() for line in para.split(_LINE_BREAK)]
            text = "\n".join(line for line in lines if line)
            if text and text not in ("-", "|"):
                self.blocks.append(text)

    def result(self) -> list[str]:
        self.flush()
        return [b for b in self.blocks if not (len(b) < 120 and CHROME_LINES.match(b)
                                                or len(b) < CALL_MAX and _calls_to_subscribe(b)
                                                or len(b) < POLICY_MAX and "omment" in b
                                                and COMMENT_POLICY.search(b))]


def _calls_to_subscribe(block: str) -> bool:
    return any(hint in block for hint in _CALL_HINTS) and bool(CALL_TO_SUBSCRIBE.search(block))


def text_blocks(root: Tag) -> list[str]:
    """The visible text as blocks (paragraphs, list items, headings, table rows), lines kept from <br>."""
    out = BlockWriter()
    # An explicit stack rather than recursion: pages nested thousands of tags deep must not overflow.
    stack: list[tuple[str, object]] = [("", iter(root.children))]
    while stack:
        name, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if name in BLOCK_TAGS:
                out.flush()
            continue
        if isinstance(child, NavigableString):
            if type(child) is NavigableString or child.__class__.__name__ == "CData":
                out.add(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        if child.name == "br":
            out.add(_LINE_BREAK)
            continue
        out.open(child.name)
        stack.append((child.name, iter(child.children)))
    return out.result()


def fragment_blocks(text: str) -> list[str] | None:
    """text_blocks() of a fragment without chrome, read by lxml directly: bs4's tree building was a third of
    the time of NSB's 59,000 records, and a fragment needs no pruning. None when lxml refuses the text."""
    try:
        root = lxml.html.document_fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return None
    out = BlockWriter()
    add, open_tag, flush = out.add, out.open, out.flush  # (bound once: this loop runs for every node of NSB)
    for event, node in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = node.tag
        if not isinstance(tag, str):  # a comment or a processing instruction
            tag = ""
        if event == "start":
            if tag == "br":
                add(_LINE_BREAK)
            elif tag:
                open_tag(tag)
                text = node.text
                if text:
                    add(text)
            continue
        if tag in BLOCK_TAGS:
            flush()
        tail = node.tail
        if tail:
            add(tail)
    return out.result()


def _stable_id(prefix: str, value: str) -> str:
    # surrogatepass: a file name that is not UTF-8 (surrogate escapes) hashes too; valid text is unchanged
    return f"{prefix}-{hashlib.blake2b(value.encode('utf-8', 'surrogatepass'), digest_size=8).hexdigest()}"


def canonical_url(url: str) -> str:
    """The URL as an identity: scheme and host in lower case, no fragment, no default port."""
    url = url.strip()
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#]*)([^#]*)", url)
    if not match:
        return url.split("#")[0]
    scheme, host, rest = match.group(1).lower(), match.group(2).lower(), match.group(3)
    host = re.sub(r":(80|443)$", "", host)
    return f"{scheme}://{host}{rest or '/'}"


_ID_SPACE = re.compile(r"\s+")


def normalize_id(value: str) -> str:
    """An id a URL and a terminal can carry: white space runs (newlines too) become one space, other control
    and format characters (NUL, ESC, bidi overrides, zero-width) go, ends are stripped."""
    value = _ID_SPACE.sub(" ", value)
    # A file name that is not UTF-8 arrives with its bytes as surrogate escapes: "\xe9" keeps it unique.
    value = _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", value)
    if not value.isprintable():
        value = "".join(c for c in value if c == " " or unicodedata.category(c) not in _ID_DROP)
    return value.strip()


_ID_DROP = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def id_for(record: dict[str, Any] | None, url: str, default_id: str, origin: str) -> str:
    """The record's id; else one from the canonical URL; else the caller's (file path) id; else origin's."""
    given = normalize_id(str(record["id"])) if record and record.get("id") not in (None, "") else ""
    if given:
        return given
    if url:
        return _stable_id("u", canonical_url(url))
    return normalize_id(default_id) or _stable_id("o", origin)


def split_record(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(known fields, extra fields) of a JSON Lines record."""
    known = {k: v for k, v in record.items() if k in RECORD_FIELDS}
    extra = {k: v for k, v in record.items() if k not in RECORD_FIELDS}
    return known, extra


def text_to_blocks(text: str) -> list[str]:
    """A plain-text record: blank lines separate paragraphs; single newlines stay as lines."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for para in paragraphs:
        lines = [_INLINE_SPACE.sub(" ", line).strip() for line in para.split("\n")]
        para = "\n".join(line for line in lines if line)
        if para:
            out.append(para)
    return out


def extract_html(
    data: bytes | str, *, origin: str, url: str = "", record: dict | None = None, default_id: str = "",
    plain: bool = False,
) -> Statement | Problem:
    """One page or fragment → one Statement (or a Problem saying why not). Never raises on bad data.

    `record` holds JSON Lines fields: they win over what extraction finds, except the language.
    `default_id` is used when neither the record nor a URL gives an identity (a file's relative path).
    `plain`: the input is a text (.txt, .md) statement, never parsed as HTML.
    """
    record = repair_surrogates(record) if record else {}
    known, extra = split_record(record)
    path = origin

    # decode
    if isinstance(data, bytes):
        reason = looks_binary(data)
        if reason:
            return Problem(path, reason)
        text = decode_bytes(data)
    else:
        text = unicodedata.normalize("NFC", repair_surrogates(data))
    # (counting "<" first: most texts have far fewer than the limit, and count() is 20 times cheaper)
    elements = 0 if plain or text.count("<") <= MAX_ELEMENTS else len(_ELEMENT.findall(text))
    if elements > MAX_ELEMENTS:
        # Parsing alone costs ~30 µs an element: a crafted page of a million <br> would stall a run.
        return Problem(path, f"page too complex: {elements:,} elements (limit {MAX_ELEMENTS:,})")

    # parse, read metadata, prune, pick the main content, text blocks
    meta: dict[str, Any] = {}
    how = ""
    if plain:
        blocks = text_to_blocks(markdown_to_text(text))
    elif text.strip() and "<" in text:
        blocks, meta, how = page_blocks(text)
    else:
        blocks = text_to_blocks(text)
    if known.get("text") and not known.get("html"):
        blocks = text_to_blocks(str(known["text"]))
    if not blocks:
        return Problem(path, "no text: nothing readable in the page")

    # furniture: contacts, release number, date line, quick facts, related links, credits
    own, furniture = split_furniture(blocks)
    if own:
        blocks = own
    else:  # nothing but furniture: the text itself is the statement
        furniture = Furniture()
    return assemble(blocks, furniture, meta, known, extra, origin=origin, url=url, default_id=default_id,
                    how=how, plain=plain)


def page_blocks(text: str) -> tuple[list[str], dict[str, Any], str]:
    """(text blocks of the main content, the markup's metadata, a note when a wider block was taken)."""
    if not _CHROME_HINT.search(text):  # a fragment: no chrome to prune (NSB's 59,000 records)
        blocks = fragment_blocks(text)
        return (text_blocks(parse(text)) if blocks is None else blocks), {}, ""
    soup = parse(text)
    meta = read_metadata(soup)
    meta["related_links"] = related_links_in(soup)
    prune(soup)
    measure = Measure(soup)
    content = main_content(soup, measure)
    meta["captions"] = [text for root in content.roots for text in take_captions(root)]
    for root in content.roots:
        drop_link_lists(root, measure)
        clean_conditionally(root, measure)
    return [block for root in content.roots for block in text_blocks(root)], meta, content.note


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def markdown_to_text(text: str) -> str:
    """Markdown's marks off a text statement: headings' #, links' targets, bold; a plain text is unchanged."""
    return _MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", _MD_HEADING.sub("", text)))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"“])")


def first_sentence(block: str) -> str:
    """The first sentence of a paragraph, when it is short enough to be a title."""
    head = _SENTENCE_END.split(block.split("\n")[0], maxsplit=1)[0].strip()
    return head if len(head) <= 200 else ""


def without_headline(blocks: list[str], title: str, h1: str) -> list[str]:
    """The blocks without the headline (once or twice over the text) and the short labels above it: a kicker
    ("STREAM BIG"), a section name."""
    longest = 2 * max(len(title), len(h1)) + 50  # a longer block is neither: no clean() of it
    heads = [i for i, block in enumerate(blocks[:3]) if len(block) < longest and clean(block) in (title, h1)]
    if not heads:
        return blocks
    labels = [i for i in range(heads[0]) if len(blocks[i].split()) <= 5 and "\n" not in blocks[i]
              and not blocks[i].endswith((".", "!", "?", ":"))]
    gone = set(heads) | set(labels) if len(labels) == heads[0] else set(heads)
    return [block for i, block in enumerate(blocks) if i not in gone]


def assemble(blocks: list[str], furniture: Furniture, meta: dict[str, Any], known: dict[str, Any],
             extra: dict[str, Any], *, origin: str, url: str, default_id: str, how: str = "",
             plain: bool = False) -> Statement:
    """The Statement: record fields win, then markup, then the text itself."""
    title = clean(str(known.get("title") or "")) or meta.get("title", "")
    # The heading repeats the title: the body starts with the statement itself.
    if title:
        blocks = without_headline(blocks, title, meta.get("h1", ""))
    if not title and blocks and len(blocks[0]) < 200 and len(blocks) > 1:
        title = blocks.pop(0) if plain else blocks[0]
    elif not title and plain and blocks:
        title = first_sentence(blocks[0])

    # The date line dates the statement; a caption's date does not (credits are not searched).
    dated = [furniture.dateline, *blocks] if furniture.dateline else blocks
    date = parse_iso(str(known.get("date") or "")) or meta.get("date", "") or date_from_text(dated)
    body = "\n\n".join(blocks)
    declared = normalize_lang(str(known.get("lang") or "")) or meta.get("lang", "")
    lang = detect(body if len(body) > 400 else f"{title}\n{body}", declared)
    page_url = str(known.get("url") or "") or meta.get("url", "") or url
    release = meta.get("release", "") or furniture.release or release_from_text(blocks)

    return Statement(
        id=id_for(known, page_url, default_id, origin),
        origin=origin,
        title=title,
        body=body,
        lang=lang,
        url=page_url,
        date=date,
        source=clean(str(known.get("source") or "")) or meta.get("source", ""),
        place=clean(str(known.get("place") or "")) or meta.get("place", ""),
        declared_lang=declared,
        alternates=meta.get("alternates", {}),
        release=release,
        contacts=furniture.contacts,
        dateline=furniture.dateline,
        quick_facts=furniture.quick_facts,
        related_links=furniture.related_links or meta.get("related_links", []),
        credits=[*meta.get("captions", []), *furniture.credits],
        extraction=how,
        extra=extra,
    )

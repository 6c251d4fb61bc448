"""Furniture: the parts of a press page that are about the statement, not the statement itself.

Media contacts, the release number, the date line, the "Quick facts" heading, "Related links" lists, photo
captions and agency credits are taken out of the text blocks into fields of their own, so that they are kept
(stored, shown) but never indexed as body text nor open a snippet. French, English (and German, for NSB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag

from .dates import MONTHS, find_dates
from .metadata import RELEASE, clean

_COLON = r"\s*[:：]?\s*$"
# A heading that opens the media contact block.
_CONTACT_WORDS = (
    r"(?:media\s+contacts?|media\s+relations|media\s+inquiries|news\s+media\s+contacts?|contacts?|"
    r"contacts?\s+(?:for\s+(?:the\s+)?media|pour\s+les\s+m[ée]dias|m[ée]dias?)|for\s+media\s+inquiries|"
    r"(?:for\s+)?(?:more|further|additional)\s+information|information|"
    r"relations\s+avec\s+les\s+m[ée]dias|personnes?[- ]ressources?|renseignements(?:\s+compl[ée]mentaires)?|"
    r"renseignements\s+pour\s+les\s+m[ée]dias|compl[ée]ments?\s+d['’]information|pour\s+(?:de\s+)?plus\s+(?:amples\s+)?(?:de\s+)?"
    r"(?:informations|renseignements)|informations\s+compl[ée]mentaires|autres\s+informations|"
    r"(?:f[üu]r\s+)?(?:weitere\s+)?ausk[üu]nfte)"
)
CONTACT_HEAD = re.compile("^" + _CONTACT_WORDS + _COLON, re.IGNORECASE)
# The heading and the first contact on one line: "Renseignements: M. Peter Gerber, OFEV, tél. 031 …".
CONTACT_INLINE = re.compile("^" + _CONTACT_WORDS + r"\s*:\s*\S", re.IGNORECASE)
# Something only a contact block holds: an e-mail address or a phone number.
CONTACT_DETAIL = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|\b(?:t[ée]l[ée]?(?:phone)?|tel|phone|cell|mobile)\b\.?\s*:?\s*\+?[\d(]"
    r"|\+?\(?\d{1,3}\)?[ .-]?\d{3}[ .-]\d{2,4}[ .-]?\d{2,4}",
    re.IGNORECASE,
)
QUICK_FACTS = re.compile(r"^(?:quick\s+facts|key\s+facts|in\s+brief|(?:les\s+)?faits\s+en\s+bref|en\s+bref)"
                         + _COLON, re.IGNORECASE)
RELATED_HEAD = re.compile(
    r"^(?:related\s+(?:links?|products|information|content|stories|articles|posts|news|coverage)|"
    r"associated\s+links|see\s+also|you\s+(?:may|might)\s+also\s+(?:like|be\s+interested\s+in)|"
    r"more\s+(?:stories|news|articles)|recommended(?:\s+(?:stories|articles|for\s+you))?|read\s+(?:more|next)|"
    r"(?:liens?|articles|renseignements)\s+(?:connexes|associ[ée]s|utiles)|produits\s+connexes|voir\s+aussi|"
    r"[àa]\s+voir\s+aussi|[àa]?\s*lire\s+aussi|sur\s+le\s+m[êe]me\s+sujet|dans\s+la\s+m[êe]me\s+rubrique)"
    r"(?:\s*\.{3}|…)?"
    + _COLON,
    re.IGNORECASE,
)
RELEASE_LABEL = re.compile(r"^(?:news\s+release\s*(?:#|no\.?|number)|num[ée]ro\s+du\s+communiqu[ée]|"
                           r"communiqu[ée]\s*(?:n[o°º]\.?|#))" + _COLON, re.IGNORECASE)
RELEASE_VALUE = re.compile(r"^#?\s*([0-9]{2,4}[-/][0-9]{1,5}|[0-9]{1,6})$")
# A line that only dates the statement: "Published April 14, 2020", "Publié le 9 mars 2020",
# "Ottawa, le 9 mars 2020", "Bern, 5. März 2004", "Mis en ligne le …".
DATELINE_LEAD = re.compile(
    r"^(?:(?i:published|posted|updated|released|issued|publi[ée]|mis\s+en\s+ligne|mise?\s+[àa]\s+jour|"
    r"diffus[ée])(?i:\s+(?:on|le))?\s*:?\s*"
    r"|[A-ZÉÈÀ][\w'’. -]{1,40}(?:\s*\([\w .'’-]{2,30}\))?,\s*(?:le\s+)?)",
)
_GERMAN_DATE = re.compile(r"\b\d{1,2}\.\s*(?:januar|februar|m[äa]rz|april|mai|juni|juli|august|september|"
                          r"oktober|november|dezember)\s+\d{4}\b", re.IGNORECASE)
# A date line at the head of the first paragraph: "OTTAWA, le 9 mars 2020 /CNW/ - Le ministre …".
DATELINE_PREFIX = re.compile(
    r"^([A-ZÉÈÀ][\w'’. -]{1,40}(?:\s*\([\w .'’-]{2,30}\))?,\s*(?:le\s+)?"
    r"(?:\d{1,2}(?:er)?\s+\w+\s+\d{4}|[A-Z]\w+\.?\s+\d{1,2},\s+\d{4})(?:\s*/\s*\w+\s*/)?)\s*[-–—:]\s+(?=\S)"
)
# Photo captions and credits: "… 3 juillet 2024. / VCG", "Photo : …", "(Xinhua)", "Crédit photo : …".
CREDIT = re.compile(
    r"(?:\s/\s*[A-Z][\w.&-]{1,20}\s*$)|^\(?(?:photo|photos|cr[ée]dit\s+photo|photo\s+credit|image|"
    r"source\s+de\s+l['’]image)\s*:|^\((?:xinhua|afp|ap|reuters|cns|vcg)\)$"
    # a picture's owner alone ("© Amazon", "Shutterstock", "Getty Images"); a source ("Via SyndiGate.info")
    r"|^©\s*[\w.&' -]{1,40}$|^(?:shutterstock|getty\s+images|istock(?:photo)?)$|^via\s+[\w.-]{2,40}$"
    # the writer's account: "@BryanDeArdo", "Reach the reporters on Twitter at …", "Follow her on Twitter"
    r"|^@\w{2,30}$|^(?:follow|reach)\s.{1,60}\bon\s+(?:twitter|facebook|instagram|x)\b"
    # the writer's line under the text: "Phil Helsel is a reporter for NBC News."
    r"|^(?-i:[A-Z][\w'’-]+(?:\s+[A-Z][\w.'’-]+){1,3})\s+is\s+an?\s+(?:[\w-]+\s+){0,4}(?:reporter|writer|"
    r"correspondent|editor|journalist|columnist|contributor)\b[^.]{0,150}\.?$",
    re.IGNORECASE,
)
# Agency credit lines: "(Avec entrée de Xinhua)", "(With input from Xinhua)", "(Source : Xinhua)".
AGENCY = re.compile(r"^\((?:avec\s+(?:entr[ée]es?|contribution)\s+d[eu']|with\s+input\s+from|source\s*:|"
                    r"edited\s+by|r[ée]daction\s*:)[^)]{1,80}\)\.?$"
                    # a wire story's own credit: "(Reporting by …; Editing by …)", "Additional reporting by …"
                    r"|^\(?(?:additional\s+)?(?:reporting|writing|editing)\s+by\s[^()]{1,250}\)?\.?$",
                    re.IGNORECASE)
# A wire story's byline without "By": "Tom Krisher, AP Auto Writer", "Meg Kinnard and Errin Haines, Associated
# Press", "Associated Press"; a photo's credit: "Patrick Semansky, ASSOCIATED PRESS".
_NAME = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
WIRE_BYLINE = re.compile(
    rf"^(?:{_NAME}(?:\s*(?:,|\band\b|\bet\b|&)\s*{_NAME})*\s*,\s*)?(?i:(?:the\s+)?associated\s+press|"
    r"ap(?:\s+[\w-]+){0,3}\s+writer|reuters|afp|agence\s+france-presse|(?:the\s+)?canadian\s+press|"
    r"(?:la\s+)?presse\s+canadienne)$")
# A caption that says so at its end, wherever it stands: "… worn masks (Image: GETTY )", "… (Photo : AFP)".
CAPTION_MARK = re.compile(
    r"\((?:images?|photos?|picture|pic|credit|cr[ée]dit(?:\s+photo)?)\s*:[^()]{1,60}\)$"
    # "… isn't easy.Kathrin Ziegler/Getty": the photographer and the agency glued to the caption's end
    r"|(?-i:[a-z.!?][A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,3})/(?:getty(?:\s+images)?|shutterstock|ap|afp|reuters)$",
    re.IGNORECASE)
BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
LIST_ITEM = "- "
MAX_LINE = 160  # a furniture line is short: a longer block is a paragraph of the statement


@dataclass
class Furniture:
    contacts: list[str] = field(default_factory=list)
    release: str = ""
    dateline: str = ""
    quick_facts: list[str] = field(default_factory=list)
    related_links: list[str] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)


def _is_dateline(block: str) -> bool:
    if len(block) > 80 or "\n" in block or block.endswith((".", "!", "?")) and not block[-5:-1].isdigit():
        return False
    lead = DATELINE_LEAD.match(block)
    if not lead:
        return False
    rest = block[lead.end():]
    return bool(find_dates(rest) or _GERMAN_DATE.search(rest)) and len(rest) < 45


# A time stamp or byline over (or under) the text: "PUBLISHED: November 19, 2019 at 8:59 pm | UPDATED: …",
# "Nov. 20, 2019, 9:28 AM UTC", "September 10, 2018 | by Catherine", "By Reuters".
_DAY_MONTH = re.compile(r"\b(?:\d{1,2}(?:er|st|nd|rd|th)?\.?\s+(?:" + "|".join(MONTHS) + r")\b|(?:"
                        + "|".join(MONTHS) + r")\.?\s+\d{1,2}\b)|\b\d{1,2}:\d{2}\b|\b\d{4}-\d{2}-\d{2}\b"
                        r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.IGNORECASE)
_STAMP_WORDS = re.compile(
    r"\b(?:published|posted|updated|modified|last|first|on|at|by|le|à|publi[ée]e?|mis|mise|en|ligne|jour|"
    r"am|pm|a\.m|p\.m|utc|gmt|[ecmph][sd]t|bst|cet|cest|hst|et|pt|\d+(?:er|st|nd|rd|th)?|"
    + "|".join(MONTHS) + r")\b\.?", re.IGNORECASE)
# "May 8, 2020: COVID-19 update", "4 mars: journée …" are headings, not stamps.
_DATED_HEADING = re.compile(r"(?:\d|\b(?:" + "|".join(MONTHS) + r"))\.?\s*:\s+[^\W\d]", re.IGNORECASE)
# What a stamp has that an event's date ("Press briefing on 24 August") has not: a year, a time, or its word.
_STAMP_MARK = re.compile(r"\b(?:19|20)\d\d\b|\d:\d\d|\b(?:published|posted|updated|modified|publi[ée]|"
                         r"mis\s+[àa]\s+jour)", re.IGNORECASE)
_BY_NAME = re.compile(r"\b(?i:by|par)\s+(?:[A-ZÉÈÀ][\w.'’-]*\s*){1,4}")  # "Posted by Michael D. Smith on …"
BYLINE = re.compile(r"^(?i:by|par)\s+[A-ZÉÈÀ]")  # a name, with its capital: not "Par la voie référendaire"
_WORDS = re.compile(r"[^\W\d_]+")
# "Published 22 hours ago", "Updated 5 minutes ago", "Publié il y a 3 heures".
RELATIVE_STAMP = re.compile(
    r"^(?:published|posted|updated|publi[ée]e?|mis\s+[àa]\s+jour)\s+(?:il\s+y\s+a\s+)?(?:\d+|an?|one)\s+"
    r"(?:second|minute|min|hour|hr|day|week|month|heure|jour|semaine|mois)s?(?:\s+ago)?$", re.IGNORECASE)


def is_stamp(block: str) -> bool:
    """A short line that dates the text or names its writer, with at most a name besides."""
    if len(block) > 120 or "\n" in block:
        return False
    if RELATIVE_STAMP.match(block):
        return True
    if BYLINE.match(block):  # "By Reuters", "By HNN Staff | November 18, 2019 at 2:26 PM HST - Updated …"
        return len(_WORDS.findall(_STAMP_WORDS.sub(" ", block))) <= 5 and not block.endswith(".")
    sentence = block.endswith((".", "!", "?", ":")) and not block.endswith(("a.m.", "p.m."))
    dated = _DAY_MONTH.search(block) and _STAMP_MARK.search(block)
    if sentence or not dated or _DATED_HEADING.search(block):
        return False
    return len(_WORDS.findall(_STAMP_WORDS.sub(" ", _BY_NAME.sub(" ", block)))) <= 2


def _is_credit(block: str) -> bool:
    return len(block) <= 300 and "\n" not in block and bool(CREDIT.search(block) or AGENCY.match(block))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _is_card(block: str) -> bool:
    """A contact without a heading: a few short lines with a name, an e-mail address and a phone number."""
    lines = block.split("\n")
    return 2 <= len(lines) <= 8 and len(block) <= 400 and bool(_EMAIL.search(block)) and \
        bool(CONTACT_DETAIL.search(_EMAIL.sub("", block)))


def _list_run(blocks: list[str], start: int) -> int:
    """The end of the run of list items (or short lines) that begins at start."""
    end = start
    while end < len(blocks) and (blocks[end].startswith(LIST_ITEM) or len(blocks[end]) < 100
                                 and not blocks[end].endswith(".")):
        if RELEASE_LABEL.match(blocks[end]) or CONTACT_HEAD.match(blocks[end].split("\n")[0]):
            break
        end += 1
    return end


def _facts_run(blocks: list[str], start: int) -> int:
    """The end of the facts under a "Quick facts" heading: its list items, or its paragraphs up to the next
    heading (a short line without a final stop) or furniture."""
    end = start
    items = start < len(blocks) and blocks[start].startswith(LIST_ITEM)
    while end < len(blocks):
        block = blocks[end]
        if items and not block.startswith(LIST_ITEM):
            break
        heading = len(block) < 100 and not block.endswith((".", "!", "?", ";", ":")) and "\n" not in block
        if not items and (heading or CONTACT_HEAD.match(block.split("\n")[0]) or RELEASE_LABEL.match(block)):
            break
        end += 1
    return end


def _contact_run(blocks: list[str], start: int) -> int:
    """The end of the contact block that begins at start (its heading, names, phones, e-mails)."""
    end = start + 1
    while end < len(blocks):
        block = blocks[end]
        if RELEASE_LABEL.match(block) or RELATED_HEAD.match(block) or QUICK_FACTS.match(block):
            break
        if not (CONTACT_DETAIL.search(block) or len(block) <= MAX_LINE and not block.endswith((".", "!", "?"))
                or CONTACT_HEAD.match(block.split("\n")[0])):
            break
        end += 1
    return end


# A byline, an account or a stamp as a list item: "- by Bryan DeArdo", "- @BryanDeArdo", "- Published 18
# November 2019" (not any item: "- Par fax : …", "- le 20 juin 2007, Neuchâtel" are a statement's own lines).
_LISTED_STAMPS = ("- by ", "- @", "- Published", "- Posted", "- Updated")


def split_furniture(blocks: list[str]) -> tuple[list[str], Furniture]:
    """(the statement's own blocks, its furniture). Only the head and the tail of the text are searched for
    date lines and credits, only the tail for contacts: a heading word inside the text stays text."""
    found = Furniture()
    body: list[str] = []
    n = len(blocks)
    tail = max(0, n - max(12, n // 3))
    i = 0
    while i < n:
        block = blocks[i]
        head = block.split("\n")[0]
        edge = i < 4 or i >= n - 4
        if RELEASE_LABEL.match(block) and i + 1 < n and RELEASE_VALUE.match(blocks[i + 1]):
            found.release = found.release or RELEASE_VALUE.match(blocks[i + 1]).group(1)
            i += 2
            continue
        if len(block) <= 60 and RELEASE.fullmatch(block.strip()):
            found.release = found.release or RELEASE.match(block.strip()).group(1)
            i += 1
            continue
        if edge and not found.dateline and _is_dateline(block):
            found.dateline = block
            i += 1
            continue
        bare = block[2:] if block.startswith(_LISTED_STAMPS) else block
        if edge and is_stamp(bare):
            if found.dateline or BYLINE.match(block) or not find_dates(block):
                found.credits.append(block)
            else:
                found.dateline = block
            i += 1
            continue
        if (edge and _is_credit(bare)) or (len(block) <= 300 and CAPTION_MARK.search(block)) or (
                len(block) <= 120 and WIRE_BYLINE.match(block)):  # a byline, or a picture's credit: anywhere
            found.credits.append(block)
            i += 1
            continue
        if edge and BARE_URL.match(block):  # the page's own address printed under it, a link to elsewhere
            found.related_links.append(block)
            i += 1
            continue
        if QUICK_FACTS.match(block):
            end = _facts_run(blocks, i + 1)
            found.quick_facts.extend(b.removeprefix(LIST_ITEM) for b in blocks[i + 1:end])
            i += 1  # the heading goes; the facts stay in the body: they are the statement's own words
            continue
        if RELATED_HEAD.match(block):
            end = _list_run(blocks, i + 1)
            found.related_links.extend(b.removeprefix(LIST_ITEM) for b in blocks[i + 1:end])
            i = end
            continue
        if i >= tail and (CONTACT_INLINE.match(block) and CONTACT_DETAIL.search(block) or _is_card(block)
                          and i >= n - 4):
            end = _contact_run(blocks, i)
            found.contacts.extend(blocks[i:end])
            i = end
            continue
        if i >= tail and len(head) <= 60 and CONTACT_HEAD.match(head) and (
                "\n" in block and CONTACT_DETAIL.search(block) or i + 1 < n and CONTACT_DETAIL.search(
                    "\n".join(blocks[i + 1:i + 4]))):
            end = _contact_run(blocks, i)
            found.contacts.extend(blocks[i:end])
            i = end
            continue
        body.append(block)
        i += 1
    body = _first_paragraph_dateline(body, found)
    return body, found


def _first_paragraph_dateline(body: list[str], found: Furniture) -> list[str]:
    """ "OTTAWA, le 9 mars 2020 /CNW/ - Le ministre …": the date line goes to its field, the text stays."""
    if found.dateline or not body:
        return body
    match = DATELINE_PREFIX.match(body[0])
    if match and find_dates(match.group(1)):
        found.dateline = match.group(1)
        return [body[0][match.end():], *body[1:]]
    return body


def related_links_in(soup: BeautifulSoup) -> list[str]:
    """The links under a "Related links" label, read before pruning: their block is site chrome to the
    pruner (class "related"), so it would be gone before split_furniture could see it."""
    found: list[str] = []
    for label in soup.find_all(string=lambda s: len(s) < 60 and bool(RELATED_HEAD.match(s.strip()))):
        if not isinstance(label, NavigableString) or label.parent is None or label.parent.parent is None:
            continue
        for link in label.parent.parent.find_all("a"):
            text = clean(link.get_text(" "))
            if text and text not in found:
                found.append(text)
    return found


# What a <figure> may hold that is the statement's own text, not a picture's.
_FIGURE_TEXT = ("table", "blockquote", "pre", "ul", "ol")


def take_captions(root: Tag) -> list[str]:
    """Remove the pictures' captions (<figcaption>) under root and return their text: furniture, kept as
    credits. A <figure> that holds no table, quote or list is a picture: its other text (a gallery counter,
    an overlay) goes with it."""
    found: list[str] = []
    for caption in root.find_all("figcaption"):
        if caption.__dict__.get("_decomposed"):
            continue
        text = clean(caption.get_text(" "))
        if text and text not in found:
            found.append(text)
        caption.decompose()
    for figure in root.find_all("figure"):
        if not figure.__dict__.get("_decomposed") and figure.find(_FIGURE_TEXT) is None:
            figure.decompose()
    return found

"""Query parsing: a small, forgiving parser of its own, compiled to Whoosh queries field by field.

Syntax (all optional; plain words and natural-language questions need none of it):

- words, in any case, with or without accents, with ' or ’: each is analysed by every language field's own
  analyzer, exactly as the index was ("Coopération", "cooperations" and "COOPERATION" meet);
- ``"exact phrase"`` (also « … » and “ … ”);
- ``AND`` / ``OR`` / ``NOT`` and their French forms ``ET`` / ``OU`` / ``SAUF`` (upper case only: a lower-case
  "et" or "ou" is a word), ``-word`` to exclude, ``+word`` to require, parentheses;
- ``prefix*``: a trailing star on a word of at least 3 letters; any other ``*`` or ``?`` is punctuation;
- field filters: ``title:``, ``body:``, ``source:``, ``lang:``, ``date:2020``, ``date:2020-03``,
  ``date:[2020-01-01 TO 2020-06-30]`` (either end may be ``*`` or empty), ``year:2020``. An unknown field
  (``foo:bar``) or a value that is not a date is searched as plain words.

The parser never raises: stray quotes, parentheses, colons, operators without operands ("AND OR") are
dropped or read as words. Nothing a user types turns into a wildcard scan except an explicit ``word*``.

Default matching: juxtaposed words are all required (AND), as in web search; `search.engine` falls back to
"most of the words" (OR, BM25) when that finds less than a page. Words that are stopwords in French or
English ("la", "the", "qu'est-ce", "comment") are not required and not searched outside phrases.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import query as wq

from indexer.analysis import LANGS, analyzer, fold
from search.options import parse_date

MIN_PREFIX = 3
TITLE_QUERY_BOOST = 0.3  # times the index-time title boost (tf x3): tuned on bench.relevance
FIELD_NAMES = {"title", "body", "text", "source", "lang", "date", "year", "titre", "langue"}
_FIELD_ALIASES = {"titre": "title", "text": "body", "langue": "lang"}

_TOKEN = re.compile(
    r"""
    (?P<phrase>["«“”„](?P<ptext>[^"«»“”„]*)["»“”„]?)
  | (?P<lpar>\()
  | (?P<rpar>\))
  | (?P<range>\[[^\]]*\]?)
  | (?P<field>(?<![\w'’])[A-Za-z]+:)(?=\S)
  | (?P<sign>(?:(?<=\s)|(?<=\()|^)[-+](?=["«“\w(]))
  | (?P<word>\w+(?:[-‐‑'’ʼ]\w+)*(?P<star>\*)?)
    """,
    re.VERBOSE,
)
_OPS = {"AND": "and", "ET": "and", "OR": "or", "OU": "or", "NOT": "not", "SAUF": "not"}


# ---------------------------------------------------------------------------------------------------------
# Syntax tree


@dataclass
class Word:
    text: str
    field: str | None = None  # None: title and body of every language; "title"; "body"; "source"
    prefix: bool = False


@dataclass
class Phrase:
    text: str
    field: str | None = None


@dataclass
class Filter:
    field: str  # "lang" or "date"
    value: object


@dataclass
class Group:
    op: str  # "and", "or", "default" (the parser's default group: AND first, OR as fallback)
    items: list = field(default_factory=list)


@dataclass
class Not:
    item: object


@dataclass
class Require:
    item: object


# ---------------------------------------------------------------------------------------------------------
# Dates


def _date_value(value: str) -> tuple | None:
    """The (start, end) a date: value covers, or None when it is not a date."""
    value = value.strip()
    try:
        if value.startswith("["):
            inner = value.strip("[]")
            parts = re.split(r"\s+(?:TO|to|À|à|A|a)\s+|\s*\.\.\s*", inner, maxsplit=1)
            if len(parts) == 1:
                parts = [parts[0], parts[0]]
            start, end = parse_date(parts[0]), parse_date(parts[1], end=True)
            if start and end and start > end:
                return None
            return start, end
        if value.startswith(">"):
            return parse_date(value.lstrip(">=")), None
        if value.startswith("<"):
            return None, parse_date(value.lstrip("<="), end=True)
        return parse_date(value), parse_date(value, end=True)
    except (ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------------------------------------
# Parser


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(kind, text, star) tokens; punctuation that means nothing here is dropped."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ptext" or m.group("phrase") is not None:
            out.append(("phrase", m.group("ptext") or "", False))
        elif kind == "word" or m.group("word") is not None:
            w = m.group("word")
            star = bool(m.group("star"))
            if star:
                w = w[:-1]
            if w in _OPS:
                out.append(("op", _OPS[w], False))
            else:
                out.append(("word", w, star))
        elif m.group("field") is not None:
            out.append(("field", m.group("field")[:-1], False))
        elif m.group("range") is not None:
            out.append(("range", m.group("range"), False))
        elif m.group("sign") is not None:
            out.append(("sign", m.group("sign"), False))
        elif m.group("lpar") is not None:
            out.append(("lpar", "(", False))
        elif m.group("rpar") is not None:
            out.append(("rpar", ")", False))
    return out


class _Parser:
    def __init__(self, tokens):
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self) -> Group:
        items = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                items.append(node)
            elif self.peek() is not None:
                self.next()  # a stray ")" or operator at top level
        return Group("default", items) if len(items) != 1 or not isinstance(items[0], Group) else items[0]

    def or_expr(self):
        left = self.and_expr()
        items = [left] if left is not None else []
        while (tok := self.peek()) is not None and tok[0] == "op" and tok[1] == "or":
            self.next()
            right = self.and_expr()
            if right is not None:
                items.append(right)
        if not items:
            return None
        return items[0] if len(items) == 1 else Group("or", items)

    def and_expr(self):
        items = []
        explicit = False
        while (tok := self.peek()) is not None:
            if tok[0] == "op" and tok[1] == "or":
                break
            if tok[0] == "rpar":
                if self.depth:
                    break
                self.next()  # unbalanced ")": ignore
                continue
            if tok[0] == "op" and tok[1] == "and":
                self.next()
                explicit = True
                continue
            node = self.unary()
            if node is not None:
                items.append(node)
        if not items:
            return None
        if len(items) == 1:
            return items[0]
        return Group("and" if explicit else "default", items)

    def unary(self):
        tok = self.next()
        if tok is None:
            return None
        kind, text, _ = tok
        if (kind == "op" and text == "not") or (kind == "sign" and text == "-"):
            nxt = self.peek()
            if nxt is None or nxt[0] in ("op", "rpar"):
                return None
            item = self.unary()
            return Not(item) if item is not None else None
        if kind == "sign":
            item = self.unary()
            return Require(item) if item is not None else None
        return self.atom(tok)

    def atom(self, tok):
        kind, text, star = tok
        if kind == "lpar":
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            if (nxt := self.peek()) is not None and nxt[0] == "rpar":
                self.next()
            return node
        if kind == "phrase":
            return Phrase(text) if text.strip() else None
        if kind == "word":
            return Word(text, prefix=star and len(text) >= MIN_PREFIX)
        if kind == "range":
            words = [Word(w) for w in re.findall(r"\w+", text) if w not in ("TO",)]
            return Group("default", words) if words else None
        if kind == "field":
            return self.fielded(text)
        return None  # a stray operator

    def fielded(self, name):
        fname = _FIELD_ALIASES.get(name.lower(), name.lower())
        nxt = self.peek()
        if fname not in FIELD_NAMES or nxt is None:
            return Word(name)
        if fname in ("date", "year"):
            if nxt[0] in ("word", "range"):
                self.next()
                value = nxt[1]
                # "date:>2020" and friends lose the sign in the tokenizer: look back in the raw token text
                span = _date_value(value)
                if span is not None:
                    return Filter("date", span)
                return Word(value) if nxt[0] == "word" else self.atom(nxt)
            return Word(name)
        if fname == "lang":
            if nxt[0] == "word":
                self.next()
                return Filter("lang", fold(nxt[1]))
            return Word(name)
        # title, body, source: applies to the next word, phrase or group
        if nxt[0] in ("word", "phrase", "lpar"):
            self.next()
            node = self.atom(nxt)
            _set_field(node, fname)
            return node
        return Word(name)


def _set_field(node, fname):
    if isinstance(node, Word | Phrase):
        if node.field is None:
            node.field = fname
    elif isinstance(node, Group):
        for item in node.items:
            _set_field(item, fname)
    elif isinstance(node, Not | Require):
        _set_field(node.item, fname)


def parse(text: str) -> Group:
    """The syntax tree of a query; never raises."""
    text = text.replace("\x00", " ")
    # Operators glued to a date sign ("date:>2020"): keep them inside the value
    text = re.sub(r"\b(date|year):([<>]=?)", r"\1:\2", text)
    try:
        return _Parser(_tokens(" " + text + " ")).parse()
    except RecursionError:
        return Group("default", [Word(w) for w in re.findall(r"\w+", text)])


# ---------------------------------------------------------------------------------------------------------
# Compilation to Whoosh queries


@lru_cache(maxsize=50_000)
def analyse_query(text: str, lang: str) -> tuple[tuple[int, str], ...]:
    """(position, term) of text through a language's analysis chain, as a query is analysed. Cached: a
    query's words are analysed for each language by the compiler (twice: AND and OR), the typo tolerance,
    the language inference and the ranking signals."""
    return tuple((t.pos, t.text) for t in analyzer(lang)(text, positions=True, mode="query"))


@lru_cache(maxsize=20_000)
def is_stopword(word: str) -> bool:
    """A word the French or the English analyzer drops entirely ("la", "the", "qu'est-ce", "comment"):
    it is neither required nor searched alone (it still counts inside a phrase)."""
    return not analyse_query(word, "fr") or not analyse_query(word, "en")


@dataclass
class Compiled:
    """A parsed query compiled for Whoosh."""

    tree: Group
    must_query: wq.Query | None  # AND semantics for the default group (None: nothing to search)
    any_query: wq.Query | None  # OR semantics for the default group
    highlight: dict = field(default_factory=dict)  # lang -> (set of terms, tuple of prefixes)
    words: list = field(default_factory=list)  # plain positive words, for spelling suggestions
    proximity: dict = field(default_factory=dict)  # lang -> analysed plain words, in order
    stopwords: int = 0  # plain words left out as stopwords: a question or a sentence has some


class _Compiler:
    def __init__(self):
        self.terms = {lang: set() for lang in LANGS}
        self.prefixes = {lang: set() for lang in LANGS}
        self.words: list[str] = []
        self.stopwords = 0

    def fields_for(self, fname):
        if fname == "title":
            return [(lang, f"title_{lang}") for lang in LANGS]
        if fname == "body":
            return [(lang, f"body_{lang}") for lang in LANGS]
        return [(lang, f"{kind}_{lang}") for lang in LANGS for kind in ("title", "body")]

    def word(self, node: Word, negated: bool, top: bool):
        if node.field == "source":
            terms = [t for _, t in analyse_query(node.text, "xx")]
            if not terms:
                return None
            qs = [wq.Prefix("source_text", t) if node.prefix else wq.Term("source_text", t) for t in terms]
            return qs[0] if len(qs) == 1 else wq.And(qs)
        if node.prefix:
            stem = fold(node.text)
            # scored (constantscore=False): the same BM25 sum in every segment, as the numpy evaluator gives
            clauses = [wq.Prefix(f, stem, constantscore=False) for _, f in self.fields_for(node.field)]
            if not negated:
                for lang in LANGS:
                    self.prefixes[lang].add(stem)
            return wq.Or(clauses)
        if node.field is None and is_stopword(node.text):
            self.stopwords += top and not negated
            return None
        clauses = []
        for lang, fname in self.fields_for(node.field):
            toks = analyse_query(node.text, lang)
            if not toks:
                continue
            if not negated:
                self.terms[lang].update(t for _, t in toks)
            boost = TITLE_QUERY_BOOST if fname.startswith("title") else 1.0
            if len(toks) == 1:
                clauses.append(wq.Term(fname, toks[0][1], boost=boost))
            else:
                clauses.append(wq.Phrase(fname, [t for _, t in toks], boost=boost))
        if not clauses:
            return None
        if top and not negated and node.field is None:
            self.words.append(node.text)
        return wq.Or(clauses) if len(clauses) > 1 else clauses[0]

    def phrase(self, node: Phrase, negated: bool):
        if node.field == "source":
            terms = [t for _, t in analyse_query(node.text, "xx")]
            if not terms:
                return None
            return wq.Term("source_text", terms[0]) if len(terms) == 1 else wq.Phrase("source_text", terms)
        clauses = []
        for lang, fname in self.fields_for(node.field):
            toks = analyse_query(node.text, lang)
            if not toks:
                continue
            if not negated:
                self.terms[lang].update(t for _, t in toks)
            if len(toks) == 1:
                clauses.append(wq.Term(fname, toks[0][1]))
            else:
                # Stopwords are gone from both the index and the query, so positions match word for word.
                clauses.append(wq.Phrase(fname, [t for _, t in toks]))
        if not clauses:
            return None
        return wq.Or(clauses) if len(clauses) > 1 else clauses[0]

    def filter_query(self, node: Filter):
        if node.field == "lang":
            return wq.Term("lang", node.value)
        start, end = node.value
        return wq.DateRange("date", start, end)

    def compile(self, node, mode: str, negated=False, top=False):
        """mode: "all" or "any", the meaning of a default group."""
        if node is None:
            return None
        if isinstance(node, Word):
            return self.word(node, negated, top)
        if isinstance(node, Phrase):
            return self.phrase(node, negated)
        if isinstance(node, Filter):
            return self.filter_query(node)
        if isinstance(node, Not):
            inner = self.compile(node.item, mode, not negated)
            return wq.Not(inner) if inner is not None else None
        if isinstance(node, Require):
            inner = self.compile(node.item, mode, negated, top)
            return ("require", inner) if inner is not None else None
        if isinstance(node, Group):
            must, should, must_not = [], [], []
            op = node.op if node.op != "default" else ("and" if mode == "all" else "or")
            for item in node.items:
                q = self.compile(item, mode, negated, top=top and node.op == "default")
                if q is None:
                    continue
                if isinstance(q, tuple):
                    must.append(q[1])
                elif isinstance(q, wq.Not):
                    must_not.append(q.query)
                elif op == "and" or isinstance(item, Filter):
                    must.append(q)
                else:
                    should.append(q)
            return _combine(must, should, must_not)
        return None


def _combine(must, should, must_not):
    if must:
        core = must[0] if len(must) == 1 else wq.And(must)
        if should:
            core = wq.AndMaybe(core, should[0] if len(should) == 1 else wq.Or(should))
    elif should:
        core = should[0] if len(should) == 1 else wq.Or(should)
    elif must_not:
        core = wq.Every()
    else:
        return None
    if must_not:
        core = wq.AndNot(core, must_not[0] if len(must_not) == 1 else wq.Or(must_not))
    return core


def proximity_terms(words: list[str]) -> dict[str, list[str]]:
    """Per language, the analysed forms of the plain query words in query order (for the proximity bonus)."""
    out = {}
    for lang in LANGS:
        terms = []
        for w in words:
            terms.extend(t for _, t in analyse_query(w, lang))
        if len(set(terms)) >= 2:
            out[lang] = terms
    return out


def compile_query(text: str) -> Compiled:
    """Parse a query and compile its AND and OR forms; never raises."""
    tree = parse(text)
    c_all = _Compiler()
    must_query = _dedupe(c_all.compile(tree, "all", top=True))
    c_any = _Compiler()
    any_query = _dedupe(c_any.compile(tree, "any", top=True))
    highlight = {lang: (frozenset(c_all.terms[lang]), tuple(sorted(c_all.prefixes[lang]))) for lang in LANGS}
    return Compiled(tree, must_query, any_query, highlight=highlight, words=c_all.words,
                    proximity=proximity_terms(c_all.words), stopwords=c_all.stopwords)


def _dedupe(q):
    """Whoosh's normalize() flattens nested groups and drops repeated clauses: a filter typed 200 times is
    evaluated once. :func:`normalize` gives the same query without Whoosh's deep copies."""
    if q is None:
        return None
    try:
        return normalize(q)
    except RecursionError:  # absurdly deep nesting: keep the query as compiled
        return q


_LEAVES = (wq.Term,)  # leaf queries whose attributes are all immutable: a shallow copy is a full copy


def normalize(q):
    """``q.normalize()`` (the same query, equal clause for clause) for the trees the compiler makes: And and
    Or are flattened and deduplicated here, re-boosting a flattened Term by a shallow copy instead of
    Whoosh's deep copy of it (most of a query's compile time). Anything else (ranges, Every, other
    compounds) is Whoosh's own normalize()."""
    if isinstance(q, wq.AndMaybe | wq.AndNot):  # BinaryQuery.normalize, as Whoosh has it (boost dropped)
        a, b = normalize(q.a), normalize(q.b)
        if a is wq.NullQuery:
            return wq.NullQuery if b is wq.NullQuery else b
        return a if b is wq.NullQuery else type(q)(a, b)
    if type(q) is wq.Not:
        inner = normalize(q.query)
        return inner if inner is wq.NullQuery else wq.Not(inner, boost=q.boost)
    if type(q) not in (wq.And, wq.Or):
        return q.normalize()
    subs = []
    for s in q.subqueries:
        s = normalize(s)
        if isinstance(s, type(q)):
            subs += [_reboosted(ss, ss.boost * s.boost) for ss in s]
        else:
            subs.append(s)
    if any(isinstance(s, wq.Every | wq.TermRange | wq.NumericRange) for s in subs):
        return q.normalize()  # ranges to merge, Every to absorb: Whoosh's rules
    if all(s is wq.NullQuery for s in subs):
        return wq.NullQuery
    kept, seen = [], set()
    for s in subs:
        if s is not wq.NullQuery and s not in seen:
            seen.add(s)
            kept.append(s)
    if len(kept) == 1:
        sub = kept[0]
        sub_boost = getattr(sub, "boost", 1.0)
        return sub if q.boost == 1.0 and sub_boost == 1.0 else _reboosted(sub, sub_boost * q.boost)
    if type(q) is wq.Or:
        out = wq.Or(kept, boost=q.boost)
        out.minmatch, out.scale = q.minmatch, q.scale
        return out
    return wq.And(kept, boost=q.boost)


def _reboosted(q, boost: float):
    """``q.with_boost(boost)``: a copy of q with that boost (shallow for a Term: nothing in it changes)."""
    if type(q) in _LEAVES:
        out = copy.copy(q)
        out.boost = boost
        return out
    return q.with_boost(boost)


# ---------------------------------------------------------------------------------------------------------
# Pruning against an index


def prune(q, reader):
    """Drop the clauses that cannot match in this index (terms it lacks), so Whoosh builds fewer matchers.

    Returns None when the whole query cannot match. AND semantics are kept: an And with a clause that
    cannot match cannot match either.
    ``reader``: a Whoosh reader, or anything answering ``(field, text) in reader`` and ``expand_prefix``
    the same way (search.ranking.IndexStats: from its cached frequencies).
    """
    if q is None:
        return None
    if isinstance(q, wq.Term):
        return q if (q.fieldname, q.text) in reader else None  # stops at the first segment that has it
    if isinstance(q, wq.Phrase):
        if all((q.fieldname, w) in reader for w in q.words):
            return q
        return None
    if isinstance(q, wq.AndMaybe):
        a = prune(q.a, reader)
        if a is None:
            return None
        b = prune(q.b, reader)
        return a if b is None else wq.AndMaybe(a, b)
    if isinstance(q, wq.AndNot):
        a = prune(q.a, reader)
        if a is None:
            return None
        b = prune(q.b, reader)
        return a if b is None else wq.AndNot(a, b)
    if isinstance(q, wq.And):
        subs = []
        for s in q.subqueries:
            p = prune(s, reader)
            if p is None:
                return None
            subs.append(p)
        return subs[0] if len(subs) == 1 and q.boost == 1.0 else wq.And(subs, boost=q.boost)
    if isinstance(q, wq.Or):
        subs = [p for s in q.subqueries if (p := prune(s, reader)) is not None]
        if not subs:
            return None
        if len(subs) == 1 and q.boost == 1.0:
            return subs[0]
        return wq.Or(subs, boost=q.boost)
    if isinstance(q, wq.Prefix):
        return q if any(True for _ in reader.expand_prefix(q.fieldname, q.text)) else None
    return q

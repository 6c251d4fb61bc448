"""Presse on a distributed search engine: Sphinx 2.2 or Manticore, spoken to in SphinxQL (the MySQL protocol).

The write side and what both sides share: the engine's address (:class:`Engine`, ``sphinxql://HOST:PORT[/prefix]``),
its configuration (:func:`engine_config`), the shard layout read back from the server (:func:`layout`), and
:func:`sync`, which brings the engine in step with a local index. The read side is :mod:`search.sphinxql`.

Layout. ``prefix`` (default "presse") names a distributed index on every server; it lists, as agents, one
real-time index per language per shard: ``{prefix}_{fr|en|xx}_{shard}`` with fields ``title``, ``body`` and
``source``.

Analysis. The engine indexes presse's own terms, not the raw text: each field is sent as the terms presse's
analysis chain makes of it (:mod:`indexer.analysis`: elision, compounds, folding, stopwords, the light French
stemmer, Porter2 in English), each tagged with its language (``fr_securit``), and searches are sent the same
way, so the engine matches exactly what the embedded index matches (same totals, same candidates), which
Sphinx's own ``libstemmer_fr`` (Snowball, heavier than presse's stemmer) and folding could not give. The
engine itself only splits on spaces (``morphology = none``). What still differs: a compound's whole
("covid19", which the embedded index puts at its first part's position) comes after the field's other
terms, so only a phrase typed with that joined form can miss. Each row also carries its fields' lengths
in terms (``tlen``, ``blen``): presse's BM25 reads them (:mod:`search.sphinxql`).
A server listens for SphinxQL on its port and for agents (Sphinx's binary API) on the port after it: that is
how a writer finds the SphinxQL port of each shard from ``DESCRIBE {prefix}``.

Writing. The local index stays the one place where statements are read, cleaned, linked (translations) and
grouped (duplicates): :func:`sync` reads its stored fields and REPLACEs in the engine each statement whose row
changed since the last sync, and DELETEs those no longer there. What was sent is recorded locally (an SQLite
file beside the index's manifest), one batch at a time and only once the server has acknowledged it: a run
that fails part way reports what is not sent, and the next run sends it. A statement and its translation go
to the same shard (the shard is a stable hash of the pair's ids), so totals that count a pair once are exact
per shard.

Stored text. Each shard also has a store index (``{prefix}_doc_{shard}``, all of them behind the distributed
index ``{prefix}_docs``): each statement's stored fields as JSON in the string attribute ``doc``, by document
id. presse builds hits, snippets and translations from it, as it does from the local index's stored fields.
The searched rows do not carry it: Sphinx 2.2 copies the string attributes of every match a search keeps.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.analysis import LANGS, analyzer
from indexer.schema import stored_body, text_lang

SCHEME = "sphinxql"
DEFAULT_PREFIX = "presse"
BATCH_ROWS = 200  # rows per REPLACE statement
BATCH_BYTES = 4_000_000  # and at most about this much text per statement (max_packet_size is 32M)
RETRIES = (0.5, 1.0, 2.0, 4.0)  # seconds before each new attempt at a batch whose connection dropped
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
FIELDS = ("title", "body", "source")
DAY_ZERO = 100_000  # the ``day`` attribute of 1970-01-01 (days after it; > 0 back to 1697; 0: no date)
ATTRS = ("sid", "lang", "src", "year", "day", "grp", "pair", "stub", "tlen", "blen")
DOC_ATTRS = ("doc", "tlen", "blen")  # a statement's row in its shard's store index (``{prefix}_doc_{shard}``)
DOC_FIELD = "key"  # the store index's one full-text field (a real-time index needs one), left empty
SOURCE_TAG = ""  # the source field holds only the source's terms (folded, "xx" chain): no language tag
ROW_FORMAT = 3  # the version of the rows :func:`row` makes: a new one re-sends every statement once
EVERY_TERM = "__row__"  # in every row's source field: what a NOT alone is taken from (the engine needs one)


class EngineError(ConnectionError):
    """The engine cannot do what was asked: one sentence saying what and where (never a traceback). An
    OSError, as a file that cannot be read: every command reports those in one line."""


# ---------------------------------------------------------------------------------------------------------
# Address and connection


@dataclass(frozen=True)
class Engine:
    """A SphinxQL server and the prefix of presse's indexes on it."""

    host: str
    port: int
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def parse(cls, url: str) -> Engine:
        """``sphinxql://HOST:PORT[/prefix]`` -> Engine; EngineError for anything else."""
        parts = urlsplit(url)
        prefix = parts.path.strip("/") or DEFAULT_PREFIX
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme != SCHEME or not parts.hostname or port is None:
            raise EngineError(f"not a search engine address: {url!r} (expected {SCHEME}://HOST:PORT[/prefix])")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
            raise EngineError(f"not an index prefix: {prefix!r} (letters, digits and _)")
        return cls(parts.hostname, port, prefix)

    @property
    def url(self) -> str:
        return f"{SCHEME}://{self.host}:{self.port}/{self.prefix}"

    def connect(self, host: str | None = None, port: int | None = None):
        """A connection to this server (or to another of the engine's servers); EngineError when there is
        no SphinxQL server there."""
        import pymysql

        host, port = host or self.host, port or self.port
        greeting(host, port)
        try:
            # Strings compared and grouped byte for byte, as the embedded index's facets count them (the
            # default collation groups "Justice" with "justice").
            return pymysql.connect(host=host, port=port, autocommit=True, charset="utf8",
                                   connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                                   write_timeout=READ_TIMEOUT,
                                   init_command="SET collation_connection = binary")
        except (pymysql.MySQLError, OSError) as e:
            raise EngineError(f"no SphinxQL server at {host}:{port} ({error_text(e)}): wrong port or "
                              "protocol, or the server is down") from None


def greeting(host: str, port: int) -> None:
    """Check that a MySQL-protocol server answers at host:port: it greets first, with protocol version 10.
    Anything else (an HTTP server waits for a request) is told apart in CONNECT_TIMEOUT seconds, not left
    to wait for the read timeout."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as sock:
            head = sock.recv(5)
    except TimeoutError:
        head = None
    except OSError as e:
        raise EngineError(f"no SphinxQL server at {host}:{port} ({e.strerror or e}): wrong port, or the "
                          "server is down") from None
    if not head or len(head) < 5 or head[4] != 10:
        said = "no greeting" if head is None else f"greeting {head[:5]!r}"
        raise EngineError(f"no SphinxQL server at {host}:{port} (it does not speak the MySQL protocol: "
                          f"{said}): wrong port or protocol") from None


def error_text(e: BaseException) -> str:
    """A driver error as one short line."""
    args = getattr(e, "args", ())
    text = str(args[1]) if len(args) > 1 else str(e) or type(e).__name__
    return " ".join(text.replace("\x00", "").split())


def dropped(e: BaseException) -> bool:
    """Whether an error is a lost connection (worth a retry), not a refused statement."""
    import pymysql

    return isinstance(e, pymysql.err.OperationalError | pymysql.err.InterfaceError | OSError) and not (
        isinstance(e, pymysql.err.OperationalError) and e.args and e.args[0] == 1064)


# ---------------------------------------------------------------------------------------------------------
# Text and rows


def tagged(term: str, tag: str) -> str:
    """A presse term as the engine holds it: its language tag, and only the characters the engine keeps in a
    word (a folded term may hold others, e.g. "1/2" from "½")."""
    term = NOT_KEPT.sub("", term)
    return f"{tag}_{term}" if tag and term else term


NOT_KEPT = re.compile(r"[^a-z0-9_]")
CHARSET_TABLE = "0..9, A..Z->a..z, a..z, _"  # the engine only splits presse's terms: no folding of its own


def engine_terms(text: str, lang: str, tag: str | None = None) -> tuple[str, int]:
    """A field's text as the engine indexes it, and its length in terms as the embedded index counts it.

    The terms of presse's chain for ``lang`` (:func:`indexer.analysis.analyzer`), tagged ``tag`` (default:
    the language), in order; a compound's whole, which shares its first part's position in the embedded
    index, goes after all the others so that they keep their positions for phrases."""
    tag = lang if tag is None else tag
    terms: list[str] = []
    wholes: list[str] = []
    last = None
    for t in analyzer(lang)(text, positions=True):
        if t.pos == last:  # the term before was a compound's whole: same position as its first part
            wholes.append(terms.pop())
        terms.append(tagged(t.text, tag))
        last = t.pos
    out = [w for w in terms + wholes if w]
    return " ".join(out), len(terms) + len(wholes)


def doc_id(key: str) -> int:
    """A stable, non-zero 63-bit document id of a string."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 1 or 1


def signed(hex_key: str) -> int:
    """A 64-bit hex key (a duplicate group) as a signed bigint attribute; 0 for none."""
    return int(hex_key[:16], 16) - (1 << 63) if hex_key else 0


def index_lang(lang: str) -> str:
    return lang if lang in ("fr", "en") else "xx"


def pair_key(fields: dict[str, Any]) -> str:
    """What a statement and its translation share: the shard and the pair count of totals follow it."""
    sid, other = str(fields.get("id") or ""), str(fields.get("translation") or "")
    return min(sid, other) if other else sid


def stored_json(fields: dict[str, Any]) -> dict[str, Any]:
    """A local index's stored fields as the JSON the engine keeps: body decompressed, date as YYYY-MM-DD."""
    out = {k: v for k, v in fields.items() if k != "body_z"}
    out["body"] = stored_body(fields)
    d = fields.get("date")
    out["date"] = d.strftime("%Y-%m-%d") if isinstance(d, datetime | date) else str(d or "")
    return out


def row(fields: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """The engine row of one statement's stored fields (field and attribute name -> value); ``doc``: their
    :func:`stored_json`, when already made."""
    doc = doc if doc is not None else stored_json(fields)
    day = 0
    if doc["date"]:
        day = (date.fromisoformat(doc["date"][:10]) - date(1970, 1, 1)).days + DAY_ZERO
    stub = bool(fields.get("duplicate_of"))  # an exact duplicate's stored-only stub: listed, never matched
    lang = text_lang(doc.get("lang") or "")
    title, tlen = engine_terms(doc.get("title") or "", lang) if not stub else ("", 0)
    body, blen = engine_terms(doc["body"], lang) if not stub else ("", 0)
    return {
        "id": doc_id(str(doc["id"])),
        "title": title, "body": body,
        "source": f"{engine_terms(doc.get('source') or '', 'xx', SOURCE_TAG)[0]} {EVERY_TERM}",
        "sid": str(doc["id"]), "lang": doc.get("lang") or "", "src": doc.get("source") or "",
        "year": int(doc["date"][:4]) if doc["date"] else 0, "day": day,
        "grp": signed(doc.get("group") or ""), "pair": doc_id(pair_key(doc)), "stub": int(stub),
        "tlen": tlen, "blen": blen,
        "doc": json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str),  # to the shard's store
    }


# ---------------------------------------------------------------------------------------------------------
# Configuration


def _rt_index(name: str, path: str) -> str:
    attrs = "\n".join(f"    rt_attr_{kind} = {a}" for kind, a in (
        ("string", "sid"), ("string", "lang"), ("string", "src"), ("uint", "year"), ("uint", "day"),
        ("bigint", "grp"), ("bigint", "pair"), ("uint", "stub"), ("uint", "tlen"), ("uint", "blen")))
    fields = "\n".join(f"    rt_field = {f}" for f in FIELDS)
    return (f"index {name}\n{{\n    type = rt\n    path = {path}\n{fields}\n{attrs}\n"
            f"    morphology = none\n    dict = keywords\n    min_prefix_len = 2\n"
            f"    rt_mem_limit = 256M\n    index_field_lengths = 1\n"
            f"    charset_table = {CHARSET_TABLE}\n}}\n")


def _store_index(name: str, path: str) -> str:
    """A shard's store: each statement's stored fields (``doc``) and field lengths, by document id. Kept out
    of the searched rows because Sphinx 2.2 copies every string attribute of every match a search keeps
    (its "finalize" stage): with the stored text in the rows, a count over 40,000 matches took 1.8 s."""
    return (f"index {name}\n{{\n    type = rt\n    path = {path}\n    rt_field = {DOC_FIELD}\n"
            "    rt_attr_string = doc\n    rt_attr_uint = tlen\n    rt_attr_uint = blen\n"
            "    dict = keywords\n    rt_mem_limit = 128M\n}\n")


def store_name(prefix: str, shard: int) -> str:
    return f"{prefix}_doc_{shard}"


def stores_name(prefix: str) -> str:
    """The distributed index over every shard's store."""
    return f"{prefix}_docs"


def parse_server(spec: str, default_host: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` -> (host, port)."""
    host, _, port = spec.strip().rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65535:
        raise EngineError(f"not a port: {spec!r} (PORT or HOST:PORT)")
    return host or default_host, int(port)


def engine_config(shards: int, servers: list[tuple[str, int]], data_dir: str,
                  prefix: str = DEFAULT_PREFIX) -> dict[tuple[str, int], str]:
    """One searchd configuration per server: shard ``i`` on server ``i % len(servers)``, each server
    listening for SphinxQL on its port and for agents on the next, and the distributed index ``prefix`` on
    every server (any of them answers searches). ``data_dir``: where each server keeps its files, in a
    folder per port (created by the caller)."""
    if shards < 1 or not servers:
        raise EngineError("an engine needs at least one shard and one server")
    agents, stores = [], []
    local: dict[tuple[str, int], list[str]] = {s: [] for s in servers}
    for i in range(shards):
        host, port = servers[i % len(servers)]
        names = [f"{prefix}_{lang}_{i}" for lang in LANGS]
        local[(host, port)] += names + [store_name(prefix, i)]
        agents.append(f"    agent = {host}:{port + 1}:{','.join(names)}")
        stores.append(f"    agent = {host}:{port + 1}:{store_name(prefix, i)}")
    out = {}
    for host, port in servers:
        folder = f"{data_dir.rstrip('/')}/{port}"
        text = [f"# searchd for presse on {host}:{port} (SphinxQL; agents on {port + 1}). "
                f"Data in {folder}: create it first.\n"]
        store_names = {store_name(prefix, i) for i in range(shards)}
        text += [(_store_index if name in store_names else _rt_index)(name, f"{folder}/{name}")
                 for name in local[(host, port)]]
        for name, members in ((prefix, agents), (stores_name(prefix), stores)):
            text.append(f"index {name}\n{{\n    type = distributed\n" + "\n".join(members) +
                        "\n    agent_connect_timeout = 1000\n    agent_query_timeout = 30000\n}\n")
        text.append(f"searchd\n{{\n    listen = {host}:{port}:mysql41\n    listen = {host}:{port + 1}\n"
                    f"    log = {folder}/searchd.log\n    query_log = {folder}/query.log\n"
                    f"    pid_file = {folder}/searchd.pid\n    binlog_path = {folder}\n"
                    "    workers = threads\n    max_packet_size = 32M\n    read_timeout = 30\n}\n")
        out[(host, port)] = "\n".join(text)
    return out


# ---------------------------------------------------------------------------------------------------------
# Layout: the shards, read back from the server


@dataclass
class Shard:
    number: int
    host: str
    port: int  # SphinxQL
    indexes: dict[str, str]  # lang -> RT index name
    store: str = ""  # the RT index of its statements' stored fields (store_name)


def layout(engine: Engine, conn=None) -> list[Shard]:
    """The shards of the engine's distributed index, from ``DESCRIBE`` on its server."""
    own = conn is None
    conn = conn or engine.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"DESCRIBE {engine.prefix}")
            rows = cur.fetchall()
    except Exception as e:
        raise EngineError(f"{engine.url}: no distributed index {engine.prefix!r} there "
                          f"({error_text(e)})") from None
    finally:
        if own:
            conn.close()
    shards = []
    pattern = re.compile(rf"{re.escape(engine.prefix)}_({'|'.join(LANGS)})_(\d+)")
    for agent, _kind in rows:
        host, port, names = str(agent).split(":", 2)
        found = [pattern.fullmatch(n) for n in names.split(",")]
        if not all(found):
            raise EngineError(f"{engine.url}: agent {agent} is not laid out by `presse engine-config`")
        names = {m.group(1): m.group(0) for m in found}
        number = int(found[0].group(2))
        shards.append(Shard(number, host, int(port) - 1, names, store_name(engine.prefix, number)))
    if not shards:
        raise EngineError(f"{engine.url}: the distributed index {engine.prefix!r} lists no agent")
    return sorted(shards, key=lambda s: s.number)


# ---------------------------------------------------------------------------------------------------------
# Sync: the local index -> the engine


@dataclass
class SyncReport:
    engine: str
    shards: int = 0
    sent: int = 0
    deleted: int = 0
    unchanged: int = 0
    reread: int = 0  # statements read back from the engine, when it held other than this machine sent
    seconds: float = 0.0
    per_shard: dict[int, int] = field(default_factory=dict)  # shard -> statements it holds

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "shards": self.shards, "sent": self.sent, "deleted": self.deleted,
                "unchanged": self.unchanged, "reread": self.reread, "seconds": round(self.seconds, 3),
                "per_shard": {str(k): v for k, v in sorted(self.per_shard.items())}}

    def lines(self) -> list[str]:
        spread = ", ".join(f"{n}" for _, n in sorted(self.per_shard.items()))
        return [f"engine: {self.engine} ({self.shards} shards: {spread} statements)",
                f"engine statements: {self.sent} sent, {self.deleted} deleted, {self.unchanged} unchanged",
                f"engine time: {self.seconds:.1f} s"] + (
            [f"engine held other statements than this machine sent: {self.reread} read back, "
             "brought in step"] if self.reread else [])


@dataclass
class EngineReport:
    """An update of the local index followed by the engine's sync: both reports, as one."""

    update: Any  # indexer.UpdateReport
    engine: SyncReport
    more: list[SyncReport] = field(default_factory=list)  # other engines the index was sent to

    def to_dict(self) -> dict[str, Any]:
        out = {**self.update.to_dict(), "engine": self.engine.to_dict()}
        if self.more:
            out["engines"] = [e.to_dict() for e in (self.engine, *self.more)]
        return out

    def lines(self) -> list[str]:
        return [*self.update.lines(), *(line for e in (self.engine, *self.more) for line in e.lines())]


LOG_PREFIX = "presse-engine-"


def recorded_engines(index_dir: Path | str | None) -> list[str]:
    """The addresses of the engines the local index in ``index_dir`` was sent to (their sent logs)."""
    from indexer.store import resolve_index_dir

    urls = []
    for path in sorted(resolve_index_dir(index_dir).glob(f"{LOG_PREFIX}*.sqlite")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            urls += [u for u, in db.execute("SELECT url FROM engine")]
        except sqlite3.Error:  # a log written before the address was kept: unknown engine
            pass
        finally:
            db.close()
    return urls


def sync_recorded(index_dir: Path | str | None, update: Any) -> Any:
    """After ``update`` (a local change, as `presse remove`'s): bring every engine the index was sent to in
    step (its statements gone are DELETEd there). ``update`` itself when there is none, else an
    :class:`EngineReport`; EngineError (one line, saying the local change is done) when an engine fails."""
    reports = []
    for url in recorded_engines(index_dir):
        try:
            reports.append(sync(index_dir, url))
        except EngineError as e:
            raise EngineError(f"the local index is updated ({update.removed} removed), but not the engine: "
                              f"{e} (once it is back, run the same command again, or `presse index "
                              f"--engine {url}`)") from None
    return EngineReport(update, reports[0], reports[1:]) if reports else update


class SentLog:
    """What the engine holds, as far as this machine knows: statement id -> (row digest, index), in SQLite
    beside the local index (one file per engine), written batch by batch once the server acknowledged."""

    def __init__(self, index_dir: Path, engine: Engine) -> None:
        name = hashlib.blake2b(engine.url.encode(), digest_size=6).hexdigest()
        self.db = sqlite3.connect(index_dir / f"{LOG_PREFIX}{name}.sqlite")
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS sent (sid TEXT PRIMARY KEY, digest TEXT, idx TEXT)")
            # the engine's address: `presse remove` finds the engines this index was sent to
            self.db.execute("CREATE TABLE IF NOT EXISTS engine (url TEXT PRIMARY KEY)")
            self.db.execute("INSERT OR IGNORE INTO engine VALUES (?)", (engine.url,))

    def all(self) -> dict[str, tuple[str, str]]:
        rows = self.db.execute("SELECT sid, digest, idx FROM sent")
        return {sid: (digest, idx) for sid, digest, idx in rows}

    def record(self, entries: list[tuple[str, str, str]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO sent VALUES (?, ?, ?)", entries)

    def clear(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM sent")

    def forget(self, sids: list[str]) -> None:
        with self.db:
            self.db.executemany("DELETE FROM sent WHERE sid = ?", [(s,) for s in sids])

    def close(self) -> None:
        self.db.close()


class _Writer:
    """Batched REPLACE and DELETE per RT index, a connection per server, a dropped connection retried."""

    def __init__(self, engine: Engine, shards: list[Shard], log: SentLog, report: SyncReport,
                 batch_rows: int = BATCH_ROWS) -> None:
        self.engine, self.shards, self.log, self.report = engine, shards, log, report
        self.batch_rows = batch_rows
        self.conns: dict[tuple[str, int], Any] = {}
        self.pending: dict[str, list[tuple[dict, str]]] = {}  # index -> [(row, digest)]
        self.sizes: dict[str, int] = {}
        self.where = {name: s for s in shards for name in (*s.indexes.values(), s.store)}

    def _execute(self, index: str, sql: str, args: list, what: str) -> None:
        shard = self.where[index]
        server = (shard.host, shard.port)
        for attempt, pause in enumerate((*RETRIES, None)):
            try:
                if server not in self.conns:
                    self.conns[server] = self.engine.connect(*server)
                with self.conns[server].cursor() as cur:
                    cur.execute(sql, args)
                return
            except EngineError as e:
                err: BaseException = e
            except Exception as e:
                if not dropped(e):
                    raise EngineError(f"{self.engine.url}: shard {shard.number} ({shard.host}:{shard.port}) "
                                      f"refused {what}: {error_text(e)}") from None
                err = e
            self.conns.pop(server, None)
            if pause is None:
                raise EngineError(
                    f"{self.engine.url}: shard {shard.number} ({shard.host}:{shard.port}) dropped the "
                    f"connection while writing {what}, {attempt + 1} attempts ({error_text(err)}); "
                    f"{self.report.sent} statements sent before are recorded, the rest is not: run it again")
            time.sleep(pause)

    def replace(self, index: str, r: dict, digest: str) -> None:
        self.pending.setdefault(index, []).append((r, digest))
        self.sizes[index] = self.sizes.get(index, 0) + len(r["body"]) + len(r["doc"])
        if len(self.pending[index]) >= self.batch_rows or self.sizes[index] >= BATCH_BYTES:
            self.flush(index)

    def flush(self, index: str) -> None:
        batch = self.pending.pop(index, [])
        self.sizes.pop(index, None)
        if not batch:
            return
        # the stored fields first: a statement the engine can match always has its stored fields
        for table, cols in ((self.where[index].store, ("id", *DOC_ATTRS)), (index, ("id", *FIELDS, *ATTRS))):
            values = ", ".join(["(" + ", ".join(["%s"] * len(cols)) + ")"] * len(batch))
            args = [r[c] for r, _ in batch for c in cols]
            self._execute(index, f"REPLACE INTO {table} ({', '.join(cols)}) VALUES {values}", args,
                          f"a batch of {len(batch)} statements")
        self.log.record([(r["sid"], digest, index) for r, digest in batch])
        self.report.sent += len(batch)

    def flush_all(self) -> None:
        for index in list(self.pending):
            self.flush(index)

    def delete(self, index: str, sids: list[str], forget: bool = True, store: bool = True) -> None:
        """DELETE ``sids`` from ``index`` (and, ``store``, from its shard's store; not for a statement that
        moved within the shard: its stored fields are the new ones); ``forget``: also from the log (not for a
        statement that moved: the log holds its new place)."""
        for start in range(0, len(sids), BATCH_ROWS):
            part = sids[start:start + BATCH_ROWS]
            if index in self.where:  # an index no longer in the layout: nothing to delete there
                ids = ", ".join(str(doc_id(s)) for s in part)
                for table in (index, self.where[index].store) if store else (index,):
                    self._execute(index, f"DELETE FROM {table} WHERE id IN ({ids})", [],
                                  f"the deletion of {len(part)} statements")
            if forget:
                self.log.forget(part)

    def close(self) -> None:
        for conn in self.conns.values():
            try:
                conn.close()
            except Exception:  # closing a connection that already dropped: nothing to report
                pass


def local_rows(index_dir: Path) -> Iterator[dict[str, Any]]:
    """The stored fields of every live statement of the local index."""
    from indexer import open_index

    ix = open_index(index_dir)
    try:
        with ix.reader() as reader:
            for _, fields in reader.iter_docs():
                yield fields
    finally:
        ix.close()


def whole(engine: Engine, cur: Any, sql: str) -> list[tuple]:
    """The rows of a read over the distributed index; EngineError when an agent did not answer (a count or
    list of some shards only must not be taken for the engine's)."""
    cur.execute(sql)
    rows = list(cur.fetchall())
    if cur.warning_count:
        cur.execute("SHOW META")
        warning = " ".join(str(dict(cur.fetchall()).get("warning", "")).split())
        if warning:
            raise EngineError(f"{engine.url}: a shard did not answer ({warning})")
    return rows


def engine_count(engine: Engine) -> int:
    """The documents the engine's distributed index holds."""
    conn = engine.connect()
    try:
        with conn.cursor() as cur:
            return int(whole(engine, cur, f"SELECT COUNT(*) FROM {engine.prefix}")[0][0])
    except EngineError:
        raise
    except Exception as e:
        raise EngineError(f"{engine.url}: cannot count its statements ({error_text(e)})") from None
    finally:
        conn.close()


def engine_holds(engine: Engine, shards: list[Shard], page: int = 10_000) -> dict[str, tuple[str, str]]:
    """What the engine holds, read from it: statement id -> ("", its index). No digest: each statement
    still in the local index is sent again (REPLACE), the others are deleted."""
    conn = engine.connect()
    out: dict[str, tuple[str, str]] = {}
    last = 0
    try:
        with conn.cursor() as cur:
            while True:
                rows = whole(engine, cur, f"SELECT id, sid, lang, pair FROM {engine.prefix} "
                             f"WHERE id > {last} ORDER BY id ASC LIMIT {page} OPTION max_matches={page}")
                if not rows:
                    return out
                for _, sid, lang, pair in rows:
                    out[sid] = ("", shards[int(pair) % len(shards)].indexes[index_lang(lang)])
                last = rows[-1][0]
    except EngineError:
        raise
    except Exception as e:
        raise EngineError(f"{engine.url}: cannot read back its statements ({error_text(e)})") from None
    finally:
        conn.close()


def sync(index_dir: Path | str | None, url: str, *,
         progress: Callable[[int], None] | None = None, batch_rows: int = BATCH_ROWS) -> SyncReport:
    """Bring the engine at ``url`` in step with the local index: REPLACE the statements whose row changed
    since the last sync, DELETE those gone. Raises EngineError (one line) on a failure; what was sent
    before it is recorded, and the next run sends the rest. ``progress(sent)`` is called after each
    statement looked at; ``batch_rows``: statements per REPLACE."""
    from indexer.store import resolve_index_dir

    started = time.monotonic()
    engine = Engine.parse(url)
    index_dir = resolve_index_dir(index_dir)
    shards = layout(engine)
    report = SyncReport(engine.url, shards=len(shards))
    log = SentLog(index_dir, engine)
    writer = _Writer(engine, shards, log, report, batch_rows)
    try:
        before = log.all()
        held = engine_count(engine)
        if held != len(before):  # the engine lost rows (a server's data gone) or got others: read it back
            log.clear()
            before = engine_holds(engine, shards)
            report.reread = len(before)
        seen: set[str] = set()
        moved: dict[tuple[str, bool], list[str]] = {}  # (old index, same shard) -> statements
        for fields in local_rows(index_dir):
            doc = stored_json(fields)
            sid = str(doc["id"])
            shard = shards[doc_id(pair_key(doc)) % len(shards)]
            index = shard.indexes[index_lang(doc.get("lang") or "")]
            report.per_shard[shard.number] = report.per_shard.get(shard.number, 0) + 1
            # The row follows from the stored fields (and this version of the rows): a statement unchanged
            # since the last sync is not analysed again (the analysis is most of a sync's time).
            key = json.dumps([ROW_FORMAT, doc, index], sort_keys=True, default=str)
            digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
            seen.add(sid)
            old = before.get(sid)
            if old is not None and old[0] == digest:
                report.unchanged += 1
                continue
            if old is not None and old[1] != index:  # another shard or language now: out of the old one
                same_shard = writer.where.get(old[1]) is shard
                moved.setdefault((old[1], same_shard), []).append(sid)
            writer.replace(index, row(fields, doc), digest)
            if progress is not None:
                progress(report.sent)
        for (index, same_shard), sids in moved.items():
            writer.flush_all()  # the new rows first: a statement is never missing from the engine
            writer.delete(index, sids, forget=False, store=not same_shard)
        writer.flush_all()
        gone: dict[str, list[str]] = {}
        for sid, (_, index) in before.items():
            if sid not in seen:
                gone.setdefault(index, []).append(sid)
        for index, sids in gone.items():
            writer.delete(index, sids)
            report.deleted += len(sids)
    finally:
        writer.close()
        log.close()
    report.seconds = time.monotonic() - started
    return report

"""The distributed engine's write side against real ``searchd`` servers (Sphinx 2.2 via SphinxQL): its
configuration, `presse index --engine`, incremental updates, and failures reported in one line."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from indexer.sphinxql import Engine, EngineError, SentLog, doc_id, stores_name, sync
from tests.corpora import SAMPLE
from tests.sphinx_servers import Servers, free_port_pair, needs_searchd


def engine_rows(url: str) -> list[tuple]:
    """(sid, lang, doc JSON) of the rows of the engine's distributed index, the stored fields from the
    shards' stores, which hold exactly the same statements."""
    engine = Engine.parse(url)
    conn = engine.connect()
    try:
        with conn.cursor() as cur:
            every = "LIMIT 100000 OPTION max_matches=100000"
            cur.execute(f"SELECT id, sid, lang FROM {engine.prefix} {every}")
            rows = list(cur.fetchall())
            cur.execute(f"SELECT id, doc FROM {stores_name(engine.prefix)} {every}")
            docs = dict(cur.fetchall())
    finally:
        conn.close()
    assert set(docs) == {d for d, _, _ in rows}
    return [(sid, lang, docs[d]) for d, sid, lang in rows]


def after_first_batch(done: list, action):
    """A sync progress callback that runs ``action`` once, when the first batch has been sent."""

    def progress(sent: int) -> None:
        if sent and not done:
            done.append(sent)
            action()

    return progress


@pytest.fixture
def corpus(tmp_path) -> Path:
    if not (SAMPLE / "vie-publique.jsonl").exists():
        pytest.skip("sample/ missing")
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLE, folder)
    return folder


@pytest.fixture
def servers(tmp_path):
    srv = Servers(tmp_path / "engine", servers=2, shards=2)
    yield srv
    srv.close()


def test_engine_config_lists_every_shard_as_an_agent():
    result = CliRunner().invoke(main, ["engine-config", "--shards", "3", "--ports", "9306,10.0.0.2:9400",
                                       "--data", "/srv/presse", "--prefix", "news"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("searchd\n{") == 2  # one configuration per server
    assert "listen = 127.0.0.1:9306:mysql41" in out and "listen = 10.0.0.2:9400:mysql41" in out
    for shard, api in ((0, "127.0.0.1:9307"), (1, "10.0.0.2:9401"), (2, "127.0.0.1:9307")):
        names = ",".join(f"news_{lang}_{shard}" for lang in ("fr", "en", "xx"))
        assert out.count(f"agent = {api}:{names}") == 2  # in the distributed index of both servers
        assert out.count(f"index news_fr_{shard}\n") == 1  # the shard's indexes on its own server only
    assert "morphology = none" in out and "libstemmer" not in out  # presse sends its own terms
    assert "rt_attr_uint = tlen" in out and "rt_attr_uint = blen" in out  # the fields' lengths, for BM25
    bad = CliRunner().invoke(main, ["engine-config", "--ports", "http"])
    assert bad.exit_code != 0 and "not a port" in bad.output and "Traceback" not in bad.output


@needs_searchd
@pytest.mark.slow
def test_index_engine_sends_then_replaces_and_deletes(corpus, servers, tmp_path):
    runner = CliRunner()
    index_dir = tmp_path / "ix"
    args = ["index", str(corpus), "--index", str(index_dir), "--engine", servers.url, "--json"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    n = report["statements"]
    assert report["engine"]["sent"] == n > 100 and report["engine"]["deleted"] == 0
    spread = report["engine"]["per_shard"]
    assert len(spread) == 2 and all(v > 0 for v in spread.values())
    rows = engine_rows(servers.url)
    assert len(rows) == n
    by_sid = {sid: json.loads(doc) for sid, _, doc in rows}
    linked = [d for d in by_sid.values() if d.get("translation")]
    assert linked and all(by_sid[d["translation"]]["translation"] == d["id"] for d in linked)

    # One statement changed, one Yukon page gone: one REPLACE, its statement DELETEd, the rest untouched.
    jsonl = corpus / "vie-publique.jsonl"
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["html"] += "<p>Un paragraphe ajouté pour la mise à jour incrémentale.</p>"
    jsonl.write_text("\n".join([json.dumps(record, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    page = next(p for p in sorted((corpus / "yukon" / "en").rglob("*")) if p.is_file())
    page.unlink()
    again = json.loads(runner.invoke(main, args).output)
    removed = again["removed"]
    assert again["engine"]["deleted"] == removed >= 1
    assert 1 <= again["engine"]["sent"] <= 3 and again["engine"]["unchanged"] >= n - removed - 3
    rows = engine_rows(servers.url)
    assert len(rows) == again["statements"] == n - removed + again["added"]
    changed = [json.loads(doc) for _, _, doc in rows if "mise à jour incrémentale" in json.loads(doc)["body"]]
    assert len(changed) == 1
    third = json.loads(runner.invoke(main, args).output)
    assert third["engine"]["sent"] == third["engine"]["deleted"] == 0


def test_wrong_address_port_or_protocol_is_one_line(tmp_path, sample_index):
    runner = CliRunner()
    port = free_port_pair()  # nothing listens there
    http_server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    try:
        for url, says in ((f"sphinxql://127.0.0.1:{port}", "no SphinxQL server at .*Connection refused"),
                          (f"sphinxql://127.0.0.1:{http_server.server_port}",
                           "does not speak the MySQL protocol.*wrong port or protocol"),
                          ("http://127.0.0.1:9306", "not a search engine address")):
            with pytest.raises(EngineError, match=says) as info:
                sync(sample_index, url)
            assert "\n" not in str(info.value)
        local = tmp_path / "ix"
        shutil.copytree(sample_index, local)
        result = runner.invoke(main, ["index", str(SAMPLE / "yukon"), "--index", str(local),
                                      "--engine", f"sphinxql://127.0.0.1:{port}"])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.count("\n") == 1 and "wrong port, or the server is down" in result.output
    finally:
        http_server.shutdown()
        http_server.server_close()


@needs_searchd
@pytest.mark.slow
def test_connection_dropped_mid_batch_is_retried(servers, sample_index, tmp_path):
    """The second server restarts between two batches: the writer's connection to it is dead, the batch
    is sent again on a new one, and every statement arrives once."""
    local = tmp_path / "ix"
    shutil.copytree(sample_index, local)
    restarted = []
    report = sync(local, servers.url, batch_rows=10, progress=after_first_batch(
        restarted, lambda: (servers.stop(servers.ports[1]), servers.start(servers.ports[1]))))
    assert restarted and report.sent == sum(report.per_shard.values())
    assert len(engine_rows(servers.url)) == report.sent


@needs_searchd
@pytest.mark.slow
def test_agent_down_mid_update_is_reported_and_a_rerun_completes(servers, sample_index, tmp_path):
    local = tmp_path / "ix"
    shutil.copytree(sample_index, local)
    with pytest.raises(EngineError) as info:
        sync(local, servers.url, batch_rows=10,
             progress=after_first_batch([], lambda: servers.stop(servers.ports[1])))
    message = str(info.value)
    assert "dropped the connection" in message and "run it again" in message and "\n" not in message
    # Nothing half-written is recorded as sent: every statement the log holds is on a server.
    log = SentLog(local, Engine.parse(servers.url))
    recorded = log.all()
    log.close()
    servers.start(servers.ports[1])
    on_engine = {doc_id(sid) for sid, _, _ in engine_rows(servers.url)}
    assert recorded and {doc_id(s) for s in recorded} <= on_engine
    report = sync(local, servers.url)
    assert report.unchanged == len(recorded) or report.reread  # (a batch applied, its answer lost)
    assert len(engine_rows(servers.url)) == report.sent + report.unchanged == sum(report.per_shard.values())


@needs_searchd
@pytest.mark.slow
def test_a_server_that_lost_its_data_is_brought_back_in_step(servers, sample_index, tmp_path):
    """The second server starts again with no data: the engine holds fewer statements than this machine
    sent; the next sync reads back what is there and sends the rest."""
    local = tmp_path / "ix"
    shutil.copytree(sample_index, local)
    first = sync(local, servers.url)
    assert first.reread == 0
    port = servers.ports[1]
    servers.stop(port)
    for f in (servers.root / str(port)).iterdir():
        if f.name.startswith(servers.prefix) or f.name.startswith("binlog"):
            f.unlink()
    servers.start(port)
    assert len(engine_rows(servers.url)) < first.sent
    again = sync(local, servers.url)
    assert 0 < again.reread < first.sent and again.sent == first.sent
    assert len(engine_rows(servers.url)) == first.sent
    assert sync(local, servers.url).sent == 0  # and in step after


@needs_searchd
@pytest.mark.slow
def test_bench_scale_point_syncs_and_times_queries_on_n_agents(sample_index, monkeypatch):
    """bench.sphinxql.scale_point, which `python -m bench scale` calls: a copy of the index sent to new
    servers, queries timed with their options (as the embedded index is timed), the servers stopped."""
    from types import SimpleNamespace

    from bench.sphinxql import scale_point
    from indexer import open_index
    from search.sphinxql import RemoteSearcher

    ix = open_index(sample_index)
    try:
        with ix.reader() as reader:
            statements = reader.doc_count()
    finally:
        ix.close()
    asked = []
    real = RemoteSearcher.search
    monkeypatch.setattr(RemoteSearcher, "search", lambda self, text, **kw: asked.append((text, kw)) or
                        real(self, text, **kw))
    point = scale_point(sample_index, ["yukon", SimpleNamespace(text="securite", options={"lang": "fr"})], 2)
    assert asked == [("yukon", {"limit": 10}), ("securite", {"limit": 10, "lang": "fr"})]
    assert point["agents"] == 2 and point["statements"] == statements
    assert point["sync_s"] > 0 and 0 < point["median_ms"] <= point["p95_ms"]
    assert {"sync_cpu_s", "cpu_ms_per_query", "load"} <= set(point)


@needs_searchd
@pytest.mark.slow
def test_remove_reaches_the_engines_the_index_was_sent_to(corpus, servers, tmp_path):
    """`presse remove` DELETEs from the engine what it removes locally; with the engine down it says the
    local index is done and the engine is not (one line), and running it again once the engine is back
    brings the engine in step."""
    runner = CliRunner()
    index_dir = tmp_path / "ix"
    sent = json.loads(runner.invoke(main, ["index", str(corpus), "--index", str(index_dir), "--engine",
                                           servers.url, "--json"]).output)
    n = sent["statements"]
    assert len(engine_rows(servers.url)) == n
    pages = sorted(p for p in (corpus / "yukon" / "en").rglob("*") if p.is_file())
    gone = runner.invoke(main, ["remove", str(pages[0]), "--index", str(index_dir), "--json"])
    assert gone.exit_code == 0, gone.output
    report = json.loads(gone.output)
    assert report["removed"] >= 1 and report["engine"]["deleted"] == report["removed"]
    # at most its translation sent again (no longer linked)
    assert report["engine"]["sent"] <= report["removed"]
    assert len(engine_rows(servers.url)) == n - report["removed"]

    down = servers.ports[1]
    servers.stop(down)
    failed = runner.invoke(main, ["remove", str(pages[1]), "--index", str(index_dir)])
    assert failed.exit_code == 1 and "Traceback" not in failed.output and failed.output.count("\n") == 1
    removed = int(re.search(r"the local index is updated \((\d+) removed\), but not the engine",
                            failed.output).group(1))
    assert removed >= 1 and len(engine_rows(servers.url)) > 0  # the other server still answers
    servers.start(down)
    again = json.loads(runner.invoke(main, ["remove", str(pages[1]), "--index", str(index_dir),
                                            "--json"]).output)
    assert again["removed"] == 0 and again["engine"]["deleted"] == removed
    assert len(engine_rows(servers.url)) == n - report["removed"] - removed


@needs_searchd
@pytest.mark.slow
def test_a_sync_analyses_only_the_statements_that_changed(servers, sample_index, tmp_path, monkeypatch):
    """The analysis is most of a sync's time: an unchanged statement is known by its stored fields' digest,
    not made into a row again."""
    import indexer.sphinxql as sphinxql

    local = tmp_path / "ix"
    shutil.copytree(sample_index, local)
    first = sync(local, servers.url)
    made = []
    real_row = sphinxql.row
    monkeypatch.setattr(sphinxql, "row", lambda *a, **k: made.append(1) or real_row(*a, **k))
    again = sync(local, servers.url)
    assert again.unchanged == first.sent > 100 and again.sent == 0 and not made

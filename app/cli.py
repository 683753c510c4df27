"""Command line: `python -m app <command>`; `python -m app --help` lists them."""

import argparse
import dataclasses
import json
import logging
import sys
import textwrap
from pathlib import Path

from app.core.config import get_settings


def _engine():
    from app.api.main import load_engine

    return load_engine(get_settings())


def cmd_model_prepare(args: argparse.Namespace) -> None:
    from app.embedding.encoder import prepare_default_model

    print(f"model ready: {prepare_default_model(get_settings())}")


def cmd_ingest(args: argparse.Namespace) -> None:
    from app.ingest.courses import ingest_courses

    settings = get_settings()
    passages = ingest_courses(settings.corpus_dir / "courses" / "raw", settings.corpus_dir / "courses" / "passages.jsonl")
    print(f"{len(passages)} course passages written")


def cmd_index_build(args: argparse.Namespace) -> None:
    from app.embedding.encoder import Encoder
    from app.index.build import build_index
    from app.index.store import current_version

    settings = get_settings()
    if args.if_missing and current_version(settings.index_dir):
        print(f"index present: {current_version(settings.index_dir)}")
        return
    version = build_index(settings.corpus_dir, settings.index_dir, Encoder(settings), progress=not args.quiet)
    print(f"built and switched to index version {version}")


def cmd_index_status(args: argparse.Namespace) -> None:
    from app.index.store import current_version, list_versions

    settings = get_settings()
    current = current_version(settings.index_dir)
    for version in list_versions(settings.index_dir):
        print(("* " if version == current else "  ") + version)
    if current is None:
        print("no index built yet: python -m app index build")


def cmd_index_use(args: argparse.Namespace) -> None:
    from app.index.store import set_current

    set_current(get_settings().index_dir, args.version)
    print(f"current index version: {args.version}")


def cmd_search(args: argparse.Namespace) -> None:
    engine = _engine()
    result = engine.search(args.query, top_k=args.top_k)
    wrap = lambda text, indent: textwrap.fill(text, width=78, initial_indent=indent, subsequent_indent=indent)  # noqa: E731
    print(f"{result.query}  [{result.index_version}, {result.took_ms:.1f} ms]")
    print("识别场景: " + "  ".join(f"{d.name}({d.score:.2f})" for d in result.detected_scenarios))
    for rank, script in enumerate(result.scripts, start=1):
        r = script.record
        print(f"\n{rank}. {r['title']}  [{', '.join(r['scenarios'])}]  {script.score:.2f}")
        print(wrap(r["text"], "   "))
        if r.get("notes"):
            print(wrap("注意: " + r["notes"], "   "))
        for article in engine.citations(r):
            print(wrap(f"§ {article.short}{article.article}: {article.text}", "   "))
    print("\n相关法条:")
    for hit in result.statutes:
        print(wrap(f"{hit.article.short}{hit.article.article} ({hit.score:.2f}): {hit.article.text}", "  "))


def cmd_eval(args: argparse.Namespace) -> None:
    from app import evaluation

    report = evaluation.run(_engine(), Path(args.file), compare=args.compare)
    if args.json:
        outcomes = [dataclasses.asdict(o) for o in report.pop("outcomes")]
        print(json.dumps({**report, "outcomes": outcomes}, ensure_ascii=False, indent=2))
        return
    print(evaluation.format_report(report))
    if args.failures:
        print("\nMisses (hybrid):\n" + evaluation.format_failures(report["outcomes"]))


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run("app.api.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Huashu 话术 retrieval service")
    sub = parser.add_subparsers(dest="command", required=True)

    model = sub.add_parser("model", help="embedding model").add_subparsers(dest="action", required=True)
    model.add_parser("prepare", help="convert the embedded default model into the model cache").set_defaults(
        func=cmd_model_prepare
    )

    sub.add_parser("ingest", help="clean and split the course documents into passages").set_defaults(func=cmd_ingest)

    index = sub.add_parser("index", help="index versions").add_subparsers(dest="action", required=True)
    build = index.add_parser("build", help="build a new index version and make it current")
    build.add_argument("--if-missing", action="store_true", help="do nothing when a current version exists")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=cmd_index_build)
    index.add_parser("status", help="list versions; * marks the current one").set_defaults(func=cmd_index_status)
    use = index.add_parser("use", help="make an existing version current (roll back or forward)")
    use.add_argument("version")
    use.set_defaults(func=cmd_index_use)

    search = sub.add_parser("search", help="search from the terminal")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=5)
    search.set_defaults(func=cmd_search)

    evaluate = sub.add_parser("eval", help="retrieval metrics over a JSONL of queries")
    evaluate.add_argument("file")
    evaluate.add_argument("--compare", action="store_true", help="dense-only, BM25-only and hybrid side by side")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--failures", action="store_true", help="list the queries that missed")
    evaluate.set_defaults(func=cmd_eval)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> None:
    # Libraries stay quiet; the service's own log says what it does.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("huashu").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    from app.corpus.scripts import ScriptError
    from app.embedding.encoder import ModelNotFound
    from app.index.store import IncompatibleIndex, IndexNotFound

    try:
        args.func(args)
    except (IndexNotFound, IncompatibleIndex, ModelNotFound, ScriptError) as e:
        # What the operator must fix, in one line instead of a traceback.
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)

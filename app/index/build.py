"""Build a new index version from the corpus and make it current."""

import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from app.corpus.loader import Corpus, load_corpus
from app.embedding.encoder import Encoder
from app.index.store import (
    MANIFEST_FILE,
    STATUTES_FILE,
    TAXONOMY_FILE,
    set_current,
    versions_dir,
    write_atomically,
)
from app.search.collection import Collection
from app.text.tokenize import USER_DICT, tokenize

EMBED_BATCH = 32


def collection_documents(corpus: Corpus) -> dict[str, tuple[list[dict], list[str]]]:
    """For each collection: the stored records and the text that represents each one in search."""
    scenarios = corpus.taxonomy.by_id()
    group_names = corpus.taxonomy.groups
    scripts = [s.model_dump() for s in corpus.scripts]
    script_texts = [
        "。".join([s.title, "、".join(scenarios[i].name for i in s.scenarios), s.technique, s.situation, s.text])
        for s in corpus.scripts
    ]
    articles = corpus.book.current_articles()
    statutes = [{"law": a.law, "article_no": a.article_no} for a in articles]
    statute_texts = [" ".join(filter(None, [a.short, a.article, a.chapter, a.section])) + "：" + a.text for a in articles]
    passages = corpus.passages
    passage_texts = [f"{p['document']} {p['section']}：{p['text']}" for p in passages]
    taxonomy = [s.model_dump() for s in corpus.taxonomy.scenarios]
    scenario_texts = [f"{group_names[s.group]} {s.name}：{s.looks_like}" for s in corpus.taxonomy.scenarios]
    return {
        "scripts": (scripts, script_texts),
        "statutes": (statutes, statute_texts),
        "passages": (passages, passage_texts),
        "scenarios": (taxonomy, scenario_texts),
    }


def build_index(corpus_dir: Path, index_dir: Path, encoder: Encoder, progress: bool = True) -> str:
    """Build a complete version beside the current one, then switch to it; returns its name."""
    corpus = load_corpus(corpus_dir)
    documents = collection_documents(corpus)
    created = datetime.now(timezone.utc)
    root = versions_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = f"{created:%Y%m%dT%H%M%SZ}-{corpus.digest[:6]}"
    if (root / version).exists():  # two builds of one corpus within a second
        version += f"-{created:%f}"
    building = root / f".building-{version}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        total = sum(len(texts) for _, texts in documents.values())
        counts = {}
        with tqdm(total=total, desc="embedding", unit="doc", disable=not progress) as bar:
            for name, (records, texts) in documents.items():
                embeddings = _embed(encoder, texts, bar)
                Collection.build(records, [tokenize(t) for t in texts], embeddings).save(building / name)
                counts[name] = len(records)
        with (building / STATUTES_FILE).open("w", encoding="utf-8") as f:
            for article in corpus.book.articles.values():
                f.write(article.model_dump_json() + "\n")
        (building / TAXONOMY_FILE).write_text(corpus.taxonomy.model_dump_json(), encoding="utf-8")
        manifest = {
            "version": version,
            "created": created.isoformat(timespec="seconds"),
            "model": {"id": encoder.model_id, "dimension": encoder.dimension},
            "corpus_digest": corpus.digest,
            "user_dict_sha256": hashlib.sha256(USER_DICT.read_bytes()).hexdigest(),
            "counts": counts,
        }
        # The manifest is written last: a directory without one is never loaded.
        write_atomically(building / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False, indent=2))
        building.rename(root / version)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    set_current(index_dir, version)
    return version


def _embed(encoder: Encoder, texts: list[str], bar: tqdm) -> np.ndarray:
    """Embed in batches of similar length (less padding), in the original order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    embeddings = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for start in range(0, len(order), EMBED_BATCH):
        batch = order[start : start + EMBED_BATCH]
        embeddings[batch] = encoder.encode_documents([texts[i] for i in batch], batch_size=EMBED_BATCH)
        bar.update(len(batch))
    return embeddings

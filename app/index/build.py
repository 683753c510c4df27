"""Build a new index version from the corpus and make it current."""

import errno
import fcntl
import hashlib
import json
import logging
import multiprocessing
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel
from tqdm import tqdm

from app.core.config import Settings
from app.core.errors import HuashuError
from app.core.files import sync_directory, write_atomically
from app.corpus.documents import DocumentStore
from app.corpus.loader import Corpus, Edits, Line, load_corpus
from app.corpus.scenarios import Exemplar
from app.corpus.statutes import ArticleRef
from app.embedding.encoder import Encoder
from app.index.store import (
    COLLECTIONS,
    FILES_KEY,
    MANIFEST_FILE,
    STATUTES_FILE,
    TAXONOMY_FILE,
    IndexUnusable,
    IndexVersion,
    built_from,
    current_version,
    prune_versions,
    seal_files,
    set_current,
    versions_dir,
)
from app.search.collection import Collection
from app.search.scenario_probe import ScenarioProbe, probe_inputs
from app.search.scenario_words import ScenarioWords
from app.search.threat_neighbours import THREAT_SCENARIOS, ThreatNeighbours, authored_lines, reader_inputs
from app.search.threat_words import ThreatWords
from app.text.normalize import DIALECT_WORDS, MISHEARD_WORDS, normalize
from app.text.tokenize import STOPWORDS_FILE, USER_DICT, tokenize

# Texts per encoder call: EMBED_BATCH, fewer when they are long, so that a call holds at most
# EMBED_CHARS characters (the model reads at most MAX_TEXT_CHARS of a text: 512 tokens, about as
# many Chinese characters). ONNX Runtime keeps the memory of the largest call it has run: 32 long
# texts took ~2.5 GB, 8 ~0.7 GB, 2 ~0.4 GB, at the same speed (docs/performance.md, Memory of a
# full build).
EMBED_BATCH = 8
EMBED_CHARS = 1024
MAX_TEXT_CHARS = 512
LOCK_FILE = ".build.lock"
TOKENS_FILE = "tokens.json"  # in each collection of a version: the BM25 tokens of its texts, in order
BUILDING_PREFIX = ".building-"
# Besides the corpus and the model, what an index depends on: the files that turn a text into
# tokens, and the code that decides which texts stand for each record. A change to any of them
# makes the next build a new version even when the corpus is the same.
_APP = Path(__file__).resolve().parents[1]
BUILD_FILES = (
    USER_DICT,
    STOPWORDS_FILE,
    DIALECT_WORDS,
    MISHEARD_WORDS,
    *(
        _APP / name
        for name in (
            "index/build.py", "text/normalize.py", "text/tokenize.py", "search/collection.py",
            "search/scenario_probe.py", "search/scenario_words.py", "search/threat_neighbours.py",
            "search/threat_words.py",
        )
    ),
)
log = logging.getLogger("huashu")


class BuildFailed(HuashuError):
    """A build that could not finish for a reason the operator must fix; nothing changed."""


class Built(NamedTuple):
    version: str  # the current version once the build is done
    new: bool  # False: the current version was already built from the same inputs, and nothing was built


def standalone_encoder(settings: Settings) -> Encoder:
    """The encoder of a build that has the machine to itself (`python -m app index build`, the
    container's first start): every core, about twice as fast on two. The service's re-index job
    keeps the service's setting, one thread per call, so that searches go on beside it."""
    return Encoder(settings.model_copy(update={"encoder_threads": 0}))


class TooManyNewTexts(BuildFailed):
    """More texts to embed than a build was allowed (`embed_at_most`); nothing was built."""


# A publish changes a script or two. Embedding them in the serving process, with the encoder it has
# loaded, saves a child's start and model load: most of a publish's seconds (docs/performance.md,
# Publishing a script). One encoder call at most: more new texts (uploads not yet indexed) go to a
# child, for the memory build_in_child gives back.
IN_PROCESS_TEXTS = EMBED_BATCH


def build_small_in_process(
    settings: Settings, store: DocumentStore, on_progress: Callable[[int, int], None], edits: Edits, encoder: Encoder
) -> Built:
    """`build_index` in the serving process with its loaded `encoder` when it embeds at most
    IN_PROCESS_TEXTS texts; otherwise `build_in_child`."""
    try:
        return build_index(
            settings.corpus_dir, settings.index_dir, encoder, progress=False, store=store, edits=edits,
            on_progress=on_progress, keep_versions=settings.keep_versions, embed_at_most=IN_PROCESS_TEXTS,
        )
    except TooManyNewTexts as e:
        log.info("%s: building in a process of its own", e)
        return build_in_child(settings, store, on_progress, edits)


class ChildFailed(BuildFailed):
    """A failure the build process described itself ("Kind: message"): reported as it is."""


def build_in_child(
    settings: Settings, store: DocumentStore, on_progress: Callable[[int, int], None], edits: Edits = Edits()
) -> Built:
    """`build_index` with the service's settings in a process of its own, for the admin API's
    re-index. A build in the serving process left it ~1.4 GB larger for good: ONNX Runtime and the
    allocator keep what the largest batch of long texts needed (docs/performance.md, Memory of a
    re-index). A process gives all of it back when it ends. Spawned, not forked: a fresh
    interpreter, not a copy of a server with threads. Progress, log lines and the outcome come
    back through a pipe; a child that dies leaves the current version as it was (versions are
    built beside it)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_build_child, args=(settings, store, edits, sender), name="index-build", daemon=True
    )
    child.start()
    sender.close()  # the child holds the only writing end: its death ends recv() with EOFError
    try:
        while True:
            try:
                kind, *message = receiver.recv()
            except EOFError:
                child.join()
                raise BuildFailed(_died(child.exitcode, current_version(settings.index_dir))) from None
            if kind == "progress":
                on_progress(*message)
            elif kind == "log":
                name, level, text = message
                logging.getLogger(name).log(level, "%s", text)
            elif kind == "done":
                return message[0]
            else:
                raise ChildFailed(message[0])
    finally:
        receiver.close()
        child.join()


def _build_child(settings: Settings, store: DocumentStore, edits: Edits, pipe: Connection) -> None:
    """The child's side of `build_in_child`."""
    logging.getLogger().addHandler(_SendLog(pipe))
    logging.getLogger("huashu").setLevel(settings.log_level.upper())
    try:
        built = build_index(
            settings.corpus_dir, settings.index_dir, Encoder(settings), progress=False, store=store, edits=edits,
            on_progress=lambda done, total: pipe.send(("progress", done, total)), keep_versions=settings.keep_versions,
        )
        pipe.send(("done", built))
    except Exception as e:  # described here: not every exception survives the pipe intact
        pipe.send(("failed", f"{type(e).__name__}: {e}"))


class _SendLog(logging.Handler):
    """A build child's log records, sent to the server, which logs them as its own."""

    def __init__(self, pipe: Connection):
        super().__init__()
        self.pipe = pipe

    def emit(self, record: logging.LogRecord) -> None:
        self.pipe.send(("log", record.name, record.levelno, self.format(record)))


def _died(exitcode: int, current: str | None) -> str:
    """What to do about a build process that ended without a word."""
    if exitcode < 0:
        how = f"was killed by signal {-exitcode} ({signal.strsignal(-exitcode)})"
        remedy = "; if it is killed again, check the memory left to the service: a build needs ~1 GB beside it"
    else:
        how, remedy = f"exited with code {exitcode}", "; the server's log has its error"
    return (
        f"the index build process {how} before it finished; the current index version ({current or 'none'}) is "
        f"unchanged: start the re-index again{remedy}"
    )


def collection_documents(corpus: Corpus) -> dict[str, tuple[list[BaseModel], list[str]]]:
    """For each collection (COLLECTIONS): the stored records and the text that represents each one in search."""
    scenarios = corpus.taxonomy.by_id()
    group_names = corpus.taxonomy.groups
    script_texts = [
        "。".join([s.title, "、".join(scenarios[i].name for i in s.scenarios), s.technique, s.situation, s.text])
        for s in corpus.scripts
    ]
    articles = corpus.book.current_articles()
    # An article is searched whole, paragraph by paragraph when it has several (a question about
    # one paragraph of a long article is lost in the whole article's vector), and by the everyday
    # questions it answers (people ask in their words, not the law's).
    statutes, statute_texts = [], []
    for a in articles:
        heading = " ".join(filter(None, [a.short, a.article, a.chapter, a.section])) + "："
        paragraphs = [p for p in a.text.splitlines() if p.strip()]
        texts = [heading + text for text in [a.text] + (paragraphs if len(paragraphs) > 1 else [])]
        texts += corpus.questions.get(a.key, [])
        statutes += [ArticleRef(law=a.law, article_no=a.article_no) for _ in texts]
        statute_texts += texts
    passage_texts = [f"{p.document} {p.section}：{p.text}" for p in corpus.passages]
    scenario_texts = [f"{group_names[s.group]} {s.name}：{s.looks_like}" for s in corpus.taxonomy.scenarios]
    return {
        "scripts": (corpus.scripts, script_texts),
        "statutes": (statutes, statute_texts),
        "passages": (corpus.passages, passage_texts),
        "scenarios": (corpus.taxonomy.scenarios, scenario_texts),
        "exemplars": (
            [Exemplar(scenario=s.id, text=said) for s in corpus.taxonomy.scenarios for said in s.says],
            [said for s in corpus.taxonomy.scenarios for said in s.says],
        ),
        "elsewhere": ([Line(text=t) for t in corpus.elsewhere], corpus.elsewhere),
        "small-talk": ([Line(text=t) for t in corpus.small_talk], corpus.small_talk),
        "not-small-talk": ([Line(text=t) for t in corpus.not_small_talk], corpus.not_small_talk),
    }


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    progress: bool = True,
    store: DocumentStore | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    keep_versions: int | None = None,
    edits: Edits = Edits(),
    embed_at_most: int | None = None,
) -> Built:
    """Build a complete version beside the current one from the corpus, the uploaded documents
    in `store` and the admins' published `edits`, then switch to it. When the current version was built from the same
    inputs (corpus and uploads, model, BUILD_FILES), nothing is built: a copy of it would only
    push a distinct older version out of the `keep_versions` kept for rollback. `on_progress(done,
    total)` follows the embedding; `keep_versions` prunes older versions but the current one;
    more than `embed_at_most` texts to embed raise TooManyNewTexts before any is embedded."""
    corpus = load_corpus(corpus_dir, store, edits)
    inputs = {
        "corpus_digest": corpus.digest,
        "model": {"id": encoder.model_id, "dimension": encoder.dimension},
        "build_files_sha256": _files_sha256(BUILD_FILES),
    }
    root = versions_dir(index_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with _build_lock(index_dir):
            _remove_unfinished_builds(root)
            current = _current(index_dir)
            if current is not None and built_from(current.manifest) == built_from(inputs):
                return Built(current.name, new=False)  # the callers report it
            known = _known_embeddings(current, encoder.model_id)
            tokens = _known_tokens(index_dir, current, inputs["build_files_sha256"])
            # its query vectors (sayings, threat lines) are reused by text: only if the same model made them
            same_model = current is not None and current.manifest["model"]["id"] == encoder.model_id
            probe = current.scenario_probe if same_model else None
            reader = current.threat_neighbours if same_model else None
            words = current.scenario_words if current is not None else None
            del current  # only its embeddings, tokens, probes and reader are needed from here on
            version = _build_version(
                corpus, inputs, index_dir, encoder, (known, tokens, probe, reader, words), progress, on_progress,
                embed_at_most,
            )
            if keep_versions:
                prune_versions(index_dir, keep_versions)
    except (OSError, RuntimeError) as e:
        if not _out_of_space(e):
            raise
        raise BuildFailed(
            f"no space left on device in {root}: free some space and build again; the current index version "
            f"({current_version(index_dir) or 'none'}) is unchanged"
        ) from e
    return Built(version, new=True)


def _build_version(
    corpus: Corpus,
    inputs: dict,
    index_dir: Path,
    encoder: Encoder,
    reused: tuple[
        dict[str, np.ndarray], dict[str, list[str]], ScenarioProbe | None, ThreatNeighbours | None, ScenarioWords | None
    ],
    progress: bool,
    on_progress: Callable[[int, int], None] | None,
    embed_at_most: int | None = None,
) -> str:
    documents = collection_documents(corpus)
    created = datetime.now(timezone.utc)
    root = versions_dir(index_dir)
    version = f"{created:%Y%m%dT%H%M%SZ}-{corpus.digest[:6]}"
    if (root / version).exists():  # two builds of one corpus within a second
        version += f"-{created:%f}"
    building = root / f"{BUILDING_PREFIX}{version}"
    building.mkdir()
    try:
        known, known_tokens, known_probe, known_reader, known_words = reused
        hashes = {name: [_sha256(t) for t in texts] for name, (_, texts) in documents.items()}
        to_embed = sum(h not in known for name in documents for h in hashes[name])
        if embed_at_most is not None and to_embed > embed_at_most:
            raise TooManyNewTexts(f"{to_embed} texts to embed, more than {embed_at_most}")
        counts, reused, embedded = {}, 0, {}
        report = on_progress or (lambda done, total: None)
        report(0, to_embed)
        done = 0  # counted here: a disabled bar (the service's builds) never advances its own count
        with tqdm(total=to_embed, desc="embedding", unit="doc", disable=not progress) as bar:

            def advance(n: int) -> None:
                nonlocal done
                done += n
                bar.update(n)
                report(done, to_embed)

            for name, (records, texts) in documents.items():
                embeddings, n_reused = _embed(encoder, texts, hashes[name], known, advance)
                embedded[name] = embeddings
                tokens = [known_tokens.get(h) or tokenize(t) for t, h in zip(texts, hashes[name])]
                Collection.build(records, tokens, embeddings, hashes[name]).save(building / name)
                # Kept for the next build, which tokenises only new texts (a publish, in seconds).
                (building / name / TOKENS_FILE).write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
                counts[name] = len({r.model_dump_json() for r in records})  # an article once, however split
                reused += n_reused
        probe = _scenario_probe(documents, hashes, embedded, inputs, known_probe, encoder)
        if probe is not None:
            probe.save(building)
        words = _scenario_words(documents, hashes, inputs, known_words)
        if words is not None:
            words.save(building)
        reader = _threat_neighbours(corpus, inputs, known_reader, probe.said if probe else {}, encoder)
        if reader is not None:
            reader.save(building)
        with (building / STATUTES_FILE).open("w", encoding="utf-8") as f:
            for article in corpus.book.articles.values():
                f.write(article.model_dump_json() + "\n")
        (building / TAXONOMY_FILE).write_text(corpus.taxonomy.model_dump_json(), encoding="utf-8")
        manifest = {
            "version": version,
            "created": created.isoformat(timespec="seconds"),
            **inputs,
            "counts": counts,
            "embeddings_reused": reused,
            FILES_KEY: seal_files(building),  # every file on disk and checksummed before the manifest
        }
        # The manifest is written last: a directory without one is never loaded.
        write_atomically(building / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False, indent=2))
        building.rename(root / version)
        sync_directory(root)
        set_current(index_dir, version)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        if current_version(index_dir) != version:  # complete but never current: it would only take space
            shutil.rmtree(root / version, ignore_errors=True)
        raise
    return version


def _scenario_probe(
    documents: dict,
    hashes: dict[str, list[str]],
    embedded: dict[str, np.ndarray],
    build_inputs: dict,
    known: ScenarioProbe | None,
    encoder: Encoder,
) -> ScenarioProbe | None:
    """The scenario probe fitted on the sayings (as this build embedded them and as queries) and the
    descriptions; the current version's when they and the code are the same (a publish changes a
    script, not what the probe is fitted on)."""
    said_labels = [e.scenario for e in documents["exemplars"][0]]
    labels = said_labels + [s.id for s in documents["scenarios"][0]]
    model, code = build_inputs["model"]["id"], build_inputs["build_files_sha256"]
    inputs = probe_inputs(model, code, labels, hashes["exemplars"] + hashes["scenarios"])
    if known is not None and known.inputs == inputs:
        return known
    said_texts = [normalize(text) for text in documents["exemplars"][1]]  # as search reads a query
    keys = [_sha256(text) for text in said_texts]
    text_of = dict(zip(keys, said_texts))
    known_said = known.said if known is not None else {}
    said = {k: known_said[k] for k in text_of if k in known_said}
    new = [k for k in text_of if k not in said]
    said.update(zip(new, encoder.encode_said([text_of[k] for k in new])))
    said_vectors = np.array([said[k] for k in keys], dtype=np.float32).reshape(len(keys), encoder.dimension)
    vectors = np.vstack([said_vectors, embedded["exemplars"], embedded["scenarios"]])
    return ScenarioProbe.fit(vectors, said_labels + labels, inputs, said)


def _scenario_words(
    documents: dict, hashes: dict[str, list[str]], build_inputs: dict, known: ScenarioWords | None
) -> ScenarioWords | None:
    """The scenarios' character model fitted on the sayings and the descriptions, as search reads a query;
    the current version's when they and the code are the same."""
    labels = [e.scenario for e in documents["exemplars"][0]] + [s.id for s in documents["scenarios"][0]]
    # no model is read: the inputs are the code and the labelled texts
    inputs = probe_inputs("", build_inputs["build_files_sha256"], labels, hashes["exemplars"] + hashes["scenarios"])
    if known is not None and known.inputs == inputs:
        return known
    texts = [normalize(text) for text in documents["exemplars"][1] + documents["scenarios"][1]]
    return ScenarioWords.fit(texts, labels, inputs)


def _threat_neighbours(
    corpus: Corpus, build_inputs: dict, known: ThreatNeighbours | None, said: dict[str, np.ndarray], encoder: Encoder
) -> ThreatNeighbours | None:
    """The threat reader of the corpus's threats (of violence and of self-harm), look-alikes and the
    sayings, None without threats or look-alikes; the current version's when the lines and the code are
    the same. Vectors of the current version's lines and of the sayings (`said`, the scenario probe's)
    are reused."""
    if not (corpus.threats or corpus.self_harm) or not corpus.threat_look_alikes:
        return None
    sayings = [text for s in corpus.taxonomy.scenarios if s.id not in THREAT_SCENARIOS for text in s.says]
    threats, self_harm, others = authored_lines(corpus.threats, corpus.self_harm, corpus.threat_look_alikes, sayings)
    model, code = build_inputs["model"]["id"], build_inputs["build_files_sha256"]
    inputs = reader_inputs(model, code, threats, self_harm, others)
    if known is not None and known.inputs == inputs:
        return known
    texts = threats + self_harm + others
    keys = [_sha256(text) for text in texts]
    vectors = {**said, **(known.known() if known is not None else {})}
    new = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in vectors]
    vectors.update(zip([k for k, _ in new], encoder.encode_said([t for _, t in new])))
    line = np.arange(len(keys))
    return ThreatNeighbours(
        tuple(keys),
        np.array([vectors[k] for k in keys], dtype=np.float32).reshape(len(keys), encoder.dimension),
        line < len(threats) + len(self_harm),
        (line >= len(threats)) & (line < len(threats) + len(self_harm)),
        inputs,
        ThreatWords.fit(threats + self_harm, others),
    )


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory, across processes; the kernel releases the lock
    of a killed build."""
    with (index_dir / LOCK_FILE).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildFailed(f"another index build is running in {index_dir}: wait until it finishes") from None
        yield


def _remove_unfinished_builds(root: Path) -> None:
    """What a killed build left behind (only ever under the build lock, so no build is running)."""
    for path in root.iterdir():
        if path.name.startswith(BUILDING_PREFIX):
            log.info("removing %s, left by an interrupted build", path.name)
            shutil.rmtree(path, ignore_errors=True)


def _out_of_space(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return "No space left on device" in str(error)  # FAISS reports write errors as RuntimeError


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _files_sha256(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _current(index_dir: Path) -> IndexVersion | None:
    """The current version, its files checked against its manifest; None when there is none
    that loads (a missing or damaged one is built anew, never kept as up to date)."""
    try:
        return IndexVersion.load(index_dir)
    except IndexUnusable as e:
        log.info("no current index version to compare with or reuse: %s", e)
        return None


def _known_tokens(index_dir: Path, current: IndexVersion | None, build_files_sha256: str) -> dict[str, list[str]]:
    """The BM25 tokens of the current version's texts by text hash, when the same build files
    (tokenizer lists and code) made them; {} for a version without them."""
    if current is None or current.manifest.get("build_files_sha256") != build_files_sha256:
        return {}
    known: dict[str, list[str]] = {}
    for name, collection in current.collections.items():
        path = versions_dir(index_dir) / current.name / name / TOKENS_FILE
        try:
            known.update(zip(collection.text_hashes, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            return {}  # tokenised anew: only slower
    return known


def _known_embeddings(current: IndexVersion | None, model_id: str) -> dict[str, np.ndarray]:
    """Embeddings of the current version by text hash, when it was built by the same model:
    a build re-embeds only what changed."""
    if current is None or current.manifest["model"]["id"] != model_id:
        return {}
    known: dict[str, np.ndarray] = {}
    for name in COLLECTIONS:
        known.update(current.collections[name].embeddings())
    return known


def _embed(
    encoder: Encoder, texts: list[str], hashes: list[str], known: dict[str, np.ndarray], advance: Callable[[int], None]
) -> tuple[np.ndarray, int]:
    """Embeddings in the texts' order, and how many were reused. New texts are embedded in
    batches of similar length (less padding)."""
    embeddings = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    new = []
    for i, text_hash in enumerate(hashes):
        if text_hash in known:
            embeddings[i] = known[text_hash]
        else:
            new.append(i)
    new.sort(key=lambda i: len(texts[i]))
    for batch in _batches(new, [len(t) for t in texts]):
        embeddings[batch] = encoder.encode_documents([texts[i] for i in batch], batch_size=len(batch))
        advance(len(batch))
    return embeddings, len(texts) - len(new)


def _batches(positions: list[int], lengths: list[int]) -> Iterator[list[int]]:
    """`positions` (shortest text first) in encoder calls of at most EMBED_BATCH texts and
    EMBED_CHARS characters, counting each text at its longest's length (the call pads to it)."""
    batch: list[int] = []
    for i in positions:
        longest = min(lengths[i], MAX_TEXT_CHARS)
        if batch and (len(batch) == EMBED_BATCH or (len(batch) + 1) * longest > EMBED_CHARS):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch

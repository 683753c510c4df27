"""Shared fixtures: the real model, a real index of the real corpus built once per session."""

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.core.config import REPO_ROOT, Settings
from app.corpus.loader import Corpus, load_corpus
from app.embedding.encoder import Encoder
from app.index.build import build_index
from app.index.store import IndexVersion
from app.search.engine import SearchEngine

CORPUS_DIR = REPO_ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(corpus_dir=CORPUS_DIR, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def encoder(settings) -> Encoder:
    # The model is prepared by `make test` (python -m app model prepare).
    return Encoder(settings)


@pytest.fixture(scope="session")
def index_version(settings, encoder) -> str:
    return build_index(settings.corpus_dir, settings.index_dir, encoder, progress=False)


@pytest.fixture(scope="session")
def engine(settings, encoder, index_version) -> SearchEngine:
    return SearchEngine(IndexVersion.load(settings.index_dir), encoder)


@pytest.fixture(scope="session")
def client(settings, engine):
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client

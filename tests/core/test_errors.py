"""Each error the service's layers raise carries the status the API answers it with; the API maps
them in one handler and the CLI prints them as one line."""

import subprocess
import sys
from http import HTTPStatus

from fastapi.testclient import TestClient

from app.admin.jobs import Busy
from app.api.main import create_app
from app.core.errors import HuashuError
from app.corpus.documents import StorageError
from app.corpus.loader import DanglingReferences, ReplacesArticles
from app.corpus.scripts import ScriptError
from app.corpus.statutes import StatuteError, UnknownStatute
from app.embedding.encoder import ModelNotFound
from app.index.store import IndexNotFound, IndexNotWritable, IndexUnusable, NothingToRollBack
from app.ingest.extract import TooLarge, UnreadableFile, UnsupportedFile


def test_each_error_has_its_status():
    expected = {
        UnknownStatute: 404, IndexNotFound: 404,
        Busy: 409, ReplacesArticles: 409, IndexUnusable: 409, NothingToRollBack: 409,
        ScriptError: 422, StatuteError: 422, DanglingReferences: 422, UnreadableFile: 422,
        TooLarge: 413, UnsupportedFile: 415,
        StorageError: 503, ModelNotFound: 503, IndexNotWritable: 503,
    }
    assert {error: int(error.status) for error in expected} == expected
    assert all(issubclass(error, HuashuError) for error in expected)


def test_the_api_answers_an_error_with_its_status_and_message(settings, engine):
    app = create_app(settings, engine)

    @app.get("/raises")
    def raises():
        raise StorageError("the data directory is read-only: make it writable")

    with TestClient(app) as client:
        response = client.get("/raises")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"detail": "the data directory is read-only: make it writable"}


def test_the_cli_prints_an_error_as_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "app", "index", "use", "no-such-version"],
        capture_output=True, text=True, env={"HUASHU_INDEX_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr

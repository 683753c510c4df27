"""Settings: admin tokens with labels, refused at start-up when malformed, with the remedy."""

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.core.config import REPO_ROOT, Settings


def test_admin_tokens_hold_labelled_tokens_beside_admin_token():
    settings = Settings(admin_token="root-token", admin_tokens=" alice:a-token , bob:b:token ,")
    assert settings.admin_labels() == {"admin": "root-token", "alice": "a-token", "bob": "b:token"}
    assert Settings(admin_tokens="").admin_labels() == {}


@pytest.mark.parametrize(
    "tokens, says",
    [
        ("alice", "is not label:token"),
        ("alice:", "is not label:token"),
        (":secret", "is not label:token"),
        ("al ice:secret", "is not label:token"),
        ("alice:sec ret", "is not label:token"),
        ("alice:one,alice:two", "names 'alice' twice"),
        ("alice:same,bob:same", "share one token"),
        ("admin:other", "label 'admin'"),
    ],
)
def test_malformed_admin_tokens_are_refused_with_the_remedy(tokens, says):
    with pytest.raises(ValidationError) as refused:
        Settings(admin_token="root-token", admin_tokens=tokens)
    assert says in str(refused.value)
    assert "secret" not in str(refused.value) and "same" not in str(refused.value)  # no token in a log


def test_the_service_does_not_start_with_malformed_admin_tokens(tmp_path):
    environment = {**os.environ, "ADMIN_TOKENS": "alice:secret,bob", "HUASHU_INDEX_DIR": str(tmp_path)}
    serve = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", "1"], cwd=REPO_ROOT, env=environment,
        capture_output=True, text=True, timeout=60,
    )
    assert serve.returncode == 1
    assert serve.stderr.startswith("error: ADMIN_TOKENS: 'bob'… is not label:token: write ADMIN_TOKENS as")
    assert "secret" not in serve.stderr and "Traceback" not in serve.stderr


def test_a_database_url_names_postgresql_and_its_password_stays_hidden():
    settings = Settings(database_url="postgres://huashu:s3cret-pw@db.internal:5432/huashu")
    assert settings.database_url.get_secret_value() == "postgresql+psycopg://huashu:s3cret-pw@db.internal:5432/huashu"
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings.database_url)
    assert Settings(database_url="").database_url is None  # unset: SQLite files in the data directory
    for url in ("mysql://huashu:s3cret-pw@db/huashu", "postgresql://huashu:s3cret-pw@db", "not a url"):
        with pytest.raises(ValidationError) as raised:
            Settings(database_url=url)
        assert "HUASHU_DATABASE_URL must name a PostgreSQL database" in str(raised.value)
        assert "s3cret-pw" not in str(raised.value)

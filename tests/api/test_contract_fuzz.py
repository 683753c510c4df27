"""Property-based contract tests: requests generated from the service's own OpenAPI schema (valid
and invalid ones) against the real app with the real model and index. No input may cause a
server error, and every answer must be documented: its status code, content type and body.

Runs are reproducible (derandomized, no example database) and bounded per operation."""

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from app.api.main import create_app
from app.core.config import Settings
from app.index.store import CURRENT_FILE, versions_dir

TOKEN = "contract-fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES_PER_OPERATION = 40
# Left out: positive_data_acceptance (the contract has rules no JSON schema states: a query of
# only spaces, scenario and script ids that must exist) and unsupported_method (Starlette's 405
# lists only the methods of the first route on a path: `Allow: POST` for /v1/admin/documents).
CONTRACT_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]
fuzz_settings = hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# The schema depends on neither the index nor the data: the app that gives it is never started,
# and its data directory (which an app tidies when created) is one of its own.
schema_settings = Settings(admin_token=TOKEN, data_dir=Path(tempfile.gettempdir()) / "huashu-openapi-schema")
schema = schemathesis.openapi.from_dict(create_app(schema_settings).openapi())


@pytest.fixture(scope="module")
def app(settings, engine, index_version, tmp_path_factory):
    """The app on the session's engine with its own copy of the index (a rollback must not touch
    the session's) and its own data directory, admin enabled."""
    index_dir = tmp_path_factory.mktemp("fuzz-index")
    shutil.copytree(versions_dir(settings.index_dir) / index_version, versions_dir(index_dir) / index_version)
    (index_dir / CURRENT_FILE).write_text(index_version + "\n")
    own = settings.model_copy(
        update={"index_dir": index_dir, "data_dir": tmp_path_factory.mktemp("fuzz-data"), "admin_token": TOKEN}
    )
    return create_app(own, engine)


@schema.parametrize()
@fuzz_settings
def test_without_the_admin_token(case, app):
    """Every operation, the re-index included: admin paths answer 401 and start nothing."""
    case.call_and_validate(app=app, checks=CONTRACT_CHECKS)


# A re-index per generated example would rebuild the index over and over; it is covered above.
admin_schema = schema.include(path_regex="^/v1/admin/").exclude(method="POST", path="/v1/admin/reindex")


@admin_schema.parametrize()
@fuzz_settings
def test_with_the_admin_token(case, app):
    case.call_and_validate(app=app, headers=AUTH, checks=CONTRACT_CHECKS)

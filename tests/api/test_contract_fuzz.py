"""Property-based contract tests: requests generated from the service's own OpenAPI schema (valid
and invalid ones, the edge cases of every parameter, methods the schema does not list, sequences
that follow its links) against the real app with the real model and index. Every schemathesis
check runs: no input causes a server error, every answer is documented (status code, content
type, headers, body), what the schema allows is accepted and what it forbids is refused, a 405
names the allowed methods, and the admin token is enforced. `schemathesis.toml` holds the three
exceptions (what an uploaded file holds; a scenario id the loaded taxonomy lacks; a period whose
start is after its end).

Runs are reproducible (derandomized, no example database) and bounded per operation."""

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from app.api.main import create_app
from app.core.config import REPO_ROOT, Settings
from app.index.store import CURRENT_FILE, versions_dir

TOKEN = "contract-fuzz-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES_PER_OPERATION = 40  # fuzzing; the coverage phase adds each parameter's edge cases
fuzz_settings = hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class AppUnderTest:
    """Where the schema sends every request, the checks' own probes included. The app is built on
    the session's index, which does not exist yet when the tests are collected: the `app` fixture
    puts it in, and `renew` builds it anew on an empty data directory."""

    app = None
    renew = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


APP_UNDER_TEST = AppUnderTest()
# The schema depends on neither the index nor the data: the app that gives it is never started,
# and its data directory (which an app tidies when created) is one of its own.
schema_settings = Settings(admin_token=TOKEN, data_dir=Path(tempfile.gettempdir()) / "huashu-openapi-schema")
schema = schemathesis.openapi.from_dict(
    create_app(schema_settings).openapi(), config=SchemathesisConfig.from_path(REPO_ROOT / "schemathesis.toml")
)
schema.app = APP_UNDER_TEST


@pytest.fixture(scope="module", autouse=True)
def app(settings, engine, index_version, tmp_path_factory):
    """The app on the session's engine with its own copy of the index (a rollback must not touch
    the session's) and its own data directory, admin enabled."""
    index_dir = tmp_path_factory.mktemp("fuzz-index")
    shutil.copytree(versions_dir(settings.index_dir) / index_version, versions_dir(index_dir) / index_version)
    (index_dir / CURRENT_FILE).write_text(index_version + "\n")

    def renew() -> None:
        data_dir = tmp_path_factory.mktemp("fuzz-data")
        own = settings.model_copy(update={"index_dir": index_dir, "data_dir": data_dir, "admin_token": TOKEN})
        APP_UNDER_TEST.app = create_app(own, engine)

    APP_UNDER_TEST.renew = renew
    renew()
    yield
    APP_UNDER_TEST.app = APP_UNDER_TEST.renew = None


@schema.parametrize()
@fuzz_settings
def test_without_the_admin_token(case):
    """Every operation, the re-index included: admin paths answer 401 and start nothing."""
    case.call_and_validate()


# With the token, a re-index after the uploads generated here would build a new version each time
# (minutes); it is covered above, and by tests/api/test_admin.py.
without_reindex = schema.exclude(method="POST", path="/v1/admin/reindex")


@without_reindex.include(path_regex="^/v1/admin/").parametrize()
@fuzz_settings
def test_with_the_admin_token(case):
    # A case generated with its headers broken (the token left out) goes as generated: the token
    # added back would turn it into a valid request, and its answer into a false "accepted".
    headers_broken = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    case.call_and_validate(headers=None if headers_broken else AUTH)


class Workflow(without_reindex.as_state_machine()):
    """Sequences of calls along the schema's links (a document uploaded, then deleted), with the
    token: the checks that need a resource's history (use after free, availability, object-level
    authorization) run here."""

    def setup(self):
        # Each sequence starts with no documents, so that hypothesis can replay it as it ran.
        APP_UNDER_TEST.renew()

    def get_call_kwargs(self, case):
        return {"headers": AUTH}


TestWorkflow = Workflow.TestCase
TestWorkflow.settings = hypothesis_settings(fuzz_settings, max_examples=20, stateful_step_count=8)

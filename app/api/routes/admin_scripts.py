"""Admin API: edit scripts in place (drafts, publish, delete, revert) and add scenarios. Every
change is checked against the whole corpus, recorded with who made it (the token's label), and
a publish re-indexes in the background (only what changed is embedded)."""

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from app.admin.jobs import Job
from app.admin.scripts import Change, Cited, NewScenario, Problem, ScriptEditor, ScriptList, ScriptState
from app.api.deps import AdminDep, SettingsDep
from app.api.routes.admin import STORAGE_FAILED, _jobs, rebuild
from app.api.schemas import ValidationErrorOut, error_responses, text

router = APIRouter(prefix="/v1/admin", tags=["admin: scripts"], responses=error_responses(401, 403))
audit = logging.getLogger("huashu.audit")
SCRIPT_ID = r"^[a-z0-9-]+/[a-z0-9-]+$"  # as the corpus schema has it: one '/' between two parts


class ScriptIdConvertor(Convertor):
    """A script id in a path: exactly two parts (`double-refund/step-back`), so that
    /scripts/{id}/publish and /scripts/{id}/draft never read as an id."""

    regex = "[a-z0-9-]+/[a-z0-9-]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("script_id", ScriptIdConvertor())
ScriptId = Annotated[str, Path(pattern=SCRIPT_ID, description="A script id, e.g. `double-refund/step-back`.")]
Revision = Annotated[int, Query(ge=0, description="The revision the change starts from (ScriptState.revision).")]
# A script as the corpus schema has it (corpus/scripts/README.md); checked by the service, which
# answers every problem with its field rather than refusing the body as a whole.
ScriptBody = Annotated[dict, Field(description="A script record: id, title, scenarios, technique, situation, text, "
                                               "notes, citations, channels, source (corpus/scripts/README.md).")]


class EditRefusedOut(ValidationErrorOut):
    problems: list[Problem] = Field(default=[], description="What keeps the script from being stored, each with its field.")
    cited: list[Cited] = Field(default=[], description="Its citations, with their text.")


def edit_errors(*errors: int | tuple[int, str]) -> dict[int | str, dict]:
    """The errors of a route that stores an edit: its 422 lists the problems one by one."""
    refused = "The script has problems (`problems`, each with its field); nothing stored"
    return {**error_responses(*errors, (503, STORAGE_FAILED)), 422: {"model": EditRefusedOut, "description": refused}}


class ScriptIn(BaseModel):
    script: ScriptBody


class ScriptRevisionIn(ScriptIn):
    revision: int = Field(ge=0, description="The revision the draft starts from (ScriptState.revision).")


class RevisionIn(BaseModel):
    revision: int = Field(ge=0, description="The revision published (ScriptState.revision).")


class ValidateIn(ScriptIn):
    new: bool = Field(default=False, description="A new script: its id must not be taken.")


class Validation(BaseModel):
    problems: list[Problem]
    cited: list[Cited]


class Changes(BaseModel):
    changes: list[Change]


def _editor(request: Request) -> ScriptEditor:
    return request.app.state.scripts


@router.get("/scripts", responses=error_responses(422, (503, STORAGE_FAILED)))
def list_scripts(
    request: Request,
    admin: AdminDep,
    scenario: Annotated[text(max_length=100) | None, Query(description="Scripts of this scenario id")] = None,
    q: Annotated[text(max_length=200) | None, Query(description="A substring of id, title, situation or text")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ScriptList:
    """The scripts the next build has, and the new ones still drafts, by id."""
    return _editor(request).summaries(scenario, q, limit, offset)


@router.post("/scripts/validate", responses=error_responses(422, (503, STORAGE_FAILED)))
def validate_script(request: Request, admin: AdminDep, body: ValidateIn) -> Validation:
    """The problems of a script as the corpus is now, each with its field, and its citations with
    their text (for checks while typing). Stores nothing."""
    problems, cited = _editor(request).validate(body.script, body.new)
    return Validation(problems=problems, cited=cited)


@router.get("/scripts/{script_id:script_id}", responses=error_responses((404, "No such script"), (503, STORAGE_FAILED)))
def get_script(script_id: ScriptId, request: Request, admin: AdminDep) -> ScriptState:
    return _editor(request).state(script_id)


@router.post(
    "/scripts/{script_id:script_id}",
    status_code=status.HTTP_201_CREATED,
    responses=edit_errors((409, "The id exists, published or as a draft")),
)
def create_script(script_id: ScriptId, request: Request, admin: AdminDep, body: ScriptIn) -> ScriptState:
    """A new script, saved as a draft (`script.id` must be the path's id)."""
    state = _editor(request).create(script_id, body.script, admin)
    audit.info("%s created a draft of new script %s", admin, script_id)
    return state


@router.put(
    "/scripts/{script_id:script_id}",
    responses=edit_errors((404, "No such script"), (409, "`revision` is not the current one")),
)
def save_script(script_id: ScriptId, request: Request, admin: AdminDep, body: ScriptRevisionIn) -> ScriptState:
    """Save the draft of a script; published only by POST .../publish."""
    state = _editor(request).save(script_id, body.script, body.revision, admin)
    audit.info("%s saved a draft of script %s (revision %d)", admin, script_id, state.revision)
    return state


@router.delete(
    "/scripts/{script_id:script_id}",
    responses=error_responses(
        (404, "No such script"), (409, "`revision` is not the current one, or the script was never published"), 422,
        (503, STORAGE_FAILED),
    ),
)
def delete_script(script_id: ScriptId, request: Request, admin: AdminDep, revision: Revision) -> ScriptState:
    """A draft that removes the script when published."""
    state = _editor(request).delete(script_id, revision)
    audit.info("%s drafted the deletion of script %s", admin, script_id)
    return state


@router.delete(
    "/scripts/{script_id:script_id}/draft",
    responses=error_responses(
        (404, "No such script"), (409, "`revision` is not the current one, or there is no draft"), 422,
        (503, STORAGE_FAILED),
    ),
)
def discard_draft(script_id: ScriptId, request: Request, admin: AdminDep, revision: Revision) -> ScriptState:
    state = _editor(request).discard(script_id, revision)
    audit.info("%s discarded the draft of script %s", admin, script_id)
    return state


@router.post(
    "/scripts/{script_id:script_id}/publish",
    status_code=status.HTTP_202_ACCEPTED,
    responses=edit_errors(
        (404, "No such script"), (409, "`revision` is not the current one, there is no draft, or a re-index is running")
    ),
)
def publish_script(
    script_id: ScriptId, request: Request, admin: AdminDep, settings: SettingsDep, body: RevisionIn
) -> Job:
    """Publish the draft (or the deletion) and re-index in the background: only the changed script
    is embedded. The change is recorded (GET /v1/admin/changes). When the job succeeds, searches
    have it. Should the build fail, the change stays published and the next re-index builds it."""
    changes = []
    job = _jobs(request).start(
        "publish", rebuild(request, settings, small=True),
        before=lambda: changes.append(_editor(request).publish(script_id, body.revision, admin)),
    )
    audit.info("%s published script %s (change %d), job %s", admin, script_id, changes[0].id, job.id)
    return job


@router.get("/changes", responses=error_responses(422, (503, STORAGE_FAILED)))
def list_changes(
    request: Request,
    admin: AdminDep,
    target: Annotated[text(max_length=100) | None, Query(description="A script or scenario id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Changes:
    """What was published, reverted and added, newest first."""
    return Changes(changes=_editor(request).changes(target, limit))


@router.post(
    "/changes/{change_id}/revert",
    status_code=status.HTTP_202_ACCEPTED,
    responses=edit_errors((404, "No such change"), (409, "An added scenario (not removed), or a re-index is running")),
)
def revert_change(
    change_id: Annotated[int, Path(ge=1, le=2**62)], request: Request, admin: AdminDep, settings: SettingsDep
) -> Job:
    """Publish what the change replaced (its `before`), recorded as a change of its own, and re-index."""
    changes = []
    job = _jobs(request).start(
        "publish", rebuild(request, settings, small=True), before=lambda: changes.append(_editor(request).revert(change_id, admin))
    )
    audit.info("%s reverted change %d (change %d), job %s", admin, change_id, changes[0].id, job.id)
    return job


@router.post(
    "/scenarios",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses((409, "The id is taken"), (422, "A bad id or an unknown group"), (503, STORAGE_FAILED)),
)
def add_scenario(request: Request, admin: AdminDep, body: NewScenario) -> NewScenario:
    """A new scenario: scripts can use it at once; it joins the index at the next publish or re-index."""
    _editor(request).add_scenario(body, admin)
    audit.info("%s added scenario %s", admin, body.id)
    return body

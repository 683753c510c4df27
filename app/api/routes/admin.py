"""Admin API: upload material, re-index in the background, roll back. Every path needs the
admin token (see deps.require_admin); every action is logged with who, what and when."""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile, status
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

from app.admin.jobs import Job, JobRunner, Progress
from app.admin.uploads import add_document, remove_document
from app.api.deps import AdminDep, SettingsDep
from app.api.schemas import error_responses, text
from app.corpus.documents import DocumentStore, Kind, StoredDocument
from app.index.build import Built, build_in_child, build_small_in_process
from app.index.operations import use_version
from app.index.store import current_version, list_versions
from app.ingest.extract import SUPPORTED, Limits

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=error_responses(401, 403))
audit = logging.getLogger("huashu.audit")
STORAGE_FAILED = "The data directory cannot be read or written"
# The file part's name ends in an accepted extension, in any case (415 otherwise): stated in the
# schema where OpenAPI describes a multipart part's headers.
_EXTENSIONS = "|".join("".join(f"[{c}{c.upper()}]" for c in suffix.lstrip(".")) for suffix in SUPPORTED)
UPLOAD_NAME = {
    "requestBody": {"content": {"multipart/form-data": {"encoding": {"file": {"headers": {"Content-Disposition": {
        "description": f"The file's name ends in {', '.join(SUPPORTED)}, which tells its type",
        "schema": {
            "type": "string",
            "pattern": rf'filename="[^"]*[^"/]\.({_EXTENSIONS})"',  # something before the dot, as for a suffix
            "example": 'form-data; name="file"; filename="handout.txt"',
        },
    }}}}}}}
}


def _true_or_false(value: object) -> object:
    # A form field is text: only the two spellings of the schema's boolean, not pydantic's "yes" or "1".
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("send true or false")
    return value


# An empty form field counts as not sent (FastAPI's forms), so the schema allows it too.
FormFlag = Annotated[
    bool, BeforeValidator(_true_or_false), WithJsonSchema({"anyOf": [{"type": "boolean"}, {"const": ""}]})
]


class UploadResult(BaseModel):
    document: StoredDocument
    created: bool
    replaces: list[str] = Field(
        default=[], description="Articles already in the corpus that this statute upload replaces (law and article)."
    )


class VersionsOut(BaseModel):
    current: str | None
    versions: list[str]


class RollbackRequest(BaseModel):
    version: text(max_length=100) | None = Field(default=None, description="Default: the one before the current.")


def _store(request: Request) -> DocumentStore:
    return request.app.state.documents


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_NAME,
    responses={
        200: {"model": UploadResult, "description": "The same content was already stored"},
        **error_responses(
            400, (413, "Request body too large, or its content unpacks past a limit"), 415,
            (409, "A statute upload would replace articles already in the corpus, without `replace`"),
            (422, "Unreadable file, bad records, or records the corpus cannot build with (script id taken, "
                  "unknown scenario, citation or successor naming no article)"),
            (503, STORAGE_FAILED),
        ),
    },
)
def upload_document(
    request: Request,
    response: Response,
    admin: AdminDep,
    settings: SettingsDep,
    file: UploadFile = File(description=".txt, .md, .jsonl (scripts or statutes in the corpus schema), .docx or .pdf"),
    kind: Kind = Form(),
    replace: Annotated[
        FormFlag,
        Form(
            description="Statutes only: the upload may replace articles already in the corpus (same law and "
            "number); `true` or `false`, empty for false.",
        ),
    ] = False,
) -> UploadResult:
    """Store one document for the next index build, once the corpus builds with it. The same
    content again returns the stored document (200, `created: false`). Runs in the thread pool:
    parsing a PDF must not hold up searches."""
    content = file.file.read()
    document, created, replaces = add_document(
        _store(request), settings.corpus_dir, file.filename or "upload", kind, content, Limits.of(settings), replace,
        request.app.state.scripts.edits(),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    audit.info(
        "%s uploaded %s document %s (%s, %d bytes, new=%s)%s", admin, kind, document.id, document.filename,
        len(content), created, f", replacing {', '.join(replaces)}" if replaces else "",
    )
    return UploadResult(document=document, created=created, replaces=replaces)


@router.get("/documents", responses=error_responses((503, STORAGE_FAILED)))
def list_documents(request: Request, admin: AdminDep) -> list[StoredDocument]:
    return _store(request).list()


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        (404, "No such document"),
        (409, "Other material needs the document: scripts cite its articles, or articles name them as successor"),
        422, (503, STORAGE_FAILED),
    ),
)
def delete_document(document_id: str, request: Request, admin: AdminDep, settings: SettingsDep) -> None:
    """Remove a document: the next index build no longer has it. Refused while other material
    needs it (the answer names what)."""
    removed = remove_document(_store(request), settings.corpus_dir, document_id, request.app.state.scripts.edits())
    if not removed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id!r}")
    audit.info("%s deleted document %s", admin, document_id)


class Who(BaseModel):
    label: str = Field(description="The label of the admin token (ADMIN_TOKEN's is `admin`).")


@router.get("/whoami")
def whoami(admin: AdminDep) -> Who:
    """Who the token belongs to: also a cheap check that it is right."""
    return Who(label=admin)


@router.post(
    "/reindex", status_code=status.HTTP_202_ACCEPTED, responses=error_responses((409, "A re-index is running"))
)
def reindex(request: Request, admin: AdminDep, settings: SettingsDep) -> Job:
    """Build a new index version in the background, in a process of its own; searches keep using
    the current one until the atomic switch. When the current version was built from the same
    corpus, uploads, model and build files, nothing is built: the job succeeds with `up_to_date`
    and the current version. Follow it at GET /v1/admin/jobs/{id}."""
    job = _jobs(request).start("reindex", rebuild(request, settings))
    audit.info("%s started re-index job %s", admin, job.id)
    return job


def rebuild(request: Request, settings: SettingsDep, small: bool = False) -> Callable[[Progress], Built]:
    """The work of a re-index or a publish: a new version from the corpus, the uploads and the
    published edits as they are when the job runs, then this process switches to it. A `small`
    change (a publish) is built with the encoder this process has loaded when it embeds only a
    few texts (build_small_in_process); anything else in a process of its own."""
    live, store, editor = request.app.state.live, _store(request), request.app.state.scripts

    def work(progress: Progress) -> Built:
        engine = live.engine
        if small and engine is not None:
            built = build_small_in_process(settings, store, progress, editor.edits(), engine.encoder)
        else:
            built = build_in_child(settings, store, progress, editor.edits())
        live.refresh()  # searchable once the job says so, not a poll later
        return built

    return work


@router.get("/jobs/{job_id}", responses=error_responses((404, "No such job"), 422))
def get_job(job_id: str, request: Request, admin: AdminDep) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r}")
    return job


@router.get("/versions")
def versions(admin: AdminDep, settings: SettingsDep) -> VersionsOut:
    return VersionsOut(current=current_version(settings.index_dir), versions=list_versions(settings.index_dir))


@router.post(
    "/rollback",
    responses=error_responses(
        (404, "No such index version"),
        (409, "No current version to roll back from or none earlier, or the version is damaged or another model's"),
        400, 413, 422, (503, "The index directory cannot be written here (read-only or full)"),
    ),
)
def rollback(request: Request, admin: AdminDep, settings: SettingsDep, body: RollbackRequest | None = None) -> VersionsOut:
    """Make an earlier version current (by default the one before the current), once it is
    checked intact and built by the service's model."""
    target = use_version(settings, body and body.version)
    request.app.state.live.refresh()
    audit.info("%s rolled back to index version %s", admin, target)
    return VersionsOut(current=target, versions=list_versions(settings.index_dir))

"""Background jobs of the admin API: one re-index at a time, its progress and outcome."""

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from app.core.errors import Conflict
from app.core.metrics import INDEX_BUILD_SECONDS
from app.index.build import Built, ChildFailed

State = Literal["queued", "running", "succeeded", "failed"]
log = logging.getLogger("huashu.jobs")


class Job(BaseModel):
    id: str
    kind: str
    state: State = "queued"
    done: int = 0
    total: int = 0
    version: str | None = None
    up_to_date: bool = Field(
        default=False,
        description="The current version was already built from the same corpus, uploads, model and tokenizer "
        "files: nothing was built, and `version` is the current one.",
    )
    error: str | None = None
    created: str
    finished: str | None = None


class Busy(Conflict):
    pass


def describe(error: Exception) -> str:
    """What a failed job reports: the kind of error and its message."""
    return str(error) if isinstance(error, ChildFailed) else f"{type(error).__name__}: {error}"


Progress = Callable[[int, int], None]


class JobRunner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, kind: str, work: Callable[[Progress], Built], before: Callable[[], None] | None = None) -> Job:
        """Run `work(progress)` in a thread; it returns the version it built or found up to date.
        Busy while one runs. `before()` runs first, only when the job can start: the change a job
        builds (a publish) is made only when it will be built; raising refuses the job."""
        with self._lock:
            if any(j.state in ("queued", "running") for j in self._jobs.values()):
                raise Busy("a re-index is already running: wait until its job ends, then try again")
            if before:
                before()
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, created=_now())
            self._jobs[job.id] = job
        # The job runs in the caller's context: its log lines carry the id of the request that started it.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._run, job, work), name=f"job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job, work: Callable[[Progress], Built]) -> None:
        job.state = "running"
        started_at = time.perf_counter()
        fields = {"job_id": job.id, "job_kind": job.kind}
        log.info("job %s (%s) started", job.id, job.kind, extra=fields)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        built, error = None, None
        try:
            built = work(progress)
        except Exception as e:  # the job reports any failure; the current version keeps serving
            error = describe(e)
        seconds = time.perf_counter() - started_at
        outcome: State = "failed" if error else "succeeded"
        INDEX_BUILD_SECONDS.labels(kind=job.kind, outcome=outcome).observe(seconds)
        done = built and (f"made version {built.version}" if built.new else f"version {built.version} is up to date")
        log.log(
            logging.ERROR if error else logging.INFO, "job %s (%s) %s in %.1f s: %s", job.id, job.kind, outcome,
            seconds, error or done,
            extra={**fields, "index_version": built and built.version, "duration_ms": round(seconds * 1000, 1)},
        )
        if built:
            job.version, job.up_to_date = built.version, not built.new
        job.error, job.finished = error, _now()
        job.state = outcome  # last: whoever waits for the state finds everything else recorded


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

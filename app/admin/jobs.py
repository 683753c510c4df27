"""Background jobs of the admin API: one re-index at a time, its progress and outcome.

Jobs are kept in the `admin` database (app/store/database.py), so every process sharing it
answers a job's status, and "one at a time" holds across them. The process running a job writes
its progress (at most once a second) and a heartbeat; a job whose heartbeat stopped (its process
died) is reported failed and no longer blocks a new one."""

import contextvars
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Connection, delete, insert, select, update

from app.core.errors import Conflict, HuashuError
from app.core.metrics import INDEX_BUILD_SECONDS
from app.index.build import Built, ChildFailed
from app.store.database import Database
from app.store.tables import jobs

State = Literal["queued", "running", "succeeded", "failed"]
ACTIVE = ("queued", "running")
log = logging.getLogger("huashu.jobs")
# A running job's process says it is alive this often; silent for STALE_SECONDS, it is taken for
# dead (killed, or its machine stopped): long enough for a busy database or a paused process.
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0
PROGRESS_SECONDS = 1.0  # progress is written at most this often


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
    def __init__(
        self, db: Database, heartbeat_seconds: float = HEARTBEAT_SECONDS, stale_seconds: float = STALE_SECONDS
    ) -> None:
        self.db = db
        self.heartbeat_seconds, self.stale_seconds = heartbeat_seconds, stale_seconds

    def get(self, job_id: str) -> Job | None:
        if "\x00" in job_id:  # no job's id has one (and PostgreSQL's text cannot hold it)
            return None
        with self.db.transaction() as db:
            self._fail_stale(db, jobs.c.id == job_id)
            row = db.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return row and _job(row)

    def start(self, kind: str, work: Callable[[Progress], Built], before: Callable[[], None] | None = None) -> Job:
        """Run `work(progress)` in a thread; it returns the version it built or found up to date.
        Busy while one runs, here or in any process sharing the database. `before()` runs first,
        only when the job can start: the change a job builds (a publish) is made only when it will
        be built; raising refuses the job."""
        job = Job(id=uuid.uuid4().hex[:12], kind=kind, created=_now())
        with self.db.transaction(lock="jobs") as db:
            self._fail_stale(db, jobs.c.state.in_(ACTIVE))
            if db.execute(select(jobs.c.id).where(jobs.c.state.in_(ACTIVE)).limit(1)).first():
                raise Busy("a re-index is already running: wait until its job ends, then try again")
            # Claimed: from here on every process sees a job running.
            db.execute(insert(jobs).values(**job.model_dump(), heartbeat=time.time()))
        if before:
            try:
                before()
            except BaseException:
                with self.db.transaction() as db:
                    db.execute(delete(jobs).where(jobs.c.id == job.id))
                raise
        # The job runs in the caller's context: its log lines carry the id of the request that started it.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._run, job, work), name=f"job-{job.id}", daemon=True).start()
        return job

    def _fail_stale(self, db: Connection, which) -> None:
        """Jobs whose process stopped saying it runs them: failed, with why."""
        db.execute(
            update(jobs)
            .where(which, jobs.c.state.in_(ACTIVE), jobs.c.heartbeat < time.time() - self.stale_seconds)
            .values(
                state="failed", finished=_now(),
                error=f"the server stopped while this job ran (no sign of it for {self.stale_seconds:.0f} s): "
                "start it again",
            )
        )

    def _write(self, job: Job, *fields: str) -> None:
        """Store the job's `fields` with a heartbeat, unless it was judged dead meanwhile."""
        values = {name: getattr(job, name) for name in fields}
        with self.db.transaction() as db:
            still_active = update(jobs).where(jobs.c.id == job.id, jobs.c.state.in_(ACTIVE))
            db.execute(still_active.values(**values, heartbeat=time.time()))

    def _write_logged(self, job: Job, *fields: str) -> None:
        try:
            self._write(job, *fields)
        except HuashuError as e:  # the database is away for a moment: the job goes on, the next write says more
            log.warning("cannot record the progress of job %s: %s", job.id, e)

    def _run(self, job: Job, work: Callable[[Progress], Built]) -> None:
        job.state = "running"
        self._write_logged(job, "state")
        started_at = time.perf_counter()
        fields = {"job_id": job.id, "job_kind": job.kind}
        log.info("job %s (%s) started", job.id, job.kind, extra=fields)
        ended = threading.Event()
        written = [time.monotonic()]

        def heartbeat() -> None:
            while not ended.wait(self.heartbeat_seconds):
                self._write_logged(job)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total
            if time.monotonic() - written[0] >= PROGRESS_SECONDS or done == total:
                written[0] = time.monotonic()
                self._write_logged(job, "done", "total")

        beating = threading.Thread(target=heartbeat, name=f"job-{job.id}-heartbeat", daemon=True)
        beating.start()
        built, error = None, None
        try:
            built = work(progress)
        except Exception as e:  # the job reports any failure; the current version keeps serving
            error = describe(e)
        ended.set()
        beating.join()
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
        job.error, job.finished, job.state = error, _now(), outcome
        try:
            # One statement: whoever reads the state finds everything else recorded.
            self._write(job, "state", "done", "total", "version", "up_to_date", "error", "finished")
        except HuashuError as e:
            log.error("cannot record the end of job %s (%s): %s", job.id, outcome, e)


def _job(row) -> Job:
    values = row._asdict()
    values.pop("heartbeat")
    return Job(**values)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

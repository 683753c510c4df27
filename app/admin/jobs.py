"""Background jobs of the admin API: one re-index at a time, its progress and outcome."""

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel

State = Literal["queued", "running", "succeeded", "failed"]


class Job(BaseModel):
    id: str
    kind: str
    state: State = "queued"
    done: int = 0
    total: int = 0
    version: str | None = None
    error: str | None = None
    created: str
    finished: str | None = None


class Busy(RuntimeError):
    pass


Progress = Callable[[int, int], None]


class JobRunner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, kind: str, work: Callable[[Progress], str]) -> Job:
        """Run `work(progress)` in a thread; it returns the version it made. Busy while one runs."""
        with self._lock:
            if any(j.state in ("queued", "running") for j in self._jobs.values()):
                raise Busy("a re-index is already running")
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, created=_now())
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, work), name=f"job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job, work: Callable[[Progress], str]) -> None:
        job.state = "running"

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.version = work(progress)
            job.state = "succeeded"
        except Exception as e:  # the job reports any failure; the current version keeps serving
            job.error = f"{type(e).__name__}: {e}"
            job.state = "failed"
        finally:
            job.finished = _now()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

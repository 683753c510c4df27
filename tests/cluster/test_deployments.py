"""An ingress replica's own index directory: new for each replica, and what replicas that died
without cleaning up left behind is removed."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from app.cluster.deployments import REPLICA_DIR_PREFIX, replica_index_dir


def test_a_replica_gets_a_directory_of_its_own_and_dead_replicas_leave_none(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{REPLICA_DIR_PREFIX}{finished.stdout.strip()}-abc"
    (dead / "versions").mkdir(parents=True)
    alive = tmp_path / f"{REPLICA_DIR_PREFIX}{os.getppid()}-def"
    alive.mkdir()
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()

    first, second = replica_index_dir(), replica_index_dir()
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.startswith(f"{REPLICA_DIR_PREFIX}{os.getpid()}-")
    assert not dead.exists()
    assert alive.exists() and unrelated.exists()
    assert Path(first).parent == tmp_path

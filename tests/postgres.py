"""A real PostgreSQL server for the tests: Debian's `postgresql` package (installed by .ci/run),
started in a temporary directory on a free 127.0.0.1 port with a password, one database per
test. PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user."""

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.conftest import free_port

PASSWORD = "huashu-test-password"
SERVER_USER = "postgres"
_databases = itertools.count(1)


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl: Debian's newest, else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Server:
    def __init__(self, port: int, socket_dir: Path):
        self.port, self.socket_dir = port, socket_dir

    def url(self, database: str, password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{SERVER_USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"huashu_test_{next(_databases)}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVER_USER, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[Server]:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH): the store tests need "
            "a real server; install Debian's postgresql package (apt-get install -y postgresql)"
        )
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", SERVER_USER, "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="huashu-pg-"))
    data, sockets, password_file = root / "data", root / "sockets", root / "password"
    sockets.mkdir()
    password_file.write_text(PASSWORD + "\n")
    if as_root:
        shutil.chown(root, SERVER_USER)
        for path in (sockets, password_file):
            shutil.chown(path, SERVER_USER)
    port = free_port()

    def run(*command: str) -> None:
        result = subprocess.run([*run_as, *command], capture_output=True, text=True, timeout=120)
        if result.returncode:
            pytest.fail(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    # Local (socket) connections are trusted, for the tests' own set-up; TCP needs the password,
    # as the service's URL gives it.
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", SERVER_USER, "--auth-local=trust",
        "--auth-host=scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8", "--locale=C.UTF-8")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    try:
        yield Server(port, sockets)
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)

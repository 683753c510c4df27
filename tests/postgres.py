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
    """One server: its own directory, port and socket directory."""

    def __init__(self, bin_dir: Path, root: Path, port: int, run_as: list[str]):
        self.bin_dir, self.root, self.port, self.run_as = bin_dir, root, port, run_as
        self.data, self.socket_dir = root / "data", root / "sockets"

    def url(self, database: str, password: str = PASSWORD) -> str:
        return f"postgresql+psycopg://{SERVER_USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"huashu_test_{next(_databases)}"
        with psycopg.connect(host=str(self.socket_dir), port=self.port, user=SERVER_USER, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        """As a crash or a power cut would: at once, without waiting for clients."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode:
            pytest.fail(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


@contextmanager
def postgres_server() -> Iterator[Server]:
    bin_dir = binaries()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH): the store tests need "
            "a real server; install Debian's postgresql package (apt-get install -y postgresql)"
        )
    as_root = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="huashu-pg-"))
    server = Server(bin_dir, root, free_port(), ["runuser", "-u", SERVER_USER, "--"] if as_root else [])
    server.socket_dir.mkdir()
    password_file = root / "password"
    password_file.write_text(PASSWORD + "\n")
    if as_root:
        for path in (root, server.socket_dir, password_file):
            shutil.chown(path, SERVER_USER)
    # Local (socket) connections are trusted, for the tests' own set-up; TCP needs the password,
    # as the service's URL gives it.
    server._run("initdb", "-D", str(server.data), "-U", SERVER_USER, "--auth-local=trust",
                "--auth-host=scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8", "--locale=C.UTF-8")
    server.start()
    try:
        yield server
    finally:
        subprocess.run([*server.run_as, str(bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)

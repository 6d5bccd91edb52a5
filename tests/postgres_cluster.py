"""A throwaway PostgreSQL server for the tests: `initdb` + `pg_ctl` on a free 127.0.0.1 port.

Debian's `postgresql` package installs the server binaries outside PATH and root may not run
`initdb`, so the cluster runs as the `postgres` user when the tests run as root.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
MIGRATED = "photo_talk_migrated"  # the template every test database is copied from


def find_bin_dir() -> Path | None:
    """The folder holding initdb/pg_ctl/psql (PATH first, then Debian's versioned folders)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # symlinks on PATH lead to the real folder
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """One server for a whole test session; each test gets a database of its own."""

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self._as_postgres = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="photo-talk-pg-"))
        self.port = _free_port()
        self._names = itertools.count(1)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> PostgresCluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run(
            str(self._bin / "initdb"),
            "-D", str(data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )  # fmt: skip
        # fsync off: a crash loses nothing a test cares about, and every commit is much faster.
        options = f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self._bin / "pg_ctl"),
            "-D", str(data),
            "-o", options,
            "-l", str(self.root / "server.log"),
            "-w",
            "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop",
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql as the superuser; its output."""
        done = self._run(
            str(self._bin / "psql"),
            "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database,
            "-v", "ON_ERROR_STOP=1", "-At", "-c", statement,
        )  # fmt: skip
        return done.stdout

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, *, template: str | None = None, name: str | None = None) -> str:
        """A new, empty (or copied from `template`) database; its URL."""
        name = name or f"test_{next(self._names)}"
        copy = f" TEMPLATE {template}" if template else ""
        self.sql(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def migrated_database(self) -> str:
        """A fresh copy of the migrated template: much faster than running Alembic again."""
        return self.create_database(template=MIGRATED)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

"""A fake Hugging Face Hub on 127.0.0.1: the API and `resolve` endpoints the hub client
calls, serving local folders as model repositories. Point HF_ENDPOINT at `endpoint` in a
subprocess, and `from_pretrained` downloads into its HF_HOME exactly as it would from the
real hub (blobs, snapshots, refs, the tree listing).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

COMMIT = "3f1e5ab2c4d6e8f00112233445566778899aabbc"  # every repo's one commit


def _blob_id(data: bytes) -> str:
    """Git's blob id, as the hub reports a file's `oid`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """`with FakeHub() as hub: hub.add("org/name", folder)`; `requests` lists what was asked.

    `slow(repo_id, path)`: that file's download starts and then trickles, one byte at a
    time, until the hub stops (a first start on a slow network, interrupted).
    """

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.requests: list[str] = []
        self.trickling = threading.Event()  # set once a slow download has begun
        self._slow: set[tuple[str, str]] = set()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def add(self, repo_id: str, folder: Path) -> None:
        self.repos[repo_id] = {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }

    def slow(self, repo_id: str, path: str) -> None:
        self._slow.add((repo_id, path))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    # --- what the endpoints answer -----------------------------------------------------------

    def model_info(self, repo_id: str) -> dict[str, Any]:
        files = self.repos[repo_id]
        return {
            "id": repo_id,
            "modelId": repo_id,
            "sha": COMMIT,
            "private": False,
            "gated": False,
            "disabled": False,
            "siblings": [{"rfilename": path} for path in files],
        }

    def tree(self, repo_id: str, under: str) -> list[dict[str, Any]]:
        return [
            {"type": "file", "oid": _blob_id(data), "size": len(data), "path": path}
            for path, data in self.repos[repo_id].items()
            if path.startswith(under)
        ]

    def is_slow(self, repo_id: str, path: str) -> bool:
        return (repo_id, path) in self._slow

    def wait_closing(self, seconds: float) -> bool:
        """Wait up to `seconds`; whether the hub is stopping."""
        return self._closing.wait(seconds)


_INFO = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/[^/]+)?")
_TREE = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)/tree/[^/]+/?(?P<under>.*)")
_RESOLVE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/resolve/[^/]+/(?P<path>.+)")


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            if (found := _TREE.fullmatch(path)) and found["repo"] in hub.repos:
                self._json(hub.tree(found["repo"], found["under"]))
            elif (found := _INFO.fullmatch(path)) and found["repo"] in hub.repos:
                self._json(hub.model_info(found["repo"]))
            elif (found := _RESOLVE.fullmatch(path)) and found["repo"] in hub.repos:
                self._file(found["repo"], found["path"])
            else:
                self._error(404, "RepoNotFound", "Repository not found")

        def _json(self, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(data)

        def _error(self, status: int, code: str, message: str) -> None:
            data = json.dumps({"error": message}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(data)

        def _file(self, repo_id: str, name: str) -> None:
            data = hub.repos[repo_id].get(name)
            if data is None:
                self._error(404, "EntryNotFound", f"{name} does not exist")
                return
            self.send_response(200)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{_blob_id(data)}"')
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if self.command != "GET":
                return
            if not hub.is_slow(repo_id, name):
                self.wfile.write(data)
                return
            hub.trickling.set()
            self.close_connection = True
            for byte in data:
                if hub.wait_closing(0.5):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client went away
                    return

    return Handler

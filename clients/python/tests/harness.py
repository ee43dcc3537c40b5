"""Runs real `peerscope testnet` and `peerscope serve` processes on 127.0.0.1 for the tests.

Every wait is bounded, and every process is stopped (SIGTERM, then SIGKILL) by its owner,
even when a test fails.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional


def peerscope_bin() -> str:
    """The server binary: `$PEERSCOPE_BIN` (required; clients/run-tests.sh sets it)."""
    path = os.environ.get("PEERSCOPE_BIN")
    if not path:
        raise RuntimeError(
            "set PEERSCOPE_BIN to a peerscope binary (e.g. target/release/peerscope), "
            "or run the tests through clients/run-tests.sh"
        )
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"PEERSCOPE_BIN={path} is not an executable file")
    return path


_serve_flags: Optional[str] = None


def _serve_supports(flag: str) -> bool:
    """Whether `peerscope serve` of this binary has `flag` (newer servers add listeners,
    e.g. --http-addr, whose fixed default port would clash between two test servers)."""
    global _serve_flags
    if _serve_flags is None:
        out = subprocess.run(
            [peerscope_bin(), "serve", "--help"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
        _serve_flags = out.stdout
    return flag in _serve_flags


def _die_with_parent(args: List[str]) -> List[str]:
    # Where util-linux's setpriv exists, the child gets SIGTERM if the test process dies
    # (a safety net only: fixtures stop their processes themselves).
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *args] if setpriv else args


class Proc:
    """A child process whose stdout lines are collected by a thread and whose stderr goes to
    a log file."""

    def __init__(self, args: List[str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            _die_with_parent(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def wait_for_line(self, pred: Callable[[str], bool], timeout: float) -> str:
        """The first stdout line for which `pred` holds; fails after `timeout` seconds or
        when the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.args[:2]} printed no expected line in {timeout}s; {self.log_tail()}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    f"{self.args[:2]} exited with {self.proc.wait()} before the expected line; {self.log_tail()}"
                )
            if pred(line):
                return line

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = self.log_path.read_text("utf-8", "replace").splitlines()[-n:]
        except OSError:
            return "(no log)"
        return f"last log lines of {self.log_path}:\n" + "\n".join(lines)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        return self.proc.returncode


class Testnet:
    """`peerscope testnet --nodes N --json`: N discv5+libp2p nodes on 127.0.0.1."""

    def __init__(self, nodes: int, workdir: Path, start_timeout: float = 60.0) -> None:
        # --duration is a safety net: the fixture stops it long before.
        self.proc = Proc(
            [peerscope_bin(), "testnet", "--nodes", str(nodes), "--json", "--duration", "1200"],
            workdir / f"testnet-{nodes}.log",
        )
        try:
            line = self.proc.wait_for_line(lambda l: l.startswith("{"), start_timeout)
            self.info = json.loads(line)
        except BaseException:
            self.proc.stop()
            raise
        self.bootstrap_enrs: List[str] = self.info["bootstrap_enrs"]
        self.nodes: List[dict] = self.info["nodes"]
        self.by_node_id = {n["node_id"]: n for n in self.nodes}

    def stop(self) -> None:
        self.proc.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`peerscope serve` on 127.0.0.1 with its own data dir; `address` is `host:port`."""

    PREFIX = "grpc listening on "

    def __init__(self, data_dir: Path, log_path: Path, port: int = 0, start_timeout: float = 30.0) -> None:
        self.data_dir = data_dir
        self.proc = Proc(
            [
                peerscope_bin(),
                "serve",
                "--data-dir",
                str(data_dir),
                "--grpc-addr",
                f"127.0.0.1:{port}",
                "--discv5-addr",
                "127.0.0.1:0",
                "--shutdown-grace-secs",
                "5",
                *(["--http-addr", "127.0.0.1:0"] if _serve_supports("--http-addr") else []),
            ],
            log_path,
        )
        try:
            line = self.proc.wait_for_line(lambda l: l.startswith(self.PREFIX), start_timeout)
        except BaseException:
            self.proc.stop()
            raise
        self.address = line[len(self.PREFIX) :].strip()

    def stop(self) -> int:
        return self.proc.stop()

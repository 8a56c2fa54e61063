"""Run code a user wrote in a child process: a clean environment, resource limits, a wall-clock timeout, stop
requests, output read line by line, and, on request, no network.

This is process isolation, not a full sandbox: the child runs as the worker's operating-system user and can read
the files that user can read (including unix sockets such as an embedded Redis's). What it cannot do is see the
studio's environment variables (database URL, secret key, cloud keys), use more than its memory or CPU time, run
past its timeout, outlive a stop request, or (with `network=False`) open any IP connection.

How each guarantee is made:

- Environment: the child gets `clean_env()`, a few variables written here, never a copy of `os.environ`.
- Memory: RLIMIT_DATA (heap and private anonymous mappings, what Python and numpy allocate), per process. RLIMIT_AS
  is not used: it counts address space that is only reserved (thread stacks, CUDA, allocator arenas) and makes
  torch fail at import. A child's own children each get the same limit; cgroups would cap them together, but need
  privileges a worker usually lacks.
- CPU: RLIMIT_CPU, soft limit → SIGXCPU, hard limit five seconds later → SIGKILL.
- Time and stop: the child leads a new process group; the group gets SIGTERM, then SIGKILL after a grace period.
  A child that starts its own session escapes the group (documented limit).
- Network: `unshare` (util-linux) puts the child in new user and network namespaces: only a loopback interface,
  down, so no TCP/UDP connection and no DNS. A user namespace is required even when the worker runs as root: a
  root process in a plain new network namespace keeps CAP_SYS_ADMIN and can `setns()` back into the host's.
  Where user namespaces are not allowed (most Docker containers without extra privileges, Ubuntu 24.04's AppArmor
  restriction for normal users) isolation is reported as unavailable rather than silently skipped.

The limits are applied by a tiny Python launcher that sets them and then `exec`s the real command, so no
`preexec_fn` runs in the (possibly multi-threaded) worker.
"""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Variables that choose hardware, never ones that carry secrets, are the only ones a child inherits.
PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "TZ")
MAX_LINE_CHARS = 2000
STDERR_TAIL_LINES = 200

_LAUNCHER = (
    "import os, resource, sys\n"
    "memory, cpu = int(sys.argv[1]), int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "if memory > 0:\n"
    "    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))\n"
    "if cpu > 0:\n"
    "    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)
_PROBE = (
    "import socket, sys\n"
    "names = sorted(name for _, name in socket.if_nameindex())\n"
    "sys.exit(0 if names == ['lo'] else 3)\n"
)


class SandboxUnavailable(Exception):
    """The isolation asked for cannot be provided on this host; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_env(*, home: Path | str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for a child: PATH, HOME, a UTF-8 locale, hardware selection, then `extra`."""
    env = {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8"}
    env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
    env.update(extra or {})
    return env


def _unshare() -> str | None:
    found = shutil.which("unshare")
    if found:
        return found
    return next((path for path in ("/usr/bin/unshare", "/bin/unshare") if os.access(path, os.X_OK)), None)


@functools.lru_cache(maxsize=1)
def _network_isolation() -> tuple[tuple[str, ...] | None, str]:
    """The command prefix that takes the network away, checked once per process, or None and why not."""
    unshare = _unshare()
    if unshare is None:
        return None, "the unshare command (util-linux) is not installed"
    reason = ""
    # --map-current-user keeps the uid the script sees; older util-linux (< 2.38) only has --map-root-user.
    for flags in (("--map-current-user", "--net"), ("--map-root-user", "--net")):
        prefix = (unshare, *flags, "--")
        try:
            probe = subprocess.run([*prefix, sys.executable, "-I", "-S", "-c", _PROBE], capture_output=True,
                                   text=True, timeout=20, env=clean_env(home="/"), cwd="/")
        except (OSError, subprocess.TimeoutExpired) as error:
            reason = str(error)
            continue
        if probe.returncode == 0:
            return prefix, ""
        lines = probe.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"the check found interfaces other than loopback ({probe.returncode})"
    return None, reason


def network_isolation_available() -> bool:
    """True when children can be started with no network on this host (checked once, then remembered)."""
    return _network_isolation()[0] is not None


def network_isolation_problem() -> str | None:
    """Why children cannot be started without network here, or None when they can."""
    prefix, reason = _network_isolation()
    return None if prefix is not None else reason


def limited_command(argv: Sequence[str], *, memory_mb: int | None = None, cpu_seconds: int | None = None,
                    network: bool = True) -> list[str]:
    """`argv` wrapped so that it runs with the given limits, and without network when `network` is False.

    Raises SandboxUnavailable when `network=False` and this host cannot take the network away.
    """
    memory = int(memory_mb) * 1024 * 1024 if memory_mb else 0
    command = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(memory), str(int(cpu_seconds or 0)), *argv]
    if network:
        return command
    prefix, reason = _network_isolation()
    if prefix is None:
        raise SandboxUnavailable(reason)
    return [*prefix, *command]


class LineSplitter:
    """Bytes in, text lines out: UTF-8 with replacement, what a terminal shows after a carriage return (progress
    bars), over-long lines cut at `max_chars` with a note, and the rest of such a line dropped."""

    def __init__(self, max_chars: int = MAX_LINE_CHARS) -> None:
        self.max_chars = max_chars
        self.max_bytes = 4 * max_chars + 4
        self._buffer = b""
        self._dropping = False

    def _text(self, raw: bytes) -> str:
        shown = next((part for part in reversed(raw.split(b"\r")) if part), b"")
        text = shown[: self.max_bytes].decode("utf-8", "replace")
        if len(text) > self.max_chars or len(shown) > self.max_bytes:
            return text[: self.max_chars] + f" … [line cut at {self.max_chars} characters]"
        return text

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        lines = []
        while (cut := self._buffer.find(b"\n")) >= 0:
            raw, self._buffer = self._buffer[:cut], self._buffer[cut + 1:]
            if self._dropping:
                self._dropping = False
            else:
                lines.append(self._text(raw))
        if len(self._buffer) > self.max_bytes:
            self._buffer = self._buffer[self._buffer.rfind(b"\r") + 1:]
            if len(self._buffer) > self.max_bytes:
                if not self._dropping:
                    lines.append(self._text(self._buffer))
                self._dropping = True
                self._buffer = b""
        return lines

    def close(self) -> list[str]:
        rest, self._buffer = self._buffer, b""
        return [self._text(rest)] if rest and not self._dropping else []


@dataclass
class Outcome:
    """How a child ended. `returncode` is negative for a signal; `timed_out` and `stopped` say when it was us."""

    returncode: int
    duration: float
    timed_out: bool = False
    stopped: bool = False
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    stderr_tail: list[str] = field(default_factory=list)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _has_exited(pid: int) -> bool:
    """True once the child has exited, without reaping it (so its process group id cannot be reused yet)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None and info.si_pid == pid


def run_limited(argv: Sequence[str], *, cwd: Path | str, env: Mapping[str, str], timeout_seconds: float,
                on_line: Callable[[str, str], None] | None = None, should_stop: Callable[[], bool] | None = None,
                on_tick: Callable[[float], None] | None = None, stop_check_seconds: float = 1.0,
                grace_seconds: float = 10.0, max_line_chars: int = MAX_LINE_CHARS) -> Outcome:
    """Run `argv` (usually from `limited_command`) in a new process group and wait for it.

    Each line of stdout and stderr goes to `on_line(stream, line)` as it arrives ("stdout" or "stderr").
    `should_stop()` is asked every `stop_check_seconds`; `on_tick(elapsed)` is called a few times a second.
    Past `timeout_seconds`, or once `should_stop()` says so, the group gets SIGTERM, then SIGKILL after
    `grace_seconds` (at once when it is 0). Whatever happens, no process of the group is left running.
    """
    start = time.monotonic()
    process = subprocess.Popen(list(argv), cwd=str(cwd), env=dict(env), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None and process.stderr is not None
    pid = process.pid
    streams = {process.stdout.fileno(): ("stdout", LineSplitter(max_line_chars)),
               process.stderr.fileno(): ("stderr", LineSplitter(max_line_chars))}
    selector = selectors.DefaultSelector()
    for fd in streams:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    outcome = Outcome(returncode=0, duration=0.0)

    def emit(stream: str, lines: list[str]) -> None:
        for line in lines:
            if stream == "stderr":
                tail.append(line)
            if on_line is not None:
                on_line(stream, line)

    def terminate() -> None:
        _killpg(pid, signal.SIGKILL if grace_seconds <= 0 else signal.SIGTERM)

    terminated_at: float | None = None
    exited_at: float | None = None
    next_stop_check = start + stop_check_seconds
    reaped = False
    try:
        while True:
            if selector.get_map():
                for key, _ in selector.select(timeout=0.2):
                    stream, splitter = streams[key.fd]
                    try:
                        chunk = os.read(key.fd, 65536)
                    except BlockingIOError:
                        continue
                    if chunk:
                        emit(stream, splitter.feed(chunk))
                    else:
                        selector.unregister(key.fd)
                        emit(stream, splitter.close())
            elif exited_at is None:
                time.sleep(0.1)
            now = time.monotonic()
            if exited_at is None and _has_exited(pid):
                exited_at = now
                _killpg(pid, signal.SIGKILL)  # what the child left behind; its group id is still reserved
                _, status, usage = os.wait4(pid, 0)
                reaped = True
                process.returncode = os.waitstatus_to_exitcode(status)
                outcome.cpu_seconds = usage.ru_utime + usage.ru_stime
                outcome.peak_memory_mb = usage.ru_maxrss / 1024
            if exited_at is not None:
                if not selector.get_map() or now - exited_at > 2.0:
                    break
                continue
            if terminated_at is None:
                if now - start > timeout_seconds:
                    outcome.timed_out = True
                elif should_stop is not None and now >= next_stop_check:
                    next_stop_check = now + stop_check_seconds
                    outcome.stopped = bool(should_stop())
                if outcome.timed_out or outcome.stopped:
                    terminated_at = now
                    terminate()
            elif now - terminated_at > grace_seconds:
                _killpg(pid, signal.SIGKILL)
            if on_tick is not None:
                on_tick(now - start)
    finally:
        if not reaped:
            _killpg(pid, signal.SIGKILL)
            process.wait()
        selector.close()
        process.stdout.close()
        process.stderr.close()
    outcome.returncode = int(process.returncode)
    outcome.duration = time.monotonic() - start
    outcome.stderr_tail = list(tail)
    return outcome

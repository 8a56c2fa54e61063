"""Training with the user's own script, on the SageMaker script-mode contract, so a `train.py` written for
SageMaker runs here unchanged.

Layout of `workdir` (SageMaker's /opt/ml):

    input/data/<channel>/   a copy of each channel's files            SM_CHANNEL_<NAME>
    input/config/           hyperparameters.json, resourceconfig.json, inputdataconfig.json
    code/train.py           the script; the working directory          SM_MODULE_DIR
    model/                  what the script saves as the model         SM_MODEL_DIR
    output/data/            other outputs (reports, plots)             SM_OUTPUT_DATA_DIR
    output/failure          optional: a reason the script writes before failing; becomes the error message
    checkpoints/            kept between attempts                      SM_CHECKPOINT_DIR
    tmp/                    TMPDIR

Every attempt starts with fresh input, code, model and output folders; `checkpoints/` is left as the last attempt
left it, so a script that looks there on start resumes a re-delivered job (on another machine the caller restores
that folder before calling). Hyperparameters arrive as `--name value` arguments, as SM_HP_<NAME> variables and as
SM_HPS / SM_TRAINING_ENV JSON, as SageMaker's training toolkit passes them.

The script runs with this worker's Python (so pandas, scikit-learn, xgboost and torch import) in a child process
set up by engine.sandbox: a clean environment (none of the studio's variables), HOME = workdir, memory, CPU and
wall-clock limits, stop requests honoured (SIGTERM to its process group, SIGKILL after a grace period), and no
network on request. Its stdout and stderr go to the job log line by line (stderr as WARNING); metrics are read
from those lines with the user's regexes (SageMaker MetricDefinitions: the first capture group is the value).

A script that exits 0 without writing anything to the model folder still completes: ScriptResult.model_dir_empty
says so, and the caller decides (a script may only write reports to the output folder, or push its model
elsewhere). Failures raise ScriptError with a message for the user; a stop request raises JobStopped.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runtime import JobContext, JobStopped, Throttle
from ..sandbox import (
    Outcome,
    SandboxUnavailable,
    clean_env,
    limited_command,
    network_isolation_available,
    network_isolation_problem,
    run_limited,
)

__all__ = [
    "ENTRY_POINT", "MetricDefinition", "PackedFolder", "ScriptError", "ScriptLimits", "ScriptResult",
    "check_script_inputs", "network_isolation_available", "network_isolation_problem", "pack_folder",
    "parse_metric_definitions", "run_training_script",
]

ENTRY_POINT = "train.py"
HOST = "algo-1"
MAX_SCRIPT_BYTES = 1_000_000
MAX_HYPERPARAMETERS = 100
MAX_HYPERPARAMETER_CHARS = 2500
MAX_METRICS = 40
MAX_REGEX_CHARS = 500
MAX_LOG_LINES = 10_000
MAX_LOG_CHARS = 2_000_000
HEARTBEAT_SECONDS = 15.0
STOP_CHECK_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0
# A metric regex that takes longer than this on the log lines it was given (catastrophic backtracking) is given
# up on, so a regex can never hold a worker past the script's timeout.
METRIC_REGEX_SECONDS = 5.0

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}")
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_METRIC = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,63}")


class ScriptError(Exception):
    """The script cannot run as given or failed. `message` is written for the user and says what to change;
    `param` names the input at fault when there is one (script, hyperparameters, channels, metric_definitions,
    limits, network)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class ScriptLimits:
    timeout_seconds: int = 3600
    memory_mb: int = 4096
    cpu_seconds: int | None = None


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class ScriptResult:
    model_dir: Path
    output_dir: Path
    checkpoint_dir: Path
    metrics: dict[str, float]
    exit_code: int
    duration: float
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    model_files: int = 0

    @property
    def model_dir_empty(self) -> bool:
        return self.model_files == 0


# --- checking the inputs, before anything is written or started ----------------------------------------------


def parse_metric_definitions(definitions: Sequence[Mapping[str, str]]) -> list[MetricDefinition]:
    """Checked metric definitions, each `{"name": ..., "regex": ...}` (SageMaker's "Name"/"Regex" also read).
    Raises ScriptError naming the definition at fault; forms can call this before a job is created."""
    if isinstance(definitions, Mapping | str):
        raise ScriptError("Metric definitions are a list of {name, regex} pairs.", param="metric_definitions")
    if len(definitions) > MAX_METRICS:
        raise ScriptError(f"At most {MAX_METRICS} metrics can be read from the log.", param="metric_definitions")
    parsed: list[MetricDefinition] = []
    for number, definition in enumerate(definitions, start=1):
        if not isinstance(definition, Mapping):
            raise ScriptError(f"Metric {number}: give a name and a regex.", param="metric_definitions")
        name = definition.get("name", definition.get("Name"))
        regex = definition.get("regex", definition.get("Regex"))
        if not isinstance(name, str) or not _METRIC.fullmatch(name):
            raise ScriptError(f"Metric {number}: the name must be 1 to 64 letters, digits or _ . : / - "
                              f"(got {str(name)[:80]!r}).", param="metric_definitions")
        if any(metric.name == name for metric in parsed):
            raise ScriptError(f"Metric {name!r} is defined twice.", param="metric_definitions")
        if not isinstance(regex, str) or not regex.strip():
            raise ScriptError(f"Metric {name!r}: write the regex that finds its value in the log.",
                              param="metric_definitions")
        if len(regex) > MAX_REGEX_CHARS:
            raise ScriptError(f"Metric {name!r}: the regex is longer than {MAX_REGEX_CHARS} characters.",
                              param="metric_definitions")
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise ScriptError(f"Metric {name!r}: the regex is not valid: {error}.", param="metric_definitions")
        if pattern.groups < 1:
            raise ScriptError(f"Metric {name!r}: the regex needs a capture group around the value, "
                              r"e.g. loss=([0-9.]+).", param="metric_definitions")
        parsed.append(MetricDefinition(name=name, regex=regex, pattern=pattern))
    return parsed


def _script_source(script: str | os.PathLike[str]) -> str:
    if isinstance(script, os.PathLike):
        path = Path(script)
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise ScriptError(f"The script is larger than {MAX_SCRIPT_BYTES // 1000} kB.", param="script")
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ScriptError("The script is not UTF-8 text.", param="script")
    else:
        source = script
    if not source.strip():
        raise ScriptError("Write the training script.", param="script")
    if len(source.encode("utf-8", "replace")) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"The script is larger than {MAX_SCRIPT_BYTES // 1000} kB.", param="script")
    try:
        compile(source, ENTRY_POINT, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise ScriptError(f"{ENTRY_POINT}, line {error.lineno}: {error.msg}.", param="script")
    except ValueError as error:
        raise ScriptError(f"{ENTRY_POINT} cannot be read: {error}.", param="script")
    return source


def _check_text(value: str, what: str, param: str) -> str:
    if "\x00" in value:
        raise ScriptError(f"{what} contains a NUL character.", param=param)
    return value


def _hyperparameters(hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(hyperparameters, Mapping):
        raise ScriptError("Hyperparameters are a mapping of names to values.", param="hyperparameters")
    if len(hyperparameters) > MAX_HYPERPARAMETERS:
        raise ScriptError(f"At most {MAX_HYPERPARAMETERS} hyperparameters.", param="hyperparameters")
    seen: dict[str, str] = {}
    for name, value in hyperparameters.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ScriptError(f"Hyperparameter {str(name)[:80]!r}: a name is letters, digits, _ . - and does not "
                              "start with - or .", param="hyperparameters")
        if name.upper() in seen:
            raise ScriptError(f"Hyperparameters {seen[name.upper()]!r} and {name!r} differ only in case.",
                              param="hyperparameters")
        seen[name.upper()] = name
        try:
            encoded = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ScriptError(f"Hyperparameter {name!r}: the value must be text, a number, true/false, a list or "
                              "a mapping.", param="hyperparameters")
        if len(encoded) > MAX_HYPERPARAMETER_CHARS:
            raise ScriptError(f"Hyperparameter {name!r}: the value is longer than {MAX_HYPERPARAMETER_CHARS} "
                              "characters.", param="hyperparameters")
        _check_text(encoded + _arg_value(value), f"Hyperparameter {name!r}", "hyperparameters")
    return dict(hyperparameters)


def _channels(channels: Mapping[str, Path]) -> dict[str, Path]:
    if not isinstance(channels, Mapping):
        raise ScriptError("Channels are a mapping of names to folders.", param="channels")
    seen: dict[str, str] = {}
    checked: dict[str, Path] = {}
    for name, path in channels.items():
        if not isinstance(name, str) or not _CHANNEL.fullmatch(name):
            raise ScriptError(f"Channel {str(name)[:80]!r}: a name is 1 to 64 letters, digits, _ . - and starts "
                              "with a letter or digit.", param="channels")
        if name.upper() in seen:
            raise ScriptError(f"Channels {seen[name.upper()]!r} and {name!r} differ only in case.",
                              param="channels")
        seen[name.upper()] = name
        source = Path(path)
        if not source.exists():
            raise ScriptError(f"Channel {name!r} has no data.", param="channels")
        checked[name] = source
    return checked


def _check_limits(limits: ScriptLimits) -> None:
    if limits.timeout_seconds <= 0:
        raise ScriptError("The time limit must be at least one second.", param="limits")
    if limits.memory_mb < 128:
        raise ScriptError("The memory limit must be at least 128 MB (Python with pandas needs about that).",
                          param="limits")
    if limits.cpu_seconds is not None and limits.cpu_seconds <= 0:
        raise ScriptError("The CPU time limit must be at least one second.", param="limits")


def check_script_inputs(*, script: str, hyperparameters: Mapping[str, Any],
                        metric_definitions: Sequence[Mapping[str, str]]) -> str:
    """The checks run_training_script makes before it starts, for a form or an API to call before a job is saved:
    the script compiles, the hyperparameters can be passed, the metric regexes are valid. Returns the source."""
    source = _script_source(script)
    _hyperparameters(hyperparameters)
    parse_metric_definitions(metric_definitions)
    return source


# --- the SageMaker layout and environment ------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    root: Path

    @property
    def input(self) -> Path:
        return self.root / "input"

    @property
    def data(self) -> Path:
        return self.root / "input" / "data"

    @property
    def config(self) -> Path:
        return self.root / "input" / "config"

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def intermediate(self) -> Path:
        return self.root / "output" / "intermediate"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"


def _fresh_dir(path: Path) -> None:
    """An empty folder at `path`, whatever the last attempt left there (a link is removed, never followed)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def _arg_value(value: Any) -> str:
    """How SageMaker's training toolkit writes a hyperparameter on the command line."""
    if isinstance(value, Mapping):
        return ",".join(f"{key}={item}" for key, item in sorted(value.items()))
    return str(value)


def _env_value(value: Any) -> str:
    """How SageMaker's training toolkit writes a value in an SM_ variable."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _arguments(hyperparameters: Mapping[str, Any]) -> list[str]:
    arguments: list[str] = []
    for name in sorted(hyperparameters):
        arguments += [("--" if len(name) > 1 else "-") + name, _arg_value(hyperparameters[name])]
    return arguments


def _gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([device for device in visible.split(",") if device.strip() and device.strip() != "-1"])
    return len([path for path in Path("/dev").glob("nvidia[0-9]*")])


def _prepare(layout: _Layout, source: str, channels: Mapping[str, Path],
             hyperparameters: Mapping[str, Any]) -> None:
    layout.root.mkdir(parents=True, exist_ok=True)
    for folder in (layout.input, layout.code, layout.model, layout.output, layout.tmp):
        _fresh_dir(folder)
    for folder in (layout.data, layout.config, layout.output_data, layout.intermediate):
        folder.mkdir(parents=True)
    if layout.checkpoints.is_symlink() or layout.checkpoints.is_file():
        layout.checkpoints.unlink()
    layout.checkpoints.mkdir(exist_ok=True)
    for name, path in channels.items():
        target = layout.data / name
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            target.mkdir()
            shutil.copy2(path, target / path.name)
    (layout.code / ENTRY_POINT).write_text(source, encoding="utf-8")
    (layout.config / "hyperparameters.json").write_text(
        json.dumps({name: _env_value(value) for name, value in hyperparameters.items()}), encoding="utf-8")
    (layout.config / "resourceconfig.json").write_text(json.dumps(_resource_config()), encoding="utf-8")
    (layout.config / "inputdataconfig.json").write_text(json.dumps(_input_data_config(channels)),
                                                        encoding="utf-8")


def _resource_config() -> dict[str, Any]:
    return {"current_host": HOST, "current_instance_type": "local", "current_group_name": "homogeneousCluster",
            "hosts": [HOST], "network_interface_name": "eth0"}


def _input_data_config(channels: Mapping[str, Path]) -> dict[str, Any]:
    return {name: {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                   "RecordWrapperType": "None"} for name in channels}


def _environment(layout: _Layout, channels: Mapping[str, Path], hyperparameters: Mapping[str, Any],
                 arguments: list[str]) -> dict[str, str]:
    num_cpus = len(os.sched_getaffinity(0))
    num_gpus = _gpu_count()
    channel_dirs = {name: str(layout.data / name) for name in channels}
    training_env: dict[str, Any] = {
        "additional_framework_parameters": {},
        "channel_input_dirs": channel_dirs,
        "checkpoint_dir": str(layout.checkpoints),
        "current_host": HOST,
        "current_instance_group": "homogeneousCluster",
        "framework_module": None,
        "hosts": [HOST],
        "hyperparameters": dict(hyperparameters),
        "input_config_dir": str(layout.config),
        "input_data_config": _input_data_config(channels),
        "input_dir": str(layout.input),
        "is_master": True,
        "job_name": "studio-training",
        "log_level": 20,
        "master_hostname": HOST,
        "model_dir": str(layout.model),
        "module_dir": str(layout.code),
        "module_name": ENTRY_POINT.removesuffix(".py"),
        "network_interface_name": "eth0",
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "output_data_dir": str(layout.output_data),
        "output_dir": str(layout.output),
        "output_intermediate_dir": str(layout.intermediate),
        "resource_config": _resource_config(),
        "user_entry_point": ENTRY_POINT,
    }
    env: dict[str, str] = {
        "PATH": f"{Path(sys.executable).parent}:{os.defpath}",
        "TMPDIR": str(layout.tmp),
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
        "SM_MODEL_DIR": str(layout.model),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data),
        "SM_OUTPUT_DIR": str(layout.output),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.intermediate),
        "SM_INPUT_DIR": str(layout.input),
        "SM_INPUT_CONFIG_DIR": str(layout.config),
        "SM_CHECKPOINT_DIR": str(layout.checkpoints),
        "SM_MODULE_DIR": str(layout.code),
        "SM_MODULE_NAME": ENTRY_POINT.removesuffix(".py"),
        "SM_USER_ENTRY_POINT": ENTRY_POINT,
        "SM_FRAMEWORK_MODULE": "",
        "SM_FRAMEWORK_PARAMS": "{}",
        "SM_LOG_LEVEL": "20",
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_HPS": json.dumps(dict(hyperparameters), sort_keys=True),
        "SM_USER_ARGS": json.dumps(arguments),
        "SM_NUM_CPUS": str(num_cpus),
        "SM_NUM_GPUS": str(num_gpus),
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_RESOURCE_CONFIG": json.dumps(_resource_config()),
        "SM_INPUT_DATA_CONFIG": json.dumps(_input_data_config(channels)),
        "SM_TRAINING_ENV": json.dumps(training_env, sort_keys=True),
    }
    env.update({f"SM_CHANNEL_{name.upper()}": path for name, path in channel_dirs.items()})
    env.update({f"SM_HP_{name.upper()}": _env_value(value) for name, value in hyperparameters.items()})
    return clean_env(home=layout.root, extra=env)


# --- reading metrics and logs while it runs ------------------------------------------------------------------

# The regexes run in a helper process of their own: Python's `re` cannot be interrupted, and a regex that
# backtracks for hours must not hold the worker past the script's timeout or a stop request. One answer line
# per log line: `index<TAB>value` items separated by \x1f, empty when nothing matched.
_METRIC_READER = r"""
import json, re, sys
patterns = [re.compile(regex) for regex in json.loads(sys.argv[1])]
for line in sys.stdin:
    line = line.rstrip("\n")
    found = []
    for index, pattern in enumerate(patterns):
        match = pattern.search(line)
        if match is not None and match.group(1) is not None:
            found.append("%d\t%s" % (index, match.group(1).replace("\x1f", " ")))
    sys.stdout.write("\x1f".join(found) + "\n")
    sys.stdout.flush()
"""


class _MetricReader:
    def __init__(self, definitions: list[MetricDefinition], ctx: JobContext, home: Path) -> None:
        self.definitions = definitions
        self.ctx = ctx
        self.steps: dict[str, int] = {}
        self.last: dict[str, float] = {}
        self.unreadable: set[str] = set()
        self.outgoing = bytearray()
        self.incoming = b""
        self.waiting = 0
        self.answered_at = time.monotonic()
        self.failed = False
        self.process: subprocess.Popen[bytes] | None = None
        if definitions:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _METRIC_READER, json.dumps([d.regex for d in definitions])],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(home),
                env=clean_env(home=home), start_new_session=True,
            )
            assert self.process.stdin is not None and self.process.stdout is not None
            os.set_blocking(self.process.stdin.fileno(), False)
            os.set_blocking(self.process.stdout.fileno(), False)

    def push(self, line: str) -> None:
        if self.process is None or self.failed:
            return
        if len(self.outgoing) > 4_000_000:  # the reader is far behind; drop rather than hold memory
            return
        self.outgoing += line.encode("utf-8", "replace") + b"\n"
        self.pump()

    def pump(self) -> None:
        if self.process is None or self.failed:
            return
        assert self.process.stdin is not None and self.process.stdout is not None
        while self.outgoing:
            try:
                written = os.write(self.process.stdin.fileno(), self.outgoing)
            except BlockingIOError:
                break
            except OSError:
                self._fail("The metric reader stopped; metrics are no longer read from the log.")
                return
            if self.waiting == 0:
                self.answered_at = time.monotonic()
            self.waiting += self.outgoing.count(b"\n", 0, written)
            del self.outgoing[:written]
        while True:
            try:
                chunk = os.read(self.process.stdout.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                if self.waiting:
                    self._fail("The metric reader stopped; metrics are no longer read from the log.")
                return
            self.incoming += chunk
            *answers, self.incoming = self.incoming.split(b"\n")
            for answer in answers:
                self.waiting -= 1
                self.answered_at = time.monotonic()
                self._report(answer.decode("utf-8", "replace"))
        if self.waiting and time.monotonic() - self.answered_at > METRIC_REGEX_SECONDS:
            self._fail(f"A metric regex took more than {METRIC_REGEX_SECONDS:g} seconds on one log line, so "
                       "metrics are no longer read from the log. Simplify the regexes (avoid nested repeats "
                       "such as (a+)+).")

    def _report(self, answer: str) -> None:
        for item in filter(None, answer.split("\x1f")):
            index, _, text = item.partition("\t")
            name = self.definitions[int(index)].name
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                if name not in self.unreadable:
                    self.unreadable.add(name)
                    self.ctx.log(f"Metric {name!r}: {text[:100]!r} is not a finite number; such values are "
                                 "skipped.", "WARNING")
                continue
            step = self.steps[name] = self.steps.get(name, 0) + 1
            self.last[name] = value
            self.ctx.metric(name, value, step=step)

    def finish(self) -> None:
        """Wait for the answers to every line sent (at most METRIC_REGEX_SECONDS), then end the reader."""
        if self.process is None:
            return
        while not self.failed and (self.outgoing or self.waiting):
            self.pump()
            time.sleep(0.01)
        self.close()

    def _fail(self, message: str) -> None:
        self.failed = True
        self.ctx.log(message, "WARNING")
        self.close()

    def close(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class _LogWriter:
    """Each line to the job log (stderr as WARNING) and to the metric reader, within a volume cap."""

    def __init__(self, ctx: JobContext, metrics: _MetricReader) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self.lines = 0
        self.chars = 0
        self.dropped = 0

    def __call__(self, stream: str, line: str) -> None:
        self.metrics.push(line)
        if self.lines >= MAX_LOG_LINES or self.chars >= MAX_LOG_CHARS:
            if self.dropped == 0:
                self.ctx.log(f"The log reached its limit ({MAX_LOG_LINES} lines or {MAX_LOG_CHARS // 1_000_000} "
                             "MB): later lines are not kept; metrics are still read from them.", "WARNING")
            self.dropped += 1
            return
        self.lines += 1
        self.chars += len(line)
        self.ctx.log(line, "WARNING" if stream == "stderr" else "INFO")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# --- explaining a failure ------------------------------------------------------------------------------------

_FRAME = re.compile(r'\s*File "(?P<file>[^"]*)", line (?P<line>\d+)(?:, in (?P<function>.+))?')
_OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory", "can't allocate memory", "std::bad_alloc",
                  "failed to allocate memory")


def _exception(lines: list[str]) -> tuple[str, str]:
    """The exception line of the last traceback in `lines` and where in train.py it was raised, or the last
    lines of stderr when there is no traceback."""
    starts = [index for index, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if not starts:
        return " / ".join(line.strip() for line in lines[-3:])[:1000], ""
    block = lines[starts[-1] + 1:]
    where = ""
    error = ""
    for line in block:
        frame = _FRAME.match(line)
        if frame and Path(frame["file"]).name == ENTRY_POINT:
            where = f"{ENTRY_POINT}, line {frame['line']}" + (f", in {frame['function']}"
                                                                if frame["function"] not in (None, "<module>")
                                                                else "")
        elif line and not line[0].isspace() and not error:
            error = line.strip()
    if not error and block:
        error = block[-1].strip()
    return error[:1000], where


def _failure_message(outcome: Outcome, limits: ScriptLimits, layout: _Layout) -> str:
    lines = [line for line in outcome.stderr_tail if line.strip()]
    error, where = _exception(lines)
    detail = error + (f" ({where})" if where else "")
    code = outcome.returncode
    out_of_memory = (any(marker in line for line in lines[-20:] for marker in _OUT_OF_MEMORY
                         if "CUDA" not in line and "cuda" not in line)
                     or (code == -signal.SIGKILL
                         and not (limits.cpu_seconds and outcome.cpu_seconds >= limits.cpu_seconds)))
    if out_of_memory:
        return f"{ENTRY_POINT} ran out of memory (limit {limits.memory_mb} MB)" + (f": {detail}" if detail else ".")
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"{ENTRY_POINT} used more than {limits.cpu_seconds} seconds of CPU time and was stopped."
    failure = layout.output / "failure"
    if failure.is_file() and not failure.is_symlink():
        reason = failure.read_text(encoding="utf-8", errors="replace").strip()[:1000]
        if reason:
            return f"{ENTRY_POINT} failed: {reason}"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"{ENTRY_POINT} was ended by {name}" + (f": {detail}" if detail else ".")
    return f"{ENTRY_POINT} failed with exit code {code}: " + (detail or "it wrote nothing to stderr.")


# --- the run -------------------------------------------------------------------------------------------------


def run_training_script(
    *,
    script: str | os.PathLike[str],
    channels: Mapping[str, Path],
    hyperparameters: Mapping[str, Any],
    workdir: Path,
    limits: ScriptLimits,
    ctx: JobContext,
    network: bool = True,
    metric_definitions: Sequence[Mapping[str, str]] = (),
) -> ScriptResult:
    """Run the user's `train.py` (its source as a str, or a path to it) on the SageMaker script-mode contract.

    Everything the user can get wrong is checked before anything is written or started. Raises ScriptError
    (timeout, memory, CPU, a non-zero exit quoting the exception, unavailable network isolation, bad input) and
    JobStopped when `ctx` asked to stop.
    """
    source = _script_source(script)
    definitions = parse_metric_definitions(metric_definitions)
    hps = _hyperparameters(hyperparameters)
    sources = _channels(channels)
    _check_limits(limits)
    arguments = _arguments(hps)
    try:
        command = limited_command([sys.executable, "-u", "-E", "-s", ENTRY_POINT, *arguments],
                                  memory_mb=limits.memory_mb, cpu_seconds=limits.cpu_seconds, network=network)
    except SandboxUnavailable as error:
        raise ScriptError(f"Network isolation is not available on this server: {error.reason}. Run the script "
                          "with network access, or ask the administrator to allow unprivileged user namespaces.",
                          param="network")
    ctx.raise_if_stopped()

    layout = _Layout(Path(workdir).resolve())
    ctx.progress(0, "Copying the input channels")
    _prepare(layout, source, sources, hps)
    env = _environment(layout, sources, hps, arguments)
    ctx.raise_if_stopped()

    ctx.progress(5, f"Running {ENTRY_POINT}")
    ctx.log(f"Running {ENTRY_POINT} {' '.join(arguments)}".rstrip()
            + ("" if network else " without network access"), "INFO")
    metrics = _MetricReader(definitions, ctx, layout.tmp)
    heartbeat = Throttle(HEARTBEAT_SECONDS)
    heartbeat.ready()

    def tick(elapsed: float) -> None:
        metrics.pump()
        if heartbeat.ready():
            share = min(1.0, elapsed / limits.timeout_seconds)
            ctx.progress(5 + 90 * share, f"Running {ENTRY_POINT}: {_duration(elapsed)} "
                                         f"(at most {_duration(limits.timeout_seconds)})")

    writer = _LogWriter(ctx, metrics)
    try:
        outcome = run_limited(command, cwd=layout.code, env=env, timeout_seconds=limits.timeout_seconds,
                              on_line=writer, should_stop=ctx.should_stop, on_tick=tick,
                              stop_check_seconds=STOP_CHECK_SECONDS, grace_seconds=STOP_GRACE_SECONDS)
        metrics.finish()
    finally:
        metrics.close()
    if writer.dropped:
        ctx.log(f"{writer.dropped} later log lines were not kept.", "WARNING")

    if outcome.stopped:
        ctx.log(f"{ENTRY_POINT} was stopped on request after {_duration(outcome.duration)}.", "WARNING")
        raise JobStopped()
    if outcome.timed_out:
        raise ScriptError(f"The script ran longer than {limits.timeout_seconds} seconds and was stopped.",
                          param="limits")
    if outcome.returncode != 0:
        raise ScriptError(_failure_message(outcome, limits, layout))

    model_files = sum(1 for path in layout.model.rglob("*") if path.is_file() or path.is_symlink())
    ctx.log(f"{ENTRY_POINT} finished in {_duration(outcome.duration)} (CPU {outcome.cpu_seconds:.1f} s, peak "
            f"memory {outcome.peak_memory_mb:.0f} MB); {model_files} file(s) in the model folder.", "INFO")
    if model_files == 0:
        ctx.log(f"{ENTRY_POINT} wrote nothing to SM_MODEL_DIR.", "WARNING")
    ctx.progress(100, f"{ENTRY_POINT} finished")
    return ScriptResult(model_dir=layout.model, output_dir=layout.output_data, checkpoint_dir=layout.checkpoints,
                        metrics=dict(metrics.last), exit_code=outcome.returncode, duration=outcome.duration,
                        cpu_seconds=outcome.cpu_seconds, peak_memory_mb=outcome.peak_memory_mb,
                        model_files=model_files)


# --- packing what the script left ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PackedFolder:
    files: int
    bytes: int
    skipped: tuple[str, ...]  # links and special files left out, relative to the folder


def pack_folder(folder: Path, destination: Path, *, max_bytes: int, what: str = "model folder") -> PackedFolder:
    """Write the regular files under `folder` to `destination` as a gzip tar (SageMaker's model.tar.gz layout:
    paths relative to the folder). Symbolic links, hard-link tricks and special files are never followed or
    stored: a link is listed in `skipped`, and each file is opened with O_NOFOLLOW so one swapped for a link
    meanwhile is skipped too. Raises ScriptError once the files add up to more than `max_bytes`."""
    root = Path(folder)
    skipped: list[str] = []
    total = 0
    files = 0
    with tarfile.open(destination, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for directory, subdirectories, names in os.walk(root, followlinks=False):
            here = Path(directory)
            for name in sorted(subdirectories):
                if (here / name).is_symlink():
                    skipped.append(str((here / name).relative_to(root)))
            subdirectories[:] = sorted(name for name in subdirectories if not (here / name).is_symlink())
            for name in sorted(names):
                path = here / name
                relative = str(path.relative_to(root))
                try:
                    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
                except OSError:
                    skipped.append(relative)
                    continue
                with os.fdopen(descriptor, "rb") as handle:
                    status = os.fstat(handle.fileno())
                    if not stat.S_ISREG(status.st_mode):
                        skipped.append(relative)
                        continue
                    total += status.st_size
                    if total > max_bytes:
                        raise ScriptError(f"The {what} holds more than {max_bytes // 1_000_000} MB; save a smaller "
                                          "model or ask the administrator to raise the limit.")
                    info = tarfile.TarInfo(relative)
                    info.size = status.st_size
                    info.mtime = int(status.st_mtime)
                    info.mode = 0o644
                    archive.addfile(info, handle)
                    files += 1
    return PackedFolder(files=files, bytes=total, skipped=tuple(skipped))

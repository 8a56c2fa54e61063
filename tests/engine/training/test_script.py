"""The user's own train.py on the SageMaker script-mode contract: layout, environment, arguments, logs, metrics,
limits, stop requests, checkpoints kept between attempts, and no network when asked."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from engine import sandbox
from engine.runtime import JobStopped, LocalContext
from engine.training import script as script_module
from engine.training.script import (
    ScriptError,
    ScriptLimits,
    network_isolation_available,
    parse_metric_definitions,
    run_training_script,
)

LIMITS = ScriptLimits(timeout_seconds=60, memory_mb=2048)

TRAIN = '''
import argparse, json, os, sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--C", type=float, default=1.0)
args, _ = parser.parse_known_args()

frame = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAINING"], "train.csv"))
X, y = frame[["x1", "x2"]], frame["y"]
for epoch in range(1, args.epochs + 1):
    model = LogisticRegression(C=args.C, max_iter=epoch * 20).fit(X, y)
    print(f"epoch={epoch} loss={log_loss(y, model.predict_proba(X)):.4f}")
print("accuracy=%.3f" % model.score(X, y))
print("training done", file=sys.stderr)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as handle:
    json.dump({"coef": model.coef_.tolist(), "intercept": model.intercept_.tolist()}, handle)
'''

METRICS = [{"name": "train:loss", "regex": r"loss=([0-9.]+)"}, {"name": "accuracy", "regex": r"accuracy=([0-9.]+)"}]


@pytest.fixture
def training(tmp_path) -> Path:
    folder = tmp_path / "data" / "training"
    folder.mkdir(parents=True)
    rows = ["x1,x2,y"] + [f"{i % 7},{(i * 3) % 11},{int(i % 7 + (i * 3) % 11 > 8)}" for i in range(200)]
    (folder / "train.csv").write_text("\n".join(rows) + "\n")
    return folder


def run(source, tmp_path, *, ctx=None, channels=None, hyperparameters=None, limits=LIMITS, **options):
    return run_training_script(script=source, channels=channels or {}, hyperparameters=hyperparameters or {},
                               workdir=tmp_path / "work", limits=limits, ctx=ctx or LocalContext(), **options)


def test_a_sklearn_script_trains_logs_and_reports_metrics(tmp_path, training):
    ctx = LocalContext()
    result = run(TRAIN, tmp_path, ctx=ctx, channels={"training": training}, hyperparameters={"epochs": 3, "C": 0.5},
                 metric_definitions=METRICS)

    model = json.loads((result.model_dir / "model.json").read_text())
    assert len(model["coef"][0]) == 2 and not result.model_dir_empty and result.exit_code == 0
    losses = [(value, step) for name, value, step in ctx.metrics if name == "train:loss"]
    assert [step for _, step in losses] == [1, 2, 3]
    assert result.metrics["train:loss"] == losses[-1][0] and 0 < result.metrics["accuracy"] <= 1
    assert ("INFO", "epoch=1 " + f"loss={losses[0][0]:.4f}") in ctx.lines
    assert ("WARNING", "training done") in ctx.lines
    assert ctx.progress_updates[-1] == (100.0, "train.py finished")
    assert result.duration > 0 and result.peak_memory_mb > 10


ENV_DUMP = '''
import json, os, sys
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "env.json"), "w") as handle:
    json.dump({"env": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd(), "executable": sys.executable,
               "training": sorted(os.listdir(os.environ["SM_CHANNEL_TRAINING"])),
               "validation": sorted(os.listdir(os.environ["SM_CHANNEL_VALIDATION"]))}, handle)
'''

SECRETS = {"DJANGO_SETTINGS_MODULE": "studio.settings", "DATABASE_URL": "postgres://u:hunter2@db/studio",
           "REDIS_URL": "redis://:hunter2@127.0.0.1:6379/0", "STUDIO_SECRET_KEY": "hunter2-secret-key",
           "SECRET_KEY": "hunter2-django", "AWS_ACCESS_KEY_ID": "AKIAHUNTER2", "AWS_SECRET_ACCESS_KEY": "hunter2aws",
           "CELERY_BROKER_URL": "redis://hunter2", "PYTHONPATH": "/somewhere/hunter2", "LD_PRELOAD": "/hunter2.so"}


def test_the_script_sees_the_sagemaker_contract_and_nothing_of_the_studio(tmp_path, training, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    validation = tmp_path / "valid.csv"
    validation.write_text("x1,x2,y\n1,2,0\n")
    hps = {"epochs": 3, "learning_rate": 0.1, "optimizer": "adam", "use_gpu": False, "layers": [64, 32], "c": 1.5,
           "extra": {"b": 2, "a": "x"}}
    result = run(ENV_DUMP, tmp_path, channels={"training": training, "validation": validation}, hyperparameters=hps)
    seen = json.loads((result.output_dir / "env.json").read_text())
    env, work = seen["env"], tmp_path / "work"

    leaked = [name for name in env if name in SECRETS or "hunter2" in env[name]]
    assert leaked == []
    allowed = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONUNBUFFERED", "MPLBACKEND", *sandbox.PASSED_THROUGH}
    assert {name for name in env if not name.startswith("SM_")} <= allowed
    assert env["HOME"] == str(work) and env["TMPDIR"] == str(work / "tmp")
    assert set(env["PATH"].split(":")) <= {str(Path(sys.executable).parent), "/bin", "/usr/bin"}
    assert seen["cwd"] == str(work / "code") and seen["executable"] == sys.executable
    assert Path(seen["argv"][0]).name == "train.py"
    assert seen["argv"][1:] == ["-c", "1.5", "--epochs", "3", "--extra", "a=x,b=2", "--layers", "[64, 32]",
                                "--learning_rate", "0.1", "--optimizer", "adam", "--use_gpu", "False"]
    assert seen["training"] == ["train.csv"] and seen["validation"] == ["valid.csv"]

    expected = {
        "SM_CHANNEL_TRAINING": str(work / "input/data/training"),
        "SM_CHANNEL_VALIDATION": str(work / "input/data/validation"),
        "SM_CHANNELS": '["training", "validation"]',
        "SM_MODEL_DIR": str(work / "model"),
        "SM_OUTPUT_DATA_DIR": str(work / "output/data"),
        "SM_CHECKPOINT_DIR": str(work / "checkpoints"),
        "SM_INPUT_DIR": str(work / "input"),
        "SM_INPUT_CONFIG_DIR": str(work / "input/config"),
        "SM_OUTPUT_DIR": str(work / "output"),
        "SM_MODULE_DIR": str(work / "code"),
        "SM_USER_ENTRY_POINT": "train.py",
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": '["algo-1"]',
        "SM_NUM_CPUS": str(len(os.sched_getaffinity(0))),
        "SM_HP_EPOCHS": "3",
        "SM_HP_LEARNING_RATE": "0.1",
        "SM_HP_OPTIMIZER": "adam",
        "SM_HP_USE_GPU": "false",
        "SM_HP_LAYERS": "[64,32]",
        "SM_HP_C": "1.5",
        "SM_HP_EXTRA": '{"a":"x","b":2}',
    }
    assert {name: env.get(name) for name in expected} == expected
    assert json.loads(env["SM_HPS"]) == hps
    assert json.loads(env["SM_USER_ARGS"]) == seen["argv"][1:]
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"] == hps and training_env["current_host"] == "algo-1"
    assert training_env["channel_input_dirs"] == {"training": expected["SM_CHANNEL_TRAINING"],
                                                  "validation": expected["SM_CHANNEL_VALIDATION"]}
    assert training_env["model_dir"] == expected["SM_MODEL_DIR"] and training_env["user_entry_point"] == "train.py"
    config = json.loads((work / "input/config/hyperparameters.json").read_text())
    assert config["epochs"] == "3" and config["optimizer"] == "adam"
    assert json.loads((work / "input/config/resourceconfig.json").read_text())["hosts"] == ["algo-1"]
    assert set(json.loads((work / "input/config/inputdataconfig.json").read_text())) == {"training", "validation"}


def test_a_script_given_as_a_path_runs_and_an_empty_model_folder_is_reported_not_failed(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("print('only a report')\n")
    ctx = LocalContext()
    result = run(path, tmp_path, ctx=ctx)
    assert result.model_dir_empty and result.exit_code == 0
    assert ("WARNING", "train.py wrote nothing to SM_MODEL_DIR.") in ctx.lines


def test_a_crash_names_the_exception_and_the_line(tmp_path):
    source = "import sys\n\ndef load(path):\n    raise ValueError(f'column price is missing in {path}')\n\nload('train.csv')\n"
    ctx = LocalContext()
    with pytest.raises(ScriptError) as caught:
        run(source, tmp_path, ctx=ctx)
    message = caught.value.message
    assert message.startswith("train.py failed with exit code 1: ValueError: column price is missing in train.csv")
    assert "(train.py, line 4, in load)" in message
    assert any(level == "WARNING" and "Traceback" in line for level, line in ctx.lines)


@pytest.mark.parametrize(("source", "message"), [
    ("import sys\nsys.stderr.write('no label column\\n')\nsys.exit(3)\n",
     "train.py failed with exit code 3: no label column"),
    ("import os, sys\nopen(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w').write('The label is empty')\n"
     "sys.exit(2)\n", "train.py failed: The label is empty"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "train.py was ended by SIGSEGV"),
])
def test_other_failures_explain_themselves(tmp_path, source, message):
    with pytest.raises(ScriptError, match=message):
        run(source, tmp_path)


@pytest.mark.parametrize(("kwargs", "param", "message"), [
    ({"script": "x = (\n"}, "script", "train.py, line 1: '(' was never closed"),
    ({"script": "  "}, "script", "Write the training script"),
    ({"metric_definitions": [{"name": "loss", "regex": "loss=([0-9.]+"}]}, "metric_definitions",
     "Metric 'loss': the regex is not valid: missing ), unterminated subpattern"),
    ({"metric_definitions": [{"name": "loss", "regex": "loss=[0-9.]+"}]}, "metric_definitions", "capture group"),
    ({"metric_definitions": [{"name": "my loss!", "regex": "loss=(.+)"}]}, "metric_definitions", "the name must"),
    ({"metric_definitions": [{"name": "a", "regex": "(1)"}, {"name": "a", "regex": "(2)"}]}, "metric_definitions",
     "defined twice"),
    ({"hyperparameters": {"--evil": 1}}, "hyperparameters", "a name is letters"),
    ({"hyperparameters": {"a": "x\x00y"}}, "hyperparameters", "NUL"),
    ({"hyperparameters": {"a": object()}}, "hyperparameters", "must be text, a number"),
    ({"channels": {"../up": Path("/tmp")}}, "channels", "a name is 1 to 64"),
    ({"channels": {"training": Path("/nonexistent/data")}}, "channels", "has no data"),
    ({"limits": ScriptLimits(timeout_seconds=10, memory_mb=16)}, "limits", "at least 128 MB"),
])
def test_bad_input_is_refused_before_anything_runs(tmp_path, kwargs, param, message):
    ctx = LocalContext()
    arguments = {"script": "print('hi')", "channels": {}, "hyperparameters": {}, "limits": LIMITS, **kwargs}
    with pytest.raises(ScriptError) as caught:
        run_training_script(workdir=tmp_path / "work", ctx=ctx, **arguments)
    assert caught.value.param == param and message in caught.value.message
    assert ctx.lines == [] and not (tmp_path / "work").exists()


def test_metric_definitions_can_be_checked_on_their_own_and_read_sagemaker_keys():
    (definition,) = parse_metric_definitions([{"Name": "validation:error", "Regex": r"error=(\S+)"}])
    assert definition.name == "validation:error" and definition.pattern.groups == 1


def test_a_script_that_runs_too_long_is_stopped(tmp_path):
    started = time.monotonic()
    with pytest.raises(ScriptError) as caught:
        run("import time\nprint('started', flush=True)\ntime.sleep(60)\n", tmp_path,
            limits=ScriptLimits(timeout_seconds=1, memory_mb=512))
    assert caught.value.message == "The script ran longer than 1 seconds and was stopped."
    assert time.monotonic() - started < 10


def test_a_script_that_needs_too_much_memory_fails_with_the_limit_named(tmp_path):
    with pytest.raises(ScriptError) as caught:
        run("blocks = []\nfor _ in range(40):\n    blocks.append(bytearray(100_000_000))\n", tmp_path,
            limits=ScriptLimits(timeout_seconds=30, memory_mb=300))
    assert caught.value.message.startswith("train.py ran out of memory (limit 300 MB): MemoryError")
    assert "(train.py, line 3)" in caught.value.message


def test_a_script_that_uses_too_much_cpu_is_stopped(tmp_path):
    with pytest.raises(ScriptError, match="used more than 1 seconds of CPU time"):
        run("while True:\n    pass\n", tmp_path, limits=ScriptLimits(timeout_seconds=30, memory_mb=512, cpu_seconds=1))


class StopWhenReady(LocalContext):
    def should_stop(self) -> bool:
        return any("ready" in line for _, line in self.lines)


def test_a_stop_request_ends_the_script_and_its_children(tmp_path, monkeypatch):
    monkeypatch.setattr(script_module, "STOP_CHECK_SECONDS", 0.1)
    monkeypatch.setattr(script_module, "STOP_GRACE_SECONDS", 1.0)
    source = ("import signal, subprocess, time\n"
              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"  # ignores the polite request: killed after grace
              "child = subprocess.Popen(['sleep', '60'])\n"
              "print(child.pid, 'ready', flush=True)\n"
              "time.sleep(60)\n")
    ctx = StopWhenReady()
    started = time.monotonic()
    with pytest.raises(JobStopped):
        run(source, tmp_path, ctx=ctx)
    assert time.monotonic() - started < 10
    child = int(next(line for _, line in ctx.lines if "ready" in line).split()[0])
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    assert any("stopped on request" in line for _, line in ctx.lines)


CHECKPOINT = '''
import os
marker = os.path.join(os.environ["SM_CHECKPOINT_DIR"], "epoch.txt")
start = int(open(marker).read()) if os.path.exists(marker) else 0
open(marker, "w").write(str(start + 1))
open(os.path.join(os.environ["SM_MODEL_DIR"], f"from-{start}.txt"), "w").write("model")
'''


def test_the_checkpoint_folder_is_kept_between_attempts_and_the_rest_starts_fresh(tmp_path):
    first = run(CHECKPOINT, tmp_path)
    assert sorted(path.name for path in first.model_dir.iterdir()) == ["from-0.txt"]
    second = run(CHECKPOINT, tmp_path)
    assert sorted(path.name for path in second.model_dir.iterdir()) == ["from-1.txt"]
    assert (second.checkpoint_dir / "epoch.txt").read_text() == "2"


def test_logs_are_capped_in_length_and_volume_while_metrics_are_still_read(tmp_path, monkeypatch):
    monkeypatch.setattr(script_module, "MAX_LOG_LINES", 5)
    source = ("import sys\nprint('x' * 5000)\nsys.stdout.write('10%\\r50%\\r100%\\n')\n"
              "for i in range(20):\n    print(f'loss={i}')\n")
    ctx = LocalContext()
    result = run(source, tmp_path, ctx=ctx, metric_definitions=[{"name": "loss", "regex": r"loss=(\d+)"}])
    assert result.metrics == {"loss": 19.0} and len([m for m in ctx.metrics if m[0] == "loss"]) == 20
    assert ctx.lines[1][1].startswith("x" * 2000 + " … [line cut at 2000 characters]")
    assert ctx.lines[2] == ("INFO", "100%")
    assert any("The log reached its limit" in line for _, line in ctx.lines)
    assert len(ctx.lines) < 12


def test_a_runaway_metric_regex_is_given_up_on_without_holding_the_job(tmp_path, monkeypatch):
    monkeypatch.setattr(script_module, "METRIC_REGEX_SECONDS", 1.0)
    source = "print('ok=1')\nprint('a' * 40 + '!')\nprint('ok=2')\n"
    ctx = LocalContext()
    started = time.monotonic()
    result = run(source, tmp_path, ctx=ctx, metric_definitions=[
        {"name": "ok", "regex": r"ok=(\d+)"}, {"name": "slow", "regex": r"^(a+)+$"}])
    assert time.monotonic() - started < 10 and result.exit_code == 0
    assert ("ok", 1.0, 1) in ctx.metrics
    assert any("took more than 1 seconds" in line for _, line in ctx.lines)


NETWORK = '''
import ctypes, json, os, socket
result = {"interfaces": [name for _, name in socket.if_nameindex()]}
def attempt(name, action):
    try:
        action()
        result[name] = "ok"
    except OSError as error:
        result[name] = repr(error)
attempt("redis", lambda: socket.create_connection(("127.0.0.1", 6379), timeout=2).close())
attempt("internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2).close())
attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
def escape():
    fd = os.open("/proc/1/ns/net", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:
        raise OSError(ctypes.get_errno(), "setns refused")
attempt("setns", escape)
json.dump(result, open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "net.json"), "w"))
'''


@pytest.mark.skipif(not network_isolation_available(), reason="no user namespaces on this host")
def test_without_network_the_script_cannot_connect_or_resolve_anything(tmp_path):
    result = run(NETWORK, tmp_path, network=False)
    seen = json.loads((result.output_dir / "net.json").read_text())
    assert seen["interfaces"] == ["lo"]
    assert {name: seen[name] != "ok" for name in ("redis", "internet", "dns", "setns")} == dict.fromkeys(
        ("redis", "internet", "dns", "setns"), True)


def test_with_network_the_script_reaches_a_local_service(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("nothing listens on 127.0.0.1:6379")
    result = run(NETWORK, tmp_path, network=True)
    assert json.loads((result.output_dir / "net.json").read_text())["redis"] == "ok"


def test_without_isolation_on_the_host_network_false_is_refused_not_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_network_isolation", lambda: (None, "unshare failed: Operation not permitted"))
    ctx = LocalContext()
    with pytest.raises(ScriptError) as caught:
        run("print('hi')", tmp_path, ctx=ctx, network=False)
    assert caught.value.param == "network"
    assert caught.value.message.startswith(
        "Network isolation is not available on this server: unshare failed: Operation not permitted")
    assert ctx.lines == []
    assert not sandbox.network_isolation_available() and sandbox.network_isolation_problem()


FAKE_UNSHARE = {
    "refused": "echo 'unshare: write failed /proc/self/uid_map: Operation not permitted' >&2\nexit 1\n",
    # runs the command with the host's network, as a broken or look-alike unshare would
    "leaky": 'while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n',
}


@pytest.mark.parametrize("kind", sorted(FAKE_UNSHARE))
def test_the_host_check_reports_why_isolation_is_unavailable(tmp_path, monkeypatch, kind):
    if kind == "leaky" and [name for _, name in socket.if_nameindex()] == ["lo"]:
        pytest.skip("this host has no interface but loopback")
    fake = tmp_path / "unshare"
    fake.write_text("#!/bin/sh\n" + FAKE_UNSHARE[kind])
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_unshare", lambda: str(fake))
    sandbox._network_isolation.cache_clear()
    try:
        assert not sandbox.network_isolation_available()
        expected = ("Operation not permitted" if kind == "refused" else "interfaces other than loopback")
        assert expected in sandbox.network_isolation_problem()
        with pytest.raises(sandbox.SandboxUnavailable):
            sandbox.limited_command(["true"], network=False)
    finally:
        sandbox._network_isolation.cache_clear()

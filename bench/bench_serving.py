"""Real-time serving: the endpoint's model server against in-process predict and against MLflow's scoring
server, on the same models, in one run.

Models, trained through the studio's engine into real bundles: XGBoost, 100 trees, on scikit-learn's
breast_cancer (30 numeric features); and a scikit-learn pipeline, the linear learner on palmerpenguins (median
imputation with missing indicators, one-hot categories, standard scaling, logistic regression).

1. Latency: one row per request over HTTP (a kept-alive connection, JSON in and out) against
   `TrainedModel.predict_frame` of the same row in this process; rounds of each alternate, so both see the
   same machine load. Targets: p50 ≤ 2× in-process p50, p99 ≤ 3× the server's p50.
2. Throughput: one-row requests from several client threads for a fixed time against our server and against
   `mlflow models serve` (mlflow-skinny, bench extra) serving the same bundle through an MLflow pyfunc, one
   server process each, one thread per process for the model. Target: ≥ 1.5× MLflow's requests per second.
   Without MLflow the peer is in-process predict in a loop (one thread), and the result says so.
3. Cold start of a serverless endpoint for the XGBoost model: from starting the process to the answer of
   its first invocation, the median of several starts. Target ≤ 2 s.

Writes bench/results/serving.json; exits 1 when a target is missed. `--quick` runs fewer requests.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the server's processes run: one thread per process

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "serving.json"
WORK = ROOT / "var" / "bench-serving"
TOKEN = "bench-serving-token-0123456789abcdef"
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def train_models() -> dict[str, dict[str, Any]]:
    import palmerpenguins
    from sklearn.datasets import load_breast_cancer

    from engine.training import TrainingSpec, bundle_bytes, train

    cancer = load_breast_cancer(as_frame=True).frame
    penguins = palmerpenguins.load_penguins()
    specs = {
        "xgboost": (cancer, TrainingSpec("xgboost", "target", {"n_estimators": 100}, problem_type="binary")),
        "sklearn_pipeline": (penguins, TrainingSpec("linear_learner", "species")),
    }
    models = {}
    for name, (frame, spec) in specs.items():
        result = train(frame, spec)
        path = WORK / f"{name}.zip"
        path.write_bytes(bundle_bytes(result.model))
        features = frame.drop(columns=[spec.target or ""])
        row = json.loads(features.iloc[[3]].to_json(orient="records"))[0]  # nulls as JSON null
        models[name] = {"path": path, "model": result.model, "row": row,
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                        "trees": spec.hyperparameters.get("n_estimators"), "features": len(result.model.signature)}
    return models


def endpoint_config(name: str, model: dict[str, Any]) -> Path:
    from engine.serving import token_hash

    config = {"name": name.replace("_", "-"), "token_sha256": token_hash(TOKEN),
              "variants": [{"name": "AllTraffic", "model": str(model["path"]), "sha256": model["sha256"]}]}
    path = WORK / f"{name}.json"
    path.write_text(json.dumps(config))
    return path


class Client:
    """A kept-alive HTTP/1.1 connection posting ready-made bodies."""

    def __init__(self, port: int, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.path, self.body, self.headers = path, body, headers

    def post(self) -> bytes:
        self.connection.request("POST", self.path, body=self.body, headers=self.headers)
        response = self.connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {answer[:300]!r}")
        return answer


def ours_client(port: int, row: dict[str, Any]) -> Client:
    return Client(port, "/invocations", json.dumps({"instances": [row]}).encode(),
                  {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})


def latency(model: dict[str, Any], port: int, rounds: int, per_round: int) -> dict[str, Any]:
    import pandas as pd

    trained, row = model["model"], model["row"]
    client = ours_client(port, row)
    http_answer = json.loads(client.post())
    local = trained.predict_frame(pd.DataFrame([row]))
    assert http_answer["predictions"] == local["prediction"].tolist(), (http_answer, local)
    for _ in range(50):  # warm-up
        client.post()
        trained.predict_frame(pd.DataFrame([row]))
    from engine.serving.app import predictions_document
    from engine.serving.models import LoadedModel

    loaded = LoadedModel("bench", trained, model["sha256"], has_flow=False)
    http_ms: list[float] = []
    local_ms: list[float] = []
    steps_ms: list[float] = []
    for _ in range(rounds):
        for _ in range(per_round):
            started = time.perf_counter()
            client.post()
            http_ms.append((time.perf_counter() - started) * 1000)
        for _ in range(per_round):
            started = time.perf_counter()
            trained.predict_frame(pd.DataFrame([row]))
            local_ms.append((time.perf_counter() - started) * 1000)
        for _ in range(per_round):
            started = time.perf_counter()
            predictions_document(loaded, pd.DataFrame([row]))
            steps_ms.append((time.perf_counter() - started) * 1000)
    http_p50, http_p99 = statistics.median(http_ms), percentile(http_ms, 0.99)
    local_p50, local_p99 = statistics.median(local_ms), percentile(local_ms, 0.99)
    return {"requests": len(http_ms), "http_p50_ms": round(http_p50, 3), "http_p99_ms": round(http_p99, 3),
            "in_process_p50_ms": round(local_p50, 3), "in_process_p99_ms": round(local_p99, 3),
            "p50_over_in_process": round(http_p50 / local_p50, 2), "p99_over_p50": round(http_p99 / http_p50, 2),
            "in_process_p99_over_p50": round(local_p99 / local_p50, 2),  # the machine's own jitter
            # The server's own predict step (features, estimator, answer document) on a DataFrame of the row,
            # in this process: what the server adds on top of it is HTTP, JSON and the input checks.
            "in_process_server_steps_p50_ms": round(statistics.median(steps_ms), 3),
            "p50_over_server_steps": round(http_p50 / statistics.median(steps_ms), 2)}


def throughput(make_client, seconds: float, threads: int) -> float:
    clients = [make_client() for _ in range(threads)]
    for client in clients:
        client.post()
    counts = [0] * threads
    stop = threading.Event()

    def run(index: int) -> None:
        client = clients[index]
        while not stop.is_set():
            client.post()
            counts[index] += 1

    workers = [threading.Thread(target=run, args=(index,)) for index in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def in_process_throughput(model: dict[str, Any], seconds: float) -> float:
    import pandas as pd

    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model["model"].predict_frame(pd.DataFrame([model["row"]]))
        done += 1
    return done / (time.perf_counter() - started)


MLFLOW_WRAPPER = '''
import mlflow.pyfunc


class StudioBundle(mlflow.pyfunc.PythonModel):
    """The studio's bundle as an MLflow pyfunc: the same predict_frame, so both servers do the same model work."""

    def load_context(self, context):
        from engine.training.model import bundle_load

        with open(context.artifacts["bundle"], "rb") as handle:
            self.model = bundle_load(handle.read())

    def predict(self, context, model_input, params=None):
        return self.model.predict_frame(model_input)
'''


def mlflow_server(name: str, model: dict[str, Any], port: int) -> tuple[subprocess.Popen[bytes] | None, str]:
    """Start `mlflow models serve` for the bundle; (process, "") or (None, why not)."""
    try:
        import mlflow.pyfunc
    except ImportError:
        return None, "mlflow is not installed (pip install -e '.[bench]')"
    peer_dir = WORK / "mlflow_peer"
    peer_dir.mkdir(exist_ok=True)
    (peer_dir / "studio_bundle_pyfunc.py").write_text(MLFLOW_WRAPPER)
    sys.path.insert(0, str(peer_dir))
    from studio_bundle_pyfunc import StudioBundle  # type: ignore[import-not-found]

    target = WORK / f"mlflow-{name}"
    shutil.rmtree(target, ignore_errors=True)
    mlflow.pyfunc.save_model(str(target), python_model=StudioBundle(), artifacts={"bundle": str(model["path"])})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(peer_dir)]),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
           "OMP_NUM_THREADS": "1", "MLFLOW_TRACKING_URI": f"file://{WORK / 'mlruns'}"}
    log = (WORK / f"mlflow-{name}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(target), "--env-manager",
                                "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"], env=env, stdout=log,
                               stderr=log, start_new_session=True)
    from engine.serving.supervisor import ping

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None, f"mlflow models serve exited with {process.returncode}: see {log.name}"
        if ping("127.0.0.1", port):
            return process, ""
        time.sleep(0.2)
    stop_group(process)
    return None, "mlflow models serve did not answer /ping within 120 s"


def stop_group(process: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cold_starts(config: Path, row: dict[str, Any], times: int) -> list[float]:
    from engine.serving.supervisor import EndpointProcess, ServerlessEndpoint

    process = EndpointProcess(config, log_path=WORK / "serverless.log")
    endpoint = ServerlessEndpoint(process, idle_timeout=0.01)
    body = json.dumps({"instances": [row]}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    seconds = []
    try:
        for _ in range(times):
            answer = endpoint.invoke("/invocations", body, headers)
            assert answer.status == 200 and answer.cold_start_seconds is not None, answer
            seconds.append(answer.cold_start_seconds)
            time.sleep(0.05)
            assert endpoint.reap_idle()
    finally:
        process.stop()
    return seconds


def import_floor(times: int) -> list[float]:
    """Seconds a fresh Python takes just to import what the server imports: the floor of any cold start."""
    code = "import engine.serving.server, engine.serving.app, uvicorn, xgboost"
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, per_round, seconds, threads, starts = (4, 100, 3.0, 4, 3) if args.quick else (10, 200, 10.0, 4, 5)

    from engine.serving.supervisor import EndpointProcess, free_port

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.time()
    models = train_models()
    figures: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "load_average_at_start": list(os.getloadavg())},
                               "models": {}, "misses": []}
    for name, model in models.items():
        config = endpoint_config(name, model)
        server = EndpointProcess(config, log_path=WORK / f"{name}.log")
        server.start()
        try:
            result: dict[str, Any] = {"features": model["features"], "trees": model["trees"],
                                      "latency": latency(model, server.port, rounds, per_round)}
            ours = throughput(lambda port=server.port, row=model["row"]: ours_client(port, row), seconds, threads)
        finally:
            server.stop()
        peer_port = free_port()
        peer, why = mlflow_server(name, model, peer_port)
        if peer is not None:
            try:
                body = json.dumps({"dataframe_records": [model["row"]]}).encode()
                peer_rate = throughput(lambda port=peer_port, body=body: Client(
                    port, "/invocations", body, {"Content-Type": "application/json"}), seconds, threads)
            finally:
                stop_group(peer)
            result["throughput"] = {"peer": "mlflow models serve (mlflow-skinny 3.17.2, 1 worker)",
                                    "client_threads": threads, "seconds": seconds,
                                    "ours_requests_per_s": round(ours, 1), "peer_requests_per_s": round(peer_rate, 1),
                                    "ratio": round(ours / peer_rate, 2)}
        else:
            local = in_process_throughput(model, seconds)
            result["throughput"] = {"peer": f"in-process predict, one thread (MLflow unavailable: {why})",
                                    "client_threads": threads, "seconds": seconds,
                                    "ours_requests_per_s": round(ours, 1), "peer_requests_per_s": round(local, 1),
                                    "ratio": round(ours / local, 2)}
        figures["models"][name] = result
        lat = result["latency"]
        if lat["p50_over_in_process"] > 2:
            figures["misses"].append(f"{name}: p50 is {lat['p50_over_in_process']}× in-process (target ≤ 2×)")
        if lat["p99_over_p50"] > 3:
            figures["misses"].append(f"{name}: p99 is {lat['p99_over_p50']}× p50 (target ≤ 3×)")
        if peer is not None and result["throughput"]["ratio"] < 1.5:
            figures["misses"].append(f"{name}: throughput {result['throughput']['ratio']}× MLflow's (target ≥ 1.5×)")
        print(name, json.dumps(result), flush=True)
    starts_s = cold_starts(endpoint_config("xgboost", models["xgboost"]), models["xgboost"]["row"], starts)
    figures["serverless_cold_start"] = {"model": "xgboost", "starts": len(starts_s),
                                        "seconds": [round(value, 3) for value in starts_s],
                                        "median_s": round(statistics.median(starts_s), 3), "target_s": 2.0,
                                        "import_only_median_s": round(statistics.median(import_floor(starts)), 3)}
    if statistics.median(starts_s) > 2.0:
        figures["misses"].append(f"serverless cold start median {statistics.median(starts_s):.2f} s (target ≤ 2 s)")
    figures["machine"]["load_average_at_end"] = list(os.getloadavg())
    figures["seconds"] = round(time.time() - started, 1)
    print(json.dumps(figures["serverless_cold_start"]), "misses:", figures["misses"], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if figures["misses"] else 0


if __name__ == "__main__":
    sys.exit(main())

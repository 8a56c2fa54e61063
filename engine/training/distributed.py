"""Data-parallel training of the torch MLP across several processes with torch.distributed (gloo).

`fit_distributed(model, x, y, session, processes)` starts `processes` ranks with torch.multiprocessing's
spawn on this machine (MASTER_ADDR 127.0.0.1, a free MASTER_PORT). Each rank builds the same network from the
same seed, wraps it in DistributedDataParallel (gradients are averaged across ranks after every backward pass),
and trains on its shard of each epoch's rows: the epoch's permutation, padded to a multiple of the world size
and taken every `world`-th row from position `rank`, as torch's DistributedSampler does. Each rank's batch is
the batch size divided by the number of ranks, so one step of all ranks together sees the rows one step of a
single process would see and, with averaged gradients, takes the same step: 2 processes train (nearly) the model
1 process trains.

The ranks cannot use the job context (it talks to the studio's database from the parent), so rank 0 sends its
reports to the parent over a queue: the epoch's loss curves, its checkpoints (the MLP's own format, so a
single-process run can resume from them and the other way round) and the final weights; every rank reports its
shard size. The parent relays them to the job, and passes a stop request to the ranks through an event that all
ranks check together at the end of each epoch (an all-reduce), so they stop at the same epoch. A resumed job
hands rank 0's last checkpoint to every rank.

`train_rank` is the per-process function: it reads the torchrun-style variables (MASTER_ADDR, MASTER_PORT, RANK,
WORLD_SIZE), so the same code runs ranks on several machines when something starts one process per rank with
those variables set; the studio itself only starts ranks on the machine that runs the job.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import queue as queue_module
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from engine.runtime import JobStopped

from .errors import TrainingError

MAX_PROCESSES = 16
POLL_SECONDS = 0.1
STOP_CHECK_SECONDS = 1.0
COLLECTIVE_TIMEOUT = timedelta(minutes=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the operating system picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RankPlan:
    """What every rank needs to build and train the same network; plain values, so it pickles to a spawned rank."""

    problem_type: str
    layers: list[int]
    n_inputs: int
    n_outputs: int
    dropout: float
    epochs: int
    batch_size: int  # per rank
    learning_rate: float
    weight_decay: float
    seed: int
    threads: int
    checkpoint_every: int
    regression: bool
    start: int = 0
    resume: bytes | None = None
    parent_pid: int | None = None  # spawned ranks stop when the process that started them is gone


def shard(order: Any, rank: int, world: int) -> Any:
    """This rank's rows of an epoch's permutation, as DistributedSampler takes them: padded with the first rows
    to a multiple of `world`, then every `world`-th from position `rank`, so every rank has as many batches."""
    order = np.asarray(order)
    total = math.ceil(len(order) / world) * world
    if total > len(order):
        order = np.concatenate([order, order[: total - len(order)]])
    return order[rank:total:world]


def _send(channel: Any, *message: Any) -> None:
    if channel is not None:
        channel.put(message)


def train_rank(plan: RankPlan, x: np.ndarray, y: np.ndarray, x_valid: np.ndarray | None,
               y_valid: np.ndarray | None, channel: Any = None, stop: Any = None) -> bytes | None:
    """Train as one rank of a process group set up from MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (gloo).
    Returns rank 0's final weights (torch.save bytes of the state_dict), None on other ranks and when stopped."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from .mlp import build_network

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world, timeout=COLLECTIVE_TIMEOUT)
    try:
        torch.set_num_threads(max(1, plan.threads))
        generator = torch.Generator().manual_seed(plan.seed)
        torch.manual_seed(plan.seed)
        network = build_network(plan.n_inputs, plan.layers, plan.n_outputs, plan.dropout)
        optimizer = torch.optim.Adam(network.parameters(), lr=plan.learning_rate, weight_decay=plan.weight_decay)
        if plan.resume is not None:
            saved = torch.load(io.BytesIO(plan.resume), weights_only=True)
            network.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            generator.set_state(saved["generator"])
        model = DistributedDataParallel(network)  # broadcasts rank 0's weights to every rank
        loss_function = torch.nn.MSELoss() if plan.regression else torch.nn.CrossEntropyLoss()
        features = torch.as_tensor(x, dtype=torch.float32)
        targets = (torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1) if plan.regression
                   else torch.as_tensor(y, dtype=torch.long))
        valid = None
        if rank == 0 and x_valid is not None and y_valid is not None:
            valid = (torch.as_tensor(x_valid, dtype=torch.float32),
                     torch.as_tensor(y_valid, dtype=torch.float32).reshape(-1, 1) if plan.regression
                     else torch.as_tensor(y_valid, dtype=torch.long))
        rows = len(features)
        shard_rows = math.ceil(rows / world)
        _send(channel, "log", f"Rank {rank} of {world}: {shard_rows} of {rows} training rows per epoch, batches of "
                              f"{plan.batch_size} rows.")
        stopped = False
        for epoch in range(plan.start, plan.epochs):
            network.train()
            mine = shard(torch.randperm(rows, generator=generator), rank, world)
            total = torch.zeros(2, dtype=torch.float64)
            for begin in range(0, len(mine), plan.batch_size):
                batch = torch.as_tensor(mine[begin:begin + plan.batch_size])
                optimizer.zero_grad()
                loss = loss_function(model(features[batch]), targets[batch])
                loss.backward()
                optimizer.step()
                total += torch.tensor([float(loss.detach()) * len(batch), len(batch)], dtype=torch.float64)
            number = epoch + 1
            dist.all_reduce(total)
            # Every rank asks the same question at the same point, so all of them stop after the same epoch.
            orphaned = plan.parent_pid is not None and os.getppid() != plan.parent_pid
            stopping = torch.tensor([1 if orphaned or (stop is not None and stop.is_set()) else 0])
            dist.all_reduce(stopping, op=dist.ReduceOp.MAX)
            stopped = bool(stopping.item())
            if rank == 0:
                _report_epoch(channel, plan, network, optimizer, generator, loss_function, valid, number,
                              float(total[0]) / max(float(total[1]), 1.0), stopped)
            if stopped:
                break
        weights = None
        if rank == 0 and not stopped:
            buffer = io.BytesIO()
            torch.save(network.state_dict(), buffer)
            weights = buffer.getvalue()
        dist.barrier()  # no rank leaves the group while another still works in it
        return weights
    finally:
        dist.destroy_process_group()


def _report_epoch(channel: Any, plan: RankPlan, network: Any, optimizer: Any, generator: Any, loss_function: Any,
                  valid: tuple[Any, Any] | None, number: int, train_loss: float, stopping: bool) -> None:
    """Rank 0's part of an epoch's end: the loss curves, and a checkpoint when one is due or the job stops."""
    import torch

    validation_loss = None
    if valid is not None:
        network.eval()
        with torch.no_grad():
            validation_loss = float(loss_function(network(valid[0]), valid[1]))
    _send(channel, "epoch", number, train_loss, validation_loss)
    if stopping or (number % max(1, plan.checkpoint_every) == 0 and number < plan.epochs):
        buffer = io.BytesIO()
        torch.save({"model": network.state_dict(), "optimizer": optimizer.state_dict(),
                    "generator": generator.get_state()}, buffer)
        _send(channel, "checkpoint", number, buffer.getvalue())


def _spawned_rank(rank: int, world: int, master_port: int, plan: RankPlan, x: np.ndarray, y: np.ndarray,
                  x_valid: np.ndarray | None, y_valid: np.ndarray | None, channel: Any, stop: Any) -> None:
    """The entry point torch.multiprocessing.spawn calls in each process on this machine."""
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(master_port), "RANK": str(rank),
                       "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank)})
    weights = train_rank(plan, x, y, x_valid, y_valid, channel, stop)
    if weights is not None:
        _send(channel, "weights", weights)


@contextmanager
def _children_allowed() -> Iterator[None]:
    """Let a daemonic process (a Celery prefork pool worker) start the ranks. multiprocessing refuses because a
    daemon's children could outlive it; here they cannot for long: the parent terminates them however training
    ends, and a rank whose parent died stops at the end of its epoch (RankPlan.parent_pid)."""
    from multiprocessing.process import AuthenticationString  # type: ignore[attr-defined]

    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    saved = dict(config)
    config["daemon"] = False
    # Billiard's own authkey type refuses to be pickled into a spawned child; the same bytes as the standard type.
    config["authkey"] = AuthenticationString(bytes(config["authkey"]))
    try:
        yield
    finally:
        config.clear()
        config.update(saved)


def _last_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def fit_distributed(model: Any, x: np.ndarray, y: np.ndarray, session: Any, processes: int) -> Any:
    """Train `model` (a TorchMLP whose targets are prepared: inputs, outputs, target scaling) with `processes`
    ranks; its network ends with rank 0's final weights. Raises JobStopped when the job asked to stop (after
    every rank has stopped) and TrainingError when a rank failed."""
    import torch
    import torch.multiprocessing as torch_mp

    from .algorithms import checkpoint_pack, checkpoint_unpack
    from .metrics import REGRESSION
    from .mlp import build_network

    if not 2 <= processes <= MAX_PROCESSES:
        raise TrainingError(f"Processes must be between 1 and {MAX_PROCESSES}; got {processes}.", "processes")
    regression = model.problem_type == REGRESSION
    if regression:
        y = (np.asarray(y, dtype="float64") - model.target_mean) / model.target_std
    per_rank = max(1, round(model.batch_size / processes))
    ctx = session.ctx if session is not None else None
    start, resume = 0, None
    if session is not None and ctx is not None:
        found = checkpoint_unpack(ctx.load_checkpoint(), "torch_mlp", session.stage)
        if found is not None and 0 < found[0] < model.epochs:
            start, resume = found
            session.resumed_from = start
            ctx.log(f"Resuming from the checkpoint after epoch {start} of {model.epochs} on every rank.")
    if ctx is not None and per_rank * processes != model.batch_size:
        ctx.log(f"Batch size {model.batch_size} is not a multiple of {processes} processes: each rank takes "
                f"{per_rank} rows, {per_rank * processes} per step in all.", "WARNING")
    x_valid = y_valid = None
    if session is not None and session.x_valid is not None and session.y_valid is not None:
        x_valid, y_valid = session.x_valid, session.y_valid
        if regression:
            y_valid = (np.asarray(y_valid, dtype="float64") - model.target_mean) / model.target_std
    plan = RankPlan(problem_type=model.problem_type, layers=model.layers, n_inputs=model.n_inputs,
                    n_outputs=model.n_outputs, dropout=model.dropout, epochs=model.epochs, batch_size=per_rank,
                    learning_rate=model.learning_rate, weight_decay=model.weight_decay, seed=model.seed,
                    threads=max(1, model.threads // processes), regression=regression, start=start, resume=resume,
                    parent_pid=os.getpid(),
                    checkpoint_every=session.checkpoint_every if session is not None else 10**9)
    mp = torch_mp.get_context("spawn")
    channel, stop = mp.Queue(), mp.Event()
    if ctx is not None:
        ctx.log(f"Training on {processes} processes (torch.distributed, gloo) on this machine.")
    with _children_allowed():
        spawned = torch_mp.spawn(_spawned_rank, nprocs=processes, join=False,
                                 args=(processes, free_port(), plan, np.asarray(x, dtype="float32"), np.asarray(y),
                                       x_valid, y_valid, channel, stop))
    weights: bytes | None = None
    next_stop_check = time.monotonic() + STOP_CHECK_SECONDS

    def relay(message: tuple[Any, ...]) -> None:
        nonlocal weights, next_stop_check
        kind = message[0]
        if kind == "weights":
            weights = message[1]
        elif ctx is None:
            return
        elif kind == "log":
            ctx.log(message[1])
        elif kind == "epoch":
            _, number, train_loss, validation_loss = message
            if session.report_curves:
                ctx.metric("train_loss", train_loss, step=number)
                if validation_loss is not None:
                    ctx.metric("validation_loss", validation_loss, step=number)
                ctx.progress(100 * number / model.epochs, f"Epoch {number} of {model.epochs} on {processes} "
                                                          "processes")
            next_stop_check = 0.0  # ask about a stop once per epoch, as the single-process loop does
        elif kind == "checkpoint":
            ctx.save_checkpoint(checkpoint_pack("torch_mlp", session.stage, message[1], message[2]))

    def drain() -> None:
        while True:
            try:
                relay(channel.get_nowait())
            except queue_module.Empty:
                return

    try:
        while True:
            try:
                done = spawned.join(timeout=POLL_SECONDS)
            except Exception as error:  # noqa: BLE001 - a rank's failure, re-raised with its own message
                drain()
                raise TrainingError(f"Distributed training failed: {_last_line(error)}", "processes") from None
            drain()
            if done:
                break
            if ctx is not None and not stop.is_set() and time.monotonic() >= next_stop_check:
                next_stop_check = time.monotonic() + STOP_CHECK_SECONDS
                if ctx.should_stop():
                    ctx.log("Stopping every rank at the end of this epoch.", "WARNING")
                    stop.set()
    finally:
        for process in spawned.processes:
            if process.is_alive():
                process.terminate()
        for process in spawned.processes:
            process.join(timeout=5)
    if stop.is_set():
        raise JobStopped()
    if weights is None:
        raise TrainingError("Distributed training ended without rank 0's weights.", "processes")
    model.network = build_network(model.n_inputs, model.layers, model.n_outputs, model.dropout)
    model.network.load_state_dict(torch.load(io.BytesIO(weights), weights_only=True))
    model.network.eval()
    return model

"""A multilayer perceptron for tabular data in torch, with the scikit-learn interface the trainer expects.

It reports its training (and validation) loss after every epoch, saves a checkpoint (weights, optimiser
state, epoch) every `checkpoint_every` epochs through the job context, and resumes from one. Weights are
saved as a torch state_dict and loaded with `weights_only=True`, so loading never runs pickled code.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .errors import TrainingError
from .metrics import REGRESSION

MAX_LAYERS = 8
MAX_UNITS = 4096


def parse_layers(text: str) -> list[int]:
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    try:
        layers = [int(part) for part in parts]
    except ValueError:
        raise TrainingError(f"Hidden layers must be whole numbers separated by commas, like 64,32; got '{text}'.",
                            "hidden_layers") from None
    if not layers or len(layers) > MAX_LAYERS or any(units < 1 or units > MAX_UNITS for units in layers):
        raise TrainingError(f"Hidden layers: give 1 to {MAX_LAYERS} layers of 1 to {MAX_UNITS} units each, like 64,32.",
                            "hidden_layers")
    return layers


def build_network(inputs: int, layers: list[int], outputs: int, dropout: float) -> Any:
    from torch import nn

    modules: list[Any] = []
    width = inputs
    for units in layers:
        modules += [nn.Linear(width, units), nn.ReLU()]
        if dropout > 0:
            modules.append(nn.Dropout(dropout))
        width = units
    modules.append(nn.Linear(width, outputs))
    return nn.Sequential(*modules)


class TorchMLP:
    def __init__(self, *, problem_type: str, hidden_layers: str = "64,32", epochs: int = 30, batch_size: int = 64,
                 learning_rate: float = 1e-3, weight_decay: float = 0.0, dropout: float = 0.0, seed: int = 0,
                 threads: int = 1, processes: int = 1) -> None:
        self.problem_type = problem_type
        self.layers = parse_layers(hidden_layers)
        self.hidden_layers = hidden_layers
        self.epochs, self.batch_size = epochs, batch_size
        self.learning_rate, self.weight_decay, self.dropout = learning_rate, weight_decay, dropout
        self.seed, self.threads = seed, threads
        self.processes = processes  # > 1: data-parallel across that many processes (engine.training.distributed)
        self.network: Any = None
        self.n_inputs = 0
        self.n_outputs = 1
        self.target_mean = 0.0
        self.target_std = 1.0
        self.classes_: np.ndarray | None = None

    # -- the architecture spec saved beside the weights ------------------------------------------------
    def spec(self) -> dict[str, Any]:
        return {"problem_type": self.problem_type, "hidden_layers": self.hidden_layers, "layers": self.layers,
                "dropout": self.dropout, "n_inputs": self.n_inputs, "n_outputs": self.n_outputs,
                "target_mean": self.target_mean, "target_std": self.target_std, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "weight_decay": self.weight_decay, "seed": self.seed}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], state_dict: dict[str, Any]) -> TorchMLP:
        model = cls(problem_type=spec["problem_type"], hidden_layers=spec["hidden_layers"], epochs=spec["epochs"],
                    batch_size=spec["batch_size"], learning_rate=spec["learning_rate"],
                    weight_decay=spec["weight_decay"], dropout=spec["dropout"], seed=spec["seed"])
        model.n_inputs, model.n_outputs = int(spec["n_inputs"]), int(spec["n_outputs"])
        model.target_mean, model.target_std = float(spec["target_mean"]), float(spec["target_std"])
        model.network = build_network(model.n_inputs, model.layers, model.n_outputs, model.dropout)
        model.network.load_state_dict(state_dict)
        model.network.eval()
        if model.problem_type != REGRESSION:
            model.classes_ = np.arange(model.n_outputs if model.n_outputs > 1 else 2)
        return model

    def state_dict(self) -> dict[str, Any]:
        return dict(self.network.state_dict())

    # -- training --------------------------------------------------------------------------------------
    def _targets(self, y: np.ndarray) -> Any:
        import torch

        if self.problem_type == REGRESSION:
            return torch.as_tensor((y - self.target_mean) / self.target_std, dtype=torch.float32).reshape(-1, 1)
        return torch.as_tensor(y, dtype=torch.long)

    def _loss(self) -> Any:
        from torch import nn

        return nn.MSELoss() if self.problem_type == REGRESSION else nn.CrossEntropyLoss()

    def fit(self, x: np.ndarray, y: np.ndarray, session: Any = None) -> TorchMLP:
        import torch

        from .algorithms import checkpoint_pack, checkpoint_unpack

        self.n_inputs = x.shape[1]
        if self.problem_type == REGRESSION:
            self.n_outputs = 1
            self.target_mean = float(np.mean(y))
            self.target_std = float(np.std(y)) or 1.0
        else:
            self.n_outputs = int(np.max(y)) + 1 if len(y) else 2
            self.n_outputs = max(self.n_outputs, 2)
            self.classes_ = np.arange(self.n_outputs)
        if self.processes > 1:
            from .distributed import fit_distributed

            return fit_distributed(self, x, y, session, self.processes)
        torch.set_num_threads(max(1, self.threads))
        generator = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        self.network = build_network(self.n_inputs, self.layers, self.n_outputs, self.dropout)
        optimizer = torch.optim.Adam(self.network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        start = 0
        if session is not None:
            resume = checkpoint_unpack(session.ctx.load_checkpoint(), "torch_mlp", session.stage)
            if resume is not None and 0 < resume[0] < self.epochs:
                saved = torch.load(io.BytesIO(resume[1]), weights_only=True)
                self.network.load_state_dict(saved["model"])
                optimizer.load_state_dict(saved["optimizer"])
                generator.set_state(saved["generator"])
                start = resume[0]
                session.resumed_from = start
                session.ctx.log(f"Resuming from the checkpoint after epoch {start} of {self.epochs}.")
        features = torch.as_tensor(x, dtype=torch.float32)
        targets = self._targets(y)
        valid = None
        if session is not None and session.x_valid is not None and session.y_valid is not None:
            valid = (torch.as_tensor(session.x_valid, dtype=torch.float32), self._targets(session.y_valid))
        loss_function = self._loss()
        rows = len(features)
        for epoch in range(start, self.epochs):
            self.network.train()
            order = torch.randperm(rows, generator=generator)
            total = 0.0
            for begin in range(0, rows, self.batch_size):
                batch = order[begin:begin + self.batch_size]
                optimizer.zero_grad()
                loss = loss_function(self.network(features[batch]), targets[batch])
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
            number = epoch + 1
            if session is None:
                continue
            session.ctx.raise_if_stopped()
            if session.report_curves:
                session.ctx.metric("train_loss", total / max(rows, 1), step=number)
                if valid is not None:
                    self.network.eval()
                    with torch.no_grad():
                        session.ctx.metric("validation_loss", float(loss_function(self.network(valid[0]), valid[1])),
                                           step=number)
                session.ctx.progress(100 * number / self.epochs, f"Epoch {number} of {self.epochs}")
            if number % max(1, session.checkpoint_every) == 0 and number < self.epochs:
                buffer = io.BytesIO()
                torch.save({"model": self.network.state_dict(), "optimizer": optimizer.state_dict(),
                            "generator": generator.get_state()}, buffer)
                session.ctx.save_checkpoint(checkpoint_pack("torch_mlp", session.stage, number, buffer.getvalue()))
        self.network.eval()
        return self

    # -- prediction ------------------------------------------------------------------------------------
    def _forward(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.network(torch.as_tensor(np.asarray(x), dtype=torch.float32)).numpy()

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        import torch

        logits = torch.as_tensor(self._forward(x))
        return torch.softmax(logits, dim=1).numpy().astype("float64")

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.problem_type == REGRESSION:
            return self._forward(x)[:, 0].astype("float64") * self.target_std + self.target_mean
        return np.argmax(self.predict_proba(x), axis=1)

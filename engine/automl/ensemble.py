"""Greedy ensemble selection (Caruana et al., 2004): starting from the best model, repeatedly add (with
replacement) the candidate whose addition most improves the validation score of the averaged predictions;
the counts become the weights. The ensemble of the best round is kept."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def ensemble_select(predictions: list[np.ndarray], loss: Callable[[np.ndarray], float],
                    rounds: int = 25) -> tuple[list[float], float]:
    """(weights per candidate, summing to 1; the ensemble's loss) over candidates' validation predictions
    (probabilities or values, all the same shape); lower loss is better."""
    if not predictions:
        raise ValueError("no candidates")
    losses = [loss(prediction) for prediction in predictions]
    first = int(np.nanargmin(losses))
    counts = np.zeros(len(predictions))
    counts[first] = 1
    total = predictions[first].astype("float64").copy()
    best_counts, best_loss = counts.copy(), losses[first]
    for _ in range(rounds - 1):
        size = counts.sum() + 1
        trial_losses = [loss((total + prediction) / size) for prediction in predictions]
        choice = int(np.nanargmin(trial_losses))
        counts[choice] += 1
        total += predictions[choice]
        if trial_losses[choice] < best_loss - 1e-12:
            best_counts, best_loss = counts.copy(), trial_losses[choice]
    return list(best_counts / best_counts.sum()), float(best_loss)

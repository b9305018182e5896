"""Hyperparameter search at equal CPU time: random search against Optuna TPE with pruning.

Run: .venv/bin/python benchmarks/compare_tuning.py [--tables telco ibm_hr mlc_churn]
     [--budget 20] [--seeds 0 1] [--jobs N]
It needs Optuna (`pip install optuna`), which zerochurn does not depend on, so it is not
a bench_*.py script: `make bench` does not run it. It made a one-off decision (issue #21:
adopt Optuna only if it measurably beats the random search at equal time; it did not,
docs/training.md).

`zerochurn train --tune N` samples LightGBM settings at random (training/tuning.py):
trial 1 is the configured booster, each trial is judged by its mean held-out ROC-AUC on
the run's validation folds. This measures whether Optuna's TPE sampler with a median
pruner (a trial stopped when its folds' mean validation log loss, reported every
PRUNE_EVERY boosting rounds, is worse than the median of earlier trials at that round)
finds better settings in the same CPU time. Both search the same space
(tuning.search_space), start from the configured booster, and start no trial once the
budget of CPU seconds (this process, one thread: wall time on a shared machine says
more about the load than the search) is spent; a trial under way finishes.

Protocol (fixed): each public table (benchmarks/public_tables.py) is cut in two
stratified halves twice over (RepeatedStratifiedKFold(n_splits=2, n_repeats=1,
random_state=0) gives two outer folds); the training half is what `zerochurn train
--table` validates on (5x2 inner folds), the test half is never seen by the search.
Per table, outer fold and seed, both methods run one after the other; reported: the best
validation ROC-AUC, the test ROC-AUC of that trial's booster (raw scores), trials run and
pruned, CPU seconds used. Means over outer folds and seeds in results/tuning.json and
docs/benchmarks.md; `test_gain` is Optuna minus random on the test halves.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import NamedTuple

import lightgbm as lgb
import numpy as np
import optuna
from harness import RESULTS_DIR, machine_info
from public_tables import read_public_table, table_csv
from scipy.stats import loguniform, randint, uniform
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from zerochurn.configs.settings import LightGBMConfig, Settings
from zerochurn.training.data import LABEL, Snapshots, table_snapshots
from zerochurn.training.development import Development, development
from zerochurn.training.families import FamilyFit, fit_lightgbm
from zerochurn.training.fit import run_booster
from zerochurn.training.tuning import sampled_boosters, search_space, validation_auc, with_values

OUTER = {"n_splits": 2, "n_repeats": 1, "random_state": 0}
BUDGET = 20.0
"""Default CPU seconds of search per method, table, outer fold and seed."""
PRUNE_EVERY = 10
"""Boosting rounds between two reports of the folds' mean validation log loss."""
STARTUP_TRIALS = 4
"""Trials TPE samples at random and the pruner lets finish before they judge."""
MOST_TRIALS = 10_000
"""More trials than any budget allows: the budget ends the search."""


class Problem(NamedTuple):
    """One search's data: the development rows, the outer split, the configured booster."""

    dev: Development
    snapshots: Snapshots
    base: LightGBMConfig
    settings: Settings


def _test_auc(fitted: FamilyFit, snapshots: Snapshots, dev: Development) -> float:
    test = snapshots.test
    matrix = dev.encoder.transform(test[snapshots.features])
    return float(roc_auc_score(test[LABEL], fitted.scorer.raw_score(matrix)))


def random_search(problem: Problem, budget: float, seed: int) -> dict:
    """training/tuning.py's search, trial after trial until the CPU budget is spent."""
    dev, snapshots, base, settings = problem
    start = time.process_time()
    best, trials = (float("-inf"), float("nan")), 0
    for booster in [
        base,
        *sampled_boosters(base, len(dev.validation.splits[0].fit), MOST_TRIALS, seed),
    ]:
        if time.process_time() - start >= budget:
            break
        fitted = fit_lightgbm(dev, booster, settings)
        trials += 1
        auc = validation_auc(dev, fitted)
        if auc > best[0]:
            best = (auc, _test_auc(fitted, snapshots, dev))
    return {
        "validation_auc": best[0],
        "test_auc": best[1],
        "trials": trials,
        "pruned": 0,
        "cpu_seconds": time.process_time() - start,
    }


def _suggest(trial: optuna.Trial, rows: int) -> dict[str, float]:
    """tuning.search_space's distributions, as Optuna suggestions."""
    sampled = {}
    for name, distribution in search_space(rows).items():
        low, high = distribution.support()
        kind = type(distribution.dist)
        if kind is type(loguniform):
            sampled[name] = trial.suggest_float(name, low, high, log=True)
        elif kind is type(randint):
            sampled[name] = trial.suggest_int(name, int(low), int(high))
        elif kind is type(uniform):
            sampled[name] = trial.suggest_float(name, low, high)
        else:
            raise TypeError(f"no Optuna suggestion for {name}: {kind.__name__}")
    return sampled


def optuna_search(problem: Problem, budget: float, seed: int) -> dict:
    """TPE with a median pruner on the folds' mean validation log loss."""
    dev, snapshots, base, settings = problem
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS),
    )
    rows = len(dev.validation.splits[0].fit)
    study.enqueue_trial({name: getattr(base, name) for name in search_space(rows)})
    test_auc: dict[int, float] = {}
    start = time.process_time()

    def objective(trial: optuna.Trial) -> float:
        def report(env: lgb.callback.CallbackEnv) -> None:
            if env.iteration % PRUNE_EVERY == 0:
                trial.report(-env.evaluation_result_list[0][2], env.iteration)
                if trial.should_prune():
                    raise optuna.TrialPruned()

        booster = with_values(base, _suggest(trial, rows))
        fitted = fit_lightgbm(dev, booster, settings, callbacks=[report])
        test_auc[trial.number] = _test_auc(fitted, snapshots, dev)
        return validation_auc(dev, fitted)

    def stop_when_spent(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        if time.process_time() - start >= budget:
            study.stop()

    study.optimize(objective, n_trials=MOST_TRIALS, callbacks=[stop_when_spent])
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    return {
        "validation_auc": study.best_value,
        "test_auc": test_auc[study.best_trial.number],
        "trials": len(study.trials),
        "pruned": len(pruned),
        "cpu_seconds": time.process_time() - start,
    }


METHODS = {"random": random_search, "optuna": optuna_search}


def run_table(name: str, budget: float, seeds: list[int]) -> list[dict]:
    """Every outer fold, seed and method on one table: one result per search."""
    settings, table = read_public_table(name)
    labels = table.labels.to_numpy(dtype=np.int64)
    runs = []
    splitter = RepeatedStratifiedKFold(**OUTER)
    for outer, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        snapshots = table_snapshots(table, settings, split=(train, test))
        problem = Problem(
            development(snapshots, settings), snapshots, run_booster(snapshots, settings), settings
        )
        for seed in seeds:
            for method, search in METHODS.items():
                result = search(problem, budget, seed)
                runs.append({"table": name, "outer": outer, "seed": seed, "method": method})
                runs[-1] |= result
                print(json.dumps(runs[-1]), flush=True)  # noqa: T201 - progress
    return runs


def summarise(runs: list[dict], budget: float) -> list[dict]:
    """Per table and method: means over outer folds and seeds, and Optuna's test gain."""
    rows = []
    for name in dict.fromkeys(run["table"] for run in runs):
        by_method = {
            method: [run for run in runs if run["table"] == name and run["method"] == method]
            for method in METHODS
        }
        for method, mine in by_method.items():
            row = {"table": name, "method": method, "budget_cpu_seconds": budget}
            for key in ("validation_auc", "test_auc", "trials", "pruned", "cpu_seconds"):
                row[key] = float(np.mean([run[key] for run in mine]))
            row["searches"] = len(mine)
            rows.append(row)
        gains = [
            o["test_auc"] - r["test_auc"]
            for r, o in zip(by_method["random"], by_method["optuna"], strict=True)
        ]
        rows[-1]["test_gain"] = float(np.mean(gains))
        rows[-1]["test_gain_sd"] = float(np.std(gains, ddof=1)) if len(gains) > 1 else 0.0
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["telco", "ibm_hr", "mlc_churn"])
    parser.add_argument("--budget", type=float, default=BUDGET)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=1, help="tables run in parallel processes")
    args = parser.parse_args()
    for name in args.tables:
        table_csv(name)  # fetch each archive once, before any parallel run
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        per_table = pool.map(run_table, args.tables, repeat(args.budget), repeat(args.seeds))
        runs = [run for runs in per_table for run in runs]
    payload = {
        "name": "tuning",
        "machine": machine_info(),
        "rows": summarise(runs, args.budget),
        "runs": runs,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "tuning.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()

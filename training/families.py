"""Fitting each model family on the development rows, with held-out scores for validation.

Each `fit_*` returns the family's final scorer and its raw held-out scores, (r, m): one
row per repeat of the validation, one column per held-out row (training/validation.py).
Out of time, the final scorer is the fold model (it scored the calibration period);
cross-validated, it is refitted on every development row with what the folds chose:
LightGBM's rounds (lgb.cv's early stopping on the folds' mean log loss), the logistic
model's L2 strength (the best mean fold ROC-AUC), the blend's weight. `calibrated` then
fits the calibrator on the held-out scores and measures the folds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import GroupShuffleSplit
from threadpoolctl import threadpool_limits

from zerochurn.configs.settings import LightGBMConfig, LogisticConfig, Settings
from zerochurn.model.basis import SplineBasis
from zerochurn.model.blend import BlendScorer, fit_blend
from zerochurn.model.calibration import CALIBRATORS, choose_calibration
from zerochurn.model.estimator import ChurnModel
from zerochurn.model.linear import LinearScorer, logistic_regression
from zerochurn.model.scorer import Scorer
from zerochurn.model.trees import TreeScorer, booster_params, tree_dataset
from zerochurn.training.development import Development
from zerochurn.training.selection import Candidate
from zerochurn.training.validation import cross_fit, fold_aucs, fold_eces


@dataclass(frozen=True)
class FamilyFit:
    """A family's final scorer and its (r, m) raw held-out scores.

    validated: the scores its folds are judged on when they differ from `held` (the
    blend's, whose weights were chosen on the other folds); None: `held`.
    """

    scorer: Scorer
    held: np.ndarray = field(repr=False)
    validated: np.ndarray | None = field(default=None, repr=False)


def fit_lightgbm(
    dev: Development,
    booster: LightGBMConfig,
    settings: Settings,
    *,
    callbacks: Sequence[Callable[[lgb.callback.CallbackEnv], None]] = (),
) -> FamilyFit:
    """LightGBM with early stopping: out of time on held-out customers of the train period,
    cross-validated on the folds (then refitted with training.selection.refit_rounds_factor
    times the rounds). `callbacks` join the early-stopped training's (e.g. a pruner that
    reads the validation log loss, the first evaluation result)."""
    training = settings.training
    params = booster.model_dump(exclude={"num_boost_round", "early_stopping_rounds"})
    if dev.validation.refit:  # many small fits
        params["num_threads"] = training.selection.threads
    scorer = TreeScorer(
        params,
        num_boost_round=booster.num_boost_round,
        early_stopping_rounds=booster.early_stopping_rounds,
        categorical=range(len(dev.encoder.numeric), dev.matrix.shape[1]),
        random_state=training.random_state,
    )
    if dev.validation.refit:
        factor = training.selection.refit_rounds_factor
        return _cross_validated_lightgbm(scorer, dev, factor, callbacks)
    (split,) = dev.validation.splits
    splitter = GroupShuffleSplit(
        n_splits=1, test_size=training.validation_fraction, random_state=training.random_state
    )
    fit, valid = next(splitter.split(split.fit, groups=dev.groups[split.fit]))
    scorer.fit(
        dev.matrix, dev.y, fit_rows=split.fit[fit], valid_rows=split.fit[valid], callbacks=callbacks
    )
    return FamilyFit(scorer, scorer.raw_score(dev.matrix[dev.validation.held])[None, :])


def _cross_validated_lightgbm(
    scorer: TreeScorer,
    dev: Development,
    factor: float,
    callbacks: Sequence[Callable[[lgb.callback.CallbackEnv], None]],
) -> FamilyFit:
    """lgb.cv on the folds (early stopping on their mean log loss), held-out scores of the
    fold boosters, then the scorer refitted on every row with `factor` times the rounds."""
    validation = dev.validation
    result = lgb.cv(
        booster_params(scorer.params, scorer.random_state),
        tree_dataset(dev.matrix, dev.y, scorer.categorical, free_raw_data=False),
        num_boost_round=scorer.num_boost_round,
        folds=[(split.fit, validation.held[split.scored]) for split in validation.splits],
        callbacks=[lgb.early_stopping(scorer.early_stopping_rounds, verbose=False), *callbacks],
        return_cvbooster=True,
    )
    rounds = len(result["valid binary_logloss-mean"])
    held = np.empty(validation.folds.shape)
    for split, fold_booster in zip(validation.splits, result["cvbooster"].boosters, strict=True):
        rows = dev.matrix[validation.held[split.scored]]
        held[split.repeat, split.scored] = fold_booster.predict(
            rows, raw_score=True, num_iteration=rounds
        )
    scorer.set_params(num_boost_round=max(1, round(rounds * factor))).fit(dev.matrix, dev.y)
    return FamilyFit(scorer, held)


def _sample(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` of the rows, a sorted random sample when there are more."""
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))


def fit_logistic(dev: Development, config: LogisticConfig, seed: int, threads: int) -> FamilyFit:
    """The spline logistic model with the L2 strength of the best mean fold ROC-AUC.

    At most config.max_rows rows are learnt from, in the folds and in the final fit, with
    `threads` BLAS threads.
    """
    with threadpool_limits(limits=threads, user_api="blas"):
        return _fit_logistic(dev, config, seed)


def _fit_logistic(dev: Development, config: LogisticConfig, seed: int) -> FamilyFit:
    encoder, validation = dev.encoder, dev.validation
    final_rows = _sample(
        np.arange(len(dev.y)) if validation.refit else validation.splits[0].fit,
        config.max_rows,
        seed,
    )
    settings = {
        "n_numeric": len(encoder.numeric),
        "categories": [len(encoder.categories_[column]) for column in encoder.categorical],
        "knots": config.knots,
    }
    basis = SplineBasis(**settings).fit(dev.matrix[final_rows])
    fits = [_sample(split.fit, config.max_rows, seed) for split in validation.splits]
    needed = np.unique(np.concatenate([*fits, validation.held]))
    z = basis.transform(dev.matrix[needed])  # row i of z is development row needed[i]
    grid = sorted(config.c_grid)
    held = {c: np.empty(validation.folds.shape) for c in grid}
    for split, fit in zip(validation.splits, fits, strict=True):
        fit_z = np.searchsorted(needed, fit)
        scored_z = np.searchsorted(needed, validation.held[split.scored])
        model = logistic_regression(grid[0], max_iter=config.max_iter, warm_start=True)
        for c in grid:  # each fit starts from the last, more strongly regularised one
            model.set_params(C=c).fit(z[fit_z], dev.y[fit])
            held[c][split.repeat, split.scored] = model.decision_function(z[scored_z])
    y_held = dev.y_held
    best = max(grid, key=lambda c: (np.mean(fold_aucs(validation, y_held, held[c])), -c))
    scorer = LinearScorer(**settings, c=best, max_iter=config.max_iter)
    scorer.fit(dev.matrix[final_rows], dev.y[final_rows])
    if validation.refit:
        return FamilyFit(scorer, held[best])
    return FamilyFit(scorer, scorer.raw_score(dev.matrix[validation.held])[None, :])


def fit_blend_family(dev: Development, parts: tuple[FamilyFit, FamilyFit], steps: int) -> FamilyFit:
    """The blend of two fitted families, its weight chosen on their held-out scores.

    Its folds are judged on cross-fitted scores: each fold blended with the maps and
    weight fitted on the other folds, so the choice of weight is not judged on itself.
    """
    scores = np.stack([part.held for part in parts], axis=-1)  # (r, m, 2)
    y_held = dev.y_held
    validated = cross_fit(
        dev.validation,
        y_held,
        scores,
        fit=lambda s, y: fit_blend(s, y, steps),
        apply=lambda weights, s: weights.blend(s),
    )
    scorer = BlendScorer([part.scorer for part in parts], weight_steps=steps)
    scorer.fit(scores.reshape(-1, 2), np.tile(y_held, dev.validation.repeats))
    return FamilyFit(scorer, scorer.weights_.blend(scores), validated)


def calibrated(
    fitted: FamilyFit, dev: Development, method: str, *, folds: int, seed: int
) -> Candidate:
    """The family's ChurnModel, its calibrator fitted on the held-out scores, and its folds.

    method: "auto" (the lower cross-validated ECE of Platt and isotonic), "platt" or
    "isotonic"; folds: that cross-validation's folds.
    """
    validation, y_held = dev.validation, dev.y_held
    raw = fitted.held.ravel()
    labels = np.tile(y_held, validation.repeats)
    scores: dict[str, float] = {}
    if method == "auto":
        method, scores = choose_calibration(raw, labels, folds=folds, random_state=seed)
    calibrator = CALIBRATORS[method]().fit(raw, labels)
    model = ChurnModel(
        dev.encoder,
        fitted.scorer,
        calibrator,
        calibration_method=method,
        calibration_scores=scores,
    )
    validated = fitted.held if fitted.validated is None else fitted.validated
    probability = cross_fit(
        validation,
        y_held,
        fitted.held,
        fit=lambda s, y: CALIBRATORS[method]().fit(s, y),
        apply=lambda fitted_calibrator, s: fitted_calibrator.transform(s),
    )
    return Candidate(
        family=fitted.scorer.family,
        model=model,
        fold_auc=tuple(fold_aucs(validation, y_held, validated)),
        fold_ece=tuple(fold_eces(validation, y_held, probability)),
        held_probability=calibrator.transform(fitted.held[0]),
    )

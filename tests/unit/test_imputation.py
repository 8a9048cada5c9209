"""KNN imputation of missing dwell times (seed 2a): on data with values removed at random, the
profile's imputation from similar users' views errs less than the mean imputation it replaced."""

import math
import random

from features.population import Population
from features.profile import ProfileConfig, UserProfileState
from reco.events import Event

DEVICES = {"mobile": 8.0, "desktop": 10.0}    # log1p(dwell ms) around e^8 ~ 3 s, e^10 ~ 22 s
CATEGORIES = {"books": 0.8, "shoes": -0.6, "phones": 0.2}


def test_knn_imputation_errs_less_than_the_mean_on_values_removed_at_random():
    rng = random.Random(7)
    config, population = ProfileConfig(), Population()
    knn_errors, mean_errors = [], []
    for user in range(600):
        device = rng.choice(list(DEVICES))
        profile = UserProfileState(config)
        for n in range(3):
            category = rng.choice(list(CATEGORIES))
            truth = DEVICES[device] + CATEGORIES[category] + rng.gauss(0, 0.3)
            removed = rng.random() < 0.3
            before = profile.dwell.mean if profile.dwell.n >= 3 else population.dwell.mean
            profile.update(Event(f"{user}-{n}", "product_view", f"u{user}", ts=1_000 * n,
                                 item_id=f"i{n}", category=category, device=device,
                                 dwell_ms=None if removed else int(math.expm1(truth)),
                                 scroll_depth=0.5), population, config)
            if removed and user >= 100:  # once the population has seen some views
                knn_errors.append(abs(math.log1p(profile.last_dwell) - truth))
                mean_errors.append(abs(before - truth))
    knn, mean = sum(knn_errors) / len(knn_errors), sum(mean_errors) / len(mean_errors)
    print(f"mean absolute error (log dwell): KNN {knn:.3f}, mean imputation {mean:.3f} over "
          f"{len(knn_errors)} removed values")
    assert len(knn_errors) > 200 and knn < 0.6 * mean

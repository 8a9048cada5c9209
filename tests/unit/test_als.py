import numpy as np
import pytest

from online_models.als import ImplicitALS


def planted(seed, n_users=120, n_items=80, rank=3, per_user=12):
    """Interactions drawn from a planted low-rank preference structure; the last interaction
    of each user is held out."""
    rng = np.random.default_rng(seed)
    users_f = rng.gamma(0.5, 1.0, (n_users, rank))
    items_f = rng.gamma(0.5, 1.0, (n_items, rank))
    train, held_out = [], []
    for u in range(n_users):
        p = users_f[u] @ items_f.T
        chosen = rng.choice(n_items, size=per_user + 1, replace=False, p=p / p.sum())
        train += [(f"u{u}", f"i{i}") for i in chosen[:-1]]
        held_out.append((f"u{u}", f"i{chosen[-1]}"))
    return train, held_out


@pytest.mark.parametrize("seed", [1, 2])
def test_als_recovers_a_planted_low_rank_structure(seed):
    train, held_out = planted(seed)
    users, items = zip(*train, strict=True)
    model = ImplicitALS(factors=3, regularization=0.5, alpha=5.0, iterations=10, seed=seed)
    model.fit(users, items, [1.0] * len(users))
    hits = 0
    for user, item in held_out:
        seen = {i for u, i in train if u == user}
        vector = model.user_factors[model.user_ids.index(user)]
        hits += item in {i for i, _ in model.recommend(vector, 10, exclude=seen)}
    hit_rate = hits / len(held_out)
    random_rate = 10 / (80 - 12)
    print(f"seed {seed}: HR@10 {hit_rate:.3f} vs random {random_rate:.3f}")
    assert hit_rate > 2 * random_rate


def test_fold_in_equals_the_full_solve_for_that_user():
    train, _ = planted(3)
    users, items = zip(*train, strict=True)
    model = ImplicitALS(factors=4, iterations=5, seed=3).fit(users, items, [1.0] * len(users))
    for user in ("u0", "u7", "u42"):
        interactions = {i: 1.0 for u, i in train if u == user}
        np.testing.assert_allclose(model.fold_in(interactions),
                                   model.user_factors[model.user_ids.index(user)], rtol=1e-9)


def test_early_stopping_keeps_the_best_validation_score():
    train, held_out = planted(4)
    users, items = zip(*train, strict=True)
    model = ImplicitALS(factors=3, iterations=12, patience=2, seed=4)
    model.fit(users, items, [1.0] * len(users), validation=held_out)
    assert len(model.history) in range(1, 13)
    matrix, u_index, i_index = _index(model, train)
    assert model.hit_rate(matrix, u_index, i_index, held_out) == pytest.approx(
        max(model.history))


def _index(model, train):
    from scipy import sparse

    u_index = {u: n for n, u in enumerate(model.user_ids)}
    i_index = {i: n for n, i in enumerate(model.item_ids)}
    rows, cols = zip(*((u_index[u], i_index[i]) for u, i in train), strict=True)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                               shape=(len(u_index), len(i_index)))
    matrix.sum_duplicates()
    return matrix, u_index, i_index


def test_contract_pickle_clone_seeds_and_inputs_untouched():
    import pickle

    train, held_out = planted(5)
    users, items = (list(x) for x in zip(*train, strict=True))
    weights = [1.0] * len(users)
    snapshot = (list(users), list(items), list(weights))
    model = ImplicitALS(factors=3, iterations=4, seed=5).fit(users, items, weights, held_out)
    assert (users, items, weights) == snapshot
    again = ImplicitALS(factors=3, iterations=4, seed=5).fit(users, items, weights, held_out)
    np.testing.assert_array_equal(model.item_factors, again.item_factors)
    other = ImplicitALS(factors=3, iterations=4, seed=6).fit(users, items, weights, held_out)
    assert not np.allclose(model.item_factors, other.item_factors)
    restored = pickle.loads(pickle.dumps(model))
    interactions = {"i1": 1.0, "i2": 2.0}
    np.testing.assert_array_equal(restored.fold_in(interactions), model.fold_in(interactions))
    assert interactions == {"i1": 1.0, "i2": 2.0}
    fresh = model.clone()
    assert fresh.item_ids == [] and (fresh.factors, fresh.seed) == (3, 5)
    refit = fresh.fit(users, items, weights, held_out)
    np.testing.assert_array_equal(refit.item_factors, model.item_factors)

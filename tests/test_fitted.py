"""env=fitted: the response model learns planted structure, behaviour checks, seeding, leaving, training."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from rlrec.config import with_defaults
from rlrec.data.schema import EVENT_DTYPE, INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.envs.fitted import FittedRecEnv
from rlrec.envs.response_model import auc
from tests.conftest import compose_config

N_USERS, N_ITEMS, PER_USER, GROUPS = 80, 80, 10, 4


def planted(seed: int = 0) -> RecDataset:
    """Four communities: users in group g take items of group g only (item % 4 == g); half of each
    group's items are bought, the others clicked. Leave-one-out: the last pair is test, the one
    before valid. A sampled negative is of the user's own group 1 time in 4, so the best click AUC is
    about 7/8."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(N_USERS):
        group = user % GROUPS
        items = rng.choice(np.arange(group, N_ITEMS, GROUPS), size=PER_USER, replace=False)
        for t, item in enumerate(items):
            split = "test" if t == PER_USER - 1 else "valid" if t == PER_USER - 2 else "train"
            event = "purchase" if item % 8 < 4 else "click"
            rows.append((user, int(item), t, event, None, None, split))
    frame = pl.DataFrame(rows, schema=[*INTERACTIONS_SCHEMA, "split"], orient="row").cast(
        {**INTERACTIONS_SCHEMA, "event": EVENT_DTYPE, "split": SPLIT_DTYPE}
    )
    items = pl.DataFrame(
        {
            "item_id": range(N_ITEMS),
            "title": [f"t{i}" for i in range(N_ITEMS)],
            "text": None,
            "category": [f"c{i % GROUPS}" for i in range(N_ITEMS)],
        }
    ).cast(ITEMS_SCHEMA)
    users = torch.arange(N_USERS)
    dataset = RecDataset("planted", frame, items, N_USERS, users, users, f"planted-{seed}")
    dataset.validate()
    return dataset


def fitted(**options) -> FittedRecEnv:
    defaults = dict(slate_size=4, epochs=30, batch_size=128, lr=0.05, embedding_dim=8, cache_dir=None)
    return with_defaults(FittedRecEnv, planted(), **{**defaults, **options})


def test_auc_is_rank_based_with_ties():
    assert auc(torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0])) == 1.0
    assert auc(torch.tensor([1.0]), torch.tensor([2.0])) == 0.0
    assert auc(torch.tensor([1.0, 1.0]), torch.tensor([1.0])) == 0.5  # ties count a half
    assert auc(torch.tensor([2.0, 0.0]), torch.tensor([1.0])) == 0.5


def test_response_model_learns_planted_structure():
    env = fitted()
    assert env.tasks == ("click", "purchase")
    assert env.auc["click"] > 0.75 and env.auc["purchase"] > 0.8, env.auc
    logits = env.model.all_items(
        torch.tensor([0, 1]), "click"
    )  # user 0: items 0, 4, 8, ...; user 1: 1, 5, ...
    assert logits[0, 0::4].mean() > logits[0, 1::4].mean() and logits[1, 1::4].mean() > logits[1, 0::4].mean()
    metrics = env.evaluate(
        lambda obs: torch.randperm(N_ITEMS)[:4].expand(len(obs["user"]), 4), env.eval_users, 0
    )
    assert metrics["fitted_auc_click"] == env.auc["click"]
    assert metrics["return_oracle"] > metrics["return_random"]


def test_behaviours_the_data_lacks_are_named():
    with pytest.raises(
        ValueError, match=r"env.behaviours asks for \['cart'\].*it has \['click', 'purchase'\]"
    ):
        fitted(behaviours=["click", "cart"])
    with pytest.raises(ValueError, match="must include click"):
        fitted(behaviours=["purchase"])
    assert fitted(behaviours=["click"], epochs=1).tasks == ("click",)


def test_fit_and_simulation_are_seeded(tmp_path):
    a, b = fitted(epochs=2), fitted(epochs=2)
    other = fitted(epochs=2, fit_seed=1)
    assert all(torch.equal(a.model.state_dict()[k], v) for k, v in b.model.state_dict().items())
    assert not torch.equal(a.model.user.weight, other.model.user.weight)
    assert a.auc == b.auc
    global_state = torch.get_rng_state()
    cached = fitted(epochs=2, cache_dir=str(tmp_path))
    assert torch.equal(torch.get_rng_state(), global_state)  # fitting leaves the global RNG alone
    assert len(list((tmp_path / "fitted").glob("*.safetensors"))) == 1
    reloaded = fitted(epochs=2, cache_dir=str(tmp_path))
    assert torch.equal(reloaded.model.item.weight, cached.model.item.weight) and reloaded.auc == cached.auc

    def rollout(env):
        env.seed(7)
        env.reset(torch.arange(8))
        return [env.step(torch.tensor([[0, 1, 2, 3]] * 8))[3]["clicked_position"] for _ in range(5)]

    assert all(torch.equal(x, y) for x, y in zip(rollout(a), rollout(b), strict=True))


def test_users_leave_when_clicks_repeat_a_category():
    # no-click utility -50: every simulated user always clicks; every item of the slate is category c0
    env = fitted(epochs=1, no_click_utility=-50.0, leave_window=5, leave_threshold=1, horizon=10)
    env.reset(torch.arange(6))
    slate = torch.tensor([[0, 4, 8, 12]] * 6)
    _, rewards, done, info = env.step(slate)
    assert (info["clicked_position"] >= 0).all() and not done.any()
    _, _, done, _ = env.step(slate)  # the second c0 click: 2 > leave_threshold=1
    assert done.all()
    _, rewards, done, info = env.step(slate)
    assert (
        not info["active"].any() and rewards["total"].eq(0).all() and (info["clicked_position"] == -1).all()
    )

    patient = fitted(epochs=1, no_click_utility=-50.0, leave_threshold=None, horizon=4)
    patient.reset(torch.arange(6))
    dones = [patient.step(slate)[2].all().item() for _ in range(4)]
    assert dones == [False, False, False, True]  # only the horizon ends the episode


def _write_ratings(folder):
    """A MovieLens-latest layout with planted structure (not the real data): user u rates items of
    parity u % 2, high when item % 4 < 2."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = ["userId,movieId,rating,timestamp"]
    for user in range(1, 41):
        for t, item in enumerate(rng.choice(np.arange(user % 2, 30, 2), size=10, replace=False)):
            lines.append(f"{user},{item + 1},{5.0 if item % 4 < 2 else 2.0},{1000 + t}")
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")
    genres = ["Comedy", "Drama"]
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f"{i + 1},Film {i},{genres[i % 2]}\n" for i in range(30))
    )
    return folder


def test_train_smoke_logs_auc_in_the_summary(tmp_path):
    from rlrec.train import train

    folder = _write_ratings(tmp_path / "ml")
    cfg = compose_config(
        "env=fitted",
        "dataset=movielens",
        f"dataset.path={folder}",
        "dataset.preprocess.min_user_interactions=1",
        "dataset.preprocess.min_item_interactions=1",
        "env.num_envs=16",
        "env.eval_episodes_users=16",
        "env.horizon=5",
        "env.slate_size=5",
        "env.epochs=20",
        "env.lr=0.05",
        "trainer.max_steps=30",
        "trainer.eval_every=30",
        "trainer.enable_progress_bar=false",
        "logger=csv",
        "encoder=id",
        "algorithm.batch_size=32",
        "algorithm.warmup_steps=4",
        output_dir=tmp_path / "run",
        tiny=False,
    )
    summary = train(cfg)
    metrics = summary["metrics"]
    assert summary["status"] == "completed"
    assert metrics["eval/fitted_auc_click"] > 0.6 and metrics["eval/fitted_auc_rating"] > 0.6, metrics
    assert {"eval/return", "eval/return_random", "eval/return_oracle", "eval/return_rating"} <= set(metrics)
    assert list((tmp_path / "rlrec-cache" / "fitted").glob("*.safetensors"))  # paths.cache_dir is used

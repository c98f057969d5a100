"""state_encoder.user_features: a MovieLens 1M user table (gender, age, occupation) as a categorical
input of the state encoders, learned by the logged learners; clear errors where it cannot apply."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch

from rlrec.encoders.user_features import UserFeatureEmbedding, user_feature_codes
from rlrec.experiment import build_experiment
from rlrec.train import train
from tests.conftest import compose_config


def write_ml1m(folder):
    """A MovieLens 1M layout (``::``-separated ratings, movies, users; not the real data): women
    (odd users) rate even items, men odd items, so gender alone says what comes next."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    ratings, users = [], []
    for user in range(1, 41):
        gender = "F" if user % 2 else "M"
        users.append(f"{user}::{gender}::{[1, 18, 25][user % 3]}::{user % 5}::0000{user}")
        for t, item in enumerate(rng.choice(np.arange(user % 2, 30, 2), size=8, replace=False)):
            ratings.append(f"{user}::{item + 1}::4::{1000 + t}")
    (folder / "ratings.dat").write_text("\n".join(ratings) + "\n")
    (folder / "movies.dat").write_text("".join(f"{i + 1}::Film {i} (1990)::Drama\n" for i in range(30)))
    (folder / "users.dat").write_text("\n".join(users[:-1]) + "\n")  # user 40 has no row: code 0
    return folder


def overrides(folder, *extra):
    return [
        "dataset=movielens", f"dataset.path={folder}", "dataset.preprocess.min_user_interactions=1",
        "dataset.preprocess.min_item_interactions=1", "env=replay", "algorithm=supervised",
        "algorithm.batch_size=32", "trainer.max_steps=20", "trainer.eval_every=20",
        "state_encoder.user_features=[gender,age,occupation]", "logger=csv", "encoder=id",
        "trainer.enable_progress_bar=false", "env.num_envs=8", *extra,
    ]  # fmt: skip


def test_codes_are_categorical_per_column_with_0_for_unknown():
    users = pl.DataFrame({"user_id": [0, 2], "gender": ["M", "F"], "age": [25, None]})
    codes = user_feature_codes(users, ["gender", "age"], 3, "tiny")
    assert codes.tolist() == [[2, 1], [0, 0], [1, 0]]  # F=1, M=2; user 1 absent; a missing age is 0
    embedding = UserFeatureEmbedding(codes, 4)
    assert [t.num_embeddings for t in embedding.tables] == [3, 2]
    out = embedding(torch.tensor([0, 1]))
    expected = embedding.tables[0].weight[2] + embedding.tables[1].weight[1]
    assert torch.allclose(out[0], expected) and out.shape == (2, 4)


def test_a_supervised_model_learns_from_the_user_table(tmp_path):
    folder = write_ml1m(tmp_path / "ml-1m")
    cfg = compose_config(*overrides(folder), output_dir=tmp_path / "run", tiny=False)
    experiment = build_experiment(cfg)
    tower = experiment.agent.q.state_tower
    assert tower.needs_users and tower.user_features.codes.shape == (40, 3)
    users = experiment.dataset.users
    woman = int(users.filter(pl.col("gender") == "F")["user_id"][0])
    man = int(users.filter(pl.col("gender") == "M")["user_id"][0])
    history = torch.zeros(2, 10, dtype=torch.long)
    obs = {
        "history": history,
        "history_mask": torch.zeros(2, 10, dtype=torch.bool),
        "user": torch.tensor([woman, man]),
    }
    scores = experiment.agent.q(obs)
    assert not torch.allclose(scores[0], scores[1]), "the same (empty) history, other features"
    before = tower.user_features.tables[0].weight.detach().clone()
    summary = train(cfg)
    assert summary["status"] == "completed"
    ckpt = torch.load(next((tmp_path / "run" / "checkpoints").glob("*.ckpt")), weights_only=True)
    learned = ckpt["state_dict"]["q.state_tower.user_features.tables.0.weight"]
    assert not torch.allclose(learned, before), "the gender embedding was trained"


def test_user_features_fail_clearly_where_they_cannot_apply(tmp_path):
    folder = write_ml1m(tmp_path / "ml-1m")
    with pytest.raises(
        ValueError, match=r"names \['zodiac'\].*it has \['gender', 'age', 'occupation', 'zip'\]"
    ):
        build_experiment(
            compose_config(*overrides(folder, "state_encoder.user_features=[zodiac]"), tiny=False)
        )
    with pytest.raises(ValueError, match="has no user table"):
        build_experiment(compose_config("state_encoder.user_features=[gender]"))  # the synthetic world
    cfg = compose_config(
        *overrides(folder, "algorithm=dqn", "algorithm.batch_size=8", "algorithm.warmup_steps=2"),
        output_dir=tmp_path / "dqn",
        tiny=False,
    )
    with pytest.raises(ValueError, match="training batches carry no user ids"):
        train(cfg)

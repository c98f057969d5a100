"""BPR-MF, EASE and ItemKNN: their maths on hand-made matrices, BPR's sampling and training, and each
judged end to end by ``env=replay`` like every other agent."""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rlrec.agents.bpr import BPRAgent, TrainPairs
from rlrec.agents.neighbours import EASEAgent, ItemKNNAgent
from rlrec.config import with_defaults
from rlrec.data.schema import RecDataset
from rlrec.train import train
from tests.conftest import compose_config
from tests.test_replay_env import make_dataset


def train_dataset(baskets: list[list[int]], n_items: int) -> RecDataset:
    """Train-split clicks: user u interacted with the items ``baskets[u]`` (in that order); every
    user is also an evaluation user."""
    rows = [(u, i, "click", None, None, "train") for u, basket in enumerate(baskets) for i in basket]
    dataset = make_dataset(rows, n_items)
    dataset.eval_users = torch.arange(len(baskets))
    return dataset


def consumed_obs(consumed: list[list[bool]]) -> dict[str, torch.Tensor]:
    """An evaluation observation whose ``consumed`` (the whole earlier sequence) is given; the
    one-slot history window holds item 0 so a policy reading the window instead would differ."""
    n = len(consumed)
    return {
        "user": torch.arange(n),
        "history": torch.zeros(n, 1, dtype=torch.long),
        "history_mask": torch.ones(n, 1, dtype=torch.bool),
        "consumed": torch.tensor(consumed),
    }


def assert_matrix(actual: torch.Tensor, expected: list[list[float]]) -> None:
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=actual.dtype), rtol=1e-5, atol=1e-6)


# --- EASE ------------------------------------------------------------------------------------------
def test_ease_weights_on_two_items_by_hand():
    """Users {0, 1}, {0, 1}, {0} (user 1 had item 1 twice: X is binary); λ = 1. With two items EASE
    is one ridge regression per item: B_01 = x_0·x_1 / (x_0·x_0 + λ) = 2 / (3 + 1), B_10 = 2 / (2 + 1)."""
    agent = with_defaults(EASEAgent, n_items=2, slate_size=1, reg_weight=1.0)
    agent.prepare(SimpleNamespace(dataset=train_dataset([[0, 1], [0, 1, 1], [0]], n_items=2)))
    assert_matrix(agent.weights, [[0.0, 0.5], [2 / 3, 0.0]])


def test_ease_equals_a_ridge_regression_per_item_with_itself_left_out():
    """Steck's eq. 8 solves, for each item j, the ridge regression of x_j on the other columns
    (the zero-diagonal constraint): B_{-j, j} = (X_{-j}ᵀ X_{-j} + λI)⁻¹ X_{-j}ᵀ x_j."""
    baskets = [[0, 1], [1, 2], [0, 1, 2]]
    agent = with_defaults(EASEAgent, n_items=3, slate_size=1, reg_weight=0.5)
    agent.prepare(SimpleNamespace(dataset=train_dataset(baskets, n_items=3)))
    x = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=np.float64)
    expected = np.zeros((3, 3))
    for j in range(3):
        others = [i for i in range(3) if i != j]
        x_rest = x[:, others]
        expected[others, j] = np.linalg.solve(x_rest.T @ x_rest + 0.5 * np.eye(2), x_rest.T @ x[:, j])
    np.testing.assert_allclose(agent.weights.numpy(), expected, rtol=1e-5, atol=1e-6)
    # scores read every consumed item (obs["consumed"]), not the history window (item 0)
    scores = agent.scores(consumed_obs([[False, True, True]]))
    np.testing.assert_allclose(scores.numpy()[0], expected[1] + expected[2], rtol=1e-5, atol=1e-6)


def test_ease_refuses_a_catalogue_too_large_for_a_dense_matrix():
    with pytest.raises(
        ValueError, match=r"algorithm=ease keeps a dense n_items × n_items matrix: 40000 items"
    ):
        with_defaults(EASEAgent, n_items=40_000, slate_size=10, reg_weight=50.0, name="ease")


# --- ItemKNN ---------------------------------------------------------------------------------------
KNN_BASKETS = [[0, 1], [0, 1], [0, 2], [2]]  # ‖x_0‖² = 3, ‖x_1‖² = 2, ‖x_2‖² = 2; x_0·x_1 = 2, x_0·x_2 = 1


def test_itemknn_cosine_with_shrinkage_by_hand():
    agent = with_defaults(ItemKNNAgent, n_items=3, slate_size=1, k=2, shrink=1.0)
    agent.prepare(SimpleNamespace(dataset=train_dataset(KNN_BASKETS, n_items=3)))
    s01 = 2 / (math.sqrt(3) * math.sqrt(2) + 1)  # x_0·x_1 / (‖x_0‖‖x_1‖ + shrink)
    s02 = 1 / (math.sqrt(3) * math.sqrt(2) + 1)
    assert_matrix(agent.weights, [[0, s01, s02], [s01, 0, 0], [s02, 0, 0]])

    plain = with_defaults(ItemKNNAgent, n_items=3, slate_size=1, k=2, shrink=0.0)
    plain.prepare(SimpleNamespace(dataset=train_dataset(KNN_BASKETS, n_items=3)))
    assert plain.weights[0, 1].item() == pytest.approx(2 / math.sqrt(6))  # plain cosine


def test_itemknn_keeps_each_items_k_nearest_neighbours():
    """k = 1: item 0's column keeps only item 1 (s01 > s02), so consuming item 2 no longer scores
    item 0, while item 2's column keeps item 0; a user who had items 1 and 2 scores s01 + 0 for item 0."""
    agent = with_defaults(ItemKNNAgent, n_items=3, slate_size=1, k=1, shrink=1.0)
    agent.prepare(SimpleNamespace(dataset=train_dataset(KNN_BASKETS, n_items=3)))
    s01 = 2 / (math.sqrt(6) + 1)
    s02 = 1 / (math.sqrt(6) + 1)
    assert_matrix(agent.weights, [[0, s01, s02], [s01, 0, 0], [0, 0, 0]])
    scores = agent.scores(consumed_obs([[False, True, True], [False, False, True]]))
    assert_matrix(scores, [[s01, 0, 0], [0, 0, 0]])


# --- BPR -------------------------------------------------------------------------------------------
def make_bpr(n_users: int, n_items: int, dim: int = 2, **kwargs) -> BPRAgent:
    settings = {"lr": 1e-3, "batch_size": 16, "reg_weight": 0.0, **kwargs}
    return with_defaults(
        BPRAgent,
        n_items=n_items,
        slate_size=1,
        n_users=n_users,
        optimizer=functools.partial(torch.optim.Adam),
        embedding_dim=dim,
        **settings,
    )


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no Trainer here
def test_bpr_loss_on_two_users_by_hand():
    """P = [[1, 0], [0, 1]], Q = [[1, 0], [0, 2], [1, 1]]; triples (u0, 0, 1) and (u1, 1, 2):
    x_ui − x_uj = 1 − 0 and 2 − 1, each − ln σ(1) = ln(1 + e⁻¹); norms 1 + 1 + 4 = 6 and 1 + 4 + 2 = 7."""
    agent = make_bpr(n_users=2, n_items=3, reg_weight=0.1)
    with torch.no_grad():
        agent.user_vectors.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        agent.item_vectors.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    batch = {"user": torch.tensor([0, 1]), "positive": torch.tensor([0, 1]), "negative": torch.tensor([1, 2])}
    loss = agent.training_step(batch, 0)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1)) + 0.1 * (6 + 7) / 2, rel=1e-6)
    assert agent.act({"user": torch.tensor([0, 1])}).tolist() == [[0], [1]]  # P_u · Qᵀ = [1, 0, 1], [0, 2, 1]


def test_bpr_negatives_are_never_a_train_positive():
    """User 0 had every item but 4, user 1 only item 0, user 2 every item (no negative at all)."""
    baskets = [[0, 1, 2, 3], [0], [0, 1, 2, 3, 4]]
    pairs = TrainPairs(train_dataset(baskets, n_items=5), n_items=5)
    batch = pairs.sample(6000, torch.Generator().manual_seed(0))
    user, positive, negative = batch["user"], batch["positive"], batch["negative"]
    basket_of = [set(b) for b in baskets]
    assert all(i in basket_of[u] for u, i in zip(user.tolist(), positive.tolist(), strict=True))
    assert not any(j in basket_of[u] for u, j in zip(user.tolist(), negative.tolist(), strict=True))
    assert set(negative[user == 0].tolist()) == {4}
    assert set(negative[user == 1].tolist()) == {1, 2, 3, 4}  # uniform over the rest: all of them drawn
    assert 2 not in user.tolist()  # user 2's triples cannot have a negative: dropped
    # pairs are drawn uniformly: of the 4 + 1 + 5 pairs user 2's five are dropped, so 4 / 5 are user 0's
    assert (user == 0).float().mean().item() == pytest.approx(4 / 5, abs=0.03)


def test_bpr_batches_continue_from_the_collection_state():
    """The sampler's state lives in ``collection``: a new agent given it draws the next batch again."""
    env = SimpleNamespace(dataset=train_dataset([[0, 1], [2, 3], [1, 4]], n_items=5))
    env.generator = torch.Generator().manual_seed(0)
    agent = make_bpr(n_users=3, n_items=5, batch_size=8)
    batches = agent.experience(env)
    next(batches), next(batches)
    saved = dict(agent.collection)
    third = next(batches)
    resumed = make_bpr(n_users=3, n_items=5, batch_size=8)
    resumed.collection = saved
    again = next(resumed.experience(env))
    assert all(torch.equal(third[key], again[key]) for key in third)


def test_bpr_ranks_the_planted_item_first():
    """Two tastes: users 0-9 had items 0-3, users 10-19 items 4-7, except that user 0 never had
    item 3 and user 10 never had item 7. Trained on BPR triples, each ranks the missing item of its
    own taste above every item of the other taste."""
    baskets = [[0, 1, 2, 3]] * 10 + [[4, 5, 6, 7]] * 10
    baskets[0], baskets[10] = [0, 1, 2], [4, 5, 6]
    dataset = train_dataset(baskets, n_items=8)
    torch.manual_seed(0)
    agent = make_bpr(n_users=20, n_items=8, dim=4, batch_size=64, lr=0.05, mask_consumed=True)
    env = SimpleNamespace(dataset=dataset, generator=torch.Generator().manual_seed(0))
    optimizer = agent.configure_optimizers()
    for _, batch in zip(range(300), agent.experience(env), strict=False):
        optimizer.zero_grad()
        agent.bpr_loss(batch)[0].backward()
        optimizer.step()
    consumed = torch.zeros(2, 8, dtype=torch.bool)
    consumed[0, :3] = consumed[1, 4:7] = True
    obs = {"user": torch.tensor([0, 10]), "history": torch.zeros(2, 1, dtype=torch.long),
           "history_mask": torch.ones(2, 1, dtype=torch.bool), "consumed": consumed}  # fmt: skip
    assert agent.act(obs).tolist() == [[3], [7]]


def test_bpr_gets_the_number_of_users_from_build_experiment(tmp_path):
    from rlrec.experiment import build_experiment

    experiment = build_experiment(compose_config("algorithm=bpr", output_dir=tmp_path))
    assert experiment.agent.user_vectors.num_embeddings == experiment.dataset.n_users == 200


# --- end to end: env=replay on a tiny MovieLens folder ---------------------------------------------
def write_two_taste_ratings(folder):
    """40 users, 30 films: odd users rate 10 odd films, even users 10 even ones (ratings.csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = ["userId,movieId,rating,timestamp"]
    for user in range(1, 41):
        for t, item in enumerate(rng.choice(np.arange(user % 2, 30, 2), size=10, replace=False)):
            lines.append(f"{user},{item + 1},4.0,{1000 + t}")
    (folder / "ratings.csv").write_text("\n".join(lines) + "\n")
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f"{i + 1},Film {i},Drama\n" for i in range(30))
    )
    return folder


TINY_REPLAY = [
    "dataset=movielens",
    "dataset.preprocess.min_user_interactions=1",
    "dataset.preprocess.min_item_interactions=1",
    "env=replay",
    "env.num_envs=16",
    "env.slate_size=10",
    "encoder=id",
    "logger=csv",
    "trainer.max_steps=60",
    "trainer.eval_every=60",
    "trainer.enable_progress_bar=false",
]


@pytest.mark.parametrize(
    ("algorithm", "overrides", "steps"),
    [
        ("bpr", ["algorithm.batch_size=128", "algorithm.lr=0.05", "algorithm.embedding_dim=8"], 60),
        ("ease", [], 0),
        ("itemknn", ["algorithm.k=10"], 0),
    ],
)
def test_train_judges_each_classic_baseline_by_the_replay_protocol(algorithm, overrides, steps, tmp_path):
    """Each taste's test item is among the few films of that taste the user has not rated, so a
    collaborative filter hits far more often than random slates do."""
    folder = write_two_taste_ratings(tmp_path / "ml")
    config = compose_config(
        *TINY_REPLAY, f"dataset.path={folder}", f"algorithm={algorithm}", *overrides,
        output_dir=tmp_path / "run", tiny=False,
    )  # fmt: skip
    summary = train(config)
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == steps
    assert (tmp_path / "run" / "summary.json").is_file()
    assert 0.0 <= metrics["eval/ndcg@10"] <= 1.0
    assert metrics["eval/hr@10"] > metrics["eval/hr@10_random"] + 0.2, metrics


def test_a_resumed_bpr_run_ends_with_the_metrics_of_an_uninterrupted_one(tmp_path, monkeypatch):
    from tests.test_resume import _interrupt_at

    overrides = ["algorithm=bpr", "algorithm.batch_size=64", "trainer.max_steps=30", "trainer.eval_every=15"]
    whole = train(compose_config(*overrides, output_dir=tmp_path / "whole"))
    with monkeypatch.context() as patch:
        _interrupt_at(patch, 11)
        stopped = train(compose_config(*overrides, output_dir=tmp_path / "stopped"))
    assert stopped["status"] == "interrupted"
    ckpt = tmp_path / "stopped" / "checkpoints" / "last.ckpt"
    resumed = train(compose_config(*overrides, f"ckpt_path={ckpt}", output_dir=tmp_path / "resumed"))
    assert resumed["status"] == "completed" and resumed["metrics"] == whole["metrics"]

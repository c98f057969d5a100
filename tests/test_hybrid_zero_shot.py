"""encoder=hybrid (LM vector + an id embedding that is zero for never-trained items) and
algorithm=lm_zero_shot (cosine of LM profile and item vectors, no training), on tiny BERT folders."""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import pytest
import torch
import torch.nn.functional as F

from rlrec.agents.zero_shot import LMZeroShotAgent
from rlrec.config import with_defaults
from rlrec.encoders.hybrid import HybridItemEncoder, train_split_items
from rlrec.encoders.item_text import ItemTextEncoder
from rlrec.train import train
from tests.conftest import compose_config
from tests.test_classic_baselines import TINY_REPLAY, write_two_taste_ratings
from tests.test_replay_env import make_dataset
from tests.tiny_models import TEXTS

TRAINED = torch.tensor([True, False, True, False, True, True])  # items 1 and 3 are cold


def hybrid(folder, cache_dir, trained=TRAINED, id_init_std=0.1, dim=8, id_dropout=0.0) -> HybridItemEncoder:
    return HybridItemEncoder(
        n_items=len(TEXTS), item_texts=TEXTS, cache_dir=str(cache_dir), trained_items=trained,
        dim=dim, id_init_std=id_init_std, id_dropout=id_dropout, model=str(folder),
    )  # fmt: skip


# --- encoder=hybrid --------------------------------------------------------------------------------
def test_id_part_of_untrained_items_is_zero_before_and_after_training(tiny_bert, tmp_path):
    tower = hybrid(tiny_bert, tmp_path)
    weight = tower.id_embedding.weight
    assert torch.equal(weight[~TRAINED], torch.zeros(2, 8)) and (weight[TRAINED] != 0).all()
    before = weight.detach().clone()
    # weight decay too: AdamW would shrink a non-zero row, but a zero row with zero gradient stays zero
    optimizer = torch.optim.AdamW(tower.parameters(), lr=0.1, weight_decay=0.1)
    target = torch.randn(len(TEXTS), 8)
    for _ in range(5):
        optimizer.zero_grad()
        loss = (tower() - target).pow(2).sum() + tower(torch.tensor([[1, 3], [0, 1]])).sum()
        loss.backward()
        assert torch.equal(weight.grad[~TRAINED], torch.zeros(2, 8)), "the mask stops the cold rows' gradient"
        optimizer.step()
    assert torch.equal(weight[~TRAINED], torch.zeros(2, 8))
    assert not torch.equal(weight[TRAINED], before[TRAINED]), "the trained items' id embeddings learned"


def test_a_cold_item_is_its_projected_language_model_vector(tiny_bert, tmp_path):
    tower = hybrid(tiny_bert, tmp_path)
    with torch.no_grad():
        tower.id_embedding.weight.fill_(1.0)  # even a non-zero row would not reach a cold item's vector
    projected = tower.text.projection(tower.text.embeddings)  # W · e(item) [n_items, 8]
    vectors = tower()  # [n_items, 8]
    assert torch.equal(vectors[~TRAINED], projected[~TRAINED])
    assert torch.allclose(vectors[TRAINED], projected[TRAINED] + 1.0)  # g = W·e + E for the trained
    fresh = tower.text.projection(tower.encode_texts([TEXTS[1], TEXTS[3]]))  # the texts encoded anew
    assert torch.allclose(vectors[[1, 3]], fresh, atol=1e-5)
    items = torch.tensor([[1, 2], [3, 3]])
    assert torch.equal(tower(items), vectors[items])  # any shape -> [..., dim]


def test_id_dropout_drops_whole_id_parts_in_training_forwards_only(tiny_bert, tmp_path):
    torch.manual_seed(0)
    tower = hybrid(tiny_bert, tmp_path, id_dropout=0.5)
    with torch.no_grad():
        tower.id_embedding.weight[TRAINED] = 1.0
    text = tower.text().detach()  # W · e [n_items, 8]
    with torch.no_grad():  # evaluation: every trained item keeps its id part
        assert torch.allclose(tower()[TRAINED], text[TRAINED] + 1.0)
    dropped = []
    for _ in range(200):
        offset = (tower() - text).detach()  # [n_items, 8]: the id part each row got this forward
        assert torch.equal(offset[~TRAINED], torch.zeros(2, 8)), "a cold item never has an id part"
        rows = offset[TRAINED]
        assert ((rows == 0).all(1) | torch.isclose(rows, torch.ones(8)).all(1)).all(), "whole rows"
        dropped.append((rows == 0).all(1).float().mean())
    assert 0.4 < torch.stack(dropped).mean() < 0.6  # p = 0.5, not rescaled
    tower.eval()
    assert torch.allclose(tower()[TRAINED], text[TRAINED] + 1.0), "eval mode keeps every id part"
    with pytest.raises(ValueError, match=r"encoder.id_dropout must be in \[0, 1\)"):
        hybrid(tiny_bert, tmp_path, id_dropout=1.0)


def test_zero_init_starts_as_the_text_tower_and_the_interface_is_the_text_towers(tiny_bert, tmp_path):
    tower = hybrid(tiny_bert, tmp_path, id_init_std=0.0)
    assert torch.equal(tower.id_embedding.weight, torch.zeros(len(TEXTS), 8))
    assert torch.equal(tower(), tower.text())
    assert tower.text_dim == 32 and tower.embeddings.shape == (len(TEXTS), 32)
    assert tower.cache_key == tower.text.cache_key and tower.cache_hit is False


def test_bad_hybrid_input_fails_clearly(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match=r"trained_items must be a \[6\] bool mask"):
        hybrid(tiny_bert, tmp_path, trained=torch.ones(5, dtype=torch.bool))
    with pytest.raises(ValueError, match="encoder.id_init_std must be at least 0"):
        hybrid(tiny_bert, tmp_path, id_init_std=-0.1)


def test_trained_items_are_those_with_a_train_interaction():
    rows = [
        (0, 0, "click", None, None, "train"),
        (0, 2, "click", None, None, "train"),
        (0, 3, "click", None, None, "test"),  # item 3: test only, so cold
        (1, 2, "click", None, None, "train"),
        (1, 4, "click", None, None, "test"),
    ]
    dataset = make_dataset(rows, n_items=5)
    assert train_split_items(dataset).tolist() == [True, False, True, False, False]


def test_train_with_encoder_hybrid_runs_end_to_end(tiny_bert, tmp_path):
    folder = write_two_taste_ratings(tmp_path / "ml")
    overrides = [
        *TINY_REPLAY, f"dataset.path={folder}", "encoder=hybrid", f"encoder.model={tiny_bert}",
        "encoder.id_init_std=0.1", "algorithm=supervised", "algorithm.batch_size=32",
        "state_encoder=gru", "trainer.max_steps=20", "trainer.eval_every=20",
    ]  # fmt: skip
    summary = train(compose_config(*overrides, output_dir=tmp_path / "run", tiny=False), overrides=overrides)
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == 20
    assert 0.0 <= summary["metrics"]["eval/ndcg@10"] <= 1.0
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    trained = state["q.item_tower.trained"]
    weight = state["q.item_tower.id_embedding.weight"]
    assert trained.any()
    assert torch.equal(weight[~trained], torch.zeros_like(weight[~trained]))


# --- algorithm=lm_zero_shot ------------------------------------------------------------------------
def zero_shot(item_encoder, slate_size=2, profile_items=1, mask_consumed=False) -> LMZeroShotAgent:
    agent = with_defaults(LMZeroShotAgent,
        item_encoder=item_encoder, n_items=len(TEXTS), slate_size=slate_size, profile_items=profile_items,
        profile_template="{titles}", mask_consumed=mask_consumed, name="lm_zero_shot",
    )  # fmt: skip
    agent.prepare(SimpleNamespace(dataset=SimpleNamespace(items=pl.DataFrame({"text": TEXTS}))))
    return agent


def one_item_histories(n: int = len(TEXTS)) -> dict[str, torch.Tensor]:
    """User j's history window: [padding, item j]."""
    history = torch.stack([torch.zeros(n, dtype=torch.long), torch.arange(n)], dim=1)  # [n, 2]
    return {"history": history, "history_mask": torch.tensor([[False, True]] * n)}


@pytest.mark.parametrize("tower", ["text", "hybrid"])
def test_a_user_whose_history_is_one_items_text_gets_that_item_first(tower, tiny_bert, tmp_path):
    if tower == "hybrid":
        item_encoder = hybrid(tiny_bert, tmp_path)
    else:
        item_encoder = ItemTextEncoder(len(TEXTS), TEXTS, str(tmp_path), model=str(tiny_bert), dim=8)
    agent = zero_shot(item_encoder)
    obs = one_item_histories()
    assert agent.act(obs)[:, 0].tolist() == list(range(len(TEXTS)))  # profile text = item j's text
    scores = agent.scores(obs)  # [n, n] cosines
    torch.testing.assert_close(scores.diagonal(), torch.ones(len(TEXTS)), atol=1e-5, rtol=0)
    assert (scores <= 1 + 1e-5).all()


def test_scores_are_the_cosine_of_the_rendered_profile(tiny_bert, tmp_path):
    item_encoder = ItemTextEncoder(len(TEXTS), TEXTS, str(tmp_path), model=str(tiny_bert), dim=8)
    agent = zero_shot(item_encoder, profile_items=2)
    obs = {"history": torch.tensor([[5, 1, 3]]), "history_mask": torch.tensor([[True, True, True]])}
    profile = item_encoder.encode_texts([f"{TEXTS[1]}; {TEXTS[3]}"])  # the last two, oldest first
    expected = F.normalize(profile, dim=-1) @ F.normalize(item_encoder.embeddings, dim=-1).T
    torch.testing.assert_close(agent.scores(obs), expected, atol=1e-5, rtol=0)


def test_zero_shot_slates_respect_the_masking(tiny_bert, tmp_path):
    item_encoder = ItemTextEncoder(len(TEXTS), TEXTS, str(tmp_path), model=str(tiny_bert), dim=8)
    obs = one_item_histories()
    excluded = torch.eye(len(TEXTS), dtype=torch.bool)
    excluded[:, 0] = True  # the environment's protocol: never item 0, nor the user's own item
    slate = zero_shot(item_encoder, slate_size=3).act({**obs, "exclude": excluded})
    assert not excluded.gather(1, slate).any()
    slate = zero_shot(item_encoder, slate_size=3, mask_consumed=True).act(obs)  # the agent's own choice
    assert (slate != torch.arange(len(TEXTS))[:, None]).all(), "nobody gets their consumed item back"
    assert all(len(set(row)) == 3 for row in slate.tolist())


def test_zero_shot_bad_input_fails_clearly(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="encoder=id has none"):
        train(compose_config("algorithm=lm_zero_shot", "encoder=id", output_dir=tmp_path / "id"))
    item_encoder = ItemTextEncoder(len(TEXTS), TEXTS, str(tmp_path), model=str(tiny_bert), dim=8)
    with pytest.raises(ValueError, match="algorithm.profile_items must be at least 1"):
        zero_shot(item_encoder, profile_items=0)
    with pytest.raises(ValueError, match="must contain"):
        with_defaults(
            LMZeroShotAgent, item_encoder, len(TEXTS), 2, profile_items=1, profile_template="{texts}"
        )
    with pytest.raises(RuntimeError, match="prepare"):
        with_defaults(LMZeroShotAgent, item_encoder, len(TEXTS), 2, 1, "{titles}").act(one_item_histories())


def test_train_judges_lm_zero_shot_by_the_replay_protocol(tiny_bert, tmp_path):
    folder = write_two_taste_ratings(tmp_path / "ml")
    overrides = [
        *TINY_REPLAY, f"dataset.path={folder}", "encoder=minilm", f"encoder.model={tiny_bert}",
        "algorithm=lm_zero_shot",
    ]  # fmt: skip
    summary = train(compose_config(*overrides, output_dir=tmp_path / "run", tiny=False), overrides=overrides)
    metrics = summary["metrics"]
    assert summary["status"] == "completed" and metrics["train/steps"] == 0
    assert 0.0 <= metrics["eval/ndcg@10"] <= metrics["eval/hr@10"] <= 1.0
    assert summary["protocol"]["masking"] == "every earlier item of the user"
    assert (tmp_path / "run" / "summary.json").is_file()


def test_cold_item_scores_are_standardized_by_default_and_raw_on_request(tiny_bert, tmp_path):
    from rlrec.evaluate import evaluate_checkpoint

    folder = write_two_taste_ratings(tmp_path / "ml")
    overrides = [
        *TINY_REPLAY, f"dataset.path={folder}", "encoder=hybrid", f"encoder.model={tiny_bert}",
        "algorithm=supervised", "algorithm.batch_size=32", "state_encoder=gru", "trainer.max_steps=10",
        "trainer.eval_every=10", "dataset.split.method=cold_items", "dataset.split.cold_fraction=0.2",
    ]  # fmt: skip
    run = tmp_path / "run"
    summary = train(compose_config(*overrides, output_dir=run, tiny=False), overrides=overrides)
    assert summary["protocol"]["cold_scores"] == "standardize"
    assert "eval/ndcg@10_cold" in summary["metrics"]
    ckpt = run / "checkpoints" / "last.ckpt"
    same = evaluate_checkpoint(ckpt, overrides)
    raw = evaluate_checkpoint(ckpt, [*overrides, "algorithm.cold_scores=raw"])
    assert same["protocol"]["cold_scores"] == "standardize" and raw["protocol"]["cold_scores"] == "raw"
    assert same["metrics"]["eval/ndcg@10"] == pytest.approx(summary["metrics"]["eval/ndcg@10"])
    with pytest.raises(ValueError, match="algorithm.cold_scores must be one of"):
        evaluate_checkpoint(ckpt, [*overrides, "algorithm.cold_scores=zscore"])

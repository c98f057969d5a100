"""reward=text_feedback: a tiny sequence classifier loaded through from_pretrained scores feedback text."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from rlrec.config import with_defaults
from rlrec.envs.replay import ReplayEnv
from rlrec.envs.text_reward import TextFeedbackReward
from tests.conftest import compose_config
from tests.test_replay_env import make_dataset


def save_classifier(folder: Path, tiny_bert: Path, bias: tuple[float, float]) -> Path:
    """A 2-label BERT classifier (negative, positive) whose output is its bias alone."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(tiny_bert, id2label={0: "negative", 1: "positive"})
    config.label2id = {"negative": 0, "positive": 1}
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_bert).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def positive_model(tiny_bert, tmp_path_factory) -> Path:
    return save_classifier(tmp_path_factory.mktemp("positive"), tiny_bert, (0.0, 50.0))


@pytest.fixture(scope="module")
def undecided_model(tiny_bert, tmp_path_factory) -> Path:
    return save_classifier(tmp_path_factory.mktemp("undecided"), tiny_bert, (0.0, 0.0))


def test_label_map_is_applied_to_texts(positive_model):
    reward = with_defaults(
        TextFeedbackReward,
        model=str(positive_model),
        label_rewards={"negative": -1.0, "positive": 2.5},
        weights={"click": 0.2, "text": 1.0},
    )
    out = reward({"click": torch.tensor([1.0, 0.0, 1.0])}, text=["a witty podcast", None, "  "])
    assert out["text"].tolist() == [2.5, 0.0, 0.0]  # no text, or blank text: 0
    assert torch.allclose(out["total"], torch.tensor([2.7, 0.0, 0.2]))
    by_index = with_defaults(
        TextFeedbackReward, model=str(positive_model), label_rewards={"0": -1.0, "1": 3.0}, scoring="argmax"
    )
    assert by_index.score(["jazz"]).tolist() == [3.0]
    only_negative = with_defaults(
        TextFeedbackReward, model=str(positive_model), label_rewards={"NEGATIVE": -1.0}
    )  # names: any case
    assert only_negative.score(["jazz"]).item() == pytest.approx(0.0, abs=1e-9)  # the winner is unmapped


def test_expected_scoring_weighs_labels_by_probability(undecided_model):
    reward = with_defaults(
        TextFeedbackReward, model=str(undecided_model), label_rewards={"negative": -1.0, "positive": 3.0}
    )
    assert reward.score(["football tactics"]).item() == pytest.approx(1.0)  # 0.5 · -1 + 0.5 · 3
    argmax = with_defaults(
        TextFeedbackReward,
        model=str(undecided_model),
        label_rewards={"negative": -1.0, "positive": 3.0},
        scoring="argmax",
    )
    assert argmax.score(["football tactics"]).item() == -1.0  # a tie goes to the first label


def test_each_distinct_text_is_classified_once(positive_model, monkeypatch):
    reward = with_defaults(
        TextFeedbackReward, model=str(positive_model), label_rewards={"positive": 1.0}, batch_size=2
    )
    calls = []
    forward = reward.classifier.forward
    monkeypatch.setattr(
        reward.classifier, "forward", lambda **kw: calls.append(len(kw["input_ids"])) or forward(**kw)
    )
    texts = ["jazz", "rome", "jazz", "pasta", "rome"]
    assert reward.score(texts).tolist() == [1.0] * 5
    assert sorted(calls) == [1, 2]  # three distinct texts in batches of two
    reward.score(["pasta", "jazz"])
    assert sorted(calls) == [1, 2] and set(reward.cache) == {"jazz", "rome", "pasta"}


def test_unknown_label_and_missing_model_are_named(positive_model, tmp_path):
    with pytest.raises(ValueError, match=r"reward.label_rewards names 'neutral'.*0: negative.*1: positive"):
        with_defaults(TextFeedbackReward, model=str(positive_model), label_rewards={"neutral": 0.5})
    with pytest.raises(ValueError, match="reward.label_rewards names '2'"):
        with_defaults(TextFeedbackReward, model=str(positive_model), label_rewards={"2": 0.5})
    with pytest.raises(OSError, match="reward.model"):
        with_defaults(TextFeedbackReward, model=str(tmp_path / "nowhere"), label_rewards={"positive": 1.0})


def test_replayed_reviews_are_rewarded_through_the_config(positive_model, tmp_path):
    cfg = compose_config("reward=text_feedback", f"reward.model={positive_model}", output_dir=tmp_path)
    reward = instantiate(cfg.reward)
    assert isinstance(reward, TextFeedbackReward) and reward.weights["text"] == 1.0
    env = with_defaults(ReplayEnv, make_dataset(), reward=reward, slate_size=2, horizon=10)
    env.reset(torch.tensor([3, 0]))
    _, rewards, _, _ = env.step(torch.tensor([[1, 0], [1, 5]]))  # user 3's item 1 has the review "meh"
    assert rewards["text"].tolist() == [1.0, 0.0]  # user 0's click on item 1 carries no text
    assert rewards["total"].tolist() == pytest.approx([1.2, 0.2])


def test_review_text_reaches_sqns_logged_transitions(positive_model, tmp_path):
    """SQN, supervised and off-policy REINFORCE learn from LoggedTransitions: user 3's two reviews
    ("meh", "loved it") earn the classifier's text reward there too, the rows without text do not."""
    from rlrec.agents.logged import LoggedTransitions, logged_batches

    cfg = compose_config("reward=text_feedback", f"reward.model={positive_model}", output_dir=tmp_path)
    reward = instantiate(cfg.reward)
    dataset = make_dataset()
    log = LoggedTransitions(dataset, reward, ("click", "cart", "purchase"), history_length=2)
    rows = log.rows(torch.arange(len(log)))
    # train rows in time order: user 0 (items 0, 1, 2, 3), user 1 (5, 0), user 2 (1), user 3 (0, 1 "meh", 2 "loved it")
    assert rows["action"].tolist() == [0, 1, 2, 3, 5, 0, 1, 0, 1, 2]
    assert rows["reward_text"].tolist() == [0.0] * 8 + [1.0, 1.0]
    # text weight 1.0 on top of the click weight 0.2 (rate counts as click)
    assert rows["reward_total"][-2:].tolist() == pytest.approx([1.2, 1.2])
    # the batches an SQN agent draws (agents/sqn.py uses logged_batches) carry the same rewards
    env = with_defaults(ReplayEnv, dataset, reward=reward, slate_size=2, horizon=10)
    batch = next(logged_batches(env, history_length=2, batch_size=64, collection={}))
    texts = batch["reward_text"] == 1.0
    assert texts.any() and torch.allclose(batch["reward_total"][texts], torch.tensor(1.2))

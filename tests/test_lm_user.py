"""env=lm_user: a tiny saved GPT-2 writes feedback on clicked items, a tiny classifier scores it, the
texts are cached on disk by prompt hash, and a DQN trains end to end on it."""

from __future__ import annotations

import json

import pytest
import torch

from rlrec.envs.lm_user import FeedbackWriter, LMUserEnv
from rlrec.train import train
from tests.conftest import compose_config
from tests.test_fitted import _write_ratings
from tests.test_text_reward import save_classifier


@pytest.fixture(scope="module")
def positive_model(tiny_bert, tmp_path_factory):
    return save_classifier(tmp_path_factory.mktemp("positive"), tiny_bert, (0.0, 50.0))


def writer(tiny_gpt2, cache_dir, **settings) -> FeedbackWriter:
    options = dict(
        revision=None, max_new_tokens=6, do_sample=False, temperature=1.0, top_p=1.0, batch_size=2,
        max_prompt_tokens=48, seed=0, device="cpu", cache_dir=str(cache_dir),
    ) | settings  # fmt: skip
    return FeedbackWriter(str(tiny_gpt2), **options)


def test_feedback_is_generated_in_batches_once_and_then_read_from_the_disk_cache(tiny_gpt2, tmp_path):
    prompts = ["I watched jazz. Review:", "A long prompt about rocket launches and galaxies. Review:", "x"]
    first = writer(tiny_gpt2, tmp_path)
    texts = first([*prompts, prompts[0]])  # a repeated prompt is generated once
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts) and texts[0] == texts[3]
    assert first.generated == 3 and first.generate_calls == 2  # batches of 2: [2, 1]
    assert first([prompts[1]]) == [texts[1]] and first.generate_calls == 2 and first.cached == 2
    lines = (tmp_path / "lm_user" / f"{first.key}.jsonl").read_text().splitlines()
    assert len(lines) == 3 and {"prompt_sha256", "text"} == set(json.loads(lines[0]))

    again = writer(tiny_gpt2, tmp_path)  # a new process: the disk cache answers
    assert again(prompts) == texts[:3] and again.generate_calls == 0 and again.generated == 0
    other = writer(tiny_gpt2, tmp_path, max_new_tokens=3)  # another setting: another cache file
    assert other.key != first.key and other(prompts[:1]) and other.generate_calls == 1
    with (tmp_path / "lm_user" / f"{first.key}.jsonl").open("a") as file:
        file.write('{"prompt_sha256": "ab')  # a line cut by a killed run is skipped
    assert writer(tiny_gpt2, tmp_path)(prompts) == texts[:3]


def test_sampling_is_seeded(tiny_gpt2, tmp_path):
    prompts = ["jazz", "football tactics", "rome"]
    a = writer(tiny_gpt2, tmp_path / "a", do_sample=True, temperature=1.5, max_new_tokens=8)(prompts)
    b = writer(tiny_gpt2, tmp_path / "b", do_sample=True, temperature=1.5, max_new_tokens=8)(prompts)
    c = writer(tiny_gpt2, tmp_path / "c", do_sample=True, temperature=1.5, max_new_tokens=8, seed=1)(prompts)
    assert a == b and a != c


def test_bad_lm_user_settings_fail_clearly(tiny_gpt2, tmp_path):
    with pytest.raises(ValueError, match="env.max_new_tokens"):
        writer(tiny_gpt2, tmp_path, max_new_tokens=0)
    with pytest.raises(OSError, match="env.user_model"):
        writer(tmp_path / "no-such-model", tmp_path)


def lm_user_overrides(folder, tiny_gpt2, classifier, *extra):
    return [
        "env=lm_user", "reward=text_feedback", f"reward.model={classifier}", f"env.user_model={tiny_gpt2}",
        "env.max_new_tokens=4", "dataset=movielens", f"dataset.path={folder}",
        "dataset.preprocess.min_user_interactions=1", "dataset.preprocess.min_item_interactions=1",
        "env.num_envs=8", "env.eval_episodes_users=8", "env.horizon=4", "env.slate_size=5", "env.epochs=5",
        "trainer.max_steps=12", "trainer.eval_every=12", "trainer.enable_progress_bar=false", "logger=csv",
        "encoder=id", "algorithm=dqn", "algorithm.batch_size=16", "algorithm.warmup_steps=2", *extra,
    ]  # fmt: skip


def _env(cfg) -> LMUserEnv:
    from hydra.utils import instantiate

    dataset = instantiate(cfg.dataset)
    return instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)


def test_prompt_names_the_recent_history_and_the_item(tiny_gpt2, positive_model, tmp_path):
    folder = _write_ratings(tmp_path / "ml")
    env = _env(compose_config(*lm_user_overrides(folder, tiny_gpt2, positive_model), tiny=False))
    assert isinstance(env, LMUserEnv)
    env.reset(env.eval_users[:2])
    prompt = env.prompts(torch.tensor([0]), torch.tensor([3]))[0]
    history = env._history[0][env._mask[0]].tolist()
    last = [env.item_titles[i] for i in history][-5:]
    assert len(last) == 5 and "; ".join(last) in prompt and env.item_texts[3] in prompt


def test_a_dqn_trains_on_the_lm_user_and_a_second_identical_run_generates_nothing(
    tiny_gpt2, positive_model, tmp_path, monkeypatch
):
    calls = []
    generate = FeedbackWriter._generate
    monkeypatch.setattr(
        FeedbackWriter, "_generate", lambda self, p: calls.append(len(p)) or generate(self, p)
    )
    folder = _write_ratings(tmp_path / "ml")
    overrides = lm_user_overrides(folder, tiny_gpt2, positive_model)
    first = train(compose_config(*overrides, output_dir=tmp_path / "run1", tiny=False))
    assert first["status"] == "completed" and calls, "the LM user wrote feedback"
    metrics = first["metrics"]
    # the classifier calls every text positive (+1), so each click earns a text reward of 1
    assert metrics["eval/return_text"] > 0
    assert metrics["eval/return_text"] == pytest.approx(metrics["eval/return_click"], rel=1e-4)
    assert metrics["eval/lm_user_generated"] > 0
    n_first = len(calls)
    second = train(compose_config(*overrides, output_dir=tmp_path / "run2", tiny=False))
    assert len(calls) == n_first, "every prompt of the identical run came from the disk cache"
    assert second["metrics"]["eval/lm_user_generated"] == 0 and second["metrics"]["eval/lm_user_cached"] > 0
    same = {k: v for k, v in metrics.items() if k.startswith("eval/return")}
    assert {k: second["metrics"][k] for k in same} == same


def test_lm_user_needs_a_text_reward(tiny_gpt2, positive_model, tmp_path):
    folder = _write_ratings(tmp_path / "ml")
    overrides = [
        o for o in lm_user_overrides(folder, tiny_gpt2, positive_model) if not o.startswith("reward")
    ]
    with pytest.raises(ValueError, match="reward.weights.text"):
        _env(compose_config(*overrides, tiny=False))

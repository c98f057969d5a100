"""The language-model item tower: disk cache (hits make no forward call), frozen projection, fine-tuning."""

from __future__ import annotations

import json

import pytest
import torch

import rlrec.encoders.item_text as item_text
from rlrec.encoders.item_text import ItemTextEncoder
from rlrec.train import train
from tests.conftest import compose_config
from tests.tiny_models import TEXTS


@pytest.fixture
def forward_calls(monkeypatch):
    """Counts forward calls of every language model the item tower loads."""
    calls = []
    real_load = item_text.load_language_model

    def counting_load(*args, **kwargs):
        tokenizer, model = real_load(*args, **kwargs)
        model.register_forward_hook(lambda *_: calls.append(1))
        return tokenizer, model

    monkeypatch.setattr(item_text, "load_language_model", counting_load)
    return calls


def build(folder, cache_dir, texts=TEXTS, **kwargs):
    return ItemTextEncoder(
        n_items=len(texts), item_texts=texts, cache_dir=str(cache_dir), model=str(folder), **kwargs
    )


def test_cache_hit_makes_no_forward_call(tiny_bert, tmp_path, forward_calls):
    first = build(tiny_bert, tmp_path, batch_size=4)
    assert not first.cache_hit and len(forward_calls) == 2, "6 texts in batches of 4: two forward calls"
    second = build(tiny_bert, tmp_path, batch_size=4)
    assert second.cache_hit and len(forward_calls) == 2, "a cache hit runs (and loads) no model"
    assert second.cache_key == first.cache_key
    assert torch.equal(second.embeddings, first.embeddings)
    meta = json.loads((tmp_path / "embeddings" / f"{first.cache_key}.json").read_text())
    assert meta["model"] == str(tiny_bert.resolve()) and meta["shape"] == [len(TEXTS), 32]
    assert not list((tmp_path / "embeddings").glob(".*")), "no temporary files left behind"


@pytest.mark.parametrize(
    "change",
    [{"pooling": "cls"}, {"max_length": 4}, {"normalize": True}, {"texts": [*TEXTS[:-1], "new text"]}],
)
def test_cache_key_follows_what_the_vectors_depend_on(change, tiny_bert, tmp_path, forward_calls):
    base = build(tiny_bert, tmp_path)
    texts = change.pop("texts", TEXTS)
    changed = build(tiny_bert, tmp_path, texts=texts, **change)
    assert changed.cache_key != base.cache_key and not changed.cache_hit
    assert not torch.allclose(changed.embeddings, base.embeddings)


def test_batch_size_does_not_change_the_key(tiny_bert, tmp_path):
    assert (
        build(tiny_bert, tmp_path, batch_size=2).cache_key
        == build(tiny_bert, tmp_path, batch_size=5).cache_key
    )


def test_frozen_tower_projects_the_cached_vectors(tiny_bert, tmp_path):
    tower = build(tiny_bert, tmp_path, dim=8)
    assert tower.dim == 8 and tower().shape == (len(TEXTS), 8)
    assert torch.allclose(tower(torch.tensor([[1, 2]])), tower()[[1, 2]].unsqueeze(0))
    trainable = {name for name, p in tower.named_parameters() if p.requires_grad}
    assert trainable == {"projection.weight", "projection.bias"}


def test_item_count_must_match_the_texts(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="6 item texts for 7 items"):
        ItemTextEncoder(n_items=7, item_texts=TEXTS, cache_dir=str(tmp_path), model=str(tiny_bert))


@pytest.mark.parametrize("model", ["bert", "gpt2"])
def test_finetuning_trains_the_top_layers_only(model, request, tmp_path):
    """A DQN trains end to end with the top LM layer in its optimiser; the rest stays as loaded."""
    from transformers import AutoModel

    folder = request.getfixturevalue(f"tiny_{model}")
    overrides = [
        f"encoder={model}",
        f"encoder.model={folder}",
        "encoder.finetune=true",
        "encoder.trainable_layers=1",
        "encoder.finetune_items_per_step=16",
        "trainer.max_steps=20",
        "trainer.eval_every=10",
    ]
    summary = train(compose_config(*overrides, output_dir=tmp_path), overrides=overrides)
    assert summary["status"] == "completed"
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    prefix = "q.item_tower.language_model."
    tuned = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    original = AutoModel.from_pretrained(str(folder)).state_dict()
    assert set(tuned) == set(original)
    top = "h.1." if model == "gpt2" else "encoder.layer.1."
    changed = {key for key in original if not torch.equal(tuned[key], original[key])}
    assert changed, "the trainable layer learned"
    assert all(key.startswith(top) for key in changed), f"frozen weights moved: {sorted(changed)[:3]}"
    assert any(key.startswith(top) and "weight" in key for key in changed)

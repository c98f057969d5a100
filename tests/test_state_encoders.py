"""User-state encoders (mean, GRU, SASRec) and the profile-text option."""

from __future__ import annotations

import pytest
import torch

from rlrec.encoders.id import IdItemEncoder
from rlrec.encoders.item_text import ItemTextEncoder
from rlrec.encoders.state import GRUHistoryState, MeanHistoryState, SASRecHistoryState
from rlrec.train import train
from tests.conftest import compose_config
from tests.tiny_models import TEXTS

ENCODERS = {"mean": MeanHistoryState, "gru": GRUHistoryState, "sasrec": SASRecHistoryState}


def history(batch=3, length=6, dim=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    vectors = torch.randn(batch, length, dim, generator=generator)  # [B, H, d]
    mask = torch.ones(batch, length, dtype=torch.bool)
    mask[0, :4] = False  # two real items
    mask[1, :] = False  # no history at all
    ids = torch.randint(0, len(TEXTS), (batch, length), generator=generator)
    return vectors, mask, ids


@pytest.mark.parametrize("name", ENCODERS)
def test_state_ignores_padding_and_has_the_right_shape(name):
    torch.manual_seed(0)
    encoder = ENCODERS[name](item_dim=8, out_dim=5, hidden_dim=16, history_length=6).eval()
    vectors, mask, ids = history()
    state = encoder(vectors, mask, ids)
    assert state.shape == (3, 5) and torch.isfinite(state).all()
    noisy = torch.where(mask[..., None], vectors, torch.randn_like(vectors) * 100)  # garbage at padding
    assert torch.allclose(encoder(noisy, mask, ids), state, atol=1e-5)


@pytest.mark.parametrize(("name", "order_matters"), [("mean", False), ("gru", True), ("sasrec", True)])
def test_sequence_encoders_read_order(name, order_matters):
    torch.manual_seed(0)
    encoder = ENCODERS[name](item_dim=8, out_dim=5, hidden_dim=16, history_length=6).eval()
    vectors, mask, ids = history()
    reversed_vectors = vectors.flip(1)
    full = torch.ones_like(mask)
    same = torch.allclose(encoder(vectors, full, ids)[2], encoder(reversed_vectors, full, ids)[2], atol=1e-5)
    assert same != order_matters


def test_sasrec_is_causal_at_the_newest_item_only_through_the_past():
    torch.manual_seed(0)
    encoder = SASRecHistoryState(item_dim=8, out_dim=5, hidden_dim=16, history_length=6).eval()
    vectors, mask, ids = history()
    changed = vectors.clone()
    changed[:, -1] += 1.0  # the newest item changes the state
    assert not torch.allclose(encoder(changed, mask, ids)[2], encoder(vectors, mask, ids)[2])


@pytest.fixture
def text_tower(tiny_bert, tmp_path):
    return ItemTextEncoder(
        n_items=len(TEXTS), item_texts=TEXTS, cache_dir=str(tmp_path), model=str(tiny_bert), dim=8
    )


def test_profile_text_renders_recent_titles_and_caches_by_string(text_tower, monkeypatch):
    titles = [f"Title {i}" for i in range(len(TEXTS))]
    encoder = MeanHistoryState(
        8, 5, 16, 6, item_encoder=text_tower, item_titles=titles, profile_text=True, profile_items=3
    )
    vectors, mask, ids = history()
    rendered = encoder.profile.render(ids, mask)
    assert rendered[0] == "Recently watched: " + "; ".join(f"Title {i}" for i in ids[0, -2:].tolist())
    assert rendered[1] == "" and rendered[2].count(";") == 2
    encoded = []
    real_encode = text_tower.encode_texts
    monkeypatch.setattr(text_tower, "encode_texts", lambda texts: encoded.extend(texts) or real_encode(texts))
    first = encoder(vectors, mask, ids)
    again = encoder(vectors, mask, ids)
    assert sorted(encoded) == sorted(set(rendered)), "each distinct profile is encoded once"
    assert torch.equal(first, again)
    expected = real_encode([rendered[0]])[0]
    assert torch.allclose(encoder.profile.cache[rendered[0]], expected, atol=1e-5), (
        "the LM's vector of the text"
    )


def test_profile_text_with_the_id_encoder_fails_clearly():
    with pytest.raises(ValueError, match="encoder=id has none"):
        MeanHistoryState(
            8, 5, 16, 6, item_encoder=IdItemEncoder(10, 8), item_titles=["t"] * 10, profile_text=True
        )


@pytest.mark.parametrize(
    "overrides",
    [
        ["state_encoder=gru"],
        ["state_encoder=sasrec"],
        ["state_encoder=gru", "state_encoder.profile_text=true", "encoder=bert", "encoder.model={tiny_bert}"],
    ],
    ids=["gru", "sasrec", "gru+profile"],
)
def test_a_dqn_trains_with_each_state_encoder(overrides, tiny_bert, tmp_path):
    overrides = [override.format(tiny_bert=tiny_bert) for override in overrides]
    summary = train(
        compose_config(*overrides, "trainer.max_steps=30", output_dir=tmp_path), overrides=overrides
    )
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == 30

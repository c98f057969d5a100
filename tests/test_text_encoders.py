"""Text encoders on tiny BERT / GPT-2 folders: pooling ignores padding (left and right), bad input."""

from __future__ import annotations

import logging

import pytest
import torch

from rlrec.encoders.text import LanguageModelNotFound, TextEncoder, load_language_model, pool
from tests.conftest import run_rlrec
from tests.tiny_models import TEXTS

TOLERANCE = 1e-5


def encoder(folder, pooling, padding_side, batch_size):
    tokenizer, model = load_language_model(str(folder), padding_side=padding_side)
    return TextEncoder(tokenizer, model, pooling=pooling, batch_size=batch_size)


@pytest.mark.parametrize("padding_side", ["left", "right"])
@pytest.mark.parametrize(
    ("model", "pooling"), [("bert", "mean"), ("bert", "cls"), ("gpt2", "last"), ("gpt2", "mean")]
)
def test_padded_batches_equal_unpadded_encoding(model, pooling, padding_side, request):
    folder = request.getfixturevalue(f"tiny_{model}")
    batched = encoder(folder, pooling, padding_side, batch_size=len(TEXTS)).encode(TEXTS)  # [n, d]
    one_by_one = encoder(folder, pooling, padding_side, batch_size=1).encode(TEXTS)  # no padding at all
    difference = (batched - one_by_one).abs().max().item()
    print(f"{model} {pooling} {padding_side}-padded: max |batched - unpadded| = {difference:.2e}")
    assert difference < TOLERANCE
    assert batched.shape == (len(TEXTS), 32)
    assert len({tuple(row.tolist()) for row in batched}) == len(TEXTS), "different texts, different vectors"


def test_pool_reads_only_real_tokens():
    hidden = torch.arange(2 * 4 * 1, dtype=torch.float32).view(2, 4, 1)  # [B=2, T=4, d=1]
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    assert pool(hidden, right, "mean").squeeze(-1).tolist() == [0.5, 5.5]
    assert pool(hidden, left, "mean").squeeze(-1).tolist() == [2.5, 5.5]
    assert pool(hidden, right, "last").squeeze(-1).tolist() == [1.0, 7.0]
    assert pool(hidden, left, "last").squeeze(-1).tolist() == [3.0, 7.0]
    assert pool(hidden, left, "cls").squeeze(-1).tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="pooling"):
        pool(hidden, right, "max")


def test_gpt2_tokenizer_without_pad_token_gets_one(tiny_gpt2):
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(str(tiny_gpt2)).pad_token is None
    tokenizer, _ = load_language_model(str(tiny_gpt2))
    assert tokenizer.pad_token == tokenizer.eos_token == "<|endoftext|>"


@pytest.mark.parametrize("model", ["bert", "gpt2"])
def test_empty_and_null_texts_are_encoded_as_the_empty_string(model, request, caplog):
    pooling = "last" if model == "gpt2" else "mean"
    text_encoder = encoder(request.getfixturevalue(f"tiny_{model}"), pooling, "right", batch_size=4)
    with caplog.at_level(logging.WARNING, logger="rlrec.encoders.text"):
        vectors = text_encoder.encode(["jazz", None, "", "football tactics", "   "])
    assert "3 of 5 item texts are empty or null" in caplog.text
    assert torch.isfinite(vectors).all()
    assert torch.allclose(vectors[1], vectors[2], atol=TOLERANCE)
    assert torch.allclose(vectors[2], vectors[4], atol=TOLERANCE)
    assert torch.allclose(vectors[1], text_encoder.encode([""])[0], atol=TOLERANCE)


def test_missing_folder_fails_naming_it_and_the_fix(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(LanguageModelNotFound, match="does not exist") as failure:
        load_language_model(str(missing))
    assert str(missing) in str(failure.value) and "encoder.model=/path/to/folder" in str(failure.value)


def test_folder_without_weights_fails_naming_it(tiny_bert, tmp_path):
    folder = tmp_path / "config-only"
    folder.mkdir()
    (folder / "config.json").write_text((tiny_bert / "config.json").read_text())
    with pytest.raises(LanguageModelNotFound, match="holds no weights") as failure:
        load_language_model(str(folder))
    assert str(folder) in str(failure.value) and "encoder.model=" in str(failure.value)


def test_hub_name_while_offline_fails_with_one_clear_error(tmp_path):
    result = run_rlrec(
        "encode",
        "encoder=bert",
        "encoder.model=rlrec-tests/no-such-bert",
        "dataset.n_items=20",
        "dataset.n_users=20",
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")},
    )
    assert result.returncode == 2, result.stderr
    assert "rlrec-tests/no-such-bert" in result.stderr and "encoder.model=/path/to/folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_rlrec_encode_precomputes_then_hits(tiny_bert, tmp_path):
    args = [
        "encode",
        "encoder=bert",
        f"encoder.model={tiny_bert}",
        "dataset.n_items=40",
        "dataset.n_users=20",
    ]
    first, second = (run_rlrec(*args, cwd=tmp_path) for _ in range(2))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert ": miss, key " in first.stdout and ": hit, key " in second.stdout
    assert "40 items, dim 32" in first.stdout
    key = first.stdout.split("key ")[1].split(",")[0]
    assert key in second.stdout


def test_rlrec_encode_refuses_the_id_encoder(tmp_path):
    result = run_rlrec("encode", "encoder=id", cwd=tmp_path)
    assert result.returncode == 2 and "reads no text" in result.stderr

"""Tiny BERT and GPT-2 models built from configs, with tokenizers trained on test text, saved with
``save_pretrained`` so tests load them through the real ``from_pretrained`` path (no download)."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "A gripping documentary about rocket launches and distant galaxies.",
    "A gentle novel about home cooking, fresh pasta and baking bread.",
    "A witty podcast on football tactics and legendary strikers.",
    "An in-depth series about ancient rome and forgotten empires.",
    "A thoughtful album of jazz standards and saxophone solos.",
    "Machine learning, neural networks and language models for beginners.",
    "Recently watched: Midnight Galaxies 3; Golden Pasta 7; Silent Strikers 12",
]
TEXTS = [  # lengths differ, so every batch is padded
    "jazz",
    "A gripping documentary about rocket launches.",
    "A gentle novel about home cooking, fresh pasta, baking bread and weeknight dinners with friends.",
    "football tactics",
    "Machine learning and neural networks.",
    "An in-depth series about ancient rome, medieval castles, forgotten empires and the silk road.",
]


def save_tiny_bert(folder: Path) -> Path:
    """A 2-layer BERT (hidden 32) and a WordPiece tokenizer with [CLS] … [SEP]."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tokenizer.token_to_id("[CLS]")), ("[SEP]", tokenizer.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def save_tiny_gpt2(folder: Path) -> Path:
    """A 2-layer GPT-2 (hidden 32) and a byte-level BPE tokenizer with no pad token (as GPT-2's)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )
    config = GPT2Config(
        vocab_size=tokenizer.get_vocab_size(),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=64,
        bos_token_id=tokenizer.token_to_id("<|endoftext|>"),
        eos_token_id=tokenizer.token_to_id("<|endoftext|>"),
    )
    GPT2Model(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder

"""Build a tiny, randomly initialised sentence-transformers model for fast tests.

Real architecture (BERT), real WordPiece tokenizer, real sentence-transformers folder layout; only
the weights are random and the sizes small, so export, embedding and parity tests run in seconds.

Example::

    python -m specialize_trainer.tiny_model --out /tmp/tiny --pooling cls --query-prompt "query: "
"""

from __future__ import annotations

import argparse
import string
import sys
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Normalize, Transformer
from sentence_transformers.sentence_transformer.modules import Pooling
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece
from transformers import BertConfig, BertModel, BertTokenizerFast

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = (
    "the of and to in is for on that with as by at from it an are this be or not have which can how do "
    "what error file model query passage search index vector token embed train teacher student api key "
    "function class return import def const let type string number data test run build config server"
).split()


def tiny_bert_config(vocab_size: int, **overrides: Any) -> BertConfig:
    """The tiny BERT every test model uses: 2 layers of width 32, no dropout (overrides for heads, labels)."""
    settings: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }
    return BertConfig(**{**settings, **overrides})


def build_tiny_model(
    out_dir: str | Path, pooling: str = "mean", query_prompt: str = "", passage_prompt: str = "", seed: int = 0
) -> Path:
    """Write a tiny BERT sentence-transformers model to ``out_dir``.

    Args:
        out_dir: target folder (created).
        pooling: ``cls``, ``mean``, ``max`` or ``lasttoken``.
        query_prompt: prompt prepended to queries (saved in config_sentence_transformers.json).
        passage_prompt: prompt prepended to passages.
        seed: torch seed for the random weights.

    Returns:
        The folder.
    """
    out_dir = Path(out_dir)
    hf_dir = out_dir / "_hf"
    torch.manual_seed(seed)
    characters = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = _SPECIAL + characters + [f"##{c}" for c in string.ascii_lowercase + string.digits] + _WORDS
    tokenizer = Tokenizer(WordPiece({token: i for i, token in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = BertTokenizerFast(tokenizer_object=tokenizer, model_max_length=64)
    BertModel(tiny_bert_config(len(vocab))).save_pretrained(hf_dir)
    fast.save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=64)
    modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling), Normalize()]
    prompts = {"query": query_prompt, "document": passage_prompt}
    SentenceTransformer(modules=modules, prompts=prompts, device="cpu").save(str(out_dir))
    for file in hf_dir.iterdir():
        file.unlink()
    hf_dir.rmdir()
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--pooling", default="mean", choices=["cls", "mean", "max", "lasttoken"])
    parser.add_argument("--query-prompt", default="")
    parser.add_argument("--passage-prompt", default="")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    build_tiny_model(args.out, args.pooling, args.query_prompt, args.passage_prompt, args.seed)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

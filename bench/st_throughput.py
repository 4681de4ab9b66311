"""Time sentence-transformers (PyTorch, CPU) on a fixed set of texts: the baseline the engine is compared with.

Reads ``{"texts": [...]}`` (or a bare list) from ``--texts``, loads the model with ``device="cpu"``,
pins torch to ``--threads`` threads and times ``model.encode(texts, batch_size=...)``.

Two modes:

* default: warm up, run ``--reps`` timed repetitions per precision and print one JSON object.
* ``--serve``: warm up, print a JSON ``ready`` line, then answer each stdin line ``fp32`` or ``int8``
  with one timed repetition as a JSON line. ``bench/embedThroughput.ts`` uses this to interleave
  engine and PyTorch repetitions, so background load hits both sides alike.

``--int8`` adds PyTorch's dynamic int8 quantisation of every ``nn.Linear``
(``torch.ao.quantization.quantize_dynamic``, per-channel qint8 weights like the engine's int8 export,
activations quantised on the fly). Its cosine to the fp32 embeddings of the warm-up texts is reported
as ``int8_cosine_to_fp32``, since a faster int8 is only a fair rival if it stays close to fp32.

Example::

    .venv/bin/python bench/st_throughput.py --model ./model --texts texts.json --threads 2 --reps 3 --int8
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers import __version__ as st_version


def quantize_int8(model: SentenceTransformer) -> SentenceTransformer:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    # Per-channel weights: on MiniLM the cosine to fp32 is ~0.98 (per-tensor: ~0.91) at the same speed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def count_tokens(model: SentenceTransformer, texts: list[str], prompt: str) -> int:
    """Real tokens (special tokens included, after truncation), as the model will see them."""
    # sentence-transformers 6 renamed `tokenize` to `preprocess`; older releases only have `tokenize`.
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    total = 0
    for start in range(0, len(texts), 256):
        features = preprocess([prompt + text for text in texts[start : start + 256]])
        total += int(features["attention_mask"].sum())
    return total


class Runner:
    def __init__(self, args: argparse.Namespace, texts: list[str]) -> None:
        self.texts = texts
        self.batch_size = args.batch_size
        self.prompt = args.prompt
        load_start = time.perf_counter()
        fp32 = SentenceTransformer(args.model, device="cpu")
        if args.max_seq_length:
            fp32.max_seq_length = args.max_seq_length
        fp32.eval()
        self.models = {"fp32": fp32}
        if args.int8:
            self.models["int8"] = quantize_int8(fp32)
        self.load_seconds = time.perf_counter() - load_start
        self.tokens = count_tokens(fp32, texts, self.prompt)
        self.max_seq_length = fp32.max_seq_length
        self.int8_cosine: dict | None = None

    def encode(self, precision: str, texts: list[str]) -> float:
        return self._encode(precision, texts)[0]

    def _encode(self, precision: str, texts: list[str]) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        embeddings = self.models[precision].encode(
            texts,
            prompt=self.prompt or None,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return time.perf_counter() - start, embeddings

    def warm_up(self, count: int) -> None:
        embeddings = {precision: self._encode(precision, self.texts[:count])[1] for precision in self.models}
        if "int8" in embeddings:
            fp32, int8 = embeddings["fp32"], embeddings["int8"]
            cosines = (fp32 * int8).sum(axis=1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(int8, axis=1)
            self.int8_cosine = {"texts": count, "mean": float(cosines.mean()), "min": float(cosines.min())}

    def info(self) -> dict:
        return {
            "torch": torch.__version__,
            "sentence_transformers": st_version,
            "torch_threads": torch.get_num_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "quantized_engine": torch.backends.quantized.engine,
            "max_seq_length": self.max_seq_length,
            "batch_size": self.batch_size,
            "texts": len(self.texts),
            "tokens": self.tokens,
            "load_seconds": self.load_seconds,
            "precisions": list(self.models),
            "int8_cosine_to_fp32": self.int8_cosine,
        }


def summarize(seconds: list[float], texts: int) -> dict:
    return {
        "seconds": seconds,
        "median_seconds": statistics.median(seconds),
        "passages_per_second": texts / statistics.median(seconds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="sentence-transformers model folder")
    parser.add_argument("--texts", required=True, help='JSON file: {"texts": [...]} or a list of strings')
    parser.add_argument("--threads", type=int, required=True, help="torch intra-op threads")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per precision (default mode)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=0, help="override the model's max_seq_length (0: keep)")
    parser.add_argument("--prompt", default="", help="prepended to every text (the model's passage prompt)")
    parser.add_argument("--warmup", type=int, default=64, help="texts encoded once per precision before timing")
    parser.add_argument("--int8", action="store_true", help="also time dynamic int8 quantisation of nn.Linear")
    parser.add_argument("--serve", action="store_true", help="answer stdin lines (fp32|int8) with one timed run each")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    with open(args.texts, encoding="utf-8") as file:
        data = json.load(file)
    texts = data["texts"] if isinstance(data, dict) else data

    runner = Runner(args, texts)
    runner.warm_up(min(args.warmup, len(texts)))

    if args.serve:
        print(json.dumps({"ready": True, **runner.info()}), flush=True)
        for line in sys.stdin:
            precision = line.strip()
            if not precision:
                continue
            if precision not in runner.models:
                print(json.dumps({"error": f"unknown precision {precision!r}"}), flush=True)
                continue
            print(json.dumps({"precision": precision, "seconds": runner.encode(precision, texts)}), flush=True)
        return 0

    results = {}
    for precision in runner.models:
        seconds = [runner.encode(precision, texts) for _ in range(args.reps)]
        results[precision] = summarize(seconds, len(texts))
    print(json.dumps({**runner.info(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Embed texts with sentence-transformers itself: the reference the engine's ONNX output is tested against.

Reads ``{"texts": [...], "kind": "query" | "passage"}`` as JSON on stdin and prints
``{"dimension": d, "embeddings": [[...], ...]}``.

Example::

    echo '{"texts": ["hello"], "kind": "query"}' | python -m specialize_trainer.embed_reference --model ./model
"""

from __future__ import annotations

import argparse
import json
import sys

import torch
from sentence_transformers import SentenceTransformer

from specialize_trainer.conventions import read_conventions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="sentence-transformers model folder")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    request = json.load(sys.stdin)
    model = SentenceTransformer(args.model, device="cpu")
    conventions = read_conventions(model)
    prompt = conventions.query_prompt if request["kind"] == "query" else conventions.passage_prompt
    embeddings = model.encode(request["texts"], prompt=prompt, convert_to_numpy=True, batch_size=32)
    json.dump({"dimension": int(embeddings.shape[1]), "embeddings": embeddings.tolist()}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

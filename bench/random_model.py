"""Write a sentence-transformers model folder with a real model's architecture and tokenizer but random weights.

Throughput depends on the architecture, the tokenizer and the texts, not on the weights. A GPU machine lent
for measurements can only take a few tens of MB along, so the benchmarks there run on models rebuilt from
their configuration files (a few hundred KB) with seeded random weights instead of carrying the weights.
Never use such a model for quality figures.

Example::

    python bench/random_model.py ~/.cache/specialize/hub/BAAI--bge-small-en-v1.5@main /tmp/rand/bge
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModel

# Files that hold weights (left behind: the point is not to need them); everything else is configuration.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx", ".pt", ".h5", ".msgpack", ".ot")
WEIGHT_DIRS = ("onnx", "openvino")


def copy_configuration(source: Path, target: Path) -> list[str]:
    """Copy every non-weight file of ``source`` (sub-folders such as ``1_Pooling`` too) into ``target``."""
    copied = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        # Dot files are caches' bookkeeping (Specialize's model marker, git attributes), not configuration.
        if path.is_dir() or relative.parts[0] in WEIGHT_DIRS or path.suffix in WEIGHT_SUFFIXES:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        copied.append(str(relative))
    return copied


def build_random_model(source: str | Path, target: str | Path, seed: int = 0) -> Path:
    """Rebuild ``source``'s transformer from its ``config.json`` with seeded random weights, in ``target``."""
    source, target = Path(source), Path(target)
    if not (source / "config.json").is_file():
        raise SystemExit(f"{source} has no config.json: pass a sentence-transformers or Hugging Face model folder")
    target.mkdir(parents=True, exist_ok=True)
    copy_configuration(source, target)
    torch.manual_seed(seed)
    model = AutoModel.from_config(AutoConfig.from_pretrained(source))
    model.save_pretrained(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", help="model folder to copy the architecture and tokenizer from")
    parser.add_argument("target", help="folder to write (created)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    target = build_random_model(args.source, args.target, args.seed)
    print(f"{target}: {sum(p.numel() for p in AutoModel.from_pretrained(target).parameters()):,} random parameters")


if __name__ == "__main__":
    main()

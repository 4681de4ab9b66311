"""Data-parallel training under torchrun: 2 CPU ranks on gloo against 1 process, through the real server."""

import sys

import pytest
import torch
from server_process import ServerProcess
from test_training import params, write_run

from specialize_trainer.distributed import rank_device

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def train_through_server(server: ServerProcess, train_params: dict) -> tuple[dict, list[dict]]:
    request_id = server.request("train/run", train_params)
    progress = []
    while True:
        message = server.next_message(timeout=300)
        if message.get("method") == "progress":
            progress.append(message["params"])
        elif message.get("id") == request_id:
            return message, progress


def shut_down(server: ServerProcess) -> int:
    server.response(server.request("shutdown"))
    server.send({"method": "exit"})
    return server.process.wait(60)


def output_weights(result: dict) -> dict[str, torch.Tensor]:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(result["output"], device="cpu").state_dict()


def test_two_ranks_train_the_same_model_as_one_process(tmp_path, tiny_model_dir):
    # 22 queries in batches of 7: the last batch has one query, so rank 1's share of it is empty.
    settings = {"batch_size": 7, "micro_batch": 2, "epochs": 2, "checkpoint_every": 2}
    runs = {}
    for name, launcher in (("single", None), ("torchrun", TORCHRUN)):
        run_dir = write_run(tmp_path / name, n_train=22, n_dev=5)
        # CPU ranks on gloo on any machine: with GPUs visible the ranks would take them (and the single
        # process trains on the CPU, as params says), so the two sides would not be the same computation.
        server = ServerProcess(launcher, env={"CUDA_VISIBLE_DEVICES": ""})
        try:
            response, progress = train_through_server(server, params(run_dir, tiny_model_dir, **settings))
            assert "result" in response, response
            assert shut_down(server) == 0
        finally:
            server.close()
        runs[name] = (response["result"], progress)

    single, single_progress = runs["single"]
    world, world_progress = runs["torchrun"]
    assert single["world_size"] == 1 and world["world_size"] == 2
    assert world["steps"] == single["steps"] == 8
    # Same global batches, same loss: the contrastive denominator spans both ranks' shares.
    single_losses = [p["loss"]["total"] for p in single_progress if p["stage"] == "train"]
    world_losses = [p["loss"]["total"] for p in world_progress if p["stage"] == "train"]
    assert len(world_losses) == len(single_losses) == 8
    for a, b in zip(single_losses, world_losses):
        assert abs(a - b) <= 1e-5 * max(1.0, abs(a)), (single_losses, world_losses)
    for a, b in zip(single["dev_losses"], world["dev_losses"]):
        assert abs(a - b) <= 1e-5 * max(1.0, abs(a))
    # And the same weights: summed per-rank gradients equal the one-process gradient.
    single_weights, world_weights = output_weights(single), output_weights(world)
    assert single_weights.keys() == world_weights.keys()
    for key in single_weights:
        torch.testing.assert_close(world_weights[key], single_weights[key], atol=1e-5, rtol=1e-4, msg=key)
    # Only rank 0 writes: one checkpoint folder, no leftovers from rank 1.
    checkpoints = tmp_path / "torchrun" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.pt", "last"]


def test_each_rank_takes_its_own_gpu_or_the_cpu_when_there_is_none():
    assert rank_device(0, 2, gpus=0) == torch.device("cpu")
    assert rank_device(1, 2, gpus=2) == torch.device("cuda", 1)
    assert rank_device(0, 1, gpus=4) == torch.device("cuda", 0)


def test_more_ranks_than_gpus_stops_with_the_fix():
    with pytest.raises(
        SystemExit, match=r"started 2 trainer ranks on this machine, which has 1 CUDA GPU: .*--nproc_per_node 1"
    ):
        rank_device(1, 2, gpus=1)

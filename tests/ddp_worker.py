"""Run under torchrun by tests/test_distributed.py: train one model with DDP and save what each rank ends with.

Usage: python -m torch.distributed.run --standalone --nproc-per-node 2 tests/ddp_worker.py OUT {gan,ae}
"""

import sys
from pathlib import Path

import torch

from gaedu import distributed
from gaedu.autoencoder import AEConfig, train_autoencoder
from gaedu.data import load_digits
from gaedu.gan import GANConfig, train_gan


def main(out: Path, kind: str) -> None:
    torch.set_num_threads(1)
    process = distributed.setup("cpu")
    calls = []
    try:
        x_train, _ = load_digits("train")
        if kind == "gan":
            config = GANConfig(num_steps=6, hidden=16, latent_dim=4, batch_size=16)
            result = train_gan(x_train, config, progress=False, eval_every=2, evaluate=lambda g: calls.append(1) or {},
                               snapshot_every=3, on_snapshot=lambda step, r: calls.append(step))  # fmt: skip
            state = {**{f"g.{k}": v for k, v in result.generator.state_dict().items()},
                     **{f"d.{k}": v for k, v in result.discriminator.state_dict().items()}}  # fmt: skip
        else:
            config = AEConfig(latent_dim=3, hidden=16, num_steps=6, batch_size=16, eval_every=2)
            result = train_autoencoder(x_train[:200], config, progress=False, callback=lambda step, m: calls.append(step))
            state = result.model.state_dict()
        torch.save({"state": state, "calls": len(calls), "world_size": process.world_size},
                   out / f"rank{process.rank}.pt")  # fmt: skip
    finally:
        distributed.teardown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])

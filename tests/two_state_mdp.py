"""A two-state MDP behind the batched environment contract, where the myopic action is wrong.

Items 0 and 1 are the actions (slate size 1); items 2 and 3 only mark the state in the one-item
history (category "A" or "B"). In A, item 0 pays 1 and stays, item 1 pays 0 and moves to B; in B,
item 0 pays 4 and stays, item 1 pays 0 and moves to A; items 2 and 3 pay 0 and stay. With γ = 0.5
(horizon long enough to ignore): V(B) = 8, Q(A, 1) = 4 > Q(A, 0) = 1 + 0.5·4 = 3, Q(B, 0) = 8 >
Q(B, 1) = 2. The optimal policy is item 1 in A and item 0 in B; the myopic one picks item 0 in A.
"""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import torch

from rlrec.envs.base import RecEnv
from rlrec.runtime.threads import torch_threads

A, B = 2, 3  # the marker items of the two states
OPTIMAL = {A: 1, B: 0}
MYOPIC = {A: 0, B: 0}


class TwoStateMDP(RecEnv):
    name = "two_state_mdp"
    tasks = ("value",)

    def __init__(self, num_envs: int = 8, horizon: int = 20, seed: int = 0) -> None:
        self.n_items, self.slate_size, self.num_envs, self.horizon = 4, 1, num_envs, horizon
        items = pl.DataFrame({"item_id": [0, 1, 2, 3], "category": ["stay", "move", "A", "B"]})
        logged = pl.DataFrame({"user_id": [0, 1, 2], "item_id": [0, 0, 1], "timestamp": [0, 1, 2]})
        self.dataset = SimpleNamespace(items=items, split=lambda name: logged)
        self.train_users = self.eval_users = torch.arange(16)  # even users start in A, odd in B
        self.generator = torch.Generator().manual_seed(seed)
        self._state = None
        self._t = 0

    def reset(self, users: torch.Tensor):
        self._users = users
        self._state = torch.where(users % 2 == 0, A, B)
        self._t = 0
        return self._observation()

    def step(self, slate: torch.Tensor):
        self.check_slate(slate, len(self._state))
        item = slate[:, 0]
        in_a = self._state == A
        reward = torch.where(item == 0, torch.where(in_a, 1.0, 4.0), torch.zeros(len(item)))
        self._state = torch.where(item == 1, torch.where(in_a, B, A), self._state)
        self._t += 1
        done = torch.full((len(item),), self._t >= self.horizon)
        info = {
            "clicked_position": torch.where(reward > 0, 0, -1),
            "active": torch.ones(len(item), dtype=torch.bool),
        }
        return self._observation(), {"value": reward, "total": reward}, done, info

    def _observation(self):
        return {
            "user": self._users,
            "history": self._state[:, None].clone(),
            "history_mask": torch.ones(len(self._state), 1, dtype=torch.bool),
        }


def state_observations():
    """A batch of two observations: state A, then state B."""
    return {
        "user": torch.tensor([0, 1]),
        "history": torch.tensor([[A], [B]]),
        "history_mask": torch.ones(2, 1, dtype=torch.bool),
    }


def fit(agent, steps: int, env: TwoStateMDP | None = None):
    """Train ``agent`` for ``steps`` Lightning steps on the MDP, without evaluation; returns the trainer."""
    import warnings

    import pytorch_lightning as pl_

    from rlrec.agents.experience import SimulatorDataModule

    env = env or TwoStateMDP()
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    trainer = pl_.Trainer(
        max_steps=steps,
        max_epochs=-1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    with torch_threads(1):  # tiny matrices: one thread is many times faster than two on a shared CPU
        trainer.fit(agent, datamodule=SimulatorDataModule(env, TwoStateMDP(seed=1), eval_seed=0))
    return trainer

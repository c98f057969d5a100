"""DQN training throughput in environment steps per second (user-steps: 100 users stepping once = 100),
collection and gradient updates included, at EasyRL4Rec's DQN settings, against a per-transition loop.

    python bench/bench_dqn_throughput.py [--items 300 10000] [--repeats 3] [--threads 1]

rlrec is timed through the real entry point, ``rlrec.train.train`` (Lightning Trainer, CSV logger, the
run folder), twice with different ``trainer.max_steps``; the rate is the difference in user-steps over
the difference in wall time, so start-up, data generation and the final evaluation cancel out.

The baseline is the same DQN written the way a typical research codebase writes it: a python loop
over users acting one observation at a time, a python deque of per-sample transitions, n-step returns
summed per user in python, minibatches stacked sample by sample. It uses the same networks
(TwoTowerQ), the same vectorised environment (stepped once per round, so the ratio measures the agent
side only), the same double-DQN 3-step target and one gradient step per 8 user-steps.

The floor is a minimal hand-written PyTorch loop (CleanRL style, no framework): the same networks,
batched ε-greedy acting over all users at once, 3-step transitions stored as tensors in a
preallocated ring buffer, the same update. rlrec's rate over it is the framework's cost.
"""

from __future__ import annotations

import argparse
import collections
import copy
import random
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

USERS, BATCH, STEPS_PER_UPDATE, N_STEP, DIM, HIDDEN, HIDDEN_LAYERS, SLATE = 100, 64, 8, 3, 32, 64, 2, 1


def overrides(n_items: int, max_steps: int, run_dir: Path) -> list[str]:
    return [
        f"paths.output_dir={run_dir}",
        f"dataset.n_items={n_items}",
        f"env.num_envs={USERS}",
        f"env.slate_size={SLATE}",
        "encoder=id",
        f"encoder.dim={DIM}",
        "state_encoder=mean",
        f"state_encoder.hidden_layers={HIDDEN_LAYERS}",
        f"algorithm.hidden_dim={HIDDEN}",
        f"algorithm.batch_size={BATCH}",
        f"algorithm.env_steps_per_update={STEPS_PER_UPDATE}",
        f"algorithm.n_step={N_STEP}",
        "algorithm.double=true",
        f"trainer.max_steps={max_steps}",
        f"trainer.eval_every={max_steps}",
        "trainer.log_every_n_steps=100",
        "trainer.enable_progress_bar=false",
        "logger=csv",
        "+algorithm.optimizer.fused=true",  # one fused Adam kernel instead of ~8 ops per parameter tensor
    ]


def compose(n_items: int, max_steps: int, run_dir: Path):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from rlrec.config import config_dir, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return hydra_compose("config", overrides=overrides(n_items, max_steps, run_dir))


def rlrec_rate(n_items: int, short: int, long: int) -> float:
    """User-steps per second of ``rlrec.train.train`` between max_steps=short and max_steps=long."""
    import logging

    from rlrec.train import train

    logging.getLogger("rlrec").setLevel(logging.WARNING)
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        train(compose(n_items, short, Path(tmp) / "warm-up"))  # imports and first-call costs, not timed
        for steps in (short, long):
            start = time.perf_counter()
            summary = train(compose(n_items, steps, Path(tmp) / str(steps)))
            seconds[steps] = time.perf_counter() - start
            assert summary["metrics"]["train/steps"] == steps
    return (long - short) * STEPS_PER_UPDATE / (seconds[long] - seconds[short])


class PerTransitionDQN:
    """The same double-DQN, n-step, ε-greedy agent, one python object per transition."""

    def __init__(self, q, n_items: int, gamma: float, lr: float, capacity: int, target_every: int) -> None:
        self.q, self.target_q = q, copy.deepcopy(q).requires_grad_(False)
        self.optimizer = torch.optim.Adam(q.parameters(), lr=lr, fused=True)
        self.n_items, self.gamma, self.target_every = n_items, gamma, target_every
        self.replay: collections.deque = collections.deque(maxlen=capacity)
        self.pending: dict[int, collections.deque] = collections.defaultdict(collections.deque)
        self.updates = 0

    def act(self, history: torch.Tensor, mask: torch.Tensor, epsilon: float) -> list[int]:
        if random.random() < epsilon:
            return random.sample(range(self.n_items), SLATE)
        with torch.no_grad():
            scores = self.q({"history": history[None], "history_mask": mask[None]})[0]
        return scores.topk(SLATE).indices.tolist()

    def store(self, user: int, transition: tuple) -> None:
        """transition = (history, mask, slate, reward, next_history, next_mask, done)."""
        pending = self.pending[user]
        pending.append(transition)
        done = transition[-1]
        while pending and (len(pending) == N_STEP or done):
            ret, discount, last = 0.0, 1.0, pending[0]
            for later in pending:
                ret += discount * later[3]
                discount *= self.gamma
                last = later
                if later[-1]:
                    break
            first = pending.popleft()
            self.replay.append(
                (first[0], first[1], first[2], ret, last[4], last[5], 0.0 if last[-1] else discount)
            )

    def update(self) -> None:
        batch = random.sample(self.replay, BATCH)
        history = torch.stack([t[0] for t in batch])
        mask = torch.stack([t[1] for t in batch])
        slate = torch.tensor([t[2] for t in batch])
        reward = torch.tensor([t[3] for t in batch])
        next_history = torch.stack([t[4] for t in batch])
        next_mask = torch.stack([t[5] for t in batch])
        discount = torch.tensor([t[6] for t in batch])
        q_taken = self.q({"history": history, "history_mask": mask}).gather(1, slate)[:, 0]
        with torch.no_grad():
            next_obs = {"history": next_history, "history_mask": next_mask}
            best = self.q(next_obs).argmax(1, keepdim=True)
            target = reward + discount * self.target_q(next_obs).gather(1, best)[:, 0]
        loss = F.huber_loss(q_taken, target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.target_every == 0:
            self.target_q.load_state_dict(self.q.state_dict())


def baseline_rate(n_items: int, rounds: int) -> float:
    """User-steps per second of PerTransitionDQN over ``rounds`` vectorised env steps after warm-up."""
    import functools

    from hydra.utils import instantiate

    from rlrec.agents.schedules import LinearSchedule
    from rlrec.agents.towers import TwoTowerQ
    from rlrec.encoders.id import IdItemEncoder
    from rlrec.encoders.state import MeanHistoryState

    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose(n_items, 1, Path(tmp))
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    torch.manual_seed(0)
    random.seed(0)
    state = functools.partial(MeanHistoryState, hidden_layers=HIDDEN_LAYERS)
    q = TwoTowerQ(IdItemEncoder(n_items, DIM), state, n_items, HIDDEN, cfg.algorithm.history_length)
    agent = PerTransitionDQN(
        q, n_items, cfg.algorithm.gamma, cfg.algorithm.lr, cfg.algorithm.replay_capacity, 100
    )
    schedule = LinearSchedule(
        cfg.algorithm.epsilon_start, cfg.algorithm.epsilon_end, cfg.algorithm.epsilon_decay_steps
    )
    obs, user_steps, start = env.reset(env.sample_users(USERS)), 0, None
    warmup = cfg.algorithm.warmup_steps
    for round_ in range(warmup + rounds):
        if round_ == warmup:
            start, user_steps = time.perf_counter(), 0
        epsilon = 1.0 if round_ < warmup else schedule(agent.updates)  # the same ε as rlrec's DQN
        slates = [agent.act(obs["history"][u], obs["history_mask"][u], epsilon) for u in range(USERS)]
        next_obs, rewards, done, _ = env.step(torch.tensor(slates))
        for u in range(USERS):
            agent.store(
                u,
                (
                    obs["history"][u],
                    obs["history_mask"][u],
                    slates[u],
                    rewards["total"][u].item(),
                    next_obs["history"][u],
                    next_obs["history_mask"][u],
                    bool(done[u]),
                ),
            )
            user_steps += 1
            if round_ >= warmup and user_steps % STEPS_PER_UPDATE == 0:
                agent.update()
        obs = env.reset(env.sample_users(USERS)) if done.all() else next_obs
    return user_steps / (time.perf_counter() - start)


def minimal_rate(n_items: int, rounds: int) -> float:
    """User-steps per second of a minimal hand-written loop over ``rounds`` env steps after warm-up."""
    import functools

    from hydra.utils import instantiate

    from rlrec.agents.dqn import n_step_transition
    from rlrec.agents.schedules import LinearSchedule
    from rlrec.agents.towers import TwoTowerQ
    from rlrec.encoders.id import IdItemEncoder
    from rlrec.encoders.state import MeanHistoryState

    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose(n_items, 1, Path(tmp))
    hp = cfg.algorithm
    dataset = instantiate(cfg.dataset)
    env = instantiate(cfg.env, _partial_=True)(dataset=dataset, reward=instantiate(cfg.reward), seed=0)
    torch.manual_seed(0)
    state = functools.partial(MeanHistoryState, hidden_layers=HIDDEN_LAYERS)
    q = TwoTowerQ(IdItemEncoder(n_items, DIM), state, n_items, HIDDEN, hp.history_length)
    target_q = copy.deepcopy(q).requires_grad_(False)
    optimizer = torch.optim.Adam(q.parameters(), lr=hp.lr, fused=True)
    epsilon = LinearSchedule(hp.epsilon_start, hp.epsilon_end, hp.epsilon_decay_steps)
    capacity, buffer, size, cursor = hp.replay_capacity, {}, 0, 0
    obs, window, updates, credit = env.reset(env.sample_users(USERS)), [], 0, 0
    user_steps, start = 0, None
    for round_ in range(hp.warmup_steps + rounds):
        if round_ == hp.warmup_steps:
            start, user_steps = time.perf_counter(), 0
        with torch.no_grad():  # batched ε-greedy over every user at once
            scores = q(obs)
            if round_ < hp.warmup_steps:
                scores = torch.rand_like(scores)
            else:
                rows = torch.rand(len(scores)) < epsilon(updates)
                scores = torch.where(rows[:, None], torch.rand_like(scores), scores)
            slate = scores.topk(SLATE, dim=1).indices
        next_obs, rewards, done, info = env.step(slate)
        clicked = info["clicked_position"]
        at_click = F.one_hot(clicked.clamp(min=0), SLATE).float() * (clicked >= 0)[:, None]
        window.append(
            {
                "history": obs["history"],
                "history_mask": obs["history_mask"],
                "slate": slate,
                "reward": at_click * rewards["total"][:, None],
                "step_reward": rewards["total"],
                "next_history": next_obs["history"],
                "next_history_mask": next_obs["history_mask"],
                "done": done.bool(),
                "active": info["active"],
            }
        )
        over = bool(done.all())
        while window and (len(window) == N_STEP or over):
            active = window[0]["active"]
            rows = {k: v[active] for k, v in n_step_transition(window, hp.gamma).items()}
            n = len(rows["slate"])
            if not buffer:
                buffer = {k: torch.empty((capacity, *v.shape[1:]), dtype=v.dtype) for k, v in rows.items()}
            at = (cursor + torch.arange(n)) % capacity
            for k, v in rows.items():
                buffer[k][at] = v
            cursor, size = (cursor + n) % capacity, min(size + n, capacity)
            window.pop(0)
        obs = env.reset(env.sample_users(USERS)) if over else next_obs
        if round_ < hp.warmup_steps:
            continue
        active_steps = int(info["active"].sum())  # counted as rlrec counts them: 8 per gradient step
        user_steps += active_steps
        credit += active_steps
        while credit >= STEPS_PER_UPDATE:
            credit -= STEPS_PER_UPDATE
            index = torch.randint(size, (BATCH,))
            batch = {k: v[index] for k, v in buffer.items()}
            s = {"history": batch["history"], "history_mask": batch["history_mask"]}
            s2 = {"history": batch["next_history"], "history_mask": batch["next_history_mask"]}
            items = q.item_tower()
            both = q.user_state({k: torch.cat([s[k], s2[k]]) for k in s}, items)
            q_taken = q.q_values_of(both[:BATCH], items, batch["slate"])
            with torch.no_grad():
                best = q.q_values(both[BATCH:], items).argmax(1, keepdim=True)
                next_value = target_q(s2).gather(1, best)
                target = batch["reward"] + batch["discount"][:, None] * next_value
            loss = F.huber_loss(q_taken, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updates += 1
            if updates % hp.target_update_every == 0:
                target_q.load_state_dict(q.state_dict())
    return user_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, nargs="+", default=[300, 10_000])
    parser.add_argument("--short", type=int, default=200, help="trainer.max_steps of the first rlrec run")
    parser.add_argument("--long", type=int, default=2200, help="trainer.max_steps of the second rlrec run")
    parser.add_argument("--rounds", type=int, default=20, help="vectorised env steps timed for the baseline")
    parser.add_argument(
        "--minimal-rounds", type=int, default=200, help="vectorised env steps timed for the minimal loop"
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating measurements; the best counts")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (both sides)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = (
        f"{USERS} users in parallel, slate {SLATE}, replay batch {BATCH}, 1 gradient step per "
        f"{STEPS_PER_UPDATE} env steps, {N_STEP}-step double DQN, id embeddings dim {DIM}, mean-of-history "
        f"state, MLP [{HIDDEN}, {HIDDEN}] -> {DIM}, fused Adam, torch threads {args.threads}"
    )
    for n_items in args.items:
        # Alternated and best-of-repeats: other processes sharing the CPU slow single measurements.
        ours, loop, floor = 0.0, 0.0, 0.0
        for _ in range(args.repeats):
            ours = max(ours, rlrec_rate(n_items, args.short, args.long))
            loop = max(loop, baseline_rate(n_items, args.rounds))
            floor = max(floor, minimal_rate(n_items, args.minimal_rounds))
        print(f"{n_items:>6} items | {settings}, best of {args.repeats}")
        print(f"{n_items:>6} items | rlrec train (Lightning)   : {ours:10,.0f} env steps/s")
        print(f"{n_items:>6} items | per-transition loop DQN   : {loop:10,.0f} env steps/s")
        print(f"{n_items:>6} items | minimal PyTorch loop      : {floor:10,.0f} env steps/s")
        print(f"{n_items:>6} items | rlrec / per-transition    : {ours / loop:10.2f} x")
        print(f"{n_items:>6} items | minimal loop / rlrec      : {floor / ours:10.2f} x")


if __name__ == "__main__":
    main()

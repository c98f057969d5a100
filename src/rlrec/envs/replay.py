"""Logged replay: any RecDataset's real interaction sequences as an environment (``env=replay``).

Training walks a training user's ``train``-split sequence. At step t the agent observes the last
``history_window`` real items and recommends a slate; the user's real next interaction i_t earns
its behaviour's reward only if i_t is in the slate (the replay estimator of Li et al., WSDM 2011,
restricted to logged positives as in SQN, Xin et al., SIGIR 2020):

    r_t = Σ_b w_b · 1[i_t ∈ slate] · 1[event(i_t) counts as b]

Events count as behaviours as: view, click → click; cart → cart; purchase → purchase; rate → click
(its rating and any feedback text go to the reward function). The history then advances with the real
item whatever was recommended, so the agent cannot change what the user does next: only whether
it anticipated it. An episode starts at a uniformly drawn point of the sequence (at least one item
of history, and ``horizon`` steps left where the sequence is long enough) and ends at the end of the
sequence or after ``horizon`` steps.

Evaluation (``evaluate``) is the standard full-ranking protocol (RecBole; Kang & McAuley 2018): it
walks every evaluation user's ``eval_split`` interactions in time order, with everything the user did
before as history, and ranks the whole catalogue. With ``mask_history`` (the default) every item of
the user's sequence before the evaluated position, train and valid alike and however long ago, is
excluded from the slate (``obs["exclude"]``), not only the ``history_window`` items the agent observes;
``obs["consumed"]`` carries that whole earlier history in any case, for models that read it (EASE,
ItemKNN). Turn it off for repeat-consumption logs (e-commerce views), where the next item is often
one seen before. It reports the return and the slate's ranking metrics HR, NDCG, MRR, precision and
recall @K with K = ``slate_size`` (rlrec.metrics.ranking), each the mean over a user's held-out
interactions, then over users, per task too where the log has carts or purchases (``hr@10_purchase``:
over the held-out purchases), and apart for cold and warm targets where some held-out item has no
train interaction (``ndcg@10_cold`` over the users with a cold target; split.method=cold_items), and
for users without any train interaction and the others (``ndcg@10_cold_users``, ``_warm_users``;
split.method=cold_users); and the beyond-accuracy figures of all slates shown (coverage,
novelty, intra-list diversity, exposure Gini; RecEnv.slate_metrics).
"""

from __future__ import annotations

import torch

from rlrec.data.schema import RecDataset
from rlrec.envs.base import Observation, Policy, RecEnv
from rlrec.envs.logged import UserSequences, behaviours_in, split_code
from rlrec.envs.rewards import WeightedReward
from rlrec.envs.rollout import uniform_random_policy
from rlrec.metrics.ranking import RANKING_METRICS

EVAL_SPLITS = ("valid", "test")


class ReplayEnv(RecEnv):
    """``reset(users) -> obs``; ``step(slate)`` rewards the user's real next interaction if the slate holds it."""

    episode_state = ("_users", "_position", "_end", "_done")

    def __init__(
        self,
        dataset: RecDataset,
        reward: WeightedReward | None = None,
        *,
        name: str,
        num_envs: int,
        slate_size: int,
        horizon: int,
        history_window: int,
        eval_split: str,
        eval_episodes_users: int,
        mask_history: bool,
        seed: int = 0,
    ) -> None:
        self._init_shared(
            dataset, reward, name, behaviours_in(dataset.interactions), num_envs, slate_size, horizon,
            history_window, eval_episodes_users, seed,
        )  # fmt: skip
        if eval_split not in EVAL_SPLITS:
            raise ValueError(f"env.eval_split must be one of {EVAL_SPLITS}, got {eval_split!r}")
        self.eval_split = eval_split
        self.mask_history = mask_history

        self.train_log = UserSequences.from_frame(dataset.split("train"), dataset.n_users)
        self.full_log = UserSequences.from_frame(dataset.interactions, dataset.n_users)  # every split
        walkable = self.train_log.length[dataset.train_users] >= 2  # one item of history, one to predict
        self.train_users = dataset.train_users[walkable]
        if len(self.train_users) == 0:
            raise ValueError(
                f"env={name}: no training user of dataset {dataset.name!r} has two or more train-split "
                "interactions to replay"
            )
        in_split = self.full_log.split == split_code(eval_split)  # [N]
        if not in_split.any():
            counts = {s: int((self.full_log.split == split_code(s)).sum()) for s in ("train", *EVAL_SPLITS)}
            raise ValueError(
                f"env.eval_split={eval_split!r}: dataset {dataset.name!r} has no interactions in that split "
                f"(rows per split: {counts}); choose a split that has rows"
            )
        owners = torch.repeat_interleave(torch.arange(dataset.n_users), self.full_log.length)  # [N]
        self.eval_users = owners[in_split].unique()[:eval_episodes_users]
        self._behaviour_of_event = self.train_log.behaviour_codes(self.tasks)  # [n_events]
        # items with a train-split interaction: held-out targets outside it are cold (split.method=cold_items)
        self.trained_items = torch.zeros(dataset.n_items, dtype=torch.bool)
        self.trained_items[self.train_log.item] = True
        self._report_cold = bool((~self.trained_items[self.full_log.item[in_split]]).any())
        # users without a train interaction are held out (split.method=cold_users): reported apart
        self._report_cold_users = bool((self.train_log.length[self.eval_users] == 0).any())
        self._users = self._position = self._end = self._done = None

    # --- training episodes -------------------------------------------------------------------
    def reset(self, users: torch.Tensor) -> Observation:
        length = self.train_log.length[users]
        if (length < 2).any():
            raise ValueError(
                f"env={self.name}: users {users[length < 2].tolist()[:10]} have < 2 train interactions"
            )
        latest_start = (length - self.horizon).clamp(min=1)  # [B] so that horizon steps fit when possible
        draw = torch.rand(len(users), generator=self.generator)
        self._users = users
        self._position = 1 + (draw * latest_start).long().clamp(
            max=latest_start - 1
        )  # [B] in [1, latest_start]
        self._end = torch.minimum(length, self._position + self.horizon)  # [B] exclusive
        self._done = torch.zeros(len(users), dtype=torch.bool)
        return self._observation(self.train_log, self._users, self._position)

    def step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        """slate [B, K] -> next obs, rewards {task: [B], "total": [B]}, done [B], info."""
        if self._users is None:
            raise RuntimeError("call reset(users) before step(slate)")
        self.check_slate(slate, len(self._users))
        active = ~self._done
        rewards, clicked_position = self._judge(self.train_log, self._users, self._position, slate, active)
        self._position = self._position + active.long()
        self._done = self._done | (self._position >= self._end)
        info = {"clicked_position": clicked_position, "active": active}
        return (
            self._observation(self.train_log, self._users, self._position),
            rewards,
            self._done.clone(),
            info,
        )

    def _observation(self, log: UserSequences, users: torch.Tensor, position: torch.Tensor) -> Observation:
        history, mask = log.window(users, position, self.history_window)
        return {"user": users, "history": history, "history_mask": mask}

    def _judge(
        self, log: UserSequences, users: torch.Tensor, position: torch.Tensor, slate: torch.Tensor, active
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Rewards of the real interaction at ``position`` against ``slate``, and its slate position (-1)."""
        rows = log.rows(users, position)  # [B]
        match = slate == log.item[rows][:, None]  # [B, K]
        hit = match.any(1) & active
        clicked_position = torch.where(hit, match.long().argmax(1), torch.full_like(rows, -1))
        behaviour = self._behaviour_of_event[log.event[rows]]  # [B] index into self.tasks
        outcomes = {task: (hit & (behaviour == j)).float() for j, task in enumerate(self.tasks)}
        rating = torch.where(hit, log.rating[rows], torch.full_like(log.rating[rows], float("nan")))
        rewards = self.reward(outcomes, rating=rating, text=log.texts(rows, hit))
        return rewards, clicked_position

    # --- evaluation --------------------------------------------------------------------------
    def observe(self, users: torch.Tensor, position: torch.Tensor) -> Observation:
        """The evaluation observation of each user at ``position`` [B] of their full sequence (every
        split; ``position = length`` is after everything they did): the history window, ``consumed``
        [B, n_items] bool (every earlier item) and, with ``mask_history``, ``exclude`` (the same)."""
        obs = self._observation(self.full_log, users, position)
        consumed = self.full_log.earlier_items(users, position, self.n_items)
        obs["consumed"] = consumed
        if self.mask_history:
            obs["exclude"] = consumed
        return obs

    def protocol(self) -> dict:
        return {
            "env": self.name,
            "evaluation": "logged replay, full-catalogue ranking",
            "eval_split": self.eval_split,
            "masking": "every earlier item of the user"
            if self.mask_history
            else "none (env.mask_history=false)",
            "k": self.slate_size,
        }

    @torch.no_grad()
    def evaluate(self, policy: Policy, users: torch.Tensor, seed: int) -> dict[str, float]:
        """Replay the ``eval_split`` interactions of ``users`` for the policy and a uniform-random one."""
        metrics = self.replay_metrics(policy, users)
        random = self.replay_metrics(uniform_random_policy(self.n_items, self.slate_size, seed), users)
        for name in ("return", f"hr@{self.slate_size}", f"ndcg@{self.slate_size}"):
            metrics[f"{name}_random"] = random[name]
        return metrics

    def replay_metrics(self, policy: Policy, users: torch.Tensor) -> dict[str, float]:
        """Per-user return and ranking metrics over each user's ``eval_split`` interactions, averaged over
        the users that have any (users without are left out; none at all is an error); per task over
        the users with held-out interactions of that behaviour; and the slates' beyond-accuracy figures."""
        log, k = self.full_log, self.slate_size
        targets = self._eval_positions(users)  # [B, T] positions in each full sequence, -1 = none
        n_events = (targets >= 0).sum(1)  # [B]
        if not (n_events > 0).any():
            raise ValueError(
                f"env.eval_split={self.eval_split!r}: none of the {len(users)} users has such rows"
            )
        per_task = len(self.tasks) > 1  # ranking metrics per behaviour only where there is a choice
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, torch.Tensor] = {"": n_events}  # held-out interactions per user, per task
        slates = []
        for t in range(targets.shape[1]):
            rows = (targets[:, t] >= 0).nonzero().squeeze(1)  # the users with a t-th held-out interaction
            user, position = users[rows], targets[rows, t]
            slate = policy(self.observe(user, position))
            self.check_slate(slate, len(rows))
            slates.append(slate.cpu())
            rewards, _ = self._judge(log, user, position, slate, torch.ones(len(rows), dtype=torch.bool))
            log_rows = log.rows(user, position)
            scores = _slate_scores(slate, self.n_items)  # [b, n_items]
            ranking = {
                f"{name}@{k}": fn(scores, log.item[log_rows], k) for name, fn in RANKING_METRICS.items()
            }
            values = {("return" if task == "total" else f"return_{task}"): r for task, r in rewards.items()}
            values |= ranking
            groups: dict[str, torch.Tensor] = {}  # suffix -> [b] bool: the targets it counts
            if per_task:
                behaviour = self._behaviour_of_event[log.event[log_rows]]  # [b]
                groups |= {task: behaviour == j for j, task in enumerate(self.tasks)}
            if self._report_cold:
                cold = ~self.trained_items[log.item[log_rows]]
                groups |= {"cold": cold, "warm": ~cold}
            if self._report_cold_users:
                new_user = self.train_log.length[user] == 0
                groups |= {"cold_users": new_user, "warm_users": ~new_user}
            for group, member in groups.items():
                counts.setdefault(group, torch.zeros(len(users), dtype=torch.long)).index_add_(
                    0, rows, member.long()
                )
                values |= {f"{name}_{group}": value * member.float() for name, value in ranking.items()}
            for name, value in values.items():
                sums.setdefault(name, torch.zeros(len(users))).index_add_(0, rows, value.float())
        metrics = {}
        for name, total in sums.items():
            if name.startswith("return"):
                per_user, counted = total, n_events > 0
            else:
                count = counts[name.partition("_")[2]]  # "" (every target), a task, cold or warm
                per_user, counted = total / count.clamp(min=1), count > 0
            if counted.any():
                metrics[name] = per_user[counted].mean().item()
        metrics["episode_length"] = n_events[n_events > 0].float().mean().item()
        return metrics | self.slate_metrics(torch.cat(slates))

    def _eval_positions(self, users: torch.Tensor) -> torch.Tensor:
        """[B, T]: positions (in each user's full sequence) of their ``eval_split`` rows; -1 pads."""
        log = self.full_log
        length = log.length[users]
        width = int(length.max()) if len(users) else 0
        position = torch.arange(width)[None, :].expand(len(users), width)  # [B, width]
        valid = position < length[:, None]
        rows = (log.start[users][:, None] + position).clamp(max=len(log.split) - 1)
        chosen = valid & (log.split[rows] == split_code(self.eval_split))  # [B, width]
        per_user = int(chosen.sum(1).max()) if len(users) else 0
        # stable sort puts each user's chosen positions first, in time order
        order = torch.sort((~chosen).long(), dim=1, stable=True).indices[:, :per_user]
        picked = position.gather(1, order)
        return torch.where(chosen.gather(1, order), picked, torch.full_like(picked, -1))


def _slate_scores(slate: torch.Tensor, n_items: int) -> torch.Tensor:
    """A slate as full-catalogue scores: K, K−1, ..., 1 in slate order, −inf for every other item."""
    k = slate.shape[1]
    scores = torch.full((len(slate), n_items), float("-inf"))
    return scores.scatter_(1, slate.long(), torch.arange(k, 0, -1, dtype=torch.float32).expand(len(slate), k))

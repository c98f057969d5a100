"""Logged transitions for offline learners (SQN, the supervised baseline, off-policy REINFORCE).

Each train-split interaction of a user, in time order, is one transition

    s_t = the H items before it,  a_t = its item,  r_t = env.reward(its event, rating, feedback text),
    s_{t+1} = the H items up to and including it,  done_t = it is the user's last train interaction

Events count as behaviours exactly as in ``env=replay`` (rlrec.envs.logged.EVENT_BEHAVIOUR: view, click,
rate → click; cart → cart; purchase → purchase), so a MovieLens rating earns the click reward here too.

so a user with n train interactions gives n transitions. Only the flat time-ordered arrays are kept;
history windows are gathered for the sampled rows, so memory grows with the log, not with H × log.
"""

from __future__ import annotations

import polars as pl
import torch

from rlrec.agents.collect import LoggedSampler
from rlrec.envs.logged import EVENT_BEHAVIOUR

EVENT_TASKS = ("click", "cart", "purchase")  # env tasks that logged events count as (EVENT_BEHAVIOUR)


class LoggedTransitions:
    """The ``split`` interactions of ``dataset`` as (history, action, rewards, next history, done) rows."""

    def __init__(self, dataset, reward, tasks: tuple[str, ...], history_length: int, split: str = "train"):
        if history_length < 1:
            raise ValueError(f"algorithm.history_length must be at least 1, got {history_length}")
        frame = dataset.interactions.filter(pl.col("split") == split).sort(
            ["user_id", "timestamp"], maintain_order=True
        )
        if frame.height == 0:
            raise ValueError(f"dataset {dataset.name!r} has no {split!r} interactions to learn from")
        self.history_length = history_length
        self.users = _long(frame["user_id"])  # [N]
        self.items = _long(frame["item_id"])  # [N]
        n = len(self.items)
        row = torch.arange(n)
        first = torch.ones(n, dtype=torch.bool)
        first[1:] = self.users[1:] != self.users[:-1]
        self.last = torch.ones(n, dtype=torch.bool)  # [N] the user's final train interaction
        self.last[:-1] = first[1:]
        self.position = row - torch.where(first, row, 0).cummax(0).values  # [N] index within the user

        events = frame["event"].cast(pl.String)
        behaviour = events.replace_strict(EVENT_BEHAVIOUR, return_dtype=pl.String)  # rate -> click, ...
        outcomes = {
            task: torch.from_numpy((behaviour == task).to_numpy().astype("float32"))
            for task in tasks
            if task in EVENT_TASKS
        }
        if not outcomes:
            raise ValueError(
                f"none of the environment's tasks {list(tasks)} is a logged event {list(EVENT_TASKS)}, so "
                "logged interactions carry no reward"
            )
        is_rate = torch.from_numpy((events == "rate").to_numpy())
        rating = torch.from_numpy(frame["rating"].cast(pl.Float32).fill_null(float("nan")).to_numpy().copy())
        # Every logged row is an interaction that happened, so its feedback text (a review) counts, as
        # it does in env=replay when the slate holds the item: reward=text_feedback scores it.
        texts = frame["text"]
        text = texts.to_list() if texts.null_count() < frame.height else None
        self.rewards = reward(
            outcomes, rating=torch.where(is_rate, rating, float("nan")), text=text
        )  # {task: [N]}

    def __len__(self) -> int:
        return len(self.items)

    def _window(self, rows: torch.Tensor, end_offset: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The H items ending ``end_offset`` rows after each row (exclusive), right-aligned: [n, H] ×2."""
        offsets = torch.arange(-self.history_length, 0) + end_offset  # [H]
        index = rows[:, None] + offsets  # [n, H]
        mask = (self.position[rows][:, None] + offsets) >= 0  # inside the same user's sequence
        history = self.items[index.clamp(min=0)].masked_fill(~mask, 0)
        return history, mask

    def rows(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        """The transitions at ``rows`` [n]: history/next_history [n, H] with masks, action [n],
        ``reward_<task>`` [n] for every reward key (``reward_total`` included), done [n] float."""
        history, mask = self._window(rows, 0)
        next_history, next_mask = self._window(rows, 1)
        batch = {
            "history": history,
            "history_mask": mask,
            "action": self.items[rows],
            "user": self.users[rows],
            "next_history": next_history,
            "next_history_mask": next_mask,
            "done": self.last[rows].float(),
        }
        batch.update({f"reward_{task}": value[rows] for task, value in self.rewards.items()})
        return batch

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """n transitions drawn uniformly with replacement."""
        return self.rows(torch.randint(len(self), (n,), generator=generator))

    def discounted_returns(self, task: str, gamma: float) -> torch.Tensor:
        """[N] G_t = r_t + γ G_{t+1} along each user's logged sequence (G = r at the user's last row)."""
        if task not in self.rewards:
            raise ValueError(
                f"algorithm.task={task!r} is not a logged reward; there are {sorted(self.rewards)}"
            )
        return discounted_returns(self.rewards[task], self.last, gamma)


def discounted_returns(rewards: torch.Tensor, last: torch.Tensor, gamma: float) -> torch.Tensor:
    """Reverse discounted sums within segments: rows are time-ordered per user, ``last`` [N] marks the
    end of each user's sequence. Vectorised over users, one pass per distance to the sequence end."""
    n = len(rewards)
    row = torch.arange(n)
    end = torch.where(last, row, n).flip(0).cummin(0).values.flip(0)  # [N] row of the user's last event
    to_end = end - row
    order = torch.argsort(to_end, stable=True)
    counts = torch.bincount(to_end).tolist()
    returns = rewards.clone().float()
    start = counts[0]  # to_end == 0: G = r
    for count in counts[1:]:
        at = order[start : start + count]
        returns[at] = rewards[at] + gamma * returns[at + 1]
        start += count
    return returns


def logged_transitions(env, history_length: int) -> LoggedTransitions:
    """The training environment's dataset, train split, rewarded by the environment's reward function."""
    dataset = getattr(env, "dataset", None)
    reward = getattr(env, "reward", None)
    if dataset is None or reward is None:
        raise ValueError(
            f"env={env.name} keeps no dataset or reward function to learn logged transitions from"
        )
    return LoggedTransitions(dataset, reward, tuple(env.tasks), history_length)


def _long(series: pl.Series) -> torch.Tensor:
    return torch.from_numpy(series.cast(pl.Int64).to_numpy().copy())


def logged_minibatches(history_length: int, batch_size: int):
    """``make_draw`` of a LoggedSampler (agents/collect.py) over the training env's logged
    transitions: ``batch_size`` rows per draw."""
    if batch_size < 1:
        raise ValueError(f"algorithm.batch_size must be at least 1, got {batch_size}")

    def make_draw(env):
        log = logged_transitions(env, history_length)
        return lambda generator: log.sample(batch_size, generator)

    return make_draw


def logged_batches(env, history_length: int, batch_size: int, collection: dict):
    """Endless minibatches of ``batch_size`` logged transitions, sampled with a seeded generator
    whose state is kept in ``collection`` after each batch (a LoggedSampler with that state)."""
    sampler = LoggedSampler(logged_minibatches(history_length, batch_size))
    sampler.state = collection
    return sampler.batches(env)

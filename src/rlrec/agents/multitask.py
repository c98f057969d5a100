"""Multi-task DQN: one shared state encoder, one Q head per task of the environment (``env.tasks``).

    Q_t(s, a) = (W_t f(s)) · g(a) + b(a) + b_t(a)          t ∈ env.tasks (click, cart, purchase, ...)
    score(s, a) = Σ_t score_weights[t] · Q_t(s, a)           (what ε-greedy slates and greedy slates rank)

Each task's head learns from its own reward with a DQN target (Mnih et al. 2015) that evaluates the
recommender's own greedy choice under the target network:

    a* = argmax_a' Σ_t score_weights[t] · Q_t^target(s', a'),      y_t = r_t + γ (1 − done) Q_t^target(s', a*)

so Q_t is the value, in task t, of the policy that is actually played. The per-task Huber losses L_t
are combined by ``weighting``:

    fixed        L = Σ_t w_t L_t, w from ``task_weights`` (1 each when null)
    uncertainty  L = Σ_t exp(−s_t) L_t + s_t, learned s_t = log σ_t² (Kendall, Gal & Cipolla 2018, eq. 7
                 in the form of their regression losses)
    gradnorm     L = Σ_t w_t L_t with w updated each step by GradNorm (Chen et al. 2018, ICML):
                 G_t = ‖∇_W w_t L_t‖ at the last shared layer W, r_t = L̃_t / mean(L̃) with
                 L̃_t = L_t / L_t(0), L_grad = Σ_t |G_t − mean(G) · r_t^α| (target held constant),
                 w ← w − gradnorm_lr · ∂L_grad/∂w, then w renormalised to sum to T.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import OnlineCollector
from rlrec.agents.replay import ReplayBuffer
from rlrec.agents.schedules import LinearSchedule
from rlrec.agents.towers import TwoTowerQ
from rlrec.envs.base import Observation
from rlrec.runtime.checks import require_positive

WEIGHTINGS = ("fixed", "uncertainty", "gradnorm")


def uncertainty_weighted_loss(task_losses: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
    """Σ_t exp(−s_t) L_t + s_t for task losses [T] and learned s_t = log σ_t² [T] (Kendall et al. 2018)."""
    return (torch.exp(-log_variances) * task_losses + log_variances).sum()


def gradnorm_step(
    weights: torch.Tensor, grad_norms: torch.Tensor, loss_ratios: torch.Tensor, alpha: float, lr: float
) -> torch.Tensor:
    """One GradNorm update of the task weights [T] (Chen et al. 2018, Algorithm 1).

    ``grad_norms`` [T] are ‖∇_W L_t‖ of the unweighted losses at the last shared layer, so
    G_t = w_t ‖∇_W L_t‖; ``loss_ratios`` [T] are L_t / L_t(0). With r_t = ratio_t / mean(ratio) and the
    target mean(G) · r_t^α held constant, L_grad = Σ_t |G_t − target_t| and one gradient step of size
    ``lr`` on w follows, then w is kept positive and renormalised to sum to T.
    """
    weights = weights.detach().clone().requires_grad_(True)
    g = weights * grad_norms  # [T]
    relative_rate = loss_ratios / loss_ratios.mean()
    target = (g.mean() * relative_rate.pow(alpha)).detach()
    grad_loss = (g - target).abs().sum()
    (gradient,) = torch.autograd.grad(grad_loss, weights)
    updated = (weights.detach() - lr * gradient).clamp(min=1e-3)
    return updated * len(updated) / updated.sum()


class MultiTaskAgent(RecAgent):
    def __init__(
        self,
        item_encoder: nn.Module,
        state_encoder: Callable[..., nn.Module],
        n_items: int,
        slate_size: int,
        *,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float,
        gamma: float,
        batch_size: int,
        replay_capacity: int,
        warmup_steps: int,
        epsilon_start: float,
        epsilon_end: float,
        epsilon_decay_steps: int,
        target_update_every: int,
        hidden_dim: int,
        history_length: int,
        huber_delta: float,
        weighting: str,
        task_weights: dict[str, float] | None,  # None: 1 per task
        score_weights: dict[str, float] | None,  # None: the reward function's weights
        gradnorm_alpha: float,
        gradnorm_lr: float,
        mask_consumed: bool,
        name: str,
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_positive(
            "algorithm",
            batch_size=batch_size,
            replay_capacity=replay_capacity,
            target_update_every=target_update_every,
            history_length=history_length,
            hidden_dim=hidden_dim,
        )
        if weighting not in WEIGHTINGS:
            raise ValueError(f"algorithm.weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        # plain dicts, so the checkpoint's hyper-parameters load with torch.load(weights_only=True)
        task_weights, score_weights = (
            _plain(task_weights, "task_weights"),
            _plain(score_weights, "score_weights"),
        )
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(item_encoder, state_encoder, n_items, hidden_dim, history_length)  # shared f, g, b
        self.tasks: tuple[str, ...] = ()
        self.target_q: nn.Module | None = None
        self.optimizer_factory = optimizer
        self.epsilon = LinearSchedule(epsilon_start, epsilon_end, epsilon_decay_steps)
        self.replay = ReplayBuffer(replay_capacity)
        # ε-greedy on the weighted score, one-step transitions into the buffer, one minibatch per
        # env step (agents/collect.py)
        self.collector = OnlineCollector(
            lambda obs: {"slate": self.act(self.to_device(obs), explore=True).cpu()},
            self.transition,
            n_items=n_items,
            slate_size=slate_size,
            task="total",
            replay=self.replay,
            sample=lambda: self.replay.sample(self.hparams.batch_size),
            warmup_steps=warmup_steps,
            history_length=history_length,
        )

    # -- heads are built once the environment's tasks are known ---------------------------------------
    def build_heads(self, tasks: tuple[str, ...], reward_weights: dict[str, float]) -> None:
        """One head per task; the score and loss weights resolved against the tasks (config errors here)."""
        tasks = tuple(tasks)
        if not tasks:
            raise ValueError("algorithm=multitask needs an environment with at least one task (env.tasks)")
        self.tasks = tasks
        dim, n = self.q.item_tower.dim, len(tasks)
        self.heads = nn.ModuleList([nn.Linear(dim, dim) for _ in tasks])  # W_t
        self.task_biases = nn.Parameter(torch.zeros(n, self.n_items))  # b_t
        self.register_buffer(
            "score_weight", self._per_task("score_weights", self.hparams.score_weights, reward_weights)
        )
        if self.score_weight.abs().sum() == 0:
            raise ValueError(
                f"algorithm.score_weights give every task of {list(tasks)} weight 0; set algorithm.score_weights"
            )
        self.register_buffer(
            "task_weight", self._per_task("task_weights", self.hparams.task_weights, {}, 1.0)
        )
        self.log_variances = nn.Parameter(torch.zeros(n)) if self.hparams.weighting == "uncertainty" else None
        self.register_buffer("initial_losses", torch.zeros(n))  # L_t(0) for GradNorm, set at the first step
        self.target_q = copy.deepcopy(self._online_modules()).requires_grad_(False)

    def _per_task(self, key: str, given: dict[str, float] | None, fallback: dict, default: float = 0.0):
        source = given if given is not None else dict(fallback)
        if given is not None:
            missing, unknown = set(self.tasks) - set(source), set(source) - set(self.tasks)
            if missing or unknown:
                raise ValueError(
                    f"algorithm.{key} must give a weight to each task {list(self.tasks)}, got {given}"
                )
        return torch.tensor([float(source.get(task, default)) for task in self.tasks])

    def _online_modules(self) -> nn.ModuleDict:
        return nn.ModuleDict({"q": self.q, "heads": self.heads, "biases": _Holder(self.task_biases)})

    def setup(self, stage: str) -> None:
        if not self.tasks:
            env = self.trainer.datamodule.train_env
            self.build_heads(tuple(env.tasks), dict(getattr(getattr(env, "reward", None), "weights", {})))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["tasks"] = list(self.tasks)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        if not self.tasks:  # the stored weights fill these in
            self.build_heads(tuple(checkpoint["tasks"]), {task: 1.0 for task in checkpoint["tasks"]})

    # -- scoring -------------------------------------------------------------------------------------
    def task_q(self, obs: Observation, modules: nn.ModuleDict | None = None) -> torch.Tensor:
        """Q_t(s, ·) for every task: [B, T, n_items]."""
        modules = modules if modules is not None else self._online_modules()
        q, heads, biases = modules["q"], modules["heads"], modules["biases"].value
        items = q.item_tower()  # [n_items, d]
        state = q.user_state(obs, items)  # [B, d]
        per_task = torch.stack([head(state) for head in heads], 1)  # [B, T, d]
        return per_task @ items.T + q.item_bias + biases  # [B, T, n_items]

    def scores(self, task_q: torch.Tensor) -> torch.Tensor:
        return (self.score_weight[:, None] * task_q).sum(1)  # [B, n_items]

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        scores = self.scores(self.task_q(obs))
        if explore:
            explore_rows = torch.rand(len(scores), device=scores.device) < self.epsilon(self.global_step)
            scores = torch.where(explore_rows[:, None], torch.rand_like(scores), scores)
        return self.slate_from_scores(scores, obs)  # [B, K]

    # -- experience ----------------------------------------------------------------------------------
    def experience(self, env) -> Iterator[dict[str, torch.Tensor]]:
        if tuple(env.tasks) != self.tasks:
            raise ValueError(
                f"algorithm=multitask was built for tasks {list(self.tasks)}, env has {list(env.tasks)}"
            )
        return self.collector.batches(env)

    def transition(self, obs, acted, next_obs, rewards, done, info) -> dict[str, torch.Tensor]:
        """One env step's rows: per-task rewards at the slate position acted on, [B, T, K]."""
        clicked = info["clicked_position"]
        at_click = F.one_hot(clicked.clamp(min=0), self.slate_size).float() * (clicked >= 0)[:, None]
        task_rewards = torch.stack([rewards[task] for task in self.tasks], 1)  # [B, T]
        return {
            "history": obs["history"],
            "history_mask": obs["history_mask"],
            "slate": acted["slate"],
            "reward": task_rewards[:, :, None] * at_click[:, None, :],  # [B, T, K]
            "next_history": next_obs["history"],
            "next_history_mask": next_obs["history_mask"],
            "done": done.float(),
        }

    # -- learning ------------------------------------------------------------------------------------
    def task_losses(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-task Huber TD losses [T] on a replay batch."""
        obs = {"history": batch["history"], "history_mask": batch["history_mask"]}
        next_obs = {"history": batch["next_history"], "history_mask": batch["next_history_mask"]}
        n_tasks = len(self.tasks)
        slate = batch["slate"][:, None, :].expand(-1, n_tasks, -1)  # [N, T, K]
        q_slate = self.task_q(obs).gather(2, slate)  # [N, T, K]
        with torch.no_grad():
            next_q = self.task_q(next_obs, self.target_q)  # [N, T, n_items]
            best = self.scores(next_q).argmax(1)  # [N] a*
            next_value = next_q.gather(2, best[:, None, None].expand(-1, n_tasks, 1))  # [N, T, 1]
            target = batch["reward"] + self.hparams.gamma * (1 - batch["done"])[:, None, None] * next_value
        losses = F.huber_loss(q_slate, target, delta=self.hparams.huber_delta, reduction="none")
        return losses.mean(dim=(0, 2))  # [T]

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        losses = self.task_losses(batch)  # [T]
        weighting = self.hparams.weighting
        if weighting == "uncertainty":
            loss = uncertainty_weighted_loss(losses, self.log_variances)
            weights = torch.exp(-self.log_variances.detach())
        else:
            if weighting == "gradnorm":
                self._gradnorm_update(losses)
            weights = self.task_weight
            loss = (weights * losses).sum()
        n = len(batch["slate"])
        self.log("train/loss", loss, batch_size=n)
        for i, task in enumerate(self.tasks):
            self.log(f"train/loss_{task}", losses[i], batch_size=n)
            self.log(f"train/weight_{task}", weights[i], batch_size=n)
        self.log("train/epsilon", self.epsilon(self.global_step), batch_size=n)
        self.log("train/collect_reward", self.collect_reward, batch_size=n)
        return loss

    def _gradnorm_update(self, losses: torch.Tensor) -> None:
        shared = self.q.state_tower.mlp[-1].weight  # W: the last shared layer
        norms = torch.stack(
            [torch.autograd.grad(loss, shared, retain_graph=True)[0].norm() for loss in losses]
        ).detach()  # [T] ‖∇_W L_t‖
        if (self.initial_losses == 0).all():
            self.initial_losses.copy_(losses.detach().clamp(min=1e-8))
        ratios = losses.detach() / self.initial_losses
        self.task_weight.copy_(
            gradnorm_step(
                self.task_weight, norms, ratios, self.hparams.gradnorm_alpha, self.hparams.gradnorm_lr
            )
        )

    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        if self.global_step % self.hparams.target_update_every == 0:
            self.target_q.load_state_dict(self._online_modules().state_dict())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)


def _plain(weights, key: str) -> dict[str, float] | None:
    if weights is None:
        return None
    if not hasattr(weights, "keys"):
        raise ValueError(f"algorithm.{key} must be a {{task: weight}} map or null, got {weights!r}")
    return {str(task): float(weights[task]) for task in weights.keys()}


class _Holder(nn.Module):
    """A parameter as a module, so the online and target heads copy with one state_dict."""

    def __init__(self, value: nn.Parameter) -> None:
        super().__init__()
        self.value = value

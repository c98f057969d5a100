"""REINFORCE over a softmax slate policy (Williams 1992), with the top-K off-policy correction of
Chen et al. 2019 (WSDM, "Top-K Off-Policy Correction for a REINFORCE Recommender System").

Policy: π(a|s) = softmax_a(f(s) · g(a) + b(a)) over the catalogue (the two-tower scorer). An exploring
slate is K items drawn from π without replacement (Gumbel top-K); the greedy slate is the top K.

On-policy (``topk_correction: false``): whole episodes of ``env.num_envs`` users; per user the
discounted return G_t = Σ_{t'≥t} γ^{t'−t} r_{t'} (zero once done or inactive), and

    L = − mean_t [ Σ_k c_{t,k} log π(a_k|s_t) A_t ] − entropy_coef · mean_t H(π(·|s_t)),   A_t = G_t − b(s_t)

The credit c_{t,k} says which slate items the return is credited to (``credit``): ``slate`` gives
every shown item c = 1 (the slate is the action); ``clicked`` gives c = 1 to the item the user
clicked and 0 to the others, so a step without a click adds no policy gradient (Chen et al. 2019
take the item the user interacted with as the action). The step's reward (click, cart, purchase) is
caused by the clicked item only, so with ``slate`` the K − 1 unclicked items get the same advantage
as the clicked one and their log π gradients are pure noise about which item earned it.
``normalize_advantage`` rescales A over the batch to mean 0 and standard deviation 1 (as in PPO
implementations; Schulman et al. 2017), so the step size does not follow the scale of the returns.

Off-policy (``topk_correction: true``): the data is the dataset's train-split log (agents/logged.py),
the behaviour policy β is the unknown logging policy, estimated by a head β(a|s) = softmax(P f(s)⊥ · g(a)⊥
+ c(a)) on the detached state and item vectors (⊥), fitted by maximum likelihood on the logged actions.
Each logged (s_t, a_t, G_t) gives (Chen et al. 2019, eq. 6 with the capped weight of §4.3)

    L = − mean_t [ λ_K(s_t, a_t) · min(π(a_t|s_t) / β(a_t|s_t), c) · (G_t − b(s_t)) · log π(a_t|s_t) ]
        − entropy_coef · mean_t H(π(·|s_t)),       λ_K(s, a) = K (1 − π(a|s))^(K−1)

with both multipliers held constant in the gradient. Baseline b: ``none`` (0), ``running_mean`` (an
exponential moving average of the returns, decay ``baseline_decay``) or ``learned`` (a value head on
the detached state, regressed on G_t by MSE).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from rlrec.agents.base import RecAgent
from rlrec.agents.collect import EpisodeCollector, LoggedSampler
from rlrec.agents.logged import logged_transitions
from rlrec.agents.towers import TwoTowerQ
from rlrec.envs.base import Observation
from rlrec.runtime.checks import require_positive

BASELINES = ("none", "running_mean", "learned")
CREDITS = ("slate", "clicked")


def topk_multiplier(pi: torch.Tensor, k: int) -> torch.Tensor:
    """λ_K(s, a) = K (1 − π(a|s))^(K−1): d/dπ of 1 − (1 − π)^K, the chance a is in a K-draw slate
    (Chen et al. 2019, eq. 6). ``pi`` any shape -> same shape."""
    return k * (1.0 - pi).pow(k - 1)


def capped_importance_weight(pi: torch.Tensor, beta: torch.Tensor, cap: float) -> torch.Tensor:
    """min(π(a|s) / β(a|s), c): the importance weight capped to bound its variance (Chen et al. 2019, §4.3)."""
    return (pi / beta).clamp(max=cap)


def gumbel_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """K items drawn without replacement from softmax(logits) [B, n] (Gumbel top-K; Kool et al. 2019)."""
    uniform = torch.rand_like(logits).clamp(min=torch.finfo(logits.dtype).tiny)
    return (logits - torch.log(-torch.log(uniform))).topk(k, dim=1).indices  # [B, K]


def policy_entropy(log_probs: torch.Tensor) -> torch.Tensor:
    """H(π) per row of log-probabilities [B, n] (items with π = 0, masked, add 0) -> [B]."""
    probs = log_probs.exp()
    return -torch.where(probs > 0, probs * log_probs, torch.zeros_like(log_probs)).sum(1)


class ReinforceAgent(RecAgent):
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
        entropy_coef: float,
        baseline: str,
        credit: str,
        normalize_advantage: bool,
        baseline_decay: float,
        topk_correction: bool,
        weight_cap: float,
        batch_size: int,
        hidden_dim: int,
        history_length: int,
        task: str,
        mask_consumed: bool,
        name: str,
    ) -> None:
        super().__init__(n_items, slate_size, mask_consumed)
        require_positive(
            "algorithm", batch_size=batch_size, hidden_dim=hidden_dim, history_length=history_length
        )
        if baseline not in BASELINES:
            raise ValueError(f"algorithm.baseline must be one of {BASELINES}, got {baseline!r}")
        if credit not in CREDITS:
            raise ValueError(f"algorithm.credit must be one of {CREDITS}, got {credit!r}")
        if not 0.0 <= baseline_decay < 1.0:
            raise ValueError(f"algorithm.baseline_decay must be in [0, 1), got {baseline_decay}")
        if weight_cap <= 0:
            raise ValueError(f"algorithm.weight_cap must be positive, got {weight_cap}")
        self.save_hyperparameters(ignore=["item_encoder", "state_encoder", "optimizer"])
        self.q = TwoTowerQ(item_encoder, state_encoder, n_items, hidden_dim, history_length)  # policy logits
        dim = item_encoder.dim
        self.value_head = (
            nn.Sequential(nn.Linear(dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1))
            if baseline == "learned"
            else None
        )
        self.register_buffer("running_return", torch.zeros(()))
        if topk_correction:
            self.behaviour_projection = nn.Linear(dim, dim)  # P
            self.behaviour_bias = nn.Parameter(torch.zeros(n_items))  # c
        self.optimizer_factory = optimizer
        if topk_correction:  # off-policy: the train split's log
            self.collector = LoggedSampler(self.logged_returns)
        else:  # on-policy: one episode of env.num_envs users per batch, sampled slates
            self.collector = EpisodeCollector(
                lambda obs: self.act(self.to_device(obs), explore=True).cpu(),
                task=task,
                gamma=gamma,
                columns=lambda slate, info, live: {
                    "credit": self._credit(info["clicked_position"], live, slate.shape[1])
                },
            )

    def forward_policy(
        self,
        history: torch.Tensor,
        mask: torch.Tensor,
        mask_consumed: bool,
        users: torch.Tensor | None = None,
    ):
        """state f(s) [N, d], item vectors [n_items, d], log π(·|s) [N, n_items]; consumed items get
        π = 0 if ``mask_consumed``."""
        items = self.q.item_tower()
        state = self.q.state_tower(items[history], mask, history, users)
        logits = state @ items.T + self.q.item_bias
        if mask_consumed:
            logits = logits.masked_fill(
                self.consumed({"history": history, "history_mask": mask}), float("-inf")
            )
        return state, items, logits.log_softmax(1)

    @torch.no_grad()
    def act(self, obs: Observation, explore: bool = False) -> torch.Tensor:
        _, _, log_pi = self.forward_policy(
            obs["history"], obs["history_mask"], self.mask_consumed, obs.get("user")
        )
        if explore:
            return gumbel_top_k(log_pi, self.slate_size)
        return self.slate_from_scores(log_pi, obs)  # [B, K]

    def _credit(self, clicked_position: torch.Tensor, live: torch.Tensor, k: int) -> torch.Tensor:
        """c [B, K]: ones (``credit: slate``) or the one-hot clicked position, zeros without a click
        or once the user is inactive (``credit: clicked``)."""
        if self.hparams.credit == "slate":
            return torch.ones(len(live), k)
        clicked = (clicked_position >= 0) & live  # [B]
        one_hot = F.one_hot(clicked_position.clamp(min=0), k).float()  # [B, K]
        return one_hot * clicked[:, None].float()

    def logged_returns(self, env):
        """``make_draw`` of the off-policy LoggedSampler: logged (history, action [N, 1], return) rows
        with the behaviour action, G_t the discounted return of the logged sequence from t."""
        log = logged_transitions(env, self.hparams.history_length)
        returns = log.discounted_returns(self.hparams.task, self.hparams.gamma)  # [N_log]

        def draw(generator: torch.Generator) -> dict[str, torch.Tensor]:
            rows = torch.randint(len(log), (self.hparams.batch_size,), generator=generator)
            batch = log.rows(rows)
            return {
                "history": batch["history"],
                "history_mask": batch["history_mask"],
                "user": batch["user"],
                "slate": batch["action"][:, None],  # [N, 1]: one logged item per step
                "return": returns[rows],
            }

        return draw

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        # A logged action may repeat a history item, so off-policy learning scores the unmasked policy.
        mask_consumed = self.mask_consumed and not self.hparams.topk_correction
        state, items, log_pi = self.forward_policy(
            batch["history"], batch["history_mask"], mask_consumed, batch.get("user")
        )
        log_pi_taken = log_pi.gather(1, batch["slate"])  # [N, K'] (K' = K on-policy, 1 off-policy)
        returns = batch["return"]  # [N]
        n = len(returns)
        loss = torch.zeros((), device=returns.device)

        if self.hparams.baseline == "learned":
            value = self.value_head(state.detach()).squeeze(1)  # [N]
            value_loss = F.mse_loss(value, returns)
            loss = loss + value_loss
            baseline = value.detach()
            self.log("train/value_loss", value_loss, batch_size=n)
        elif self.hparams.baseline == "running_mean":
            baseline = self.running_return.expand(n).clone()  # the value before this update
            decay = self.hparams.baseline_decay
            self.running_return.mul_(decay).add_((1 - decay) * returns.mean().detach())
        else:
            baseline = torch.zeros_like(returns)
        advantage = returns - baseline  # [N]
        if self.hparams.normalize_advantage and n > 1:
            advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        advantage = advantage[:, None]  # [N, 1]

        if self.hparams.topk_correction:
            weight, behaviour_loss = self.topk_corrected_weight(batch, state, items, log_pi_taken)
            loss = loss + behaviour_loss
        else:  # on-policy: the credit each shown item gets (``credit``)
            weight = batch["credit"] if "credit" in batch else torch.ones_like(log_pi_taken)  # [N, K]

        policy_loss = -(weight * log_pi_taken * advantage).sum(1).mean()
        entropy = policy_entropy(log_pi).mean()
        loss = loss + policy_loss - self.hparams.entropy_coef * entropy
        self.log("train/loss", loss, batch_size=n)
        self.log("train/policy_loss", policy_loss, batch_size=n)
        self.log("train/entropy", entropy, batch_size=n)
        self.log("train/return", returns.mean(), batch_size=n)
        if not self.hparams.topk_correction:
            self.log("train/collect_reward", self.collect_reward, batch_size=n)
        return loss

    def topk_corrected_weight(
        self,
        batch: dict[str, torch.Tensor],
        state: torch.Tensor,
        items: torch.Tensor,
        log_pi_taken: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Off-policy: the weight λ_K(π) · min(π/β, c) of each logged action [N, 1] (Chen et al. 2019,
        eq. 6 with the cap of §4.3), with β the behaviour policy softmax(P f(s) · g(a) + c) fitted to the logged
        actions by its cross-entropy (returned as the second term, added to the loss)."""
        n = len(log_pi_taken)
        behaviour_logits = (
            self.behaviour_projection(state.detach()) @ items.detach().T + self.behaviour_bias
        )  # [N, n_items]
        behaviour_loss = F.cross_entropy(behaviour_logits, batch["slate"][:, 0])
        with torch.no_grad():
            pi = log_pi_taken.exp()
            beta = behaviour_logits.softmax(1).gather(1, batch["slate"])
            weight = topk_multiplier(pi, self.slate_size) * capped_importance_weight(
                pi, beta, self.hparams.weight_cap
            )  # [N, 1]
        self.log("train/behaviour_loss", behaviour_loss, batch_size=n)
        self.log("train/importance_weight", weight.mean(), batch_size=n)
        return weight, behaviour_loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.parameters() if p.requires_grad]
        return self.optimizer_factory(params=params, lr=self.hparams.lr)

"""Long-horizon, multi-behaviour user simulator over a synthetic world, vectorised over users.

State of user b (per episode; the world's ``user_interests`` are copied at ``reset``): interests
θ_b ∈ Δ^T over T topics, boredom β_b ∈ R^T_+ (0 at reset), satisfaction s_b ∈ R (0 at reset).
Item i has topic weights x_i ∈ Δ^T (0.7 main + 0.3 side topic) and quality q_i ~ N(0, 1).

Choice (multinomial logit with a no-click option; McFadden 1974, SlateQ: Ie et al. 2019). For
the slate (i_1 … i_K):

    u_bk = w_a θ_b·x_ik + w_q q_ik − w_β β_b·x_ik − d (k − 1),        u_b0 = no_click_utility
    P(click k) = exp(u_bk) / (exp(u_b0) + Σ_j exp(u_bj))

Funnel (each stage only after the previous one), σ the logistic function:

    P(cart | click i)    = σ(c_0 + c_q q_i + c_a θ_b·x_i)
    P(purchase | cart i) = σ(p_0 + p_q q_i)

Long-term dynamics, after the step's choice (clicked item i, c_b = 1 if user b clicked):

    θ_b ← (1 − η c_b) θ_b + η c_b x_i               interests drift towards what is consumed
    β_b ← λ β_b + c_b x_i                           boredom grows with repeats, decays otherwise
    v_b = c_b (q_i − w_β β_b·x_i) − (1 − c_b) n     the step's experience (β before the update)
    s_b ← ρ s_b + (1 − ρ) v_b                       satisfaction: a moving average of experience
    P(leave) = σ(l_0 − l_s s_b)                     the user leaves (done) with this probability

The click utility weighs quality lightly (w_q) while purchases and satisfaction weigh it heavily,
and boredom builds up over a session: a policy greedy on the click utility (``oracle``) fills the
slate with well-liked but mediocre, ever more repetitive items, loses purchases and users, and is
beaten by one that looks ahead (``oracle_longterm``). An episode lasts at most ``horizon`` steps.

Every random draw comes from ``self.generator``: one ``[B, 4]`` uniform tensor per step (choice,
cart, purchase, leave), so the same seed gives the same trajectories, and
rlrec.envs.synthetic_reference replays the same draws one user at a time.
"""

from __future__ import annotations

import polars as pl
import torch

from rlrec.data.schema import RecDataset
from rlrec.envs.base import Observation, Policy, RecEnv, below_autograd
from rlrec.envs.rewards import WeightedReward

# oracle_longterm: weight of the satisfaction an item adds, and the penalty per repeated topic weight
# within one slate (heuristics, not fitted; see SyntheticRecEnv.longterm_scores).
LOOKAHEAD_WEIGHT = 2.0
SLATE_SPREAD_PENALTY = 2.0
# the parameters step()'s precomputed constants depend on (SyntheticRecEnv._episode_constants)
_STEP_PARAMETERS = (
    "affinity_weight", "quality_weight", "position_decay", "no_click_utility", "cart_bias", "cart_quality",
    "cart_affinity", "purchase_bias", "purchase_quality", "drift_rate", "boredom_weight", "boredom_decay",
    "satisfaction_decay", "no_click_penalty", "leave_bias", "leave_sensitivity",
)  # fmt: skip


class SyntheticRecEnv(RecEnv):
    """``reset(users) -> obs`` and ``step(slate) -> obs, rewards{click, cart, purchase, total}, done, info``."""

    episode_state = (
        "_users", "_history", "_mask", "interests", "boredom", "satisfaction", "active", "_t", "_started",
    )  # fmt: skip

    tasks = ("click", "cart", "purchase")

    def __init__(
        self,
        dataset: RecDataset,
        reward: WeightedReward | None = None,
        *,
        name: str,
        num_envs: int,
        slate_size: int,
        horizon: int,
        affinity_weight: float,
        quality_weight: float,
        position_decay: float,
        no_click_utility: float,
        cart_bias: float,
        cart_quality: float,
        cart_affinity: float,
        purchase_bias: float,
        purchase_quality: float,
        drift_rate: float,
        boredom_weight: float,
        boredom_decay: float,
        satisfaction_decay: float,
        no_click_penalty: float,
        leave_bias: float,
        leave_sensitivity: float,
        allow_duplicate_items: bool,
        eval_episodes_users: int,
        history_window: int,
        seed: int = 0,
    ) -> None:
        if dataset.world is None:
            raise ValueError(
                f"env=synthetic simulates a generated world, but dataset {dataset.name!r} has none; "
                "use dataset=synthetic"
            )
        self._init_shared(
            dataset, reward, name, self.tasks, num_envs, slate_size, horizon, history_window,
            eval_episodes_users, seed,
        )  # fmt: skip
        for key, value in [
            ("drift_rate", drift_rate),
            ("boredom_decay", boredom_decay),
            ("satisfaction_decay", satisfaction_decay),
        ]:
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"env.{key} must be in [0, 1], got {value}")
        self.world = dataset.world
        self.affinity_weight = affinity_weight
        self.quality_weight = quality_weight
        self.position_decay = position_decay
        self.no_click_utility = no_click_utility
        self.cart_bias, self.cart_quality, self.cart_affinity = cart_bias, cart_quality, cart_affinity
        self.purchase_bias, self.purchase_quality = purchase_bias, purchase_quality
        self.drift_rate = drift_rate
        self.boredom_weight, self.boredom_decay = boredom_weight, boredom_decay
        self.satisfaction_decay, self.no_click_penalty = satisfaction_decay, no_click_penalty
        self.leave_bias, self.leave_sensitivity = leave_bias, leave_sensitivity
        self.allow_duplicate_items = allow_duplicate_items
        self.train_users = dataset.train_users
        self.eval_users = dataset.eval_users[:eval_episodes_users]
        self.logged_history, self.logged_mask = _last_items(dataset, history_window)  # [U, H]
        self._positions = torch.arange(slate_size, dtype=torch.float32)  # k − 1 for slate position k
        self._topic_index, self._topic_weight = _sparse_topics(self.world.item_topics)  # [Z, n_items]
        self._item_topics_tb = self.world.item_topics.T.contiguous()  # x [T, n_items]
        self._user_interests_tb = self.world.user_interests.T.contiguous()  # θ at reset [T, U]
        self._users: torch.Tensor | None = None
        self._state: tuple | None = None  # θ, β [2, T, B], its rows, interests, boredom: see _set_state
        self._constants_key: tuple | None = None  # see _episode_constants
        self._full_mask: torch.Tensor | None = None  # see _note_full_mask
        self._t = 0

    # ----------------------------------------------------------------------------------- episode
    def reset(self, users: torch.Tensor) -> Observation:
        batch = len(users)
        self._users = users
        self._history = self.logged_history.index_select(0, users)  # [B, H] (a copy)
        self._mask = self.logged_mask.index_select(0, users)  # [B, H]
        self._note_full_mask()
        # θ and β are [B, T] tensors stored topic-major (transposes of contiguous [T, B] ones): a
        # per-user factor then scales contiguous rows of B users (see step)
        topics = self.world.item_topics.shape[1]
        state = torch.zeros(2, topics, batch)  # θ, β [2, T, B]
        torch.index_select(self._user_interests_tb, 1, users, out=state[0])
        self._set_state(state)  # θ, β [B, T]
        self.satisfaction = torch.zeros(batch)  # s [B]
        self.active = torch.ones(batch, dtype=torch.bool)  # [B]
        self._t = 0
        self._started = torch.zeros(batch, dtype=torch.long)  # the step each user's episode began at
        self._episode_constants(batch)
        return self._observation()

    def restart(self, rows: torch.Tensor, users: torch.Tensor) -> Observation:
        """Start new episodes for ``users`` [n] in the batch rows ``rows`` ([B] bool, n of them true),
        exactly as ``reset`` would start them, while every other row's episode goes on: what a
        vectorised gymnasium env needs when single users finish (rlrec.envs.gym.RecVectorEnv)."""
        if int(rows.sum()) != len(users):
            raise ValueError(f"{self.name}: restart got {int(rows.sum())} rows and {len(users)} users")
        self._users = self._users.clone()
        self._users[rows] = users
        self._history, self._mask = self._history.clone(), self._mask.clone()
        self._history[rows] = self.logged_history.index_select(0, users)
        self._mask[rows] = self.logged_mask.index_select(0, users)
        self._note_full_mask()
        state, _ = self._get_state()
        state = state.clone()  # θ, β [2, T, B]
        state[0][:, rows] = self._user_interests_tb.index_select(1, users)
        state[1][:, rows] = 0.0
        self._set_state(state)
        self.satisfaction = self.satisfaction.masked_fill(rows, 0.0)
        self.active = self.active | rows
        self._started = torch.where(rows, self._t, self._started)
        return self._observation()

    def _episode_constants(self, batch: int) -> None:
        """The constants of step() for a batch of ``batch`` users, so a step does no work that depends
        only on the item or the slate position (each is the same float32 operation step() would do
        per user). Rebuilt only when the batch size or a parameter changed since the last reset."""
        key = (
            batch,
            self.slate_size,
            self.history_window,
            *(getattr(self, name) for name in _STEP_PARAMETERS),
        )
        if key == self._constants_key:
            return
        self._constants_key = key
        world, k = self.world, self.slate_size
        self._weighted_quality = self.quality_weight * world.item_quality  # w_q q_i [n_items]
        self._cart_logit_base = self.cart_bias + self.cart_quality * world.item_quality  # [n_items]
        self._purchase_prob = torch.sigmoid(self.purchase_bias + self.purchase_quality * world.item_quality)
        self._position_cost = (self.position_decay * self._positions)[:, None]  # d (k − 1) [K, 1]
        # slot k·B + b of [K·B] <- slot b·K + k of the slate [B·K], then positions 0 … ⌊K/2⌋ − 1 again
        # (the wrap-around the repeated-item check compares against: RecEnv.check_slate_repeats)
        position_major = torch.arange(batch * k).view(batch, k).T.reshape(-1)
        self._position_major = torch.cat(
            (position_major, position_major[: k // 2 * batch])
        )  # [(K + ⌊K/2⌋)·B]
        # t_j·B: row t_j of a [T, B] state, flat [Z, n_items]; int32 (half the bytes to move) if it fits
        index_dtype = torch.int32 if world.item_topics.shape[1] * batch < 2**31 else torch.int64
        self._topic_rows = (self._topic_index * batch).to(index_dtype)
        user = torch.arange(batch)  # b [B]
        self._user_index_flat = user.to(index_dtype)
        self._first_row = user - batch  # b − B [B]: slot (position − 1, b) of [K·B]
        self._row_starts = user * self.history_window  # [B] flat index of history row b
        self._row_starts_next = self._row_starts + 1  # [B] its second slot
        # The scalars of step() as 0-dim float32 tensors: an op with a Python number wraps it in a
        # new tensor each call (several µs, more than the op on B floats); the values are the same
        # float32 numbers the Python scalars would be cast to.
        f32 = torch.float32
        boredom_kept = 1 - torch.ones((), dtype=f32) * (1 - self.boredom_decay)  # 1 − a(1 − λ) at a = 1
        self._scalars = {
            name: torch.tensor(value, dtype=f32)
            for name, value in [
                ("affinity_weight", self.affinity_weight),
                ("boredom_weight", self.boredom_weight),
                ("cart_affinity", self.cart_affinity),
                ("drift_rate", self.drift_rate),
                ("no_click_experience", -self.no_click_penalty),
                ("leave_bias", self.leave_bias),
                ("leave_sensitivity", self.leave_sensitivity),
            ]
        } | {"one_long": torch.ones((), dtype=torch.long), "zero_long": torch.zeros((), dtype=torch.long)}
        # the per-user factors of the boredom and satisfaction updates, for a user in / out of the session
        gain = torch.tensor(1 - self.satisfaction_decay, dtype=f32)  # 1 − ρ
        self._active_factors = torch.stack((boredom_kept, gain))[:, None]  # λ, 1 − ρ [2, 1]
        self._inactive_factors = torch.tensor([[1.0], [0.0]])  # [2, 1]
        # Scratch tensors step() writes into (never handed out), with the views it reads them through
        # made here once: a view costs about as much as an op on B numbers.
        z = len(self._topic_index)
        self._draws = torch.empty(batch, 4)  # the step's uniforms
        self._draw_columns = self._draws.T.unbind()  # u_choice, u_cart, u_purchase, u_leave [B] each
        self._terms = torch.empty(2, z, k, batch)  # x_j θ_{t_j,b}, x_j β_{t_j,b} [2, Z, K, B]
        self._terms_flat = [self._terms[row].view(-1) for row in range(2)]
        self._terms_by_topic = self._terms.unbind(1)  # [2, K, B] per j
        self._dots = torch.empty(2, k, batch)  # θ·x, β·x [2, K, B]
        self._dot_rows, self._dots_flat = self._dots.unbind(), self._dots.view(2, -1)
        self._logits = torch.full((1 + k, batch), self.no_click_utility)  # [1 + K, B], row 0: u_b0
        self._utility = self._logits[1:]  # u [K, B]
        self._weights = torch.empty(1 + k, batch)  # exp(u − max), then their cumulative sums C [1 + K, B]
        self._cumulative_head, self._cumulative_last = self._weights[:-1], self._weights[-1]
        self._chosen_dots = torch.empty(2, batch)  # θ·x_i, w_β β·x_i of the clicked item [2, B]
        self._chosen_dot_rows = self._chosen_dots.unbind()
        self._factors = torch.empty(2, batch)  # kept, gain [2, B] (see step)
        self._factor_rows = self._factors.unbind()

    def step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        """slate [B, K] item ids -> next obs, rewards {click, cart, purchase, total: [B]}, done [B], info."""
        with below_autograd():  # no gradient ever flows through the simulator
            return self._step(slate)

    def _step(self, slate: torch.Tensor) -> tuple[Observation, dict[str, torch.Tensor], torch.Tensor, dict]:
        """step() itself. Computed position-major ([K, B] rather than [B, K]) and topic-major ([T, B] states): every
        elementwise op then runs over contiguous users, and the dot products θ·x, β·x are sums over
        each item's few nonzero topics (``_sparse_topics``) of [K, B] planes, instead of B tiny
        matrix products. Scalars are 0-dim tensors (``_scalars``). The float32 operations and their
        order are those of the plain per-user [B, T] formulas (θ + η c (x − θ), λ β + c x, …), so
        these layout choices leave trajectories unchanged bit for bit.
        """
        if self._users is None:
            raise RuntimeError("call reset(users) before step(slate)")
        batch, world, k, const = len(self._users), self.world, self.slate_size, self._scalars
        self.check_slate_shape(slate, batch)
        wrapped = slate.reshape(-1).index_select(0, self._position_major)  # [(K + ⌊K/2⌋)·B]
        wrapped = wrapped if wrapped.dtype == torch.long else wrapped.long()
        items = wrapped[: k * batch]  # [K·B]: slot k·B + b
        columns = items.view(k, batch)  # the slate position-major [K, B]
        # the step's uniform draws, [B] each (one [B, 4] tensor: synthetic_reference replays its rows)
        torch.rand(batch, 4, generator=self.generator, out=self._draws)
        u_choice, u_cart, u_purchase, u_leave = self._draw_columns  # [B] each
        active = self.active
        state, (interests, boredom) = self._get_state()  # θ, β [2, T, B]

        # θ·x and β·x over each item's nonzero topics t_j (weights x_j, Z per item): Σ_j x_j θ_{t_j,b}
        slots = items.expand(len(self._topic_index), -1)  # [Z, K·B]
        try:  # the first lookup by item id is the range check (one op less per step than a min/max)
            topic = self._topic_rows.gather(1, slots).view(-1, k, batch)  # t_j·B [Z, K, B]
        except RuntimeError:
            try:
                self.check_slate_ids(slate, columns)  # names the ids out of range
            except ValueError as bad_ids:
                raise bad_ids from None  # without the index error's traceback before it
            raise
        self.check_slate_repeats(slate, columns, wrapped.view(-1, batch))
        weight = self._topic_weight.gather(1, slots).view(topic.shape)  # x_j [Z, K, B]
        flat = topic.add_(self._user_index_flat).view(-1)  # t_j·B + b: θ_{t_j,b} in a flat [T, B] state
        for source, out in zip((interests, boredom), self._terms_flat, strict=True):
            torch.index_select(source.view(-1), 0, flat, out=out)
        self._terms.mul_(weight)
        # θ·x, β·x [2, K, B]: Σ_j over the Z terms in order (adds, not a reduction)
        by_topic, dots = self._terms_by_topic, self._dots
        if len(by_topic) == 1:
            dots.copy_(by_topic[0])
        else:
            torch.add(by_topic[0], by_topic[1], out=dots)
            for term in by_topic[2:]:
                dots += term
        affinity, boredom_cost = self._dot_rows  # θ·x, β·x [K, B]
        boredom_cost.mul_(const["boredom_weight"])  # w_β β·x
        logits = self._logits  # [1 + K, B], row 0 = no_click_utility
        utility = torch.mul(affinity, const["affinity_weight"], out=self._utility)  # u [K, B]
        utility += self._weighted_quality.index_select(0, items).view(k, batch)
        utility -= boredom_cost
        utility -= self._position_cost
        torch.sub(logits, logits.amax(0), out=self._weights).exp_().cumsum_(0)  # C [1 + K, B]
        # inverse-CDF draw from the MNL probabilities: the number of C_j (j < K) below u·C_K; 0 = no
        # click (C_K < u·C_K is impossible for u < 1)
        below = self._cumulative_head < u_choice * self._cumulative_last  # [K, B], true on a prefix
        choice = below.sum(0)  # [B] in 0 … K
        clicked = below[0] & active  # choice > 0 ⟺ C_0 < u·C_K [B]
        clicked_position = torch.where(clicked, choice, const["zero_long"])  # choice if clicked, else 0
        clicked_position.sub_(const["one_long"])  # the 0-based slate position, −1 if none
        # (position − 1, b) of the [K·B] slots; position 1 for no click (its item is not used)
        chosen = torch.add(self._first_row, choice.clamp(min=1), alpha=batch)  # [B]
        item = items.index_select(0, chosen)  # [B]
        x = self._item_topics_tb.index_select(1, item)  # x_i [T, B]
        q = world.item_quality.index_select(0, item)  # q_i [B]
        torch.index_select(self._dots_flat, 1, chosen, out=self._chosen_dots)
        affinity_i, boredom_cost_i = self._chosen_dot_rows  # θ·x_i, w_β β·x_i [B]

        cart_logit = self._cart_logit_base.index_select(0, item) + affinity_i * const["cart_affinity"]
        carted = clicked & (u_cart < torch.sigmoid(cart_logit))
        purchased = carted & (u_purchase < self._purchase_prob.index_select(0, item))

        c = clicked.float()  # [B]
        # (a new tensor: an observation or a caller holding the old state keeps its values)
        new_state = torch.empty_like(state)  # θ, β [2, T, B]
        new_rows = new_state.unbind()
        drift = torch.sub(x, interests, out=new_rows[0]).mul_(c * const["drift_rate"])  # η c (x − θ)
        drift.add_(interests)  # θ + η c (x − θ)
        # boredom and satisfaction move only while the user is in the session (a user who left is
        # frozen): kept = λ or 1, gain = a (1 − ρ) with a = 1 or 0
        torch.where(active, self._active_factors, self._inactive_factors, out=self._factors)
        kept, gain = self._factor_rows  # [B] each
        torch.mul(boredom, kept, out=new_rows[1]).addcmul_(x, c)  # λ β + c x (c x is exact: c ∈ {0, 1})
        self._set_state(new_state, new_rows)
        # v = c (q − w_β β·x) − (1 − c) n, and s + a (1 − ρ) (v − s), with c, a ∈ {0, 1}
        experience = torch.where(clicked, q - boredom_cost_i, const["no_click_experience"])
        satisfaction = self.satisfaction
        self.satisfaction = satisfaction + gain * (experience - satisfaction)
        p_leave = torch.sigmoid(const["leave_bias"] - const["leave_sensitivity"] * self.satisfaction)
        left = active & (u_leave < p_leave)
        self.active = active ^ left  # active and not left

        # A clicked item enters the history window on the right. Row b of the new window is the
        # H − 1 items from slot c_b of the old one (a row copy out of the overlapping windows of the
        # flat history), then the clicked item or the old last one. New tensors each step: an
        # observation handed out earlier keeps its values. A mask without padding stays so (the
        # usual case: logged histories at least H long), and is then handed out again unchanged.
        window = self.history_window
        start = torch.where(clicked, self._row_starts_next, self._row_starts)  # [B] row b's first kept slot
        history = torch.empty_like(self._history)  # [B, H]
        torch.index_select(self._history.view(-1).unfold(0, window - 1, 1), 0, start, out=history[:, :-1])
        torch.where(clicked, item, self._history[:, -1], out=history[:, -1])
        if self._mask is not self._full_mask:
            mask = torch.empty_like(self._mask)  # [B, H]
            torch.index_select(self._mask.view(-1).unfold(0, window - 1, 1), 0, start, out=mask[:, :-1])
            torch.logical_or(clicked, self._mask[:, -1], out=mask[:, -1])
            self._mask = mask
            self._note_full_mask()
        self._history = history
        self._t += 1
        done = ~self.active | (self._t - self._started >= self.horizon)  # left, or at its horizon
        rewards = self.reward({"click": c, "cart": carted, "purchase": purchased})
        info = {"clicked_position": clicked_position, "active": active, "left": left}
        return self._observation(), rewards, done, info

    def _set_state(self, state: torch.Tensor, rows: tuple[torch.Tensor, ...] | None = None) -> None:
        """θ, β [2, T, B] (and its rows, if already at hand) -> ``interests``, ``boredom`` [B, T]
        (views, topic-major)."""
        rows = state.unbind() if rows is None else rows
        self.interests, self.boredom = rows[0].T, rows[1].T
        self._state = (state, rows, self.interests, self.boredom)

    def _get_state(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """θ, β [2, T, B] and its rows: the tensor ``interests`` and ``boredom`` view, or (after one
        was assigned, e.g. restored from a checkpoint) their stack."""
        if self._state is not None:
            state, rows, interests, boredom = self._state
            if self.interests is interests and self.boredom is boredom:
                return state, rows
        state = torch.stack((self.interests.T, self.boredom.T))
        return state, state.unbind()

    def _note_full_mask(self) -> None:
        """Remember ``_mask`` as ``_full_mask`` if no slot is padding (step() then keeps it)."""
        self._full_mask = self._mask if self._mask.numel() and self._mask.view(torch.uint8).amin() else None

    def _observation(self) -> Observation:
        """The env's own history tensors, not copies: step() replaces them rather than writing into
        them, so an observation keeps its values (callers must not modify it in place)."""
        return {"user": self._users, "history": self._history, "history_mask": self._mask}

    # ---------------------------------------------------------------------------- the true model
    def utility(self, items: torch.Tensor) -> torch.Tensor:
        """Click utility u_bk of items [B, K] (in slate order) for the current users -> [B, K]."""
        topics = self.world.item_topics[items]  # [B, K, T]
        affinity = torch.einsum("bt,bkt->bk", self.interests.contiguous(), topics)
        bored = torch.einsum("bt,bkt->bk", self.boredom.contiguous(), topics)
        position = torch.arange(items.shape[1], dtype=torch.float32)
        return (
            self.affinity_weight * affinity
            + self.quality_weight * self.world.item_quality[items]
            - self.boredom_weight * bored
            - self.position_decay * position
        )

    def catalog_utility(self) -> torch.Tensor:
        """Click utility of every item at the first slate position for the current users [B, n_items]."""
        affinity = self.interests.contiguous() @ self.world.item_topics.T  # [B, n_items]
        bored = self.boredom.contiguous() @ self.world.item_topics.T
        return (
            self.affinity_weight * affinity
            + self.quality_weight * self.world.item_quality
            - self.boredom_weight * bored
        )

    def longterm_scores(self) -> torch.Tensor:
        """oracle_longterm's item scores [B, n_items]: click utility + log E[reward | click] + the
        satisfaction the item would add (its experience value q_i − w_β β·x_i), weighted by
        LOOKAHEAD_WEIGHT because satisfaction persists and keeps the user in the session."""
        world = self.world
        affinity = self.interests.contiguous() @ world.item_topics.T  # [B, n_items]
        bored = self.boredom.contiguous() @ world.item_topics.T
        p_cart = torch.sigmoid(
            self.cart_bias + self.cart_quality * world.item_quality + self.cart_affinity * affinity
        )
        p_purchase = torch.sigmoid(self.purchase_bias + self.purchase_quality * world.item_quality)
        weights = self.reward.weights
        value = (
            weights.get("click", 0.0)
            + p_cart * (weights.get("cart", 0.0) + p_purchase * weights.get("purchase", 0.0))
        ).clamp(min=1e-6)
        experience = world.item_quality - self.boredom_weight * bored
        return self.catalog_utility() + value.log() + LOOKAHEAD_WEIGHT * experience

    def reference_policies(self) -> dict[str, Policy]:
        """``oracle``: greedy top-K on the true click utility (myopic). ``oracle_longterm``: greedy on
        ``longterm_scores`` with topics spread over the slate (each pick lowers the score of items
        sharing its topics by SLATE_SPREAD_PENALTY · x_i·x_j). Both read this env's live state."""

        def oracle(obs: Observation) -> torch.Tensor:
            return self.catalog_utility().topk(self.slate_size, dim=1).indices

        def oracle_longterm(obs: Observation) -> torch.Tensor:
            scores = self.longterm_scores()  # [B, n_items]
            topics = self.world.item_topics
            picks = []
            for _ in range(self.slate_size):
                pick = scores.argmax(1)  # [B]
                picks.append(pick)
                scores = scores - SLATE_SPREAD_PENALTY * topics[pick] @ topics.T
                scores = scores.scatter(1, pick[:, None], float("-inf"))
            return torch.stack(picks, 1)

        return {"oracle": oracle, "oracle_longterm": oracle_longterm}


def _last_items(dataset: RecDataset, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each user's last ``window`` logged items, right-aligned: ids [U, window], mask [U, window]."""
    slots = (
        dataset.interactions.sort(["user_id", "timestamp"], maintain_order=True)
        .with_columns(slot=window - 1 - pl.int_range(pl.len()).reverse().over("user_id"))
        .filter(pl.col("slot") >= 0)
    )
    users = torch.from_numpy(slots["user_id"].cast(pl.Int64).to_numpy().copy())
    slot = torch.from_numpy(slots["slot"].cast(pl.Int64).to_numpy().copy())
    history = torch.zeros(dataset.n_users, window, dtype=torch.long)
    mask = torch.zeros(dataset.n_users, window, dtype=torch.bool)
    history[users, slot] = torch.from_numpy(slots["item_id"].cast(pl.Int64).to_numpy().copy())
    mask[users, slot] = True
    return history, mask


def _sparse_topics(item_topics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each item's nonzero topics in topic order, padded with weight 0 to the largest count Z:
    ids [Z, n_items] and weights [Z, n_items]. A dot product θ·x_i then sums Z terms instead of T,
    in the same order, skipping only exact zeros (the synthetic world's items have Z = 2 of T)."""
    nonzero = item_topics != 0  # [n_items, T]
    count = max(int(nonzero.sum(1).max()), 1)
    order = torch.sort((~nonzero).to(torch.uint8), dim=1, stable=True).indices[:, :count]  # [n_items, Z]
    return order.T.contiguous(), item_topics.gather(1, order).T.contiguous()

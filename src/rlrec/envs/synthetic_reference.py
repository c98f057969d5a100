"""The synthetic simulator written one user and one step at a time, the way pseudocode reads.

Same equations as rlrec.envs.synthetic.SyntheticRecEnv (its docstring has them) in plain Python
and numpy. It replays the vectorised environment's random draws (``draws``: the four uniforms the
batched env drew for this user at this step), so the two can be compared trajectory by trajectory;
bench/bench_env_step.py uses it as the per-user baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class UserState:
    interests: np.ndarray  # θ [T]
    boredom: np.ndarray  # β [T]
    satisfaction: float
    active: bool
    t: int


@dataclass
class StepOutcome:
    clicked_position: int  # -1 none
    click: bool
    cart: bool
    purchase: bool
    left: bool
    done: bool


class PerUserSimulator:
    """``reset(user) -> UserState``; ``step(state, slate, draws) -> StepOutcome`` (updates state)."""

    def __init__(self, env) -> None:
        self.env = env  # the parameters are read from the vectorised env, so both share one config
        self.user_interests = env.world.user_interests.double().numpy()  # [U, T]
        self.item_topics = env.world.item_topics.double().numpy()  # [I, T]
        self.item_quality = env.world.item_quality.double().numpy()  # [I]

    def reset(self, user: int) -> UserState:
        interests = self.user_interests[user].copy()
        return UserState(interests, np.zeros_like(interests), 0.0, True, 0)

    def step(self, state: UserState, slate: list[int], draws: list[float]) -> StepOutcome:
        env = self.env
        state.t += 1
        if not state.active:
            return StepOutcome(-1, False, False, False, False, True)
        # 1. multinomial logit over the slate and a no-click option
        utilities = [env.no_click_utility]
        for position, item in enumerate(slate):
            x = self.item_topics[item]
            utilities.append(
                env.affinity_weight * float(state.interests @ x)
                + env.quality_weight * self.item_quality[item]
                - env.boredom_weight * float(state.boredom @ x)
                - env.position_decay * position
            )
        top = max(utilities)
        weights = [math.exp(u - top) for u in utilities]
        total, cumulative, choice = sum(weights), 0.0, 0
        for weight in weights:
            cumulative += weight / total
            if cumulative < draws[0]:
                choice += 1
        choice = min(choice, len(slate))
        # 2. funnel, 3. drift, boredom, satisfaction
        click = cart = purchase = False
        if choice > 0:
            click = True
            item = slate[choice - 1]
            x, q = self.item_topics[item], self.item_quality[item]
            affinity, bored = float(state.interests @ x), float(state.boredom @ x)
            cart = draws[1] < sigmoid(env.cart_bias + env.cart_quality * q + env.cart_affinity * affinity)
            purchase = cart and draws[2] < sigmoid(env.purchase_bias + env.purchase_quality * q)
            state.interests = (1 - env.drift_rate) * state.interests + env.drift_rate * x
            experience = q - env.boredom_weight * bored
            state.boredom = env.boredom_decay * state.boredom + x
        else:
            experience = -env.no_click_penalty
            state.boredom = env.boredom_decay * state.boredom
        rho = env.satisfaction_decay
        state.satisfaction = rho * state.satisfaction + (1 - rho) * experience
        # 4. leaving
        left = draws[3] < sigmoid(env.leave_bias - env.leave_sensitivity * state.satisfaction)
        state.active = not left
        done = left or state.t >= env.horizon
        return StepOutcome(choice - 1, click, cart, purchase, left, done)

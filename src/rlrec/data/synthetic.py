"""A generated recommendation world whose items carry real natural-language descriptions.

Users have latent interests over topics (Dirichlet); each item has a main and a side topic, a
quality, and a description written from its topics' vocabulary, so a text encoder has something
real to read. Every user starts with a logged history of clicks made by rolling the simulator's own
choice model and dynamics (``UserModel``; rlrec.envs.synthetic has the equations) under a
logging recommender, so the next logged item depends on the recent ones as in a real log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import polars as pl
import torch

from rlrec.data.schema import EVENT_DTYPE, INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.data.stats import dataset_stats
from rlrec.runtime.threads import torch_threads

# topic name -> (category label, words a description of such an item uses)
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "jazz": ("music", ("jazz standards", "saxophone solos", "late-night clubs", "bebop", "improvisation")),
    "space": ("science", ("rocket launches", "distant galaxies", "astronauts", "the moon", "black holes")),
    "cooking": ("food", ("home cooking", "fresh pasta", "spice blends", "weeknight dinners", "baking bread")),
    "football": ("sport", ("football tactics", "the world cup", "legendary strikers", "derby matches")),
    "history": ("history", ("ancient rome", "medieval castles", "forgotten empires", "the silk road")),
    "ai": ("technology", ("machine learning", "neural networks", "robots", "language models")),
    "gardening": ("home", ("vegetable gardens", "roses", "composting", "indoor plants", "orchards")),
    "crime": ("fiction", ("detectives", "a murder mystery", "heists", "courtroom drama", "cold cases")),
    "travel": ("travel", ("backpacking in asia", "night trains", "island hopping", "street markets")),
    "finance": ("business", ("personal finance", "index funds", "startups", "saving for retirement")),
    "classical": ("music", ("symphonies", "string quartets", "piano sonatas", "the opera")),
    "hiking": ("outdoors", ("mountain trails", "alpine huts", "long-distance walks", "wild camping")),
    "fashion": ("lifestyle", ("streetwear", "vintage clothing", "runway shows", "tailoring")),
    "gaming": ("games", ("video games", "speedruns", "retro consoles", "open-world adventures")),
    "wildlife": ("nature", ("wolves", "coral reefs", "bird migration", "the savanna", "whales")),
    "romance": ("fiction", ("a summer romance", "second chances", "a wedding", "love letters")),
}
FORMATS = ("documentary", "novel", "podcast", "film", "online course", "album", "magazine", "series")
TONES = ("gripping", "gentle", "witty", "thoughtful", "upbeat", "dark", "beginner-friendly", "in-depth")
TITLE_WORDS = ("Midnight", "Hidden", "Golden", "Silent", "Wild", "Last", "Little", "Great", "Secret", "Blue")


@dataclass(frozen=True)
class UserModel:
    """The synthetic users' choice model and dynamics (equations in rlrec.envs.synthetic), written out
    once: the simulator's config (``env=synthetic``, rlrec.envs.config) takes its defaults from here,
    and the logged histories are made with the simulator's values (``dataset.user_model`` reads
    ``env.<name>`` when the env has it, these defaults otherwise)."""

    affinity_weight: float = 5.0  # w_a: click utility of user-topic affinity θ·x
    quality_weight: float = 0.2  # w_q: click utility of item quality
    boredom_weight: float = 1.5  # w_β: utility lost per unit of boredom β·x
    position_decay: float = 0.1  # d: click utility lost per slate position
    no_click_utility: float = 3.0  # u_0: utility of leaving the slate unclicked
    drift_rate: float = 0.05  # η: interests move this far towards each clicked item's topics
    boredom_decay: float = 0.9  # λ: boredom kept per step (a click adds the item's topics)


USER_MODEL = UserModel()
# The logging recommender shows LOG_SLATE_SIZE items per step.
LOG_SLATE_SIZE = 5
LOG_MAX_STEPS_PER_CLICK = 100  # a user who needs more slates than this per logged click is an error


@dataclass
class SyntheticWorld:
    """The ground truth a simulator reads; an agent never sees it."""

    user_interests: torch.Tensor  # [n_users, n_topics], rows sum to 1
    item_topics: torch.Tensor  # [n_items, n_topics], 0.7 main topic + 0.3 side topic
    item_quality: torch.Tensor  # [n_items], standard normal
    topic_names: tuple[str, ...]

    def affinity(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Interest of each user in each of their items: users [B], items [B, K] -> [B, K]."""
        interests = self.user_interests[users]  # [B, T]
        return torch.einsum("bt,bkt->bk", interests, self.item_topics[items])


def generate_synthetic(
    name: str = "synthetic",
    n_users: int = 1000,
    n_items: int = 500,
    n_topics: int = 12,
    interest_concentration: float = 0.3,
    history_length: int = 20,
    eval_fraction: float = 0.1,
    logging_temperature: float = 0.5,
    user_model: Mapping[str, float] | None = None,
    seed: int = 0,
) -> RecDataset:
    """Generate the world, the item texts and each user's logged history, reproducibly from ``seed``.

    The log is a rollout of the simulator's user model (``user_model``: UserModel's fields, by default
    the simulator's own values, ``dataset.user_model``) under a logging recommender. At every step each user b, with interests θ_b (the world's, then
    drifting) and boredom β_b (0 at the start), is shown a slate of LOG_SLATE_SIZE distinct items drawn
    without replacement from softmax(u_b / ``logging_temperature``) over the catalogue, where

        u_bi = w_a θ_b·x_i + w_q q_i − w_β β_b·x_i                    (the simulator's click utility)

    and clicks slate position k with the multinomial-logit probability over the slate's
    u_bk − d (k − 1) and the no-click utility u_0. Then, as in the simulator,

        θ_b ← (1 − η c_b) θ_b + η c_b x_i,     β_b ← λ β_b + c_b x_i      (c_b = 1 if b clicked item i)

    Only clicks are logged (timestamp = 60 × the step), until every user has ``history_length``. The
    next logged item therefore depends on the recent ones: boredom pushes users away from the topics
    they just consumed and drift pulls their interests towards them, so the order of a history carries
    signal beyond the user's static interests (what a sequential state encoder can learn). A lower
    ``logging_temperature`` makes the logging recommender greedier (a more concentrated log).

    Users are split at random: ``eval_fraction`` of them are held out and never trained on; the first
    half of those (at least one user left for test) log into the ``valid`` split, the rest into ``test``
    (``env=replay`` picks one with ``env.eval_split``); ``eval_users`` are all held-out users.
    """
    if not 2 <= n_topics <= len(TOPICS):
        raise ValueError(f"dataset.n_topics must be between 2 and {len(TOPICS)}, got {n_topics}")
    if n_items < n_topics:
        raise ValueError(f"dataset.n_items ({n_items}) must be at least dataset.n_topics ({n_topics})")
    if not 0.0 < eval_fraction < 1.0 or int(n_users * eval_fraction) < 1:
        raise ValueError(
            f"dataset.eval_fraction={eval_fraction} with n_users={n_users} must hold out at least one user"
        )
    if not logging_temperature > 0.0:
        raise ValueError(f"dataset.logging_temperature must be positive, got {logging_temperature}")
    model = _user_model(user_model)
    rng = np.random.default_rng(seed)
    topic_names = tuple(TOPICS)[:n_topics]

    # Items: every topic gets items (round-robin main topic), a different side topic, a quality.
    main_topic = rng.permutation(np.arange(n_items) % n_topics)
    side_topic = (main_topic + rng.integers(1, n_topics, size=n_items)) % n_topics
    item_topics = np.zeros((n_items, n_topics), dtype=np.float32)
    item_topics[np.arange(n_items), main_topic] += 0.7
    item_topics[np.arange(n_items), side_topic] += 0.3
    item_quality = rng.standard_normal(n_items).astype(np.float32)
    items = pl.DataFrame(
        [
            _describe_item(i, topic_names[m], topic_names[s], item_quality[i], rng)
            for i, m, s in zip(range(n_items), main_topic, side_topic, strict=True)
        ],
        schema=["item_id", "title", "text", "category"],
        orient="row",
    ).cast(ITEMS_SCHEMA)

    # Users: focused interests; each user's logged clicks are a rollout of the simulator's dynamics.
    user_interests = rng.dirichlet(np.full(n_topics, interest_concentration), size=n_users).astype(np.float32)
    with torch_threads(1):  # [U, n_items] steps: one thread is fastest, and far faster on a busy machine
        clicked, step = _logged_clicks(
            user_interests, item_topics, item_quality, history_length, logging_temperature, model, rng
        )
    interactions = pl.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users), history_length),
            "item_id": clicked.reshape(-1),
            "timestamp": step.reshape(-1).astype(np.int64) * 60,
            "event": ["click"] * (n_users * history_length),
            "rating": None,
            "text": None,
        }
    ).cast({**INTERACTIONS_SCHEMA, "event": EVENT_DTYPE})

    # Held-out users' logged histories are their "valid" (first half) or "test" split: never trained on.
    users = rng.permutation(n_users)
    n_eval = int(n_users * eval_fraction)
    eval_users, train_users = np.sort(users[:n_eval]), np.sort(users[n_eval:])
    user_split = np.full(n_users, "train", dtype=object)
    user_split[users[: n_eval // 2]] = "valid"
    user_split[users[n_eval // 2 : n_eval]] = "test"
    interactions = interactions.with_columns(
        pl.Series("split", user_split[interactions["user_id"].to_numpy()].tolist()).cast(SPLIT_DTYPE)
    )
    config = dict(
        n_users=n_users,
        n_items=n_items,
        n_topics=n_topics,
        history_length=history_length,
        interest_concentration=interest_concentration,
        eval_fraction=eval_fraction,
        logging_temperature=logging_temperature,
        seed=seed,
    )
    if model != USER_MODEL:  # the default world keeps the key it always had
        config["user_model"] = asdict(model)
    cache_key = hashlib.sha256(json.dumps(["synthetic-v2", config], sort_keys=True).encode()).hexdigest()
    dataset = RecDataset(
        name=name,
        interactions=interactions,
        items=items,
        n_users=n_users,
        train_users=torch.from_numpy(train_users),
        eval_users=torch.from_numpy(eval_users),
        cache_key=cache_key[:16],
        world=SyntheticWorld(
            user_interests=torch.from_numpy(user_interests),
            item_topics=torch.from_numpy(item_topics),
            item_quality=torch.from_numpy(item_quality),
            topic_names=topic_names,
        ),
        stats=dataset_stats(name, interactions, n_users, n_items, steps=[]),
    )
    dataset.validate()
    return dataset


def _logged_clicks(
    interests: np.ndarray,
    item_topics: np.ndarray,
    item_quality: np.ndarray,
    history_length: int,
    temperature: float,
    model: UserModel,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Roll the simulator's user model under the softmax logging recommender (``generate_synthetic``)
    until every user clicked ``history_length`` times: clicked items [U, H] and the step of each [U, H]."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    n_users, n_items = len(interests), len(item_topics)
    topics = torch.from_numpy(item_topics)  # x [n_items, T]
    theta = torch.from_numpy(interests).clone()  # θ [U, T]
    boredom = torch.zeros_like(theta)  # β [U, T]
    clicked = torch.zeros(n_users, history_length, dtype=torch.long)
    step_of = torch.zeros(n_users, history_length, dtype=torch.long)
    count = torch.zeros(n_users, dtype=torch.long)  # clicks logged so far
    quality = model.quality_weight * torch.from_numpy(item_quality)  # w_q q [n_items]
    k = min(LOG_SLATE_SIZE, n_items)
    position_cost = model.position_decay * torch.arange(k, dtype=torch.float32)  # d (k − 1) [K]
    for step in range(LOG_MAX_STEPS_PER_CLICK * history_length):
        users = (count < history_length).nonzero().squeeze(1)  # [B] still logging
        if len(users) == 0:
            return clicked.numpy(), step_of.numpy()
        state = model.affinity_weight * theta[users] - model.boredom_weight * boredom[users]  # [B, T]
        utility = torch.addmm(quality, state, topics.T)  # u [B, n_items]
        # Gumbel top-k: k distinct items drawn without replacement from softmax(u / temperature)
        keys = utility / temperature + _gumbel(utility.shape, generator)
        slate = keys.topk(k, dim=1).indices  # [B, K] in order of their keys
        slate_utility = utility.gather(1, slate) - position_cost  # [B, K]
        # multinomial logit over (no click, slate positions) by the Gumbel-max trick
        options = torch.cat([torch.full((len(users), 1), model.no_click_utility), slate_utility], dim=1)
        choice = (options + _gumbel(options.shape, generator)).argmax(1)  # [B] 0 = no click
        click = choice > 0
        item = slate.gather(1, (choice - 1).clamp(min=0)[:, None]).squeeze(1)  # [B]
        x = topics[item] * click[:, None]  # c_b x_i [B, T]
        theta[users] += model.drift_rate * (x - click[:, None] * theta[users])
        boredom[users] = model.boredom_decay * boredom[users] + x
        who = users[click]
        clicked[who, count[who]] = item[click]
        step_of[who, count[who]] = step
        count[who] += 1
    raise ValueError(
        f"generating the synthetic log: {int((count < history_length).sum())} users clicked fewer than "
        f"dataset.history_length={history_length} times in {LOG_MAX_STEPS_PER_CLICK * history_length} slates"
    )


def _gumbel(shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise −log(−log U), U ~ Uniform(0, 1) kept away from 0 and 1."""
    uniform = torch.rand(shape, generator=generator).clamp_(1e-12, 1.0 - 1e-7)
    return -torch.log(-torch.log(uniform))


def _describe_item(
    item_id: int, main: str, side: str, quality: float, rng: np.random.Generator
) -> tuple[int, str, str, str]:
    """One catalogue row: a title and a sentence built from the item's two topics."""
    category, main_words = TOPICS[main]
    _, side_words = TOPICS[side]
    title = f"{rng.choice(TITLE_WORDS)} {rng.choice(main_words).split()[-1].title()} {item_id}"
    tone = "acclaimed" if quality > 1.0 else str(rng.choice(TONES))
    article = "An" if tone[0] in "aeiou" else "A"
    first, second = rng.choice(main_words, size=2, replace=False)
    text = (
        f"{title}. {article} {tone} {rng.choice(FORMATS)} about {first} and {second}, "
        f"with a touch of {rng.choice(side_words)}."
    )
    return item_id, title, text, category


def _user_model(given: Mapping[str, float] | None) -> UserModel:
    """UserModel from ``dataset.user_model`` (any subset of its fields); an unknown name is an error."""
    given = dict(given or {})
    known = {f.name for f in fields(UserModel)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"dataset.user_model: unknown {unknown}; the user model has {sorted(known)}")
    return UserModel(**{name: float(value) for name, value in given.items()})

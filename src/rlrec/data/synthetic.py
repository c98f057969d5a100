"""A generated recommendation world whose items carry real natural-language descriptions.

Users have latent interests over topics (Dirichlet); each item has a main and a side topic, a
quality, and a description written from its topics' vocabulary, so a text encoder has something
real to read. Every user starts with a logged history of clicks drawn from their interests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch

from rlrec.data.schema import EVENT_DTYPE, INTERACTIONS_SCHEMA, ITEMS_SCHEMA, SPLIT_DTYPE, RecDataset
from rlrec.data.stats import dataset_stats

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
    seed: int = 0,
) -> RecDataset:
    """Generate the world, the item texts and each user's logged history, reproducibly from ``seed``."""
    if not 2 <= n_topics <= len(TOPICS):
        raise ValueError(f"dataset.n_topics must be between 2 and {len(TOPICS)}, got {n_topics}")
    if n_items < n_topics:
        raise ValueError(f"dataset.n_items ({n_items}) must be at least dataset.n_topics ({n_topics})")
    if not 0.0 < eval_fraction < 1.0 or int(n_users * eval_fraction) < 1:
        raise ValueError(
            f"dataset.eval_fraction={eval_fraction} with n_users={n_users} must hold out at least one user"
        )
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

    # Users: focused interests; each logged click is drawn from softmax(5 * affinity + quality).
    user_interests = rng.dirichlet(np.full(n_topics, interest_concentration), size=n_users).astype(np.float32)
    logits = 5.0 * user_interests @ item_topics.T + item_quality  # [n_users, n_items]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    clicked = np.stack([rng.choice(n_items, size=history_length, p=p) for p in probs])  # [U, H]
    interactions = pl.DataFrame(
        {
            "user_id": np.repeat(np.arange(n_users), history_length),
            "item_id": clicked.reshape(-1),
            "timestamp": np.tile(np.arange(history_length, dtype=np.int64), n_users) * 60,
            "event": ["click"] * (n_users * history_length),
            "rating": None,
            "text": None,
        }
    ).cast({**INTERACTIONS_SCHEMA, "event": EVENT_DTYPE})

    # Held-out users' logged histories are their "test" split: they are never trained on.
    users = rng.permutation(n_users)
    n_eval = int(n_users * eval_fraction)
    eval_users, train_users = np.sort(users[:n_eval]), np.sort(users[n_eval:])
    is_eval = np.zeros(n_users, dtype=bool)
    is_eval[eval_users] = True
    interactions = interactions.with_columns(
        pl.Series("split", np.where(is_eval[interactions["user_id"].to_numpy()], "test", "train")).cast(
            SPLIT_DTYPE
        )
    )
    config = dict(
        n_users=n_users,
        n_items=n_items,
        n_topics=n_topics,
        history_length=history_length,
        interest_concentration=interest_concentration,
        eval_fraction=eval_fraction,
        seed=seed,
    )
    cache_key = hashlib.sha256(json.dumps(["synthetic-v1", config], sort_keys=True).encode()).hexdigest()
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

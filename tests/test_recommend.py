"""``rlrec recommend ckpt=PATH users=[...]``: a replay run's top-K per user, by the dataset's own ids."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from rlrec.recommend import RawIds, parse_users
from tests.conftest import run_rlrec

# A MovieLens-latest log whose raw ids are not the dense ones: users 1001..1030 each rate 8 of the
# movies 101..140, one a second apart. Titles do not contain the movieId, so a title in the output
# is the title, not an id that happens to read like one.
USERS = range(1001, 1031)
MOVIES = range(101, 141)
TITLES = {movie: f"Film number {movie - 100} ({1900 + movie})" for movie in MOVIES}
K = 5


def rating_log() -> dict[int, list[tuple[int, float]]]:
    """user -> [(movie, rating)] in time order."""
    rng = random.Random(0)
    return {
        user: [(movie, rng.choice([1.0, 2.5, 3.0, 4.0, 5.0])) for movie in rng.sample(MOVIES, 8)]
        for user in USERS
    }


def write_log(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rows = [
        f"{user},{movie},{rating},{user * 100 + t}"
        for user, rated in rating_log().items()
        for t, (movie, rating) in enumerate(rated)
    ]
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n" + "".join(f"{movie},{title},Drama\n" for movie, title in TITLES.items())
    )
    return folder


TRAIN_SMALL = [
    "trainer.max_steps=20",
    "trainer.eval_every=20",
    "trainer.enable_progress_bar=false",
    "logger=csv",
    "encoder=id",
    "algorithm=supervised",
    "algorithm.batch_size=16",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> SimpleNamespace:
    """A tiny replay run on the MovieLens-style log and a tiny simulator run, with their own cache."""
    root = tmp_path_factory.mktemp("recommend")
    cache = {"RLREC_CACHE": str(root / "cache")}
    data = write_log(root / "ml")
    replay = run_rlrec(
        "train", *TRAIN_SMALL, "dataset=movielens", f"dataset.path={data}",
        "dataset.preprocess.min_user_interactions=1", "dataset.preprocess.min_item_interactions=1",
        "env=replay", f"env.slate_size={K}", "env.num_envs=8", "env.horizon=4",
        f"hydra.run.dir={root / 'replay'}", cwd=root, env=cache,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-3000:]
    synthetic = run_rlrec(
        "train", "dataset.n_users=50", "dataset.n_items=30", "env.num_envs=8", "env.eval_episodes_users=8",
        "env.horizon=3", *TRAIN_SMALL, f"hydra.run.dir={root / 'synthetic'}", cwd=root, env=cache,
    )  # fmt: skip
    assert synthetic.returncode == 0, synthetic.stderr[-3000:]
    return SimpleNamespace(
        root=root,
        cache=cache,
        replay=root / "replay" / "checkpoints" / "last.ckpt",
        synthetic=root / "synthetic" / "checkpoints" / "last.ckpt",
    )


def recommend(runs, *args: str):
    """The command as a user runs it: a subprocess of the installed script."""
    return run_rlrec("recommend", *args, cwd=runs.root, env=runs.cache)


@pytest.fixture
def recommend_here(runs, monkeypatch, capsys):
    """The same command in this process (``rlrec.cli.main``): no interpreter start, the same exit codes."""
    from rlrec.cli import main

    monkeypatch.setenv("RLREC_CACHE", runs.cache["RLREC_CACHE"])
    monkeypatch.chdir(runs.root)

    def run(*args: str) -> SimpleNamespace:
        capsys.readouterr()
        returncode = main(["recommend", *args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=returncode, stdout=out, stderr=err)

    return run


def test_json_gives_k_unseen_items_per_user_by_raw_id_and_the_last_five_of_their_history(
    runs, recommend_here
):
    result = recommend_here(f"ckpt={runs.replay}", f"users=[{','.join(map(str, USERS))}]", "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    output = json.loads(result.stdout)
    assert output["ids"] == "raw" and output["k"] == K and output["history_masked"] is True
    assert [user["user"] for user in output["users"]] == [str(user) for user in USERS]
    log = rating_log()
    for user in output["users"]:
        rated = log[int(user["user"])]
        assert user["interactions"] == 8
        # the last five, most recent last, with their ratings and titles
        assert [(int(h["item"]), h["rating"], h["title"]) for h in user["history"]] == [
            (movie, rating, TITLES[movie]) for movie, rating in rated[-5:]
        ]
        slate = [int(entry["item"]) for entry in user["recommended"]]
        assert [entry["rank"] for entry in user["recommended"]] == list(range(1, K + 1))
        assert len(set(slate)) == K and set(slate) <= set(MOVIES)
        # masking: nothing the user rated, in any split (train, valid or test), however long ago
        assert not set(slate) & {movie for movie, _ in rated}, user["user"]
        assert [entry["title"] for entry in user["recommended"]] == [TITLES[movie] for movie in slate]


def test_text_shows_the_titles_of_the_history_and_of_the_slate(runs, recommend_here):
    as_json = recommend_here(f"ckpt={runs.replay}", "users=1001,1002", "--format=json", "env.slate_size=7")
    text = recommend(runs, f"ckpt={runs.replay}", "users=[1001, 1002]", "env.slate_size=7")
    assert as_json.returncode == 0 and text.returncode == 0, text.stderr[-3000:]
    users = json.loads(as_json.stdout)["users"]
    assert [len(user["recommended"]) for user in users] == [7, 7]  # env.slate_size overrides the run's K
    lines = text.stdout.splitlines()
    for user in users:
        header = next(n for n, line in enumerate(lines) if line.startswith(f"user {user['user']}:"))
        block = "\n".join(lines[header : header + 1 + 5 + 1 + 7])  # header, history, "recommended:", slate
        for entry in user["history"]:
            assert f"{entry['title']}  [rate {entry['rating']:g}]" in block
        for entry in user["recommended"]:
            assert f"{entry['rank']:>3}. {entry['title']}" in block
        assert block.index(user["history"][-1]["title"]) < block.index("recommended:")


def one_line_error(result) -> str:
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_unknown_users_are_named(runs):  # in a subprocess: exit status and all of stderr
    stderr = one_line_error(recommend(runs, f"ckpt={runs.replay}", "users=[1001,0,9999]"))
    assert "users not in dataset 'movielens': 0, 9999 (users= takes the dataset's original user ids" in stderr
    assert "1001" not in stderr  # a dense id (0) is not a user: the ids are MovieLens userIds


def test_a_simulator_checkpoint_is_refused_naming_its_env(runs, recommend_here):
    stderr = one_line_error(recommend_here(f"ckpt={runs.synthetic}", "users=[1]"))
    assert f"ckpt={runs.synthetic}: its run trained with env=synthetic" in stderr
    assert "needs a run with env=replay" in stderr
    # overriding the env does not make a simulator's agent a logged dataset's recommender
    stderr = one_line_error(recommend_here(f"ckpt={runs.synthetic}", "users=[1]", "env=replay"))
    assert "its run trained with env=synthetic" in stderr
    # nor may a replay run be rebuilt on a simulator
    stderr = one_line_error(recommend_here(f"ckpt={runs.replay}", "users=[1001]", "env=synthetic"))
    assert "this config builds env=synthetic" in stderr


def test_bad_arguments(runs, recommend_here):
    stderr = one_line_error(recommend_here("ckpt=nowhere.ckpt", "users=1"))
    assert "ckpt=nowhere.ckpt: no such checkpoint file" in stderr
    assert "give the users" in one_line_error(recommend_here(f"ckpt={runs.replay}"))
    assert "exactly one ckpt=PATH" in one_line_error(recommend_here("users=1"))
    assert "--format must be one of text, json" in one_line_error(
        recommend_here(f"ckpt={runs.replay}", "users=1", "--format", "yaml")
    )


def test_users_lists():
    assert parse_users("[1,2,3]") == parse_users("1,2,3") == parse_users("[1, '2', \"3\"]") == ["1", "2", "3"]
    assert parse_users("[7,7,5]") == ["7", "5"] and parse_users("[]") == []


def test_a_dataset_without_raw_ids_takes_dense_ones():
    ids = RawIds.of(SimpleNamespace(cache_entry=None, n_users=3, n_items=2))
    assert not ids.raw and ids.items == ["0", "1"]
    assert ids.dense_users(["2", "0"], "synthetic").tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"'synthetic': 3, x \(users= takes dense ids 0..2"):
        ids.dense_users(["3", "x"], "synthetic")

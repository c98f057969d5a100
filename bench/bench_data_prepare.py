"""Data preparation at scale: a generated RetailRocket-format log, ingest + 5-core + leave-one-out.

rlrec's polars pipeline (``prepare_dataset``: read, map events, drop invalid rows, de-duplicate,
iterative 5-core, dense ids, time order, leave-one-out, item table, stats, parquet cache write)
against a pandas implementation of the same steps (without the item table, stats and cache write).
Each runs in its own child process so its peak memory (ru_maxrss) is its own. Prints wall time, peak
memory and the pandas/polars ratio, and checks both kept the same rows and split.

    python bench/bench_data_prepare.py [--rows 5000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

EVENT_NAMES = np.array(["view", "addtocart", "transaction"])


def generate(folder: Path, rows: int, seed: int = 0) -> Path:
    """events.csv: Zipf-like visitors and items, 90/7/3 % view/addtocart/transaction, ms times, a
    few duplicated and invalid rows, as RetailRocket writes them."""
    import polars as pl

    rng = np.random.default_rng(seed)
    n_visitors, n_items = rows // 10, rows // 40
    visitor = (rng.pareto(1.2, rows) * n_visitors / 20).astype(np.int64) % n_visitors
    item = (rng.pareto(1.0, rows) * n_items / 30).astype(np.int64) % n_items
    event = EVENT_NAMES[rng.choice(3, size=rows, p=[0.90, 0.07, 0.03])]
    timestamp = 1_430_000_000_000 + rng.integers(0, 140 * 86_400_000, size=rows)
    transaction = np.where(event == "transaction", rng.integers(0, 20_000, size=rows).astype(str), "")
    frame = pl.DataFrame(
        {
            "timestamp": timestamp,
            "visitorid": visitor,
            "event": event,
            "itemid": item,
            "transactionid": transaction,
        }
    )
    duplicates = frame.sample(rows // 200, seed=seed)  # 0.5 % exact duplicates
    frame = pl.concat([frame, duplicates]).sample(fraction=1.0, shuffle=True, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_csv(folder / "events.csv")
    return folder / "events.csv"


def run_polars(folder: Path) -> dict:
    from rlrec.data.prepare import prepare_dataset

    with tempfile.TemporaryDirectory() as cache:
        dataset = prepare_dataset(
            name="retailrocket",
            format="retailrocket",
            path=str(folder),
            event_map={"view": "view", "addtocart": "cart", "transaction": "purchase"},
            preprocess=dict(
                dedupe="exact",
                rating_threshold=None,
                session_gap=None,
                min_user_interactions=5,
                min_item_interactions=5,
                min_history=1,
                max_history=None,
            ),
            split=dict(method="leave_one_out", valid_fraction=0.1, test_fraction=0.1, seed=0),
            cache_dir=cache,
            text_template="{title}",
        )
        counts = dataset.interactions.group_by("split").len()
        return {
            "rows": dataset.interactions.height,
            "users": dataset.n_users,
            "items": dataset.n_items,
            "splits": {str(k): int(v) for k, v in counts.iter_rows()},
        }


def run_pandas(folder: Path) -> dict:
    import pandas as pd

    events = pd.read_csv(folder / "events.csv")
    frame = pd.DataFrame(
        {
            "user_key": events["visitorid"],
            "item_key": events["itemid"],
            "timestamp": events["timestamp"] // 1000,
            "event": events["event"].map({"view": "view", "addtocart": "cart", "transaction": "purchase"}),
        }
    )
    frame["row"] = np.arange(len(frame))
    frame = frame.dropna(subset=["user_key", "item_key", "timestamp", "event"])
    frame = frame.drop_duplicates(["user_key", "item_key", "event", "timestamp"], keep="first")
    while True:  # iterative 5-core
        user_count = frame.groupby("user_key")["item_key"].transform("size")
        item_count = frame.groupby("item_key")["user_key"].transform("size")
        kept = frame[(user_count >= 5) & (item_count >= 5)]
        if len(kept) == len(frame):
            break
        frame = kept
    frame = frame.assign(
        user_id=frame["user_key"].rank(method="dense").astype("int64") - 1,
        item_id=frame["item_key"].rank(method="dense").astype("int64") - 1,
    ).sort_values(["user_id", "timestamp", "row"], kind="stable")
    from_end = frame.groupby("user_id").cumcount(ascending=False)
    length = frame.groupby("user_id")["item_id"].transform("size")
    split = np.where(
        (from_end == 0) & (length >= 2), "test", np.where((from_end == 1) & (length >= 3), "valid", "train")
    )
    frame["split"] = split
    counts = frame["split"].value_counts()
    return {
        "rows": len(frame),
        "users": int(frame["user_id"].max()) + 1,
        "items": int(frame["item_id"].max()) + 1,
        "splits": {str(k): int(v) for k, v in counts.items()},
    }


def child(implementation: str, folder: Path) -> None:
    import pandas  # noqa: F401 - imports are not part of the measured time

    import rlrec.data.prepare  # noqa: F401

    start = time.perf_counter()
    result = {"polars": run_polars, "pandas": run_pandas}[implementation](folder)
    result["seconds"] = time.perf_counter() - start
    result["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    print(json.dumps(result))


def measure(implementation: str, folder: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", implementation, "--folder", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated log (printed path)")
    parser.add_argument("--child", choices=["polars", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder)
        return

    folder = Path(tempfile.mkdtemp(prefix="rlrec-bench-retailrocket-"))
    start = time.perf_counter()
    events = generate(folder, args.rows)
    print(
        f"generated {events} ({events.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - start:.1f} s"
    )
    results = {name: measure(name, folder) for name in ("polars", "pandas")}
    for name, result in results.items():
        print(
            f"{name:>7}: {result['seconds']:6.2f} s  peak {result['peak_gib']:.2f} GiB  "
            f"{result['rows']:,} rows  {result['users']:,} users  {result['items']:,} items  splits {result['splits']}"
        )
    same = all(
        results["polars"][key] == results["pandas"][key] for key in ("rows", "users", "items", "splits")
    )
    print(f"same rows, ids and split in both: {same}")
    ratio = results["pandas"]["seconds"] / results["polars"]["seconds"]
    print(f"speed-up of rlrec (polars) over pandas: {ratio:.1f}x  (goals: < 15 s, < 3 GiB, >= 3x)")
    if not args.keep:
        import shutil

        shutil.rmtree(folder)
    if not same:
        sys.exit("the two implementations disagree")


if __name__ == "__main__":
    main()

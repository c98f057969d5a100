"""rlrec against RecBole on the same ml-latest-small split, each model under the same wall-clock budget.

    python bench/bench_vs_recbole.py [--budget-s 900] [--models bpr gru ...] [--quick] [--jobs 1]
                                     [--recbole-python /tmp/rbvenv/bin/python]

The split is rlrec's: ``dataset=movielens`` (every rating a positive, 5-core, leave-one-out by time).
Its exact interactions are written as RecBole atomic files (``ml-rlrec.inter``: user_id:token,
item_id:token, timestamp:float) with each interaction's position in its user's time order as the
timestamp, so RecBole's ``eval_args: {split: {LS: valid_and_test}, order: TO, mode: full, group_by:
user}`` holds out the same valid and test item per user; every RecBole run checks that it does (the
"split" line) against the items rlrec holds out. No RecBole filtering (no k-core, no interval).

Protocol: full ranking over the catalogue, every item the user interacted with before the test item
masked (train and valid: rlrec's ``env.mask_history``), HR@10 and NDCG@10 on the test item. RecBole's
own evaluator masks train and valid items for general models (BPR, Pop) but nothing for sequential
ones (GRU4Rec, SASRec, whose full sort has no history index), so the RecBole side of the table is
recomputed here from its best-valid checkpoint with the rlrec mask; RecBole's own test NDCG@10 is the
last column. Each side keeps its library's defaults except: RecBole's MAX_ITEM_LIST_LENGTH is 10,
the items rlrec's sequence encoders read (algorithm.history_length; RecBole's default 50 made one
SASRec epoch of 44 batches of 2048 take ~15 min on one thread of this 2-core machine, 20 still ~6),
``topk: 10``, ``valid_metric: NDCG@10``; rlrec runs ``experiment=paper_movielens encoder=id``.

Budget: every model gets ``--budget-s`` of wall time for its whole process (start-up, data, training,
evaluation) on one torch thread (OMP_NUM_THREADS=1 and torch.set_num_threads(1) on both sides).
RecBole trains up to its default 300 epochs with early stopping on valid NDCG@10 (stopping_step 10)
and a time guard: no new epoch when the mean epoch would not fit, an epoch cut mid-way at the
deadline, then the best-valid checkpoint is tested. rlrec's ``trainer.max_steps`` is the preset's
budget for the algorithm (``trainer.max_steps_by_algorithm``, else ``max_steps``) capped to fit the budget, from two short calibration runs (not counted in the wall time);
``trainer.eval_every`` is the last step, so it evaluates once, on the test users, at the end.

RecBole lives in its own venv (its pins clash with rlrec's: numpy<2, ray<=2.6.3, colorlog==4.7.2,
colorama==0.4.4), so each side runs in its own subprocess. The recipe that works (RecBole 1.2.1):

    python3 -m venv /tmp/rbvenv
    /tmp/rbvenv/bin/pip install torch==2.13.0              # the CPU wheel, before anything else
    echo torch==2.13.0 > /tmp/rb_constraints.txt
    /tmp/rbvenv/bin/pip install -c /tmp/rb_constraints.txt recbole==1.2.1 "numpy<2" "setuptools<81"

numpy<2: RecBole's Config sets np.float = np.float_, np.complex = np.complex_ (gone in numpy 2.0)
and its metrics use np.float, yet recbole does not declare the bound. setuptools<81: ray 2.6.3 (ray
<=2.6.3 is a hard RecBole requirement) imports pkg_resources, gone from setuptools 81. As resolved,
pandas 3.0.6, scipy 1.17.1, scikit-learn 1.9.1 work (pandas 3 warns that RecBole's in-place fillna of
float fields does nothing under copy-on-write; this log has no missing values). torch>=2.6 loads
checkpoints with weights_only=True, which RecBole's best-model reload cannot; the child process sets
TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (it loads only the checkpoints it wrote). No `recbole` extra in
pyproject.toml: it would pin the project's numpy below 2 and pull ray 2.6.3 and exact colorlog and
colorama pins into rlrec's environment, while `pip install recbole` beside numpy 2 breaks at import.

Measured tables, and why BPR differs by seed rather than by library: docs/results.md
("rlrec beside RecBole").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DATASET = "ml-rlrec"
PRESET = Path(__file__).resolve().parents[1] / "conf" / "experiment" / "paper_movielens.yaml"


def preset_max_steps(algorithm: str) -> int:
    """The preset's step budget for ``algorithm`` (trainer.max_steps_by_algorithm, else max_steps)."""
    from omegaconf import OmegaConf

    trainer = OmegaConf.load(PRESET).trainer
    return int(trainer.get("max_steps_by_algorithm", {}).get(algorithm, trainer.max_steps))


RECBOLE_MAX_LEN = 10  # rlrec's algorithm.history_length (conf/algorithm/supervised.yaml, sqn.yaml)
K = 10

# model key: (row label, rlrec overrides or None, whether rlrec trains, RecBole model or None)
MODELS = {
    "popularity": ("popularity", ["algorithm=popularity"], False, "Pop"),
    "bpr": ("BPR-MF", ["algorithm=bpr"], True, "BPR"),
    "gru": ("GRU (supervised | GRU4Rec)", ["algorithm=supervised", "state_encoder=gru"], True, "GRU4Rec"),
    "sasrec": (
        "SASRec (supervised | SASRec)",
        ["algorithm=supervised", "state_encoder=sasrec"],
        True,
        "SASRec",
    ),
    "sqn": ("SQN (GRU)", ["algorithm=sqn", "state_encoder=gru"], True, None),
    # closed-form baselines (no training steps): RecBole trains them in one epoch
    "ease": ("EASE", ["algorithm=ease"], False, "EASE"),
    "itemknn": ("ItemKNN", ["algorithm=itemknn"], False, "ItemKNN"),
}
DEFAULT_MODELS = [
    "popularity",
    "bpr",
    "gru",
    "sasrec",
    "sqn",
]  # the list; --models adds ease, itemknn
LEARNERS = ("bpr", "gru", "sasrec", "sqn")  # "best learner": popularity does not learn


def single_thread_env() -> dict[str, str]:
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1",
    }


# --- the split, written once by rlrec -------------------------------------------------------------
def export_split(work: Path, dataset_path: str) -> dict:
    """rlrec's prepared interactions as RecBole atomic files; returns the held-out items per user."""
    import hydra.utils
    import polars as pl

    from rlrec.runtime.compose import compose_or_exit

    cfg = compose_or_exit("bench", ["dataset=movielens", f"dataset.path={dataset_path}"])
    dataset = hydra.utils.instantiate(cfg.dataset)
    frame = dataset.interactions.with_columns(pl.int_range(pl.len()).over("user_id").alias("position"))
    folder = work / "data" / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    frame.select(
        pl.col("user_id").alias("user_id:token"),
        pl.col("item_id").alias("item_id:token"),
        pl.col("position").cast(pl.Float64).alias("timestamp:float"),
    ).write_csv(folder / f"{DATASET}.inter", separator="\t")
    held_out = {
        split: {
            str(u): str(i)
            for u, i in frame.filter(pl.col("split") == split).select("user_id", "item_id").rows()
        }
        for split in ("valid", "test")
    }
    sequences = frame.group_by("user_id", maintain_order=True).agg("item_id")
    held_out["items"] = {str(u): [str(i) for i in items] for u, items in sequences.rows()}  # every split
    (work / "held_out.json").write_text(json.dumps(held_out))
    return {
        "users": dataset.n_users,
        "items": dataset.n_items,
        "interactions": frame.height,
        "train": frame.filter(pl.col("split") == "train").height,
    }


# --- RecBole, run by the RecBole venv's python ------------------------------------------------------
def recbole_child(
    model_name: str, work: Path, budget_s: float, max_epochs: int, out: Path, extra: dict
) -> None:
    start = time.perf_counter()
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import torch

    torch.set_num_threads(1)
    import recbole.trainer.trainer as trainer_module
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_logger, init_seed

    sequential = model_name in ("GRU4Rec", "SASRec")
    config_dict = {
        "data_path": str(work / "data"),
        "checkpoint_dir": str(work / "recbole_saved"),
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)",
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
        "topk": [K],
        "metrics": ["NDCG", "Hit"],
        "valid_metric": f"NDCG@{K}",
        "epochs": 1 if model_name in ("Pop", "EASE", "ItemKNN") else max_epochs,
        "device": "cpu",
        "use_gpu": False,
        "show_progress": False,
        "seed": 0,
        "worker": 0,
    }
    if sequential:  # RecBole's sequential defaults train with cross-entropy, which takes no negatives
        config_dict |= {
            "train_neg_sample_args": None,
            "loss_type": "CE",
            "MAX_ITEM_LIST_LENGTH": RECBOLE_MAX_LEN,
        }
    config_dict |= extra  # --recbole-config
    config = Config(model=model_name, dataset=DATASET, config_dict=config_dict)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)

    # The time guard: the deadline leaves room for one more evaluation (the test) after training.
    epochs: list[float] = []  # wall seconds of each epoch, its validation included
    state = {"epoch_start": time.perf_counter(), "eval_s": 0.0}
    deadline = start + budget_s

    def train_deadline() -> float:
        return deadline - 2 * state["eval_s"] - 5

    original_stopping = trainer_module.early_stopping

    def early_stopping(*args, **kwargs):
        best, cur_step, stop, update = original_stopping(*args, **kwargs)
        now = time.perf_counter()
        epochs.append(now - state["epoch_start"])
        state["epoch_start"] = now
        if now + sum(epochs) / len(epochs) > train_deadline():
            stop = True
        return best, cur_step, stop, update

    trainer_module.early_stopping = early_stopping
    original_valid = trainer._valid_epoch

    def valid_epoch(*args, **kwargs):
        began = time.perf_counter()
        result = original_valid(*args, **kwargs)
        state["eval_s"] = time.perf_counter() - began
        return result

    trainer._valid_epoch = valid_epoch
    cut = {"batches_skipped": 0}

    class Guarded:  # the train loader, stopping an epoch at the deadline
        def __init__(self, loader):
            self._loader = loader

        def __getattr__(self, name):
            return getattr(self._loader, name)

        def __len__(self):
            return len(self._loader)

        def __iter__(self):
            for i, batch in enumerate(self._loader):
                if time.perf_counter() > train_deadline() and i > 0:
                    cut["batches_skipped"] += len(self._loader) - i
                    return
                yield batch

    held_out = json.loads((work / "held_out.json").read_text())
    trainer.fit(Guarded(train_data), valid_data, saved=True, show_progress=False)
    train_s = time.perf_counter() - start
    own = trainer.evaluate(test_data, load_best_model=True, show_progress=False)  # best-valid weights

    uid, iid = config["USER_ID_FIELD"], config["ITEM_ID_FIELD"]
    n_items = dataset.item_num
    # every item each user interacted with (all splits, from the exported log), for the rlrec mask
    user_items = {dataset.token2id(uid, u): torch.as_tensor(dataset.token2id(iid, items)).long()
                  for u, items in held_out["items"].items()}  # fmt: skip

    @torch.no_grad()
    def held_out_items(loader, masked: bool):
        """{user token: held-out item token} and the masked top-K metrics on the loader's items."""
        model.eval()
        trainer.tot_item_num = n_items
        found, hits, ndcgs = {}, [], []
        for batch in loader:
            interaction, scores, positive_u, positive_i = trainer._full_sort_batch_eval(batch)
            users = interaction[uid].long()
            for row, item in zip(positive_u.tolist(), positive_i.tolist(), strict=True):
                found[str(dataset.id2token(uid, int(users[row])))] = str(dataset.id2token(iid, item))
            if masked:
                mask = torch.zeros(n_items, dtype=torch.bool)
                scores = scores.clone()
                for row, item in zip(positive_u.tolist(), positive_i.tolist(), strict=True):
                    mask.zero_()
                    mask[user_items[int(users[row])]] = True
                    mask[item] = False  # every earlier item of the user, not the target
                    mask[0] = True  # RecBole's padding id
                    s = scores[row].masked_fill(mask, float("-inf"))
                    top = s.topk(K).indices
                    where = (top == item).nonzero()
                    hits.append(float(len(where) > 0))
                    ndcgs.append(1.0 / float(torch.log2(where[0, 0].float() + 2)) if len(where) else 0.0)
        metrics = {"hr@10": sum(hits) / len(hits), "ndcg@10": sum(ndcgs) / len(ndcgs)} if masked else {}
        return found, metrics

    valid_items, _ = held_out_items(valid_data, masked=False)
    test_items, masked = held_out_items(test_data, masked=True)
    same = {
        split: sum(found.get(u) == i for u, i in held_out[split].items())
        == len(held_out[split])
        == len(found)
        for split, found in (("valid", valid_items), ("test", test_items))
    }
    result = {
        "ndcg@10": masked["ndcg@10"],
        "hr@10": masked["hr@10"],
        "own_ndcg@10": float(own[f"ndcg@{K}"]),
        "own_hr@10": float(own[f"hit@{K}"]),
        "wall_s": time.perf_counter() - start,
        "train_s": train_s,
        "epochs": len(epochs),
        "batches_cut": cut["batches_skipped"],
        "best_valid_ndcg@10": float(trainer.best_valid_score),
        "same_split": same,
        "test_users": len(test_items),
        "train_rows": len(train_data._dataset.inter_feat),
    }
    out.write_text(json.dumps(result))


def run_recbole(
    python: str, model_name: str, work: Path, budget_s: float, max_epochs: int, extra: str
) -> dict:
    out = work / f"recbole-{model_name}.json"
    folder = work / f"recbole-{model_name}"
    folder.mkdir(exist_ok=True)  # RecBole writes log/ and log_tensorboard/ into its working directory
    command = [python, str(Path(__file__).resolve()), "--recbole-child", model_name, "--work-dir", str(work),
               "--budget-s", str(budget_s), "--recbole-epochs", str(max_epochs), "--recbole-config", extra]  # fmt: skip
    done = subprocess.run(command, cwd=folder, env=single_thread_env(), capture_output=True, text=True,
                          timeout=budget_s * 2 + 300)  # fmt: skip
    (folder / "output.txt").write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not out.exists():
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
    return json.loads(out.read_text())


# --- rlrec ------------------------------------------------------------------------------------------
def rlrec_executable() -> str:
    beside = Path(sys.executable).with_name("rlrec")
    return str(beside) if beside.exists() else (shutil.which("rlrec") or "rlrec")


def rlrec_train(overrides: list[str], run_dir: Path, steps: int, dataset_path: str, timeout: float):
    # trainer.max_steps on the command line wins over the preset's max_steps_by_algorithm
    command = [
        rlrec_executable(), "train", "experiment=paper_movielens", "hydra.mode=RUN", f"dataset.path={dataset_path}",
        "encoder=id", "seed=0", f"hydra.run.dir={run_dir}", f"trainer.max_steps={steps}",
        f"trainer.eval_every={steps}", *overrides,
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, env=single_thread_env(), capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "bench-output.txt").write_text(done.stdout + done.stderr)
    summary = run_dir / "summary.json"
    if done.returncode != 0 or not summary.exists():
        raise RuntimeError((done.stderr or done.stdout).strip().splitlines()[-1:])
    return json.loads(summary.read_text())["metrics"], wall


def run_rlrec(
    key: str, work: Path, budget_s: float, dataset_path: str, max_steps: int, calibrate: bool
) -> dict:
    _, overrides, trains, _ = MODELS[key]
    steps, calibration = (max_steps if trains else 1), None
    try:
        if trains and calibrate:  # wall = fixed + steps · per_step, from two short runs
            short, long = 10, 310  # a long enough difference: the fixed cost is ~45 s
            _, wall_short = rlrec_train(
                overrides, work / f"rlrec-{key}-cal{short}", short, dataset_path, budget_s
            )
            _, wall_long = rlrec_train(
                overrides, work / f"rlrec-{key}-cal{long}", long, dataset_path, budget_s
            )
            per_step = max((wall_long - wall_short) / (long - short), 1e-4)
            fixed = wall_short - short * per_step
            steps = max(10, min(max_steps, int((0.9 * budget_s - fixed) / per_step)))
            calibration = {"per_step_s": per_step, "fixed_s": fixed, "seconds": wall_short + wall_long}
        metrics, wall = rlrec_train(overrides, work / f"rlrec-{key}", steps, dataset_path, budget_s * 2 + 300)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        return {"error": str(error)}
    return {"ndcg@10": metrics["eval/ndcg@10"], "hr@10": metrics["eval/hr@10"], "wall_s": wall,
            "steps": steps, "calibration": calibration}  # fmt: skip


# --- the table ------------------------------------------------------------------------------------
def detail(side: str, key: str, r: dict) -> str:
    """How a run went: rlrec's steps and calibration, RecBole's epochs and the split check."""
    if "error" in r:
        return f"FAILED: {r['error']}"
    if side == "rlrec":
        if not MODELS[key][2]:
            return "does not train"
        cal = r["calibration"]
        fitted = f" (calibrated: {cal['per_step_s']:.3f} s/step, {cal['fixed_s']:.0f} s fixed)" if cal else ""
        return f"{r['steps']} steps{fitted}"
    same = r["same_split"]
    return (
        f"{r['epochs']} epochs, {r['batches_cut']} batches cut, best valid NDCG@10 "
        f"{r['best_valid_ndcg@10']:.4f}; held-out items same as rlrec's: valid {same['valid']}, "
        f"test {same['test']} ({r['test_users']} users, {r['train_rows']:,} train rows)"
    )


def cell(result: dict | None, budget: float) -> str:
    """NDCG@10, HR@10 and wall seconds; a * marks a wall time over the budget."""
    if result is None:
        return f"{'-':>8} {'-':>8} {'-':>7}"
    if "error" in result:
        return f"{'failed':>25}"
    over = "*" if result["wall_s"] > budget else " "
    return f"{result['ndcg@10']:8.4f} {result['hr@10']:8.4f} {result['wall_s']:6.0f}{over}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget-s", type=float, default=900.0, help="wall-clock budget of each model")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=DEFAULT_MODELS)
    parser.add_argument("--quick", action="store_true", help="smoke check: 60 s budgets, 50 steps, 2 epochs")
    parser.add_argument(
        "--recbole-python", default="/tmp/rbvenv/bin/python", help="python of the RecBole venv"
    )
    parser.add_argument(
        "--dataset-path",
        default=str(Path(__file__).resolve().parents[1].parent / "shared/data/ml-latest-small"),
    )
    parser.add_argument("--work-dir", type=Path, help="keep the atomic files and run folders here")
    parser.add_argument("--jobs", type=int, default=1, help="models run at once (1: one core stays free)")
    parser.add_argument("--recbole-child", help=argparse.SUPPRESS)
    parser.add_argument("--recbole-epochs", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument(
        "--recbole-config",
        default="{}",
        help="JSON merged into every RecBole config, e.g. '{\"stopping_step\": 50}'",
    )
    parser.add_argument(
        "--side", choices=["both", "rlrec", "recbole"], default="both", help="run one side only"
    )
    args = parser.parse_args()
    if args.recbole_child:
        out = args.work_dir / f"recbole-{args.recbole_child}.json"
        extra = json.loads(args.recbole_config)
        recbole_child(args.recbole_child, args.work_dir, args.budget_s, args.recbole_epochs, out, extra)
        return

    budget = 60.0 if args.quick else args.budget_s
    max_epochs = 2 if args.quick else 300
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="rlrec-bench-recbole-"))
    work.mkdir(parents=True, exist_ok=True)
    stats = export_split(work, args.dataset_path)
    print(f"ml-latest-small via rlrec: {stats['users']} users, {stats['items']:,} items, "
          f"{stats['interactions']:,} interactions ({stats['train']:,} train), atomic files in {work / 'data'}")  # fmt: skip
    have_recbole = Path(args.recbole_python).exists()
    if not have_recbole:
        print(f"no RecBole python at {args.recbole_python}: RecBole columns skipped (recipe in --help)")

    # RecBole first (independent of rlrec's working tree), then rlrec; --jobs runs several at once
    tasks = [("recbole", k) for k in args.models if MODELS[k][3] and have_recbole and args.side != "rlrec"]
    tasks += [("rlrec", k) for k in args.models if args.side != "recbole"]

    def run(task):
        side, key = task
        began = time.strftime("%H:%M:%S")
        if side == "recbole":
            result = run_recbole(
                args.recbole_python, MODELS[key][3], work, budget, max_epochs, args.recbole_config
            )
        else:
            algorithm = next(o.partition("=")[2] for o in MODELS[key][1] if o.startswith("algorithm="))
            max_steps = 50 if args.quick else preset_max_steps(algorithm)
            result = run_rlrec(key, work, budget, args.dataset_path, max_steps, calibrate=not args.quick)
        print(f"  [started {began}] {side:7} {key:10} {json.dumps(result)}", flush=True)
        return task, result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = dict(pool.map(run, tasks))

    print(f"\nTest users, full ranking over {stats['items']:,} items, earlier items masked; budget {budget:.0f} s "
          f"per model (* over it), 1 torch thread; ratio = rlrec / RecBole NDCG@10")  # fmt: skip
    header = f"{'model':30} | {'rlrec':>8} {'':8} {'':7} | {'RecBole':>8} {'':8} {'':7} | {'ratio':>6} | RecBole own"
    print(header)
    print(
        f"{'':30} | {'NDCG@10':>8} {'HR@10':>8} {'wall s':>7} | {'NDCG@10':>8} {'HR@10':>8} {'wall s':>7} | {'':>6} | NDCG@10"
    )
    print("-" * len(header))
    for key in args.models:
        label, _, _, recbole_model = MODELS[key]
        ours, theirs = results.get(("rlrec", key)), results.get(("recbole", key))
        ok = ours and theirs and "error" not in ours and "error" not in theirs and theirs["ndcg@10"] > 0
        ratio = f"{ours['ndcg@10'] / theirs['ndcg@10']:6.2f}" if ok else f"{'-':>6}"
        own = f"{theirs['own_ndcg@10']:.4f}" if theirs and "error" not in theirs else "-"
        print(f"{label:30} | {cell(ours, budget)} | {cell(theirs, budget)} | {ratio} | {own}")
    for key in args.models:
        for side in ("rlrec", "recbole"):
            if (side, key) in results:
                print(f"  {side:7} {key:10} {detail(side, key, results[(side, key)])}")

    def best(side: str):
        scored = [(results[(side, k)]["ndcg@10"], k) for k in LEARNERS
                  if (side, k) in results and "error" not in results[(side, k)]]  # fmt: skip
        return max(scored) if scored else None

    ours, theirs = best("rlrec"), best("recbole")
    if ours and theirs:
        print(f"rlrec best learner ({ours[1]}) / RecBole best ({theirs[1]}) NDCG@10: "
              f"{ours[0]:.4f} / {theirs[0]:.4f} = {ours[0] / theirs[0]:.2f}x  (goal >= 1.2)")  # fmt: skip
    bpr = results.get(("rlrec", "bpr")), results.get(("recbole", "bpr"))
    if all(r and "error" not in r for r in bpr):
        gap = bpr[0]["ndcg@10"] / bpr[1]["ndcg@10"] - 1
        print(f"BPR-MF rlrec vs RecBole NDCG@10: {gap:+.1%}  (goal: within 5%)")


if __name__ == "__main__":
    main()

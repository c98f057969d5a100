"""Config composition: every choice composes; typos and wrong types fail at composition."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from rlrec.config import config_dir, register_configs
from tests.conftest import compose_config

GROUPS = ("dataset", "encoder", "state_encoder", "env", "reward", "algorithm", "trainer", "logger")


def choices(group: str) -> list[str]:
    return sorted(path.stem for path in (config_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize(
    ("group", "choice"), [(group, choice) for group in GROUPS for choice in choices(group)]
)
def test_every_choice_composes(group, choice, tmp_path):
    cfg = compose_config(f"{group}={choice}", output_dir=tmp_path, tiny=False)
    node = cfg[group]
    if group == "logger":
        assert list(node) == [choice] and "_target_" in node[choice]
    else:
        assert node.name == choice, f"conf/{group}/{choice}.yaml must have name: {choice}"
        if group != "trainer":
            assert "_target_" in node
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves


def test_each_group_has_a_choice():
    for group in GROUPS:
        assert choices(group), f"conf/{group}/ holds no yaml"


def test_default_loggers_are_csv_and_offline_wandb(tmp_path):
    cfg = compose_config(output_dir=tmp_path, tiny=False)
    assert list(cfg.logger) == ["csv", "wandb"]
    assert cfg.logger.wandb.mode == "offline"
    assert cfg.logger.wandb.save_dir == str(tmp_path)


@pytest.mark.parametrize("override", ["algorithm.lrr=0.1", "trainer.max_step=10", "sed=1", "env.slate=3"])
def test_misspelt_key_fails_naming_it(override):
    key = override.split("=")[0].split(".")[-1]
    with pytest.raises(ConfigCompositionException) as failure:
        compose_config(override)
    message = str(failure.value) + str(failure.value.__cause__)
    assert f"Key '{key}' not in" in message


@pytest.mark.parametrize(
    "override", ["trainer.max_steps=many", "algorithm.gamma=high", "dataset.n_items=1.5", "seed=zero"]
)
def test_wrong_type_fails_naming_the_key(override):
    key = override.split("=")[0].split(".")[-1]
    with pytest.raises(ConfigCompositionException) as failure:
        compose_config(override)
    message = str(failure.value) + str(failure.value.__cause__)
    assert key in message and override.split("=")[1] in message


def test_seed_flows_into_the_dataset(tmp_path):
    cfg = compose_config("seed=7", output_dir=tmp_path)
    assert cfg.dataset.seed == 7
    assert compose_config("seed=null", output_dir=tmp_path).dataset.seed is None


def test_learning_rate_lives_in_one_place(tmp_path):
    with pytest.raises(ConfigCompositionException, match="optimizer.lr"):
        compose_config("algorithm.optimizer.lr=0.1", output_dir=tmp_path)


EXPERIMENTS = sorted(path.stem for path in (config_dir() / "experiment").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_preset_composes_and_sweeps_existing_choices(experiment, tmp_path):
    from hydra import compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[f"experiment={experiment}", f"paths.output_dir={tmp_path}", "dataset.path=data"]
            if "movielens" in experiment
            else [f"experiment={experiment}", f"paths.output_dir={tmp_path}"],
            return_hydra_config=True,
        )
    params = cfg.hydra.sweeper.params
    assert cfg.hydra.mode.name == "MULTIRUN" and "seed" in params
    for group, choices in params.items():
        if group in ("algorithm", "encoder", "env", "dataset"):
            for choice in str(choices).split(","):
                assert (config_dir() / group / f"{choice}.yaml").is_file(), f"{experiment}: {group}={choice}"


SCHEMA_GROUPS = ("dataset", "encoder", "state_encoder", "env", "reward", "algorithm")


def _schema_of(group: str, choice: str):
    """The structured config ``conf/<group>/<choice>.yaml`` names in its defaults list."""
    import yaml

    from rlrec.config import schema_registries

    schemas = schema_registries()[group]
    written = yaml.safe_load((config_dir() / group / f"{choice}.yaml").read_text())
    (entry,) = [d for d in written["defaults"] if isinstance(d, str) and d.startswith(f"/schema/{group}/")]
    return written, schemas[entry.split("/")[3].split("@")[0]]


@pytest.mark.parametrize(
    ("group", "choice"), [(group, choice) for group in SCHEMA_GROUPS for choice in choices(group)]
)
def test_each_yaml_names_its_target_and_only_what_differs_from_its_schema(group, choice):
    """One home per default: the structured config; a yaml repeats none of its values."""
    written, schema = _schema_of(group, choice)
    defaults = OmegaConf.to_container(OmegaConf.structured(schema))
    assert written.get("_target_") == defaults["_target_"], f"conf/{group}/{choice}.yaml: _target_"
    repeated = []
    for key, value in written.items():
        if key in ("defaults", "_target_", "name") or key not in defaults:
            continue
        if isinstance(value, dict) and isinstance(defaults[key], dict):
            repeated += [
                f"{key}.{k}" for k, v in value.items() if k in defaults[key] and defaults[key][k] == v
            ]
        elif value == defaults[key]:
            repeated.append(key)
    assert not repeated, f"conf/{group}/{choice}.yaml repeats its schema's defaults: {repeated}"


@pytest.mark.parametrize(
    ("group", "choice"),
    [(group, choice) for group in ("algorithm", "env", "reward") for choice in choices(group)],
)
def test_a_constructor_leaves_every_default_to_its_structured_config(group, choice):
    """One home per default: no constructor argument the schema sets has a default of its own."""
    import inspect

    from hydra.utils import get_class

    written, schema = _schema_of(group, choice)
    keys = set(OmegaConf.to_container(OmegaConf.structured(schema)))
    cls = get_class(written["_target_"])
    own = [
        name
        for name, parameter in inspect.signature(cls).parameters.items()
        if name in keys and parameter.default is not inspect.Parameter.empty
    ]
    assert not own, f"{cls.__name__} has defaults of its own for {own} (they belong in {schema.__name__})"

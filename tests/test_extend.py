"""Extending from a folder of one's own: the README's "Add a selector" blocks, as written, through the real command.

The blocks are read from README.md (a file block starts with a comment naming its path), written into an empty
folder, and every command of the bash block is run there with the console script, so the documented recipe is
what is tested. The same folder also holds a user sweep file, dataset and model, as the README promises.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from benchmark.paths import CONF_DIR
from benchmark.runner import run_experiment
from tests.conftest import TINY, compose_config, doc_blocks

README = Path(__file__).resolve().parents[1] / "README.md"
COMMAND = Path(sys.executable).with_name("arm-bench")

USER_SWEEP = """# @package _global_
hydra:
  mode: MULTIRUN
  sweeper:
    params:
      selector: small_margin,random
"""
USER_DATASET = """_target_: benchmark.data.synthetic.load_synthetic
dim: ${model.dim}
train_prompts: 120
test_prompts: 16
test_responses: 20
prompt_rank: 4
response_rank: 4
seed: 7
cache_dir: ${cache_dir}
"""
USER_MODEL = "dim: 12\n"


def readme_blocks() -> tuple[dict[str, str], list[str]]:
    """The files (path -> text) and the commands of the README's "Add a selector" section."""
    return doc_blocks(README.read_text().split("## Add a selector", 1)[1].split("\n## ", 1)[0])


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def test_readme_selector_recipe_and_user_configs_work_from_an_empty_folder(tmp_path: Path):
    files, commands = readme_blocks()
    assert set(files) == {"margin.py", "conf/selector/small_margin.yaml"} and len(commands) >= 1
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    tiny = [*TINY, f"cache_dir={tmp_path / 'cache'}"]
    for command in commands:
        words = command.split()
        assert words[0] == "arm-bench"
        cli([*words[1:], *tiny], tmp_path)
    summaries = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("outputs/runs/*/summary.json"))]
    assert len(summaries) == len(commands)
    assert {s["labels"]["selector"] for s in summaries} == {"small_margin"}
    assert all(s["status"] == "finished" for s in summaries)

    (tmp_path / "conf" / "sweep").mkdir()
    (tmp_path / "conf" / "sweep" / "mine.yaml").write_text(USER_SWEEP)
    (tmp_path / "conf" / "dataset").mkdir()
    (tmp_path / "conf" / "dataset" / "mine.yaml").write_text(USER_DATASET)
    (tmp_path / "conf" / "model").mkdir()
    (tmp_path / "conf" / "model" / "mine.yaml").write_text(USER_MODEL)
    cli(["--config-dir", "conf", "+sweep=mine", "dataset=mine", "model=mine", *tiny, "model.dim=12"], tmp_path)
    runs = sorted((tmp_path / "outputs" / "multirun" / "mine").glob("*/summary.json"))
    labels = [json.loads(p.read_text())["labels"] for p in runs]
    assert sorted(label["selector"] for label in labels) == ["random", "small_margin"]
    assert {(label["dataset"], label["model"]) for label in labels} == {("mine", "mine")}


def picks(run_dir: Path) -> list[list[tuple[int, int]]]:
    """The pairs a run labelled after round 0 (which is the same random batch for every selector), per round."""
    rounds = sorted((run_dir / "selections").glob("round_*.npz"))[1:]
    return [sorted(map(tuple, np.load(path)["pairs"].tolist())) for path in rounds]


def test_the_readme_selector_picks_what_no_shipped_selector_picks(tmp_path: Path, monkeypatch):
    """The example does something of its own: at its default margin its batches differ from every shipped
    selector's at the same seed (a knob that changes nothing would teach a newcomer nothing)."""
    files, _ = readme_blocks()
    (tmp_path / "margin.py").write_text(files["margin.py"])
    margin = yaml.safe_load(files["conf/selector/small_margin.yaml"])
    monkeypatch.syspath_prepend(str(tmp_path))
    common = [f"cache_dir={tmp_path / 'cache'}", "selector=random", "budget=60"]
    mine = tmp_path / "mine"
    run_experiment(compose_config(*common, f"selector._target_={margin['_target_']}",
                                  f"+selector.margin={margin['margin']}"), mine)
    assert len(picks(mine)) == 3
    shipped = sorted(path.stem for path in (CONF_DIR / "selector").glob("*.yaml"))
    assert len(shipped) >= 15
    same = []
    for name in shipped:
        run_experiment(compose_config(*common, f"selector={name}"), tmp_path / name)
        if picks(tmp_path / name) == picks(mine):
            same.append(name)
    assert same == [], f"small_margin picks exactly what {same} pick"
    wider = tmp_path / "wider"
    run_experiment(compose_config(*common, f"selector._target_={margin['_target_']}", "+selector.margin=0.5"), wider)
    assert picks(wider) != picks(mine), "its knob changes what it picks"
    sys.modules.pop("margin", None)


def test_editing_your_selector_and_rerunning_the_sweep_says_which_runs_kept_old_results(tmp_path: Path):
    """As a researcher iterating on a selector: run a sweep, edit margin.py, rerun the same command."""
    files, _ = readme_blocks()
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    (tmp_path / "conf" / "sweep").mkdir()
    (tmp_path / "conf" / "sweep" / "mine.yaml").write_text(USER_SWEEP)
    command = ["--config-dir", "conf", "+sweep=mine", *TINY, f"cache_dir={tmp_path / 'cache'}"]
    cli(command, tmp_path)
    with open(tmp_path / "margin.py", "a") as handle:
        handle.write("# tried something\n")
    done = cli(command, tmp_path)
    last = done.stderr.strip().splitlines()[-1]
    assert "1 finished run(s) returned with their old results" in last and "overwrite=true" in last
    sweep = tmp_path / "outputs" / "multirun" / "mine"
    (listed,) = json.loads((sweep / "sweep_summary.json").read_text())["inputs_changed_since"]
    assert listed["changes"] == ["your code changed: margin.py"] and f"{listed['run']} (your code" in last
    run = json.loads((sweep / listed["run"] / "summary.json").read_text())
    assert run["labels"]["selector"] == "small_margin", "the random run's code did not change"
    assert run["inputs_changed_since"] == listed["changes"]
    cli([*command, "overwrite=true"], tmp_path)
    assert json.loads((sweep / "sweep_summary.json").read_text())["inputs_changed_since"] == []

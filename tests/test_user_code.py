"""Your own code is an input: user modules behind a ``_target_`` (and what they import from your folder) are
fingerprinted as imported; a resume across an edit is refused, a finished run whose code changed is not returned
silently, and a key added by a newer version leaves older run folders the same run."""

import hashlib
import importlib
import json
import sys
from pathlib import Path

import pytest
import yaml

from benchmark import usercode
from benchmark.errors import UserError
from benchmark.results import load_runs
from benchmark.runner import run_experiment
from tests.conftest import compose_config
from tests.test_integrity import interrupted_run

SELECTOR = """import numpy as np

from benchmark.selectors import Selector
from helper import first_n


class FirstSelector(Selector):
    def select(self, context, n):
        return first_n(context, n)
"""
HELPER = """import numpy as np


def first_n(context, n):
    return np.arange(n)
"""


def blake(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of one's own on sys.path, as the working directory is for the CLI, holding a selector module
    that imports a helper module; both forgotten again afterwards."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "firstsel.py").write_text(SELECTOR)
    (folder / "helper.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(folder)
    yield folder
    for name in ("firstsel", "helper"):
        sys.modules.pop(name, None)


def reimport(*names: str) -> None:
    """What a new process does: import the modules afresh from their files."""
    for name in names:
        sys.modules.pop(name, None)
    for name in names:
        importlib.import_module(name)


USER_SELECTOR = ("selector=random", "selector._target_=firstsel.FirstSelector")


def test_fingerprint_holds_the_target_module_and_the_user_modules_it_imports(user_folder: Path):
    importlib.import_module("firstsel")
    found = usercode.fingerprint({"selector": {"_target_": "firstsel.FirstSelector"},
                                  "dataset": {"_target_": "benchmark.data.synthetic.load_synthetic"}})
    assert found == {"firstsel": {"file": "firstsel.py", "digest": blake(user_folder / "firstsel.py")},
                     "helper": {"file": "helper.py", "digest": blake(user_folder / "helper.py")}}, \
        "numpy and the package are not the user's code"


def test_a_module_edited_after_import_is_recorded_as_imported_with_one_warning(user_folder: Path, caplog):
    importlib.import_module("firstsel")
    imported = blake(user_folder / "helper.py")
    (user_folder / "helper.py").write_text(HELPER + "# edited\n")
    config = {"selector": {"_target_": "firstsel.FirstSelector"}}
    with caplog.at_level("WARNING"):
        assert usercode.fingerprint(config)["helper"]["digest"] == imported
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("helper.py changed after this process imported it") and "importlib.reload" in line
    importlib.reload(sys.modules["helper"])
    assert usercode.fingerprint(config)["helper"]["digest"] == blake(user_folder / "helper.py")


def test_changes_name_the_files():
    old = {"a": {"file": "a.py", "digest": "1"}, "b": {"file": "lib/b.py", "digest": "2"}}
    new = {"a": {"file": "a.py", "digest": "9"}, "c": {"file": "c.py", "digest": "3"}}
    assert usercode.changes(old, new) == ["your code changed: a.py", "your module b (lib/b.py) is no longer used",
                                          "your module c (c.py) is new"]


def test_a_resume_across_an_edit_of_your_code_is_refused_unless_allowed(user_folder: Path, monkeypatch):
    run_dir = user_folder / "run"
    interrupted_run(run_dir, monkeypatch, *USER_SELECTOR)
    assert "helper" in json.loads((run_dir / "inputs.json").read_text())["user_code"]
    (user_folder / "helper.py").write_text(HELPER + "# edited\n")
    reimport("helper", "firstsel")
    with pytest.raises(UserError, match=r"started on other inputs \(your code changed: helper.py\); pass "
                                        r"overwrite=true .* or allow_changed_inputs=true"):
        run_experiment(compose_config(*USER_SELECTOR), run_dir)
    summary = run_experiment(compose_config(*USER_SELECTOR, "allow_changed_inputs=true"), run_dir)
    assert summary["status"] == "finished" and summary["allow_changed_inputs"] is True
    assert summary["changed_inputs"] == ["your code changed: helper.py"]


def test_a_finished_run_whose_code_changed_is_returned_with_one_line_and_marked(user_folder: Path, caplog):
    run_dir = user_folder / "run"
    importlib.import_module("firstsel")
    run_experiment(compose_config(*USER_SELECTOR), run_dir)
    (user_folder / "firstsel.py").write_text(SELECTOR + "# edited\n")
    reimport("firstsel")
    with caplog.at_level("WARNING"):
        again = run_experiment(compose_config(*USER_SELECTOR), run_dir)
    (line,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "(your code changed: firstsel.py)" in line and "overwrite=true" in line
    assert again["inputs_changed_since"] == ["your code changed: firstsel.py"]
    assert load_runs(run_dir)["inputs_changed"].all()
    redone = run_experiment(compose_config(*USER_SELECTOR, "overwrite=true"), run_dir)
    assert "inputs_changed_since" not in redone and redone["status"] == "finished"
    assert not load_runs(run_dir)["inputs_changed"].any()


def test_a_key_added_later_with_its_old_value_keeps_older_folders_the_same_run(tmp_path: Path, caplog):
    """A folder written before ``model.generator``/``model.embedder`` existed is this run while they keep the value
    that reproduces the old behaviour, and another run when they do not."""
    run_dir = tmp_path / "run"
    finished = run_experiment(compose_config(), run_dir)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["model"].pop("generator") is None and config["model"].pop("embedder") is None
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    with caplog.at_level("INFO"):
        assert run_experiment(compose_config(), run_dir) == finished
    assert "already holds this finished run" in caplog.text
    with pytest.raises(UserError, match=r"differs in model.generator"):
        run_experiment(compose_config("model.generator=gemma"), run_dir)
    frame = load_runs(run_dir)
    assert frame["model.generator"].isna().all()

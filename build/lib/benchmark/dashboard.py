"""``arm-bench-dashboard --entity E --project P [--sweep NAME] [--save]``: the W&B dashboard, as code.

Builds one saved workspace view per setup (in-prompt, cross-prompt pairs), because W&B filters runs per view,
not per section or panel. Each view holds the setup's runs (tag ``in_prompt`` / ``cross_prompt``), optionally
of one sweep (tag ``sweep:<name>``); a section with the curves of 1 − Spearman and best-of-N against
``n_labels``, one line per selector (W&B job type) within each comparison cell (W&B group) with the mean
and a ± 1 std band over seeds; and the runs table with the summary metrics of benchmark.summary_metrics as
columns, sorted by the area under the 1 − Spearman curve (best first).

Without ``--save`` it prints what it would build and needs no account; ``--save`` needs ``wandb login``.
Requires the ``dashboard`` extra (``pip install 'arm-bench[dashboard]'``).
"""

import argparse
import logging
import sys
from typing import Any

from benchmark.config import Pairing
from benchmark.errors import UserError
from benchmark.summary_metrics import ONE_MINUS_SPEARMAN, summary_keys

SETUPS = tuple(pairing.value for pairing in Pairing)
#: N of the best-of-N curve and columns: the largest N of the quick preset (eval.bon_n clipped to its responses).
DEFAULT_BON_N = 50
SORTED_BY = f"auc/{ONE_MINUS_SPEARMAN}"


def workspace_api() -> tuple[Any, Any]:
    """The ``wandb_workspaces`` modules (an optional extra), or a UserError saying how to install them."""
    try:
        import wandb_workspaces.reports.v2 as reports
        import wandb_workspaces.workspaces as workspaces
    except ImportError as err:
        raise UserError(
            f"arm-bench-dashboard needs wandb-workspaces ({err}); pip install 'arm-bench[dashboard]'"
        ) from err
    return workspaces, reports


def view_name(setup: str, sweep: str | None) -> str:
    return f"arm-bench {sweep or 'all runs'}: {setup}"


def build_workspace(entity: str, project: str, setup: str, sweep: str | None = None, bon_n: int = DEFAULT_BON_N) -> Any:
    """The workspace view of one setup (a ``wandb_workspaces.workspaces.Workspace``; not saved)."""
    ws, wr = workspace_api()
    bon_key = f"bon/{bon_n}"
    curves = [
        wr.LinePlot(
            title=title, x="n_labels", y=[metric], title_x="labelled pairs", title_y=title,
            groupby="JobType", groupby_aggfunc="mean", groupby_rangefunc="stddev",
        )
        for metric, title in ((ONE_MINUS_SPEARMAN, "1 − Spearman (lower is better)"),
                              (bon_key, f"best-of-{bon_n} golden reward (higher is better)"))
    ]
    filters = [ws.Tags().isin([setup]), *([ws.Tags().isin([f"sweep:{sweep}"])] if sweep else [])]
    return ws.Workspace(
        entity=entity, project=project, name=view_name(setup, sweep),
        sections=[ws.Section(name=f"{setup}: learning curves", panels=curves, is_open=True,
                             panel_settings=ws.SectionPanelSettings(x_axis="n_labels"))],
        settings=ws.WorkspaceSettings(x_axis="n_labels", max_runs=100),
        runset_settings=ws.RunsetSettings(
            filters=filters,
            groupby=[ws.Metric("Group"), ws.Metric("JobType")],
            order=[ws.Ordering(ws.Summary(SORTED_BY), ascending=True)],
            pinned_columns=[f"summary:{key}" for key in summary_keys(bon_key)],
        ),
    )


def build_workspaces(entity: str, project: str, sweep: str | None = None, bon_n: int = DEFAULT_BON_N,
                     setups: tuple[str, ...] = SETUPS) -> list[Any]:
    return [build_workspace(entity, project, setup, sweep, bon_n) for setup in setups]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="arm-bench-dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entity", required=True, help="W&B entity (user or team) that owns the project")
    parser.add_argument("--project", required=True, help="W&B project (logger.project; default arm-bench)")
    parser.add_argument("--sweep", help="only runs of this sweep (tag sweep:<name>); default: every run")
    parser.add_argument("--setup", choices=SETUPS, action="append",
                        help="build only this setup's view (repeatable); default: both")
    parser.add_argument("--bon-n", type=int, default=DEFAULT_BON_N, help="N of the best-of-N curve and columns")
    parser.add_argument("--save", action="store_true", help="save the views to W&B (after `wandb login`)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="arm-bench-dashboard: %(message)s")
    args = parse_args(argv)
    try:
        views = build_workspaces(args.entity, args.project, args.sweep, args.bon_n, tuple(args.setup or SETUPS))
        for view in views:
            if args.save:
                try:
                    view.save()
                    print(f"{view.name}: {view.url}")
                except Exception as err:  # login, network and permission errors all come back as this one line
                    raise UserError(f"saving view '{view.name}' to {args.entity}/{args.project} failed "
                                    f"({type(err).__name__}: {err}); run `wandb login` and check --entity") from err
            else:
                print(f"{view.name}: filters {view.runset_settings.filters}; sorted by {SORTED_BY} "
                      "(not saved; add --save)")
    except UserError as err:
        print(f"arm-bench-dashboard: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

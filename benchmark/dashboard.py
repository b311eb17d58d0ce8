"""``arm-bench-dashboard --entity E --project P [--sweep NAME] [--save]``: the W&B dashboard, as code.

Builds one saved workspace view per setup (in-prompt, cross-prompt pairs), because W&B filters runs per view,
not per section or panel. Each view holds the setup's runs (tag ``in_prompt`` / ``cross_prompt``), optionally
of one sweep (tag ``sweep:<name>``); a section with the curves of the summarised metrics (benchmark.metrics) against
``n_labels``, one line per selector (W&B job type) within each comparison cell (W&B group) with the mean
and a ± 1 std band over seeds; and the runs table with the summary metrics of benchmark.summary_metrics as
columns, sorted by the area under the 1 − Spearman curve (best first).

Without ``--save`` it prints what it would build (every view's runs, grouping, panels and table) and needs no
account; ``--save`` needs ``wandb login``. With ``--sweep`` of a shipped sweep file, only the setups that sweep runs
get a view.
Requires the ``dashboard`` extra (``pip install 'arm-bench[dashboard]'``).
"""

import argparse
import logging
import sys
from typing import Any

from benchmark.errors import UserError
from benchmark.metrics import PRIMARY, Metric, best_of_n_key, summarised
from benchmark.pairings import SHIPPED
from benchmark.summary_metrics import summary_keys

SETUPS = tuple(pairing.name for pairing in SHIPPED)
#: N of the best-of-N curve and columns: the largest N of the quick preset (eval.bon_n clipped to its responses).
DEFAULT_BON_N = 50
SORTED_BY = f"auc/{PRIMARY}"


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


def title(metric: Metric) -> str:
    """A curve's title: the metric's label and its better direction."""
    if metric.lower_is_better is None:
        return metric.label
    return f"{metric.label} ({'lower' if metric.lower_is_better else 'higher'} is better)"


def view_name(setup: str, sweep: str | None) -> str:
    return f"arm-bench {sweep or 'all runs'}: {setup}"


def build_workspace(entity: str, project: str, setup: str, sweep: str | None = None, bon_n: int = DEFAULT_BON_N) -> Any:
    """The workspace view of one setup (a ``wandb_workspaces.workspaces.Workspace``; not saved)."""
    ws, wr = workspace_api()
    bon_key = best_of_n_key(bon_n)
    curves = [
        wr.LinePlot(
            title=title(metric), x="n_labels", y=[metric.key], title_x="labelled pairs", title_y=title(metric),
            groupby="JobType", groupby_aggfunc="mean", groupby_rangefunc="stddev",
        )
        for metric in summarised(bon_key)
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


def sweep_setups(sweep: str) -> tuple[str, ...] | None:
    """The setups the sweep file ``sweeps/<sweep>.yaml`` runs (its grid's ``setup`` values, else the one it
    composes to); None when no such sweep file exists (an ad hoc sweep), so both views are built."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    import benchmark.config  # noqa: F401  (registers the schema the config is composed against)
    from benchmark.paths import CONF_DIR

    if not (CONF_DIR / "sweep" / f"{sweep}.yaml").is_file():
        return None
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            cfg = compose("config", overrides=[f"+sweep={sweep}"], return_hydra_config=True)
        except HydraException as err:
            raise UserError(f"--sweep {sweep}: its sweep file does not compose ({err})") from err
    grid = (cfg.hydra.sweeper.get("params") or {}).get("setup")
    if grid is None:
        return (str(cfg.hydra.runtime.choices.setup),)
    override = OverridesParser.create().parse_override(f"setup={grid}")
    values = set(override.sweep_string_iterator()) if override.is_sweep_override() else {str(override.value())}
    return tuple(setup for setup in SETUPS if setup in values)


def describe_view(view: Any) -> list[str]:
    """What a view holds, as printed by the dry run: its runs and grouping, every panel, and the table."""
    runs = view.runset_settings
    lines = [f"{view.name} (not saved; add --save)", f"  runs: {runs.filters}",
             f"  grouping: by {', then '.join(metric.name for metric in runs.groupby)} (comparison cell, then "
             "selector)"]
    for section in view.sections:
        for index, panel in enumerate(section.panels, 1):
            lines.append(f"  panel {index} of section '{section.name}': {panel.title}: {', '.join(panel.y)} "
                         f"against {panel.x}, one line per {panel.groupby} ({panel.groupby_aggfunc} with a "
                         f"{panel.groupby_rangefunc} band over seeds)")
    order = ", ".join(f"{o.item.name} {'ascending' if o.ascending else 'descending'}" for o in runs.order)
    lines.append(f"  table: columns {', '.join(runs.pinned_columns)}; sorted by {order}")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="arm-bench-dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entity", required=True, help="W&B entity (user or team) that owns the project")
    parser.add_argument("--project", required=True, help="W&B project (logger.project; default arm-bench)")
    parser.add_argument("--sweep", help="only runs of this sweep (tag sweep:<name>); default: every run")
    parser.add_argument("--setup", choices=SETUPS, action="append",
                        help="build only this setup's view (repeatable); default: every shipped setup")
    parser.add_argument("--bon-n", type=int, default=DEFAULT_BON_N, help="N of the best-of-N curve and columns")
    parser.add_argument("--save", action="store_true", help="save the views to W&B (after `wandb login`)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="arm-bench-dashboard: %(message)s")
    args = parse_args(argv)
    try:
        setups = tuple(args.setup or SETUPS)
        held = sweep_setups(args.sweep) if args.sweep else None
        if held is not None and set(held) != set(setups):
            print(f"sweep {args.sweep} holds {', '.join(held)} runs only (its sweep file); building "
                  f"{'those views' if len(held) > 1 else 'that view'}")
            setups = tuple(s for s in setups if s in held) or held
        views = build_workspaces(args.entity, args.project, args.sweep, args.bon_n, setups)
        for view in views:
            if args.save:
                try:
                    view.save()
                    print(f"{view.name}: {view.url}")
                except Exception as err:  # login, network and permission errors all come back as this one line
                    raise UserError(f"saving view '{view.name}' to {args.entity}/{args.project} failed "
                                    f"({type(err).__name__}: {err}); run `wandb login` and check --entity") from err
            else:
                print("\n".join(describe_view(view)))
    except UserError as err:
        print(f"arm-bench-dashboard: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

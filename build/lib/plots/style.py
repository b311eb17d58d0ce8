"""One colour and display name per selector, the same in every figure, so a reader learns them once."""

import zlib

#: The paper's eight methods plus xtx; the paper's own methods in the strongest colours (legends are ordered by
#: result, plots.curves.line_order).
COLOURS = {
    "random": "#7f7f7f",
    "entropy": "#ff7f0e",
    "maxdiff": "#8c564b",
    "bald": "#9467bd",
    "batchbald": "#e377c2",
    "coreset": "#bcbd22",
    "xtx": "#17becf",
    "dopt": "#1f77b4",
    "pastaware_dopt": "#d62728",
}
NAMES = {
    "random": "random",
    "entropy": "entropy",
    "maxdiff": "max-diff",
    "bald": "BALD",
    "batchbald": "BatchBALD",
    "coreset": "coreset",
    "xtx": "XtX (unweighted D-opt)",
    "dopt": "D-opt",
    "pastaware_dopt": "past-aware D-opt",
}
#: For selectors added by users: picked by a stable hash of the name, so the colour never changes.
SPARE = ["#2ca02c", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"]
PAPER_METHODS = frozenset({"dopt", "pastaware_dopt"})


def colour(selector: str) -> str:
    return COLOURS.get(selector) or SPARE[zlib.crc32(selector.encode()) % len(SPARE)]


def display_name(selector: str) -> str:
    return NAMES.get(selector, selector)


def line_width(selector: str) -> float:
    return 2.0 if selector in PAPER_METHODS else 1.3

"""One colour per selector, the same in every figure, so a reader learns them once; legends use the command-line
names (``selector=pastaware_dopt``), so what a figure shows can be typed back."""

import zlib

#: Every shipped selector has its own colour, none repeated, so no two lines of any figure share one (checked by
#: tests/test_plots.py); the paper's own methods have the strongest (legends are ordered by result,
#: plots.curves.line_order).
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
    "greedy_dopt": "#2ca02c",
    "epig": "#393b79",
    "bal_pm": "#637939",
    "double_ts": "#e7ba52",
    "badge": "#7b4173",
    "kcenter": "#000000",
    "deltaucb": "#ad494a",
    "infomax": "#6baed6",
    "drts": "#fd8d3c",
    "maxminlcb": "#74c476",
    "rucb": "#c994c7",
}
#: The paper's eight methods (its Figure 3), drawn together; the rest are drawn in their own figures.
PAPER_EIGHT = ("random", "entropy", "maxdiff", "bald", "batchbald", "coreset", "dopt", "pastaware_dopt")
#: For selectors added by users: picked by a stable hash of the name, so the colour never changes.
SPARE = ["#2ca02c", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"]
#: The paper's own methods: drawn thicker, and the subject of the results page's claims (D-opt first).
PAPER_METHODS = ("dopt", "pastaware_dopt")


def colour(selector: str) -> str:
    return COLOURS.get(selector) or SPARE[zlib.crc32(selector.encode()) % len(SPARE)]


def line_width(selector: str) -> float:
    return 2.0 if selector in PAPER_METHODS else 1.3

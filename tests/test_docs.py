"""The documentation stands on its own: nothing points outside the repository, and every link resolves.

Checked over the repository's text files (tracked, plus new files git does not ignore): no mention of
notes kept outside the repository; every relative link in README.md and docs/*.md reaches an existing
file (and heading, for ``#anchor`` links); every ``method.md §N`` reference names a section that exists.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Spelt in pieces so this file does not match itself.
FORBIDDEN = ("facts" + ".md", "../" + "shared", "shared" + "/paper")

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
SECTION_REFERENCE = re.compile(r"method\.md §(\d+(?:\.\d+)*)")
SECTION_HEADING = re.compile(r"^#{2,6} §(\d+(?:\.\d+)*)\s", re.MULTILINE)


def repository_files() -> list[Path]:
    """Tracked files and untracked ones git does not ignore, that exist as regular files."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()
    paths = {ROOT / name for name in listing.split("\0") if name}
    return sorted(path for path in paths if path.is_file())


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (a NUL byte in it)."""
    data = path.read_bytes()
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda match: match.group(0).strip("`"), heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading anchor of a markdown text, with GitHub's -1, -2 … suffixes for repeated headings."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """Relative links of ``page`` whose file (or heading) does not exist, as 'page: target' (page relative to root)."""
    prose = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    broken = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: …
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{page.relative_to(root)}: {target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text(encoding="utf-8")):
            broken.append(f"{page.relative_to(root)}: {target} (no such heading)")
    return broken


def documentation_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_file_points_outside_the_repository():
    offending = []
    for path in repository_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            offending += [f"{path.relative_to(ROOT)}:{number}: {word}" for word in FORBIDDEN if word in line]
    assert not offending, "references to files outside the repository:\n" + "\n".join(offending)


def test_every_relative_link_resolves():
    broken = [entry for page in documentation_pages() for entry in broken_links(page)]
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_method_section_reference_exists():
    sections = set(SECTION_HEADING.findall((ROOT / "docs" / "method.md").read_text(encoding="utf-8")))
    assert {str(number) for number in range(1, 9)} <= sections, "method.md must have sections §1-§8"
    missing = []
    for path in repository_files():
        text = text_of(path) or ""
        for number, line in enumerate(text.splitlines(), 1):
            missing += [f"{path.relative_to(ROOT)}:{number}: §{ref}" for ref in SECTION_REFERENCE.findall(line)
                        if ref not in sections]
    assert not missing, "references to sections docs/method.md does not have:\n" + "\n".join(missing)


def test_link_checker_finds_a_missing_file_and_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## §6.1 Spearman per prompt\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n[ok](other.md#61-spearman-per-prompt) [self](#page) [web](https://example.org/x.md)\n"
        "[gone](missing.md) [bad anchor](other.md#nope) `[code](ignored.md)`\n"
        "```\n[fenced](ignored_too.md)\n```\n"
    )
    assert broken_links(page, tmp_path) == [
        "page.md: missing.md (no such file)", "page.md: other.md#nope (no such heading)",
    ]


def test_slug_follows_github():
    assert slug("§4 D-optimal selection") == "4-d-optimal-selection"
    assert slug("The `paper_scale` preset") == "the-paper_scale-preset"
    assert slug("Sweeps, plots and dashboards") == "sweeps-plots-and-dashboards"
    assert anchors("## A\n## A\n```\n## A\n```\n") == {"a", "a-1"}

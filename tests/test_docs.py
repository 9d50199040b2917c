"""The user guide (docs/ and mkdocs.yml) stays true to the code.

- The code of every page runs: its ```python blocks in order, in one namespace, in a fresh
  folder; then, on the tutorial pages, the ```bash blocks, whose every line is an
  ``exactmaso ...`` command, through ``exactmaso.cli.main`` (exit status 0, or the status that
  an ``# exit status N`` comment on the line names).  A few pages' claims are then checked
  from the objects their code built.
- Every relative link and image of docs/*.md resolves to a file of docs/, and every
  ``#anchor`` to a heading of the page it points to (slugs made as MkDocs makes them), so the
  links are checked whether or not MkDocs is installed; ``mkdocs build --strict`` runs too
  when it is.
- Every page is in the nav of mkdocs.yml, and every nav entry is a page; the pages use no
  project-internal words, and the ``docs/NAME.md`` that docstrings cite exist.
- Every ``em.name``, ``net.name`` and ``part.name`` the guide writes exists, and every keyword
  of a call ``em.f(..., key=...)`` it writes is a parameter of ``f``.
- docs/cli.md names exactly the options of each subcommand's parser.
- docs/gallery.md shows every figure of docs/images, its code writes each of them, and its
  plotting calls are those of examples/figures.py, which drew them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import shlex
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
MKDOCS_YML = ROOT / "mkdocs.yml"

# pages whose ```bash blocks are exactmaso commands that run after the page's Python code
SHELL_PAGES = {"tutorial_regions.md", "tutorial_proofs.md", "tutorial_figures.md", "vnnlib.md"}

FENCED = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
EXIT_STATUS = re.compile(r"#\s*exit status (\d+)")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def blocks(page: Path, language: str) -> list[str]:
    """The fenced code blocks of ``page`` in ``language``, in order."""
    return [body for lang, body in FENCED.findall(page.read_text()) if lang == language]


def prose(text: str) -> str:
    """``text`` without its fenced code blocks and inline code (links there are not links)."""
    text = FENCED.sub("", text)
    return INLINE_CODE.sub("", text)


# ------------------------------------------------------------------------------------------
# the code of every page runs
# ------------------------------------------------------------------------------------------


def _check_vq(scope: dict) -> None:
    net, X, codes = scope["net"], scope["X"], scope["codes"]
    assert all(tuple(codes[l][i]) == net.code(X[i])[l] for i in range(0, 1000, 97) for l in range(len(codes)))
    assert len(scope["lc"].regions) == 10


def _check_figures(scope: dict, folder: Path) -> None:
    for name in ("moons.png", "moons.tex", "slice.png"):
        assert (folder / name).stat().st_size > 0, name
    assert scope["tex"].lstrip().startswith("\\documentclass")


def _check_gallery(scope: dict, folder: Path) -> None:
    shown = {Path(target).name for target in _images(DOCS / "gallery.md")}
    written = {p.name for p in folder.glob("*.png")}
    assert shown <= written, f"the gallery's code does not write {sorted(shown - written)}"


CHECKS = {
    "vq.md": lambda scope, folder: _check_vq(scope),
    "tutorial_figures.md": _check_figures,
    "gallery.md": _check_gallery,
}

RUNNABLE = [p.name for p in PAGES if blocks(p, "python")]


def _run_cli(line: str) -> None:
    from exactmaso.cli import main

    expected = EXIT_STATUS.search(line)
    argv = shlex.split(line, comments=True)
    assert argv and argv[0] == "exactmaso", f"a shell line of a tutorial is not an exactmaso command: {line!r}"
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            status = main(argv[1:])
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    want = int(expected.group(1)) if expected else 0
    assert status == want, f"{line!r} exited with {status}, expected {want}; it printed:\n{out.getvalue()}"


@pytest.mark.parametrize("name", RUNNABLE)
def test_the_page_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = DOCS / name
    code = blocks(page, "python")
    if any(re.search(r"^\s*import torch", c, re.M) for c in code):
        pytest.importorskip("torch")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    scope: dict = {"__name__": "__main__"}
    try:
        for i, source in enumerate(code):
            exec(compile(source, f"{page} (python block {i + 1})", "exec"), scope)
        if name in SHELL_PAGES:
            for source in blocks(page, "bash"):
                for line in source.splitlines():
                    if line.strip():
                        _run_cli(line)
        if name in CHECKS:
            CHECKS[name](scope, tmp_path)
    finally:
        plt.close("all")


def test_the_gallery_shows_every_figure_with_the_code_that_made_it() -> None:
    """Every figure of docs/images is in the gallery, and each plotting call of the gallery's
    code is one of examples/figures.py, which drew docs/images."""
    shown = sorted(Path(target).name for target in _images(DOCS / "gallery.md"))
    assert shown == sorted(p.name for p in (DOCS / "images").glob("*.png"))

    def calls(source: str) -> list[str]:
        lines = (re.sub(r"#.*", "", line).strip() for line in source.splitlines())
        return [line for line in lines if "em.plot." in line]

    script = set(calls((ROOT / "examples" / "figures.py").read_text()))
    drawn = [line for source in blocks(DOCS / "gallery.md", "python") for line in calls(source)]
    assert len(drawn) >= len(shown)
    assert not [line for line in drawn if line not in script], "gallery calls that examples/figures.py does not make"


def test_tutorials_have_code() -> None:
    for name in SHELL_PAGES:
        assert name in RUNNABLE, f"{name} has no python code"


# ------------------------------------------------------------------------------------------
# links, anchors, images
# ------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    """The id MkDocs (Python-Markdown's toc extension) gives a heading with this text."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def heading_text(markdown: str) -> str:
    """The text of a heading as rendered: code spans and links by their text, no emphasis."""
    text = INLINE_CODE.sub(lambda m: m.group(2).strip(), markdown)
    text = LINK.sub(lambda m: m.group(2), text)
    return text.replace("*", "")


def anchors(page: Path) -> set[str]:
    """The ids of the headings of ``page``; a repeated id gets ``_1``, ``_2``, ... as in MkDocs."""
    seen: set[str] = set()
    for _, title in HEADING.findall(FENCED.sub("", page.read_text())):
        slug = slugify(heading_text(title))
        candidate, n = slug, 0
        while candidate in seen:
            n += 1
            candidate = f"{slug}_{n}"
        seen.add(candidate)
    return seen


def links(page: Path) -> list[tuple[bool, str]]:
    """``(is_image, target)`` of every Markdown link and image in the prose of ``page``."""
    return [(bang == "!", target) for bang, _, target in LINK.findall(prose(page.read_text()))]


def _images(page: Path) -> list[str]:
    return [target for is_image, target in links(page) if is_image]


def test_slugs_follow_mkdocs() -> None:
    assert slugify(heading_text("Partitions: `em.export.json(part, path)`")) == "partitions-emexportjsonpart-path"
    assert slugify(heading_text("The certificate: `part.verify()`")) == "the-certificate-partverify"
    assert slugify(heading_text("exactmaso check-certificate")) == "exactmaso-check-certificate"


@pytest.mark.parametrize("name", [p.name for p in PAGES])
def test_links_resolve(name: str) -> None:
    page = DOCS / name
    problems = []
    for is_image, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(DOCS.resolve()):
            problems.append(f"{target}: outside docs/ (MkDocs cannot serve it; name the file in code instead)")
        elif not file.is_file():
            problems.append(f"{target}: no such file")
        elif is_image and file.suffix.lower() not in (".png", ".svg", ".jpg", ".jpeg", ".gif"):
            problems.append(f"{target}: an image that is not an image file")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            problems.append(f"{target}: no heading #{anchor} in {file.name}")
        elif not target:
            problems.append("an empty link")
    assert not problems, f"{name}: " + "; ".join(problems)


def _nav() -> list[str]:
    text = MKDOCS_YML.read_text()
    nav = text[text.index("\nnav:"):]
    return re.findall(r"^\s+-\s+(?:[^:\n]+:\s+)?([\w./-]+\.md)\s*$", nav, re.M)


def test_every_page_is_in_the_nav() -> None:
    nav = _nav()
    assert len(nav) == len(set(nav)), "a page is twice in the nav"
    assert sorted(nav) == sorted(p.name for p in PAGES)


def test_the_code_points_to_pages_that_exist() -> None:
    """Docstrings and scripts that send the reader to ``docs/NAME.md`` name a page of the guide."""
    sources = [*ROOT.glob("exactmaso/**/*.py"), *ROOT.glob("examples/*.py"), *ROOT.glob("benchmarks/*.py"),
               ROOT / "README.md"]
    missing = sorted({f"{src.relative_to(ROOT)}: {ref}" for src in sources
                      for ref in re.findall(r"docs/[\w/-]+\.md", src.read_text()) if not (ROOT / ref).is_file()})
    assert not missing, "references to pages that do not exist: " + "; ".join(missing)


def test_no_internal_words() -> None:
    """The guide is for users: no project-internal vocabulary or paths outside the repository."""
    banned = re.compile(r"\bissues?\b|\bsessions?\b|DESIGN\.md|contract for|\.\./shared|/work/", re.I)
    for page in PAGES:
        for n, line in enumerate(page.read_text().splitlines(), 1):
            assert not banned.search(line), f"{page.name}:{n}: {line.strip()}"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                          "--config-file", str(MKDOCS_YML), "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "index.html").is_file()


# ------------------------------------------------------------------------------------------
# the names the guide uses exist
# ------------------------------------------------------------------------------------------


def _names(prefix: str) -> set[str]:
    """Every dotted name ``prefix.a.b`` written in the guide (prose and code), without ``prefix.``."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(prefix)}\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
    files = {"json", "npz", "npy", "onnx", "nnet", "vnnlib", "png", "pdf", "svg", "tex", "csv"}  # net.json is a file
    return {name for page in PAGES for name in pattern.findall(page.read_text()) if name.split(".")[0] not in files}


def _resolve(obj: object, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def test_every_api_name_in_the_guide_exists() -> None:
    """``em.x.y``, ``net.x`` and ``part.x`` written anywhere in docs/ name real attributes (of the
    package, of a Network and of a Partition)."""
    import exactmaso as em

    net = em.mlp([[[1, 1], [1, -1]], [[1, 1]]], [[0, 0], [0]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    for prefix, obj in (("em", em), ("net", net), ("part", part)):
        missing = sorted(name for name in _names(prefix) if not _resolve(obj, name))
        assert not missing, f"the guide names {prefix}.{missing[0]}, which does not exist (all: {missing})"


def _calls(text: str) -> list[tuple[str, list[str]]]:
    """``(dotted name, keywords)`` of every call ``em.name(..., key=...)`` written in ``text``:
    the keywords at the call's own level of parentheses."""
    out = []
    for m in re.finditer(r"(?<![\w.])em\.([A-Za-z_][\w.]*)\(", text):
        depth, i, top = 1, m.end(), []
        while i < len(text) and depth:
            ch = text[i]
            depth += ch in "([{"
            depth -= ch in ")]}"
            top.append(ch if depth == 1 else " ")
            i += 1
        out.append((m.group(1), re.findall(r"(?<![\w.=<>!])([A-Za-z_]\w*)=(?!=)", "".join(top))))
    return out


def test_every_keyword_in_the_guide_exists() -> None:
    """Each ``key=`` of a call ``em.f(..., key=...)`` written in docs/ is a parameter of ``f``."""
    import inspect

    import exactmaso as em

    problems = []
    for page in PAGES:
        for name, keywords in _calls(page.read_text()):
            obj = em
            for part in name.split("."):
                obj = getattr(obj, part)
            params = inspect.signature(obj).parameters
            if any(p.kind is p.VAR_KEYWORD for p in params.values()):
                continue
            problems += [f"{page.name}: em.{name}(... {k}=...)" for k in keywords if k not in params]
    assert not problems, "keywords that the functions do not take: " + "; ".join(sorted(set(problems)))


# ------------------------------------------------------------------------------------------
# the command line reference
# ------------------------------------------------------------------------------------------


def _leaf_parsers() -> dict[str, argparse.ArgumentParser]:
    """``{"regions": parser, "prove bounds": parser, ...}``: every subcommand that runs."""
    from exactmaso.cli import build_parser

    out: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs and prefix:
            out[prefix] = parser
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, f"{prefix} {name}".strip())

    walk(build_parser(), "")
    return out


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings if s.startswith("--")} - {"--help"}


def _cli_sections() -> dict[str, str]:
    """The sections ``## exactmaso COMMAND`` of docs/cli.md, by command."""
    text = (DOCS / "cli.md").read_text()
    parts = re.split(r"^## +`?exactmaso ([a-z -]+?)`? *$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_cli_reference_matches_the_parser() -> None:
    parsers, sections = _leaf_parsers(), _cli_sections()
    assert set(sections) == set(parsers), (f"sections without a subcommand: {sorted(set(sections) - set(parsers))}; "
                                           f"subcommands without a section: {sorted(set(parsers) - set(sections))}")
    for command, parser in parsers.items():
        section = sections[command]
        named = set(OPTION.findall(section)) - {"--help"}
        tabled = {flag for row in re.findall(r"^\|([^|\n]*)\|", section, re.M) for flag in OPTION.findall(row)}
        options = _options(parser)
        assert named <= options, f"exactmaso {command}: the page names {sorted(named - options)}, not options of it"
        assert options <= tabled, f"exactmaso {command}: the page's table lacks {sorted(options - tabled)}"

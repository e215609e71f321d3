"""Generate the Colab edition of every chapter: ``notebooks/NN_*.ipynb`` -> ``colab/NN_*.ipynb``.

The book's notebooks are written in MyST Markdown, which plain Jupyter and Colab do not know: a
``{glue:text}`name:.1f``` stays literal text there, and so do citations and dropdowns. This script
writes, for every chapter, a copy whose Markdown cells read as the rendered page does:

- **glue references** (``{glue}``, ``{glue:}``, ``{glue:any}``, ``{glue:text}``, ``{glue:md}``)
  become the value the book shows, taken from the notebook's stored outputs (the
  ``application/papermill.record/...`` outputs that ``glue`` writes) and formatted as myst-nb
  formats it (``format_plain_text`` below mirrors ``myst_nb.core.variables``; a test checks them
  against each other);
- **citations** (``{cite}``, ``{cite:p}``, ``{cite:t}``) become "(Author et al., Year)" linked to
  the published book's references page (authors and years from ``book/references.bib``);
- **dropdowns** become ``<details><summary>Title</summary>`` HTML with their Markdown kept inside,
  **admonitions** (``{admonition}``, ``{note}``, ``{tip}``, ...) become Markdown quotes,
  ``{math}`` blocks become ``$$`` blocks and ``{code-block}`` becomes a fenced code block;
- the book's in-browser explorer (``<div class="cspnet-explorer">``) becomes a pointer to the
  book's page and to the sliders of the next code cell; figure captions (cell metadata the book
  renders under a figure) become a Markdown cell after the figure's code cell;
- any other MyST role or directive stops the script with an error that names it, the notebook and
  the cell, so nothing unconverted can reach a reader.

Code cells keep their source, tags and ids (``remove-cell`` cells too: later cells use their
variables). Their **outputs are cleared**: the prose already carries the book's numbers, a saved
slider would be a dead one in Colab, and the reader's own run fills them in. Cells the book hides
are collapsed (``jupyter.source_hidden``) where the front end honours it. A note at the top says
whose numbers are whose.

The published book's address is ``html.baseurl`` in ``_config.yml`` when that is set, otherwise
the GitHub Pages address of ``repository.url`` (``https://OWNER.github.io/REPO/``).

Deterministic: the same sources give the same bytes. Run ``make colab`` (or this script) after
changing a chapter; ``tests/test_colab_edition.py`` fails while a committed edition is out of date.

    python scripts/colab_edition.py            # write colab/*.ipynb
    python scripts/colab_edition.py --check    # exit 1 if any edition is out of date
"""

from __future__ import annotations

import argparse
import ast
import functools
import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = "notebooks"
EDITION_DIR = "colab"
PATTERN = "[0-9][0-9]_*.ipynb"


class EditionError(RuntimeError):
    """A notebook holds something the Colab edition cannot show faithfully."""


# --------------------------------------------------------------------------- the book


@dataclass(frozen=True)
class Book:
    """What the edition needs to know about the book: its address and its bibliography."""

    title: str
    base_url: str  # ends with "/"
    citations: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)

    def page_url(self, docname: str) -> str:
        return f"{self.base_url}{docname}.html"

    @property
    def references_url(self) -> str:
        return self.page_url("book/references")


def _base_url(config: dict) -> str:
    base = ((config.get("html") or {}).get("baseurl") or "").strip()
    if not base:
        repo = config["repository"]["url"].rstrip("/").removesuffix(".git")
        m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", repo)
        if not m:
            raise EditionError(f"cannot derive the book's address from repository.url {repo!r}: set html.baseurl")
        owner, name = m.groups()
        base = f"https://{owner.lower()}.github.io/{name}/"
    return base.rstrip("/") + "/"


def _author_label(persons: list) -> str:
    """Last names as sphinxcontrib-bibtex's author_year style labels them in the book."""
    import codecs

    import latexcodec  # noqa: F401  (registers the "ulatex" codec; a dependency of pybtex)

    def plain(latex: str) -> str:
        return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")

    names = [plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


@functools.lru_cache(maxsize=None)
def load_book(root: Path = ROOT) -> Book:
    from pybtex.database import parse_file

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    citations = {}
    for bib in config.get("bibtex_bibfiles", []):
        for key, entry in parse_file(str(root / bib)).entries.items():
            persons = entry.persons.get("author") or entry.persons.get("editor")
            if not persons or "year" not in entry.fields:
                raise EditionError(f"{bib}: entry {key!r} needs an author (or editor) and a year")
            citations[key] = (_author_label(persons), entry.fields["year"])
    return Book(title=config["title"], base_url=_base_url(config), citations=citations)


# --------------------------------------------------------------------------- glue values


def glue_data(nb: dict) -> dict[str, dict]:
    """Every value ``glue`` stored in the notebook's outputs: name -> {"data": ..., "metadata": ...}.

    As myst-nb's ``extract_glue_data``: the scrapbook name in the output's metadata, the mime
    prefix stripped from the data's keys. A name glued twice is an error (myst-nb warns).
    """
    found: dict[str, dict] = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {})
            if "scrapbook" not in meta:
                continue
            name = meta["scrapbook"]["name"]
            prefix = len(meta["scrapbook"].get("mime_prefix", ""))
            if name in found:
                raise EditionError(f"glue name {name!r} is stored twice")
            found[name] = {
                "data": {k[prefix:]: v for k, v in output["data"].items()},
                "metadata": {k: v for k, v in meta.items() if k != "scrapbook"},
            }
    return found


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def format_plain_text(text: str, fmt_spec: str) -> str:
    """Format a glued ``text/plain`` value as ``{glue:text}`` does (myst_nb.core.variables)."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if fmt_spec == "":
        return str(value)
    type_char = fmt_spec[-1]
    if type_char == "s":
        value = str(value)
    elif type_char in ("b", "c", "d", "o", "x", "X"):
        value = int(value)
    elif type_char in ("e", "E", "f", "F", "g", "G", "n", "%"):
        value = float(value)
    return format(value, fmt_spec)


# myst-nb's render priority for the html builder, most preferred first.
MIME_PRIORITY = (
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/gif",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<$])")


def escape_markdown(text: str) -> str:
    """Backslash-escape what Markdown (or MathJax's ``$``) would read as markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


# --------------------------------------------------------------------------- Markdown conversion


@dataclass
class Context:
    """One notebook being converted: its glue values, the book, and where we are (for errors)."""

    book: Book
    glue: dict[str, dict]
    notebook: str  # e.g. "06_does_it_pay_off.ipynb"
    cell: int = -1

    @property
    def page_url(self) -> str:
        return self.book.page_url(f"{SOURCE_DIR}/{Path(self.notebook).stem}")

    def error(self, message: str) -> EditionError:
        return EditionError(f"{SOURCE_DIR}/{self.notebook}, cell {self.cell}: {message}")


# Inline: a code span (left alone: MyST parses no role inside one) or a role {name}`content`.
_INLINE = re.compile(
    r"(?P<code>(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`))"
    r"|\{(?P<role>[A-Za-z][\w:+.-]*)\}(?P<rticks>`+)(?P<content>.+?)(?P=rticks)",
    re.S,
)


def _glue_key(ctx: Context, key: str) -> dict:
    if "::" in key:
        raise ctx.error(f"glue from another document ({key!r}) is not supported in the Colab edition")
    if key not in ctx.glue:
        raise ctx.error(f"no glued value named {key!r} in the stored outputs (run the notebook first)")
    return ctx.glue[key]


def _role_glue_text(ctx: Context, content: str) -> str:
    parts = content.rsplit(":", 1)
    key, spec = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "s")
    data = _glue_key(ctx, key)["data"]
    if "text/plain" not in data:
        raise ctx.error(f"glue {key!r} has no text/plain value")
    try:
        return escape_markdown(format_plain_text(_text(data["text/plain"]), spec))
    except (TypeError, ValueError) as exc:
        raise ctx.error(f"cannot format glue {key!r} with {spec!r}: {exc}") from exc


def _role_glue_md(ctx: Context, content: str) -> str:
    key = content.rsplit(":", 1)[0]
    data = _glue_key(ctx, key)["data"]
    if "text/markdown" not in data:
        raise ctx.error(f"glue {key!r} has no text/markdown value")
    return convert_inline(_text(data["text/markdown"]).strip(), ctx)


def _role_glue_any(ctx: Context, content: str) -> str:
    entry = _glue_key(ctx, content)
    data = entry["data"]
    mime = next((m for m in MIME_PRIORITY if m in data), None)
    if mime == "text/markdown":
        return convert_inline(_text(data[mime]).strip(), ctx)
    if mime == "text/latex":
        latex = _text(data[mime]).strip().strip("$")
        return f"${latex}$"
    if mime == "text/plain":
        text = _text(data[mime])
        if entry["metadata"].get("strip_text_quotes", False) and re.fullmatch(r"^(['\"]).*\1$", text, re.S):
            text = text[1:-1]
        return escape_markdown(text)
    raise ctx.error(f"glue {content!r} would show {mime or 'nothing'} inline; the Colab edition shows text only")


def _cite(ctx: Context, content: str, textual: bool) -> str:
    if "{" in content:
        raise ctx.error(f"citation with pre- or post-text ({content!r}) is not supported")
    parts = []
    for key in (k.strip() for k in content.split(",")):
        if key not in ctx.book.citations:
            raise ctx.error(f"citation key {key!r} is not in the bibliography")
        authors, year = ctx.book.citations[key]
        label = f"{authors} ({year})" if textual else f"{authors}, {year}"
        parts.append(f"[{label}]({ctx.book.references_url})")
    return ", ".join(parts) if textual else f"({'; '.join(parts)})"


ROLES: dict[str, Callable[[Context, str], str]] = {
    "glue": _role_glue_any,
    "glue:": _role_glue_any,
    "glue:any": _role_glue_any,
    "glue:text": _role_glue_text,
    "glue:md": _role_glue_md,
    "cite": lambda ctx, c: _cite(ctx, c, textual=False),
    "cite:p": lambda ctx, c: _cite(ctx, c, textual=False),
    "cite:t": lambda ctx, c: _cite(ctx, c, textual=True),
    "math": lambda ctx, c: f"${c}$",
    "sub": lambda ctx, c: f"<sub>{c}</sub>",
    "sup": lambda ctx, c: f"<sup>{c}</sup>",
    "kbd": lambda ctx, c: f"<kbd>{html.escape(c)}</kbd>",
    "abbr": lambda ctx, c: c.split(" (")[0],
}


def convert_inline(text: str, ctx: Context) -> str:
    def replace(m: re.Match) -> str:
        if m.group("code"):
            return m.group("code")
        role = m.group("role")
        if role not in ROLES:
            raise ctx.error(
                f"MyST role {{{role}}} has no Colab conversion (in {m.group(0)!r}); "
                "add one to scripts/colab_edition.py"
            )
        return ROLES[role](ctx, m.group("content"))

    return _INLINE.sub(replace, text)


_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[^}\s]+)\}\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
_EXPLORER = re.compile(r'^[ \t]*<div class="cspnet-explorer"[^>]*>\s*</div>[ \t]*$', re.M)

ADMONITIONS = ("note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
               "error", "seealso")


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes ``fence`` opened at ``start - 1``, or -1."""
    char, n = fence[0], len(fence)
    close = re.compile(rf"^[ \t]*{re.escape(char)}{{{n},}}[ \t]*$")
    for i in range(start, len(lines)):
        if close.match(lines[i]):
            return i
    return -1


def _split_options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":  # YAML options block
        end = next((i for i in range(1, len(body)) if body[i].strip() == "---"), None)
        if end is not None:
            options = {str(k): str(v) for k, v in (yaml.safe_load("\n".join(body[1:end])) or {}).items()}
            body = body[end + 1:]
    while body and _OPTION.match(body[0].strip()):
        m = _OPTION.match(body[0].strip())
        options[m.group("key")] = m.group("value")
        body = body[1:]
    return options, body


def _dedent(lines: list[str], indent: str) -> list[str]:
    return [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def _directive(name: str, arg: str, body_lines: list[str], ctx: Context) -> str:
    options, body_lines = _split_options(body_lines)
    body = convert_markdown("\n".join(body_lines), ctx).strip("\n")
    if name == "dropdown":
        title = html.escape(convert_inline(arg.strip(), ctx), quote=False) or "Details"
        opened = " open" if "open" in options else ""
        return f"<details{opened}>\n<summary>{title}</summary>\n\n{body}\n\n</details>"
    if name == "admonition" or name in ADMONITIONS:
        title = convert_inline(arg.strip(), ctx) if name == "admonition" else ""
        title = title or ("See also" if name == "seealso" else name.capitalize())
        return _quote(f"**{title}**\n\n{body}" if body else f"**{title}**")
    if name == "math":
        return f"$$\n{body}\n$$"
    if name in ("code-block", "code", "sourcecode"):
        return f"```{arg.strip()}\n" + "\n".join(body_lines) + "\n```"
    raise ctx.error(f"MyST directive {{{name}}} has no Colab conversion; add one to scripts/colab_edition.py")


def convert_markdown(text: str, ctx: Context) -> str:
    """MyST Markdown -> Markdown that plain Jupyter and Colab render. Code and math left alone."""
    text = _EXPLORER.sub(
        "> On the book's page an explorer that runs in the browser, without Python, sits here "
        f"([open the page]({ctx.page_url})). In this notebook, the code cell that follows shows "
        "the same explorer as sliders.",
        text,
    )
    lines = text.split("\n")
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.append(convert_inline("\n".join(prose), ctx))
            prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FENCE.match(line)
        if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
            end = _closing(lines, i + 1, m.group("fence"))
            if end < 0:
                raise ctx.error(f"unclosed fence {line.strip()!r}")
            flush()
            d = _DIRECTIVE.match(m.group("info").strip())
            if d:
                body = _dedent(lines[i + 1:end], m.group("indent"))
                block = _directive(d.group("name"), d.group("arg"), body, ctx)
                out.append("\n".join(m.group("indent") + b if b else b for b in block.split("\n")))
            elif m.group("fence")[0] == ":":
                raise ctx.error(f"colon fence without a directive: {line.strip()!r}")
            else:  # a code block: verbatim
                out.append("\n".join(lines[i:end + 1]))
            i = end + 1
            continue
        if line.strip().startswith("$$"):  # display math: verbatim (MyST parses no role inside)
            rest = line.strip()[2:]
            end = i if "$$" in rest else next((j for j in range(i + 1, len(lines)) if "$$" in lines[j]), -1)
            if end < 0:
                raise ctx.error("unclosed $$ block")
            flush()
            out.append("\n".join(lines[i:end + 1]))
            i = end + 1
            continue
        prose.append(line)
        i += 1
    flush()
    return "\n".join(out)


# --------------------------------------------------------------------------- notebooks


def _source_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _note(ctx: Context, chapter: str) -> str:
    return (
        f"> **The Colab edition of chapter {chapter} of [*{ctx.book.title}*]({ctx.book.base_url})** "
        f"([this chapter in the book]({ctx.page_url})).\n"
        ">\n"
        "> The numbers in the text are the book's own run. The code cells print yours: exact counts\n"
        "> match, while timings and trained results differ a little from one machine to the next.\n"
        "> Run the first code cell first (in Colab it installs `cspnet_lib`), then *Runtime, Run all*.\n"
        ">\n"
        f"> Generated from `{SOURCE_DIR}/{ctx.notebook}` by `scripts/colab_edition.py`: edit that, not this."
    )


def _check_setup_cell(nb: dict, ctx: Context) -> None:
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            source = _text(cell["source"])
            if "google.colab" not in source or "pip install" not in source:
                ctx.cell = index
                raise ctx.error("the first code cell must be the Colab setup cell (pip install in google.colab)")
            return
    raise ctx.error("no code cell")


def make_edition(source: Path, book: Book) -> dict:
    """The Colab edition of one source notebook, as a notebook dict."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    ctx = Context(book=book, glue=glue_data(nb), notebook=source.name)
    _check_setup_cell(nb, ctx)
    chapter = str(int(source.name.split("_", 1)[0]))

    cells: list[dict] = [
        {"cell_type": "markdown", "id": "colab-edition-note", "metadata": {}, "source": _source_lines(_note(ctx, chapter))}
    ]
    for index, cell in enumerate(nb["cells"]):
        ctx.cell = index
        if cell["cell_type"] == "markdown":
            converted = convert_markdown(_text(cell["source"]), ctx)
            cells.append({**cell, "source": _source_lines(converted)})
            continue
        if cell["cell_type"] != "code":
            cells.append(cell)
            continue
        meta = {k: v for k, v in cell["metadata"].items() if k not in ("execution",)}
        tags = meta.get("tags", [])
        if "remove-cell" in tags or "hide-input" in tags or "remove-input" in tags:
            meta["jupyter"] = {**meta.get("jupyter", {}), "source_hidden": True}
        cells.append({**cell, "metadata": meta, "execution_count": None, "outputs": []})
        caption = (meta.get("mystnb") or {}).get("figure", {}).get("caption")
        if caption:
            cells.append({
                "cell_type": "markdown",
                "id": f"{cell.get('id', index)}-caption",
                "metadata": {},
                "source": _source_lines(f"**Figure.** {convert_markdown(caption, ctx)}"),
            })

    metadata = {
        **nb["metadata"],
        "colab": {"provenance": [], "toc_visible": True},
    }
    return {"cells": cells, "metadata": metadata, "nbformat": nb["nbformat"], "nbformat_minor": nb["nbformat_minor"]}


def render(nb: dict) -> str:
    """The bytes of a notebook file, deterministically (nbformat's own layout)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def sources(root: Path = ROOT) -> list[Path]:
    return sorted((root / SOURCE_DIR).glob(PATTERN))


def editions(root: Path = ROOT) -> dict[Path, str]:
    """Every edition that should exist: path -> file text."""
    book = load_book(root)
    return {root / EDITION_DIR / src.name: render(make_edition(src, book)) for src in sources(root)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed editions are current")
    args = parser.parse_args(argv)
    try:
        wanted = editions()
    except EditionError as exc:
        print(f"colab_edition: {exc}", file=sys.stderr)
        return 2
    stale = sorted(set((ROOT / EDITION_DIR).glob(PATTERN)) - set(wanted))
    changed = [p for p, text in wanted.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in changed + stale:
            print(f"out of date: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1 if changed or stale else 0
    (ROOT / EDITION_DIR).mkdir(exist_ok=True)
    for p in stale:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)}")
    for p in changed:
        p.write_text(wanted[p], encoding="utf-8", newline="\n")
        print(f"wrote {p.relative_to(ROOT)}")
    if not changed and not stale:
        print("colab editions are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

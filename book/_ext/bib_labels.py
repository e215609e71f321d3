"""The bibliography labelled the way the text cites it.

The text cites author-year ("Wang et al., 2020", ``bibtex_reference_style: author_year``), but
sphinxcontrib-bibtex labels the list with pybtex's alpha labels ("[WLW+20]", and "[XGDollar+17]"
for Dollár). This registers a pybtex formatting style, ``author_year_labels``
(``bibtex_default_style`` in _config.yml): pybtex's ``alpha`` style (sorted by author, year,
title) with each label built by the very template sphinxcontrib-bibtex uses for an author-year
citation, so a label reads exactly like the citations that link to it.

Listed in _config.yml (local_extensions).
"""

from __future__ import annotations

from typing import Any, Iterable

import pybtex.plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.template import join, year


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels such as "Wang et al., 2020", "Redmon and Farhadi, 2018", "Ardi, 2026"."""

    # The names template reads `data["style"].person`, so the style object carries one.
    person = PersonStyle()
    # As BasicAuthorYearParentheticalReferenceStyle.inner builds the citation text.
    template = join(sep=", ")[person.author_or_editor_or_title(full=False), year]

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterable[str]:
        for entry in sorted_entries:
            yield self.template.format_data({"entry": entry, "style": self}).render_as("text")


class AuthorYearLabelledStyle(AlphaStyle):
    """pybtex's alpha style (entries sorted by author, year, title), author-year labels."""

    default_label_style = AuthorYearLabelStyle


def setup(app: Any) -> dict:
    pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year_labels", AuthorYearLabelledStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

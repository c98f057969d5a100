"""Item text from a template over item columns: ``"{title}[. Genres: {genres}][. Tags: {tags}]"``.

``{column}`` is replaced by the column's value; a ``[...]`` part is kept only when every column it
names is non-empty for that item, so items without tags get no dangling "Tags:", and is left out
for every item when the items have no such column at all (the Amazon default names {description},
which only the metadata file has). Nothing is
evaluated: the template is parsed into literals and column names and built with polars.
"""

from __future__ import annotations

import logging
import re
import string

import polars as pl

log = logging.getLogger(__name__)

_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def template_expr(template: str, columns: list[str]) -> pl.Expr:
    """A polars expression rendering ``template`` for every row of a frame with ``columns``."""
    parts: list[pl.Expr] = []
    position = 0
    for match in _OPTIONAL.finditer(template):
        parts.append(_segment(template[position : match.start()], columns, template, optional=False))
        parts.append(_segment(match.group(1), columns, template, optional=True))
        position = match.end()
    parts.append(_segment(template[position:], columns, template, optional=False))
    return pl.concat_str(parts).str.strip_chars()


def _segment(text: str, columns: list[str], template: str, optional: bool) -> pl.Expr:
    pieces: list[pl.Expr] = []
    fields: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"dataset.text_template {template!r} does not parse: {error}") from None
    for literal, field, spec, conversion in parsed:
        if literal:
            pieces.append(pl.lit(literal))
        if field is None:
            continue
        if optional and not spec and not conversion and field not in columns:
            # an optional part naming a column this dataset lacks (e.g. {description} without the
            # Amazon metadata file) is left out for every item, so one template serves both layouts
            log.info(f"dataset.text_template: [{text}] left out, the items have no column {field!r}")
            return pl.lit("")
        if spec or conversion or field not in columns:
            raise ValueError(
                f"dataset.text_template {template!r} names {{{field}}}, but the item columns are {columns} "
                "(write plain {column} names)"
            )
        fields.append(field)
        pieces.append(pl.col(field).cast(pl.String).fill_null(""))
    rendered = pl.concat_str(pieces) if pieces else pl.lit("")
    if not optional or not fields:
        return rendered
    present = pl.all_horizontal([pl.col(f).cast(pl.String).fill_null("") != "" for f in fields])
    return pl.when(present).then(rendered).otherwise(pl.lit(""))

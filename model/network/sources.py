"""The sources the network and the care rules cite (model/data/sources.toml): article paragraphs, published figures."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from model.network.spec import SpecError

# How sure a citation's figures are, as a reader is told (sources.toml explains the marks).
CONFIDENCE_WORDS = {
    "primary": "",
    "secondary": "figure quoted by another source",
    "mixed": "some figures quoted by another source",
    "unsure": "figure not confirmed",
}


@dataclass(frozen=True)
class Source:
    """An article paragraph (kind "article", `text` its paraphrase) or a published figure (kind "citation", `text`
    the figures, with the `reference` they come from and the `confidence` of sources.toml)."""

    id: str
    kind: str
    text: str
    reference: str = ""
    confidence: str = ""

    @property
    def title(self) -> str:
        """Where it comes from, named in full: for a paragraph, the article, its section and the paragraph's number
        (`reference`); for figures, the reference with a word of caution when they are not from the primary source."""
        if self.kind == "article":
            return self.reference
        caution = CONFIDENCE_WORDS[self.confidence]
        return self.reference + (f" ({caution})" if caution else "")

    @property
    def line(self) -> str:
        """The source in one line, as the review tables quote it: the paraphrase, or the reference and figures."""
        return self.text if self.kind == "article" else f"{self.reference}: {self.text}"


def read_sources(text: str) -> dict[str, Source]:
    """The sources in `text` (TOML, as sources.toml) by id, paragraphs first; raises SpecError for an id given
    twice, a missing text or an unknown confidence mark."""
    raw = tomllib.loads(text)
    article = raw.get("article", {})
    sections = {row["id"]: row["title"] for row in raw.get("section", [])}
    found: dict[str, Source] = {}
    rows = [("article", row) for row in raw.get("paragraph", [])]
    rows += [("citation", row) for row in raw.get("citation", [])]
    for kind, row in rows:
        if kind == "article":
            section, _, number = row["id"].partition(".")
            if section not in sections or not number:
                raise SpecError(f"sources: paragraph {row['id']} is not <section>.<number> of a [[section]]")
            where = f'"{article.get("title", "the article")}" ({article.get("kind", "article")})'
            named = f'{where}, section "{sections[section]}", paragraph {number}'
            source = Source(row["id"], kind, row["summary"], named)
        else:
            source = Source(row["id"], kind, row["figures"], row["reference"], row.get("confidence", "unsure"))
            if source.confidence not in CONFIDENCE_WORDS:
                marks = ", ".join(CONFIDENCE_WORDS)
                raise SpecError(f"sources: {source.id}: confidence {source.confidence!r} is not one of {marks}")
        if source.id in found:
            raise SpecError(f"sources: {source.id} is listed twice")
        if not source.text.strip() or (kind == "citation" and not source.reference.strip()):
            raise SpecError(f"sources: {source.id} has no text")
        found[source.id] = source
    return found


@cache
def load_sources() -> dict[str, Source]:
    """Every source the network and the care rules may cite, by id (model/data/sources.toml, read once)."""
    return read_sources(resources.files("model").joinpath("data/sources.toml").read_text(encoding="utf-8"))

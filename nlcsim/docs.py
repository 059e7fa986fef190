"""Regenerate the tables in docs/ODD.md from the code: ``python -m nlcsim.docs``.

The parameter table comes from :data:`nlcsim.scenario.PARAMS` and the
measures tables from :data:`nlcsim.measures.COLUMNS` and ``OUTCOMES``; a test
fails when docs/ODD.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .measures import COLUMNS, OUTCOMES
from .scenario import EVENT_KINDS, parameter_table_markdown

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


def measures_table_markdown(table: dict[str, tuple[str, str]]) -> str:
    rows = ["| name | unit | definition |", "|---|---|---|"]
    rows += [f"| `{name}` | {unit} | {meaning} |" for name, (unit, meaning) in table.items()]
    return "\n".join(rows)


def events_table_markdown() -> str:
    rows = ["| kind | effect |", "|---|---|"]
    rows += [f"| `{k}` | {v} |" for k, v in EVENT_KINDS.items()]
    return "\n".join(rows)


BLOCKS = {
    "parameters": parameter_table_markdown,
    "columns": lambda: measures_table_markdown(COLUMNS),
    "outcomes": lambda: measures_table_markdown(OUTCOMES),
    "events": events_table_markdown,
}


def render(text: str) -> str:
    for name, make in BLOCKS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{make()}\n{end}{tail}"
    return text


def main() -> int:
    text = ODD.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        ODD.write_text(new, encoding="utf-8")
        print(f"updated {ODD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Errors a user can cause: shown as a message with no traceback by every command."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user asked for: shown as a message, no traceback."""


def problems_message(source: str, problems: list[str], what: str) -> str:
    """One message listing every problem found in a file."""
    n = len(problems)
    head = f"{source}: {n} problem{'s' if n != 1 else ''} in the {what}"
    return head + "\n" + "\n".join(f"  - {p}" for p in problems)

"""Errors a user can cause: shown as a message with no traceback by every command."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A mistake in what the user asked for: shown as a message, no traceback."""


def problems_message(source: str, problems: list[str], what: str) -> str:
    """One message listing every problem found in a file."""
    n = len(problems)
    head = f"{source}: {n} problem{'s' if n != 1 else ''} in the {what}"
    return head + "\n" + "\n".join(f"  - {p}" for p in problems)


def make_folder(folder: str | Path, flag: str) -> Path:
    """Make an output folder now, before any work, or say why it cannot be made."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"{flag} {folder}: a file is in the way (or in the path); give a folder") from None
    except OSError as err:
        raise UserError(f"{flag} {folder}: cannot make this folder ({err.strerror or err})") from None
    return folder

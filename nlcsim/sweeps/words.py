"""Counts in the sweeps' messages and reports: "1 run", "2 runs", never "1 runs".

>>> plural(1, "replicate"), plural(3, "run"), plural(0, "failed run"), plural(2, "batch", "batches")
('1 replicate', '3 runs', '0 failed runs', '2 batches')
"""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` followed by ``noun``, in the plural unless ``n`` is 1 (``many``, default ``noun + "s"``)."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"

"""Compiled loops for the few phases that NumPy cannot do in a handful of calls.

Kernels are compiled once per machine (``cache=True`` keeps the machine code
next to the source, in ``__pycache__``) and run the same arithmetic, in the
same order, as the array code they replace, so results stay bit-identical
(tests/test_pinned_outcomes.py).  No ``fastmath``: it would let the compiler
reorder sums.
"""

from __future__ import annotations

import numba

njit = numba.njit(cache=True, nogil=True, error_model="numpy")

"""The one base of every error a user can cause: ``UserError``.

A ``UserError`` says what is wrong and how to fix it in its message, ready to print as one
line; ``rassim``'s CLI catches this class alone (``sim/cli.py``) and exits 2. It lives in
``sender`` because ``sender`` is the bottom of the import graph: the sender's own
``PolicyError`` must derive from it, ``sender`` may not import ``sim``, and every
``sim`` layer may import ``sender``. The module imports nothing, so the purity of
``sender`` is untouched.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input from the user (a file, a field, an option); ``str(error)`` is the complete
    one-line message, naming where the problem is and the fix."""

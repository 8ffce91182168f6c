"""Import-time memory savings that must happen before the libraries are imported.

httpx's package __init__ imports its command line tool (click, rich, pygments: ~5 MB RSS)
whenever those happen to be installed. The gateway never uses the httpx CLI, so the
module is marked absent and httpx falls back to its stub.
"""

from __future__ import annotations

import sys


def apply() -> None:
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

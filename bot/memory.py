"""Long-lived objects kept out of the cyclic garbage collector's full passes.

Python's full collections walk every tracked object and stop the event loop while they do. The directory's
indexes hold hundreds of thousands of objects that live as long as the process, so once they are built (at
start-up, after a large import) they are moved to the permanent generation, which no collection walks.
Reference counting still frees them when they are replaced.
"""

from __future__ import annotations

import gc


def keep_long_lived(*, collect_all: bool = False) -> None:
    """Freeze every object tracked now. First collect the young generations (cheap), or every generation with
    `collect_all` (once, before serving): cyclic garbage that is frozen is never collected."""
    gc.collect(2 if collect_all else 1)
    gc.freeze()

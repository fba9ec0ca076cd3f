"""Random WAMP ids for the test router."""

import random

# WAMP ids are integers in [1, 2^53] so that they survive JSON / IEEE doubles.
MAX_ID = 2 ** 53

_rng = random.SystemRandom()


def new_id(in_use=()):
    """A random id in [1, 2^53] that is not in `in_use` (a container of ids)."""
    while True:
        candidate = _rng.randint(1, MAX_ID)
        if candidate not in in_use:
            return candidate

"""Garbage-collector settings for the long-running server processes (daphne)."""

import gc

# Python's young generations as they are (700, 10): their collections take well under a
# millisecond. A full collection is considered after 100 collections of the middle generation
# instead of 10: the old generation holds every socket's objects, so each pass over it is long.
THRESHOLDS = (700, 10, 100)


def gc_tune() -> None:
    """Keep collector pauses off the sockets: call once the application is loaded.

    A full collection walks every tracked object and stops the event loop meanwhile; over
    Django's import graph alone that pauses every socket of the process for a long time. What is
    alive after startup (modules, settings, URL patterns, models) lives as long as the process,
    so it is frozen out of collections, and full collections over what remains are rarer.
    """
    gc.collect()  # start from a clean heap: nothing cyclic and already dead gets frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

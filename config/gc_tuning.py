"""Garbage-collector settings for the long-running server processes (daphne)."""

import gc

# Young-generation size and how many collections of one generation trigger the next. Python's
# defaults (700, 10, 10) suit short scripts; a server process allocates millions of short-lived
# objects per minute, nearly all freed by reference counting without any collection.
THRESHOLDS = (10_000, 50, 100)


def gc_tune() -> None:
    """Keep collector pauses off the sockets: call once the application is loaded.

    A full collection walks every tracked object and stops the event loop meanwhile: over
    Django's import graph alone that took 100-250 ms on a small VM, and every socket of the
    process waited (it was the p99 of leaderboard fan-outs and of token streams). What is alive
    after startup (modules, settings, URL patterns, models) lives as long as the process, so it
    is frozen out of collections; a larger young generation makes collections rarer.
    """
    gc.collect()  # start from a clean heap: nothing cyclic and already dead gets frozen
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

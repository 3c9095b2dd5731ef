"""Leaderboards: Redis sorted sets for speed, the game's tables in the database as the truth.

`boards` names the boards and keys and encodes scores, `writes` puts a turn's scores in Redis
after commit, `ranking` orders the tables in SQL, `reads` answers from Redis once a board is
ready there and from SQL otherwise, `rebuild` refills Redis from the tables.
"""

"""Leaderboards: Redis sorted sets for speed, the XP ledger in the database as the truth.

`boards` names the keys and encodes scores, `writes` puts an award's scores in Redis after
commit, `ranking` orders the ledger in SQL, `reads` answers from Redis once a board is ready and
from SQL otherwise, `rebuild` refills Redis from the ledger.
"""

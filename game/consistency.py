"""Checks that the counters on the user match the ledgers, and repairs them from the ledgers."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Sum

from game.levels import level_for_xp, rank_for_level
from game.models import CreditEntry, PlayerStats, XPEvent

User = get_user_model()


@dataclass(frozen=True)
class Mismatch:
    user_id: str
    field: str
    stored: object
    expected: object


def progress_check(*, repair: bool = False) -> list[Mismatch]:
    """Every user whose XP, level, rank or credits disagree with the ledgers (fixed when `repair`)."""
    xp = dict(XPEvent.objects.values("user_id").annotate(t=Sum("amount")).values_list("user_id", "t"))
    last = dict(XPEvent.objects.values("user_id").annotate(m=Max("id")).values_list("user_id", "m"))
    credits = dict(CreditEntry.objects.values("user_id").annotate(t=Sum("delta")).values_list("user_id", "t"))
    found: list[Mismatch] = []
    rows = User.objects.values_list("id", "experience_points", "level", "user_rank", "credits")
    for uid, stored_xp, level, rank, balance in rows.iterator():
        total = xp.get(uid, 0)
        expected = {
            "experience_points": total,
            "level": level_for_xp(total),
            "user_rank": rank_for_level(level_for_xp(total)),
            "credits": credits.get(uid, 0),
        }
        stored = {"experience_points": stored_xp, "level": level, "user_rank": rank, "credits": balance}
        wrong = {f: v for f, v in expected.items() if stored[f] != v}
        found += [Mismatch(str(uid), f, stored[f], v) for f, v in wrong.items()]
        if repair and wrong:
            with transaction.atomic():
                User.objects.filter(pk=uid).update(**wrong)
        if repair and total:
            PlayerStats.objects.filter(pk=uid).exclude(last_xp_event_id=last[uid]).update(last_xp_event_id=last[uid])
    return found

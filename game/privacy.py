"""game's part of a learner's export and erasure: ledgers, badges, streak and bests; off the leaderboards."""

from typing import Any

from django.utils import timezone

from accounts.privacy import PrivacyPart
from game.broadcast import Outbox
from game.leaderboards.boards import BOARDS, challenge_board
from game.leaderboards.writes import leaderboard_remove
from game.models import BadgeUnlock, ChallengeBest, CreditEntry, XPEvent
from game.selectors import player_stats
from game.serializers import CreditEntrySerializer, XPEventSerializer


def export(*, user) -> dict[str, Any]:
    stats = player_stats(user)
    bests = ChallengeBest.objects.filter(user_id=user.pk).order_by("passed_at", "pk")
    return {
        "xp_events": XPEventSerializer(XPEvent.objects.filter(user_id=user.pk).order_by("id"), many=True).data,
        "credit_entries": CreditEntrySerializer(
            CreditEntry.objects.filter(user_id=user.pk).order_by("id"), many=True
        ).data,
        "badges": [
            {"badge": slug, "unlocked_at": at.isoformat()}
            for slug, at in BadgeUnlock.objects.filter(user_id=user.pk).values_list("badge", "unlocked_at")
        ],
        "streak": {"days": stats.streak_days, "best": stats.streak_best, "last_date": stats.streak_last_date},
        "skill_points": stats.skill_points,
        "challenge_bests": [
            {"challenge": b.challenge, "score": b.score, "prompt_tokens": b.prompt_tokens, "at": b.achieved_at}
            for b in bests
        ],
    }


def erase(*, user, heir) -> None:
    """The ledgers stay, pointing at the anonymised row (so totals stay true); the player leaves every board.

    SQL ranks leave out deleted accounts (game.leaderboards.ranking); Redis drops them after commit
    and every process's widgets re-read the boards.
    """
    slugs = ChallengeBest.objects.filter(user_id=user.pk).values_list("challenge", flat=True)
    boards = [*BOARDS, *(challenge_board(slug) for slug in slugs)]
    user_id, moment = user.pk, timezone.now()
    outbox = Outbox()
    outbox.then(lambda: leaderboard_remove(user_id=user_id, boards=boards, moment=moment))
    outbox.leaderboards_changed(boards)
    outbox.send_on_commit()


part = PrivacyPart(name="game", export=export, erase=erase)

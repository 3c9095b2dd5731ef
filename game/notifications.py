"""The notification list: live events worth keeping, written with the change they report, read marks.

Which events become notifications (the rest are only live frames):
- `xp.awarded`, `level.up`, `badge.unlocked`: every one.
- `streak.updated`: from two days on (a first day is no news; the toast says the same).
- `credits.changed`: only credits given (welcome credits, level-ups, badges, streak milestones,
  grants). A run or attempt moves credits twice (its reservation, then the unused part back):
  that bookkeeping is in the credit ledger, and as notifications it would bury everything else.

A user keeps the newest `GAME_NOTIFICATIONS_KEPT`; each write trims older ones in one statement.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from game.broadcast import Outbox
from game.events import CreditsChanged, Message, NotificationsRead, StreakUpdated
from game.models import Notification

QUIET_CREDIT_REASONS = frozenset({"run.refund", "attempt.refund"})
NOTIFIED_KINDS = frozenset({"xp.awarded", "level.up", "badge.unlocked", "streak.updated", "credits.changed"})


def worth_keeping(event: Message) -> bool:
    kind = getattr(event, "type", "")
    if kind not in NOTIFIED_KINDS:
        return False
    if isinstance(event, CreditsChanged):
        return event.delta > 0 and event.reason not in QUIET_CREDIT_REASONS
    if isinstance(event, StreakUpdated):
        return event.days > 1
    return True


def notification_record(user_id, event: Message) -> Notification | None:
    """Keep `event` in the user's list if it is worth it; call inside the transaction that made it."""
    if not worth_keeping(event):
        return None
    row = Notification.objects.create(user_id=user_id, kind=event.type, payload=event.model_dump(exclude={"type"}))
    _trim(user_id)
    return row


def _trim(user_id) -> None:
    kept = settings.GAME_NOTIFICATIONS_KEPT
    # The newest row beyond the kept ones (none while there are fewer): it and every older row go.
    cutoff = Notification.objects.filter(user_id=user_id).order_by("-id").values("id")[kept : kept + 1]
    Notification.objects.filter(user_id=user_id, id__lte=Subquery(cutoff)).delete()


def notification_list(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user_id=user.pk)
    if unread_only:
        return rows.filter(read_at__isnull=True).order_by("-created_at", "-id")
    return rows.order_by("-id")


def unread_count(*, user_id) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notifications_mark_read(*, user_id, ids: list[int] | None = None, everything: bool = False) -> tuple[int, int]:
    """Mark the user's notifications `ids` (others' are ignored) or all of them read: (marked, unread left).

    Every socket of the user hears `notifications.read` after commit, so other devices update their count.
    """
    outbox = Outbox()
    with transaction.atomic():
        # The user row first, as every game write locks it: one lock order, no deadlock with a trim.
        get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True).first()
        unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
        chosen = unread if everything else unread.filter(pk__in=ids or [])
        marked_ids = sorted(chosen.values_list("pk", flat=True))
        marked = Notification.objects.filter(pk__in=marked_ids).update(read_at=timezone.now())
        left = unread_count(user_id=user_id)
        if marked:
            outbox.add(user_id, NotificationsRead(ids=[] if everything else marked_ids, all=everything, unread=left))
            outbox.send_on_commit()
    return marked, left

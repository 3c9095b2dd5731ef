"""The insights documents: a learner's, a template's and a challenge's (for its author), the platform's.

Each reads the rollups plus the live slice (`insights.readers`) for a `Window` in the viewer's
zone, and is zero-filled over the window's buckets so that charts need no gap handling.
"""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model

from challenges.models import Challenge, ChallengeVersion
from game.models import PlayerStats
from game.rules import SKILL_WEIGHTS
from insights import facts
from insights.readers import (
    RUN_FIELDS,
    RUN_SUMS,
    Slice,
    fetch,
    histogram_sql,
    local_bucket_sql,
    local_day_sql,
    percentiles,
    run_histograms_sql,
)
from insights.windows import Window, bucket_start
from prompts.models import PromptTemplate, Rating

User = get_user_model()


def _ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def _rates(row: dict) -> dict[str, float | None]:
    runs = row.get("runs") or 0
    return {
        "success_rate": _ratio(row.get("completed") or 0, runs),
        "failure_rate": _ratio(row.get("failed") or 0, runs),
        "cancel_rate": _ratio(row.get("cancelled") or 0, runs),
    }


def _int(row: dict | None, name: str) -> int:
    return int((row or {}).get(name) or 0)


def _bucketed(window: Window, daily: dict[date, dict], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Daily rows summed into the window's buckets, every bucket present."""
    sums: dict[date, dict[str, int]] = {key: dict.fromkeys(fields, 0) for key in window.buckets()}
    for day, row in daily.items():
        target = sums.get(bucket_start(day, window.bucket))
        if target is None:
            continue
        for name in fields:
            target[name] += _int(row, name)
    return [{"start": key.isoformat(), **values} for key, values in sums.items()]


def _merge_series(*series: list[dict]) -> list[dict]:
    merged: dict[str, dict] = {}
    for rows in series:
        for row in rows:
            merged.setdefault(row["start"], {}).update(row)
    return list(merged.values())


def _run_scan(source: str, params: dict) -> tuple[dict[date, dict], list[dict]]:
    """The runs' sums per local day and per model, in one scan of `source`."""
    day = local_day_sql()
    rows = fetch(
        f"SELECT {day} AS day, model, GROUPING(model) AS by_day, {RUN_SUMS} FROM {source} s "
        f"GROUP BY GROUPING SETS (({day}), (model))",
        params,
    )
    daily = {row["day"]: row for row in rows if row["by_day"]}
    models = sorted((row for row in rows if not row["by_day"]), key=lambda row: (-row["runs"], row["model"]))
    by_model = [
        {"model": row["model"], "provider": row["model"].split(":", 1)[0], **{name: row[name] for name in RUN_FIELDS}}
        for row in models
    ]
    return daily, by_model


def _latency(source: str, params: dict) -> dict[str, int | None]:
    """Median and p95 first-token time and latency over `source`'s (grp, ttft_hist, latency_hist) rows."""
    rows = fetch(run_histograms_sql(source), params)
    ttft = percentiles((row for row in rows if row["kind"] == "ttft"), (0.5, 0.95))
    latency = percentiles((row for row in rows if row["kind"] == "latency"), (0.5, 0.95))
    return {
        "median_ttft_ms": ttft[0.5],
        "p95_ttft_ms": ttft[0.95],
        "median_latency_ms": latency[0.5],
        "p95_latency_ms": latency[0.95],
    }


def _totals(rows: dict[date, dict]) -> dict[str, int]:
    return {name: sum(_int(row, name) for row in rows.values()) for name in RUN_FIELDS}


# --- the learner ----------------------------------------------------------------------------


def learner_insights(*, user, window: Window, rolled_until) -> dict[str, Any]:
    """The caller's own runs, tokens, credits, XP, skill, streak calendar and challenges over the window."""
    part = Slice(window.start, window.end, rolled_until)
    params = {"user": user.pk, "tz": window.tz_name}
    runs_src, p = part.sql(facts.USER_RUNS, rollup_where="AND user_id = %(user)s", raw_where="AND user_id = %(user)s")
    params |= p
    runs_daily, by_model = _run_scan(runs_src, params)
    ledger_src, p = part.sql(
        facts.USER_LEDGER, rollup_where="AND user_id = %(user)s", raw_where="AND user_id = %(user)s"
    )
    ledger_daily = {
        row["day"]: row
        for row in fetch(
            f"SELECT {local_day_sql()} AS day, sum(xp)::bigint AS xp, sum(credits_spent)::bigint AS credits_spent, "
            f"sum(credits_earned)::bigint AS credits_earned FROM {ledger_src} s GROUP BY 1",
            params | p,
        )
    }
    challenges_doc, skill_daily, challenge_daily = _learner_challenges(user, window, part, params)

    series = _merge_series(
        _bucketed(window, runs_daily, RUN_FIELDS),
        _bucketed(window, ledger_daily, ("xp", "credits_spent", "credits_earned")),
        _bucketed(window, challenge_daily, ("attempts", "passed")),
    )
    running_xp = 0
    skill_by_bucket = {bucket_start(day, window.bucket): value for day, value in sorted(skill_daily.items())}
    skill = 0
    for row in series:
        running_xp += row["xp"]
        row["xp_cumulative"] = running_xp
        skill = skill_by_bucket.get(date.fromisoformat(row["start"]), skill)
        row["skill"] = skill
        row.update(_rates(row))

    totals = _totals(runs_daily)
    stats = PlayerStats.objects.filter(user=user).values("streak_days", "streak_best", "skill_points").first() or {}
    return {
        "window": window.describe(),
        "totals": {
            **totals,
            **_rates(totals),
            **_latency(*_user_histograms(user, part, params)),
            "xp_earned": sum(_int(row, "xp") for row in ledger_daily.values()),
            "credits_spent": sum(_int(row, "credits_spent") for row in ledger_daily.values()),
            "credits_earned": sum(_int(row, "credits_earned") for row in ledger_daily.values()),
            "challenges_attempted": len(challenges_doc),
            "challenges_passed": sum(1 for c in challenges_doc if c["passed"]),
            "skill_points": stats.get("skill_points", 0),
        },
        "series": series,
        "by_model": by_model,
        "calendar": _calendar(window, runs_daily, ledger_daily),
        "streak": {"current": stats.get("streak_days", 0), "best": stats.get("streak_best", 0)},
        "challenges": challenges_doc,
    }


def _user_histograms(user, part: Slice, params: dict) -> tuple[str, dict]:
    where = "AND user_id = %(user)s"
    source, p = part.histogram_sql(
        facts.USER_RUNS, scope="user", rollup_where=where, raw_where=where, day_where="AND key = %(user_key)s"
    )
    return source, params | p | {"user_key": str(user.pk)}


def _calendar(window: Window, runs_daily: dict, ledger_daily: dict) -> list[dict]:
    """One entry per local day: active when it had a run or XP (what a streak counts on)."""
    days = []
    for offset in range(window.days):
        day = window.first + timedelta(days=offset)
        runs, xp = _int(runs_daily.get(day), "runs"), _int(ledger_daily.get(day), "xp")
        days.append({"date": day.isoformat(), "runs": runs, "xp": xp, "active": bool(runs or xp)})
    return days


def _learner_challenges(user, window: Window, part: Slice, params: dict):
    source, p = part.sql(facts.CHALLENGES, rollup_where="AND user_id = %(user)s", raw_where="AND user_id = %(user)s")
    rows = fetch(
        f"SELECT challenge_id, {local_day_sql()} AS day, sum(attempts)::bigint AS attempts, "
        f"sum(passed)::bigint AS passed, max(best_score) AS best_score FROM {source} s GROUP BY 1, 2 ORDER BY 2",
        params | p,
    )
    meta = {c.pk: c for c in Challenge.objects.filter(pk__in={row["challenge_id"] for row in rows})}
    per_challenge: dict[int, dict] = {}
    daily: dict[date, dict] = defaultdict(lambda: {"attempts": 0, "passed": 0})
    skill_daily: dict[date, int] = {}
    best: dict[int, int] = {}
    for row in rows:
        challenge = meta.get(row["challenge_id"])
        if challenge is None:
            continue
        daily[row["day"]]["attempts"] += row["attempts"]
        daily[row["day"]]["passed"] += row["passed"]
        entry = per_challenge.setdefault(
            challenge.pk,
            {
                "slug": challenge.slug,
                "title": challenge.title,
                "attempts": 0,
                "passed": 0,
                "best_score": 0,
                "progress": [],
            },
        )
        entry["attempts"] += row["attempts"]
        entry["passed"] += row["passed"]
        if row["best_score"] > entry["best_score"]:
            entry["best_score"] = row["best_score"]
        key = bucket_start(row["day"], window.bucket).isoformat()
        if entry["progress"] and entry["progress"][-1]["start"] == key:
            entry["progress"][-1]["best_score"] = entry["best_score"]
        else:
            entry["progress"].append({"start": key, "best_score": entry["best_score"]})
        if row["passed"]:
            best[challenge.pk] = max(best.get(challenge.pk, 0), row["best_score"])
            skill_daily[row["day"]] = sum(
                score * SKILL_WEIGHTS.get(meta[pk].difficulty, 1) for pk, score in best.items()
            )
    ordered = sorted(per_challenge.values(), key=lambda c: (-c["attempts"], c["slug"]))
    return ordered, skill_daily, dict(daily)


# --- authors --------------------------------------------------------------------------------


def template_insights(*, template: PromptTemplate, window: Window, rolled_until) -> dict[str, Any]:
    """A template's uses, runners, ratings, forks, model mix and cost over the window."""
    part = Slice(window.start, window.end, rolled_until)
    params = {"template": template.pk, "tz": window.tz_name}
    where = "AND template_id = %(template)s"
    source, p = part.sql(facts.TEMPLATE_RUNS, rollup_where=where, raw_where=where)
    params |= p
    daily, by_model = _run_scan(source, params)
    runners = {
        row["start"]: row["runners"]
        for row in fetch(
            f"SELECT {local_bucket_sql(window.bucket)} AS start, count(DISTINCT user_id) AS runners "
            f"FROM {source} s GROUP BY 1",
            params,
        )
    }
    ratings = Rating.objects.filter(template=template, created_at__gte=window.start, created_at__lt=window.end)
    rating_daily: dict[date, dict] = defaultdict(lambda: {"ratings": 0, "rating_sum": 0})
    for created_at, score in ratings.values_list("created_at", "score"):
        day = created_at.astimezone(window.zone).date()
        rating_daily[day]["ratings"] += 1
        rating_daily[day]["rating_sum"] += score
    forks = PromptTemplate.objects.filter(
        forked_from=template, created_at__gte=window.start, created_at__lt=window.end
    ).values_list("created_at", flat=True)
    fork_daily: dict[date, dict] = defaultdict(lambda: {"forks": 0})
    for created_at in forks:
        fork_daily[created_at.astimezone(window.zone).date()]["forks"] += 1

    series = _merge_series(
        _bucketed(window, daily, RUN_FIELDS),
        _bucketed(window, rating_daily, ("ratings", "rating_sum")),
        _bucketed(window, fork_daily, ("forks",)),
    )
    for row in series:
        row["runners"] = runners.get(date.fromisoformat(row["start"]), 0)
        row["rating_avg"] = round(row["rating_sum"] / row["ratings"], 2) if row["ratings"] else None
        row["avg_cost"] = _ratio(row["cost_credits"], row["runs"])
    distribution = dict.fromkeys(range(1, 6), 0)
    for score in template.ratings.values_list("score", flat=True):
        distribution[score] += 1
    totals = _totals(daily)
    unique = fetch(f"SELECT count(DISTINCT user_id) AS n FROM {source} s", params)[0]["n"]
    return {
        "template": {"id": str(template.pk), "title": template.title, "version": template.version},
        "window": window.describe(),
        "totals": {
            **totals,
            **_rates(totals),
            "runners": unique,
            "avg_cost": _ratio(totals["cost_credits"], totals["runs"]),
            "usage_count": template.usage_count,
            "rating_avg": float(template.rating_avg),
            "rating_count": template.rating_count,
            "favorites_count": template.favorites_count,
            "forks_count": template.forks.count(),
            "forks_in_window": sum(row["forks"] for row in series),
        },
        "series": series,
        "rating_distribution": [{"score": score, "count": n} for score, n in distribution.items()],
        "by_model": by_model,
    }


def _case_visibility(challenge: Challenge) -> dict[str, bool]:
    """Every case id any version of the challenge had, and whether it is hidden (ids are never reused)."""
    hidden: dict[str, bool] = {}
    documents = [challenge.cases, *ChallengeVersion.objects.filter(challenge=challenge).values_list("cases", flat=True)]
    for cases in documents:
        for case in cases or []:
            hidden.setdefault(str(case.get("id")), bool(case.get("hidden")))
    return hidden


def challenge_insights(*, challenge: Challenge, window: Window, rolled_until) -> dict[str, Any]:
    """For the challenge's author: attempts, pass rate, the cases failed most, tokens of passing prompts vs par."""
    part = Slice(window.start, window.end, rolled_until)
    params = {"challenge": challenge.pk, "tz": window.tz_name}
    source, p = part.sql(
        facts.CHALLENGES, rollup_where="AND challenge_id = %(challenge)s", raw_where="AND challenge_id = %(challenge)s"
    )
    params |= p
    daily = {
        row["day"]: row
        for row in fetch(
            f"SELECT {local_day_sql()} AS day, sum(attempts)::bigint AS attempts, sum(finished)::bigint AS finished, "
            f"sum(passed)::bigint AS passed, sum(cost_credits)::bigint AS cost_credits FROM {source} s GROUP BY 1",
            params,
        )
    }
    series = _bucketed(window, daily, ("attempts", "finished", "passed", "cost_credits"))
    for row in series:
        row["pass_rate"] = _ratio(row["passed"], row["finished"])
    cases_src, cp = part.sql(
        facts.CASES, rollup_where="AND challenge_id = %(challenge)s", raw_where="AND a.challenge_id = %(challenge)s"
    )
    visibility = _case_visibility(challenge)
    cases = [
        {**row, "hidden": visibility.get(row["case_id"], True), "fail_rate": _ratio(row["failed"], row["samples"])}
        for row in fetch(
            f"SELECT case_id, sum(samples)::bigint AS samples, sum(failed)::bigint AS failed FROM {cases_src} s "
            f"GROUP BY case_id ORDER BY 3 DESC, 2 DESC, case_id",
            params | cp,
        )
    ]
    tokens = percentiles(fetch(histogram_sql(source, "pass_tokens_hist"), params), (0.5,))[0.5]
    users = fetch(f"SELECT count(DISTINCT user_id) AS n FROM {source} s", params)[0]["n"]
    attempts = sum(row["attempts"] for row in series)
    finished = sum(row["finished"] for row in series)
    passed = sum(row["passed"] for row in series)
    return {
        "challenge": {"slug": challenge.slug, "title": challenge.title, "par_tokens": challenge.par_tokens},
        "window": window.describe(),
        "totals": {
            "attempts": attempts,
            "finished": finished,
            "passed": passed,
            "pass_rate": _ratio(passed, finished),
            "users": users,
            "median_pass_prompt_tokens": tokens,
            "par_tokens": challenge.par_tokens,
        },
        "series": series,
        "failing_cases": cases,
    }


# --- the platform ---------------------------------------------------------------------------


def platform_insights(*, window: Window, rolled_until) -> dict[str, Any]:
    """Staff: active users, runs by model and provider, tokens, credits, latency, errors, top content, sign-ups."""
    part = Slice(window.start, window.end, rolled_until)
    params: dict = {"tz": window.tz_name}
    source, p = part.sql(facts.MODEL_RUNS)
    params |= p
    daily, by_model = _run_scan(source, params)
    by_provider_day = fetch(
        f"SELECT {local_day_sql()} AS day, provider, sum(runs)::bigint AS runs FROM {source} s GROUP BY 1, 2", params
    )
    providers = sorted({row["provider"] for row in by_provider_day})
    provider_daily: dict[date, dict] = defaultdict(dict)
    for row in by_provider_day:
        provider_daily[row["day"]][f"runs:{row['provider']}"] = row["runs"]
    hist_source, hp = part.histogram_sql(facts.MODEL_RUNS, scope="provider", group="provider")
    latency = _provider_latency(hist_source, params | hp)
    errors = fetch(
        f"SELECT error_code, provider, sum(runs)::bigint AS runs FROM {source} s WHERE error_code <> '' "
        f"GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        params,
    )
    active = _active_users(window, rolled_until)
    signups = _signups(window, rolled_until)
    series = _merge_series(
        _bucketed(window, daily, RUN_FIELDS),
        _bucketed(window, provider_daily, tuple(f"runs:{name}" for name in providers)),
        _bucketed(window, signups["daily"], ("new_users", "new_users_active")),
    )
    for row in series:
        row["active_users"] = active["by_bucket"].get(date.fromisoformat(row["start"]), 0)
        row["by_provider"] = {name: row.pop(f"runs:{name}") for name in providers}
    totals = _totals(daily)
    return {
        "window": window.describe(),
        "totals": {
            **totals,
            **_rates(totals),
            "users": User.objects.count(),
            "active_users": active["total"],
            "dau": active["dau"],
            "wau": active["wau"],
            "mau": active["mau"],
            "new_users": signups["total"],
            "new_users_active_first_day": signups["active"],
            "new_users_first_day_runs": signups["runs"],
        },
        "series": series,
        "providers": providers,
        "by_model": by_model,
        "latency_by_provider": latency,
        "errors": errors,
        "top_templates": _top_templates(part, params),
        "top_challenges": _top_challenges(part, params),
    }


def _provider_latency(source: str, params: dict) -> list[dict]:
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in fetch(run_histograms_sql(source, group="s.grp"), params):
        grouped[(row["grp"], row["kind"])].append(row)
    out: dict[str, dict] = {}
    for (provider, kind), rows in grouped.items():
        values = percentiles(rows, (0.5, 0.95))
        entry = out.setdefault(provider, {"provider": provider})
        entry[f"p50_{kind}_ms"], entry[f"p95_{kind}_ms"] = values[0.5], values[0.95]
    return [out[name] for name in sorted(out)]


def _active_users(window: Window, rolled_until) -> dict:
    """Distinct users with a run: per bucket, in the window, and DAU/WAU/MAU on its last day."""
    month = Window(first=min(window.first, window.last - timedelta(days=29)), last=window.last,
                   tz_name=window.tz_name, bucket=window.bucket)  # fmt: skip
    source, p = Slice(month.start, month.end, rolled_until).sql(facts.USER_RUNS)
    params = {"tz": window.tz_name, **p}
    day = window.last
    bounds = {"d1": day, "d7": day - timedelta(days=6), "d30": day - timedelta(days=29), "first": window.first}
    day, bucket = local_day_sql(), local_bucket_sql(window.bucket)
    rows = fetch(
        f"SELECT {bucket} AS start, GROUPING({bucket}) AS overall, "
        f"count(DISTINCT user_id) FILTER (WHERE {day} >= %(first)s) AS total, "
        f"count(DISTINCT user_id) FILTER (WHERE {day} >= %(d1)s) AS dau, "
        f"count(DISTINCT user_id) FILTER (WHERE {day} >= %(d7)s) AS wau, "
        f"count(DISTINCT user_id) FILTER (WHERE {day} >= %(d30)s) AS mau "
        f"FROM {source} s GROUP BY GROUPING SETS (({bucket}), ())",
        params | bounds,
    )
    overall = next((r for r in rows if r["overall"]), {"total": 0, "dau": 0, "wau": 0, "mau": 0})
    row = {name: overall[name] for name in ("total", "dau", "wau", "mau")}
    by_bucket = {r["start"]: r["total"] for r in rows if not r["overall"] and r["total"]}
    return {**row, "by_bucket": by_bucket}


def _signups(window: Window, rolled_until) -> dict:
    """Users who joined in the window, per local day, and what they did in their first 24 hours."""
    joined = User._meta.db_table
    newcomers = f"AND user_id IN (SELECT id FROM {joined} WHERE date_joined >= %(w_lo)s AND date_joined < %(w_hi)s)"
    source, p = Slice(window.start, window.end + timedelta(days=1), rolled_until).sql(
        facts.USER_RUNS, rollup_where=newcomers, raw_where=newcomers
    )
    params = {"tz": window.tz_name, "w_lo": window.start, "w_hi": window.end, **p}
    first_day = f"s.slot >= {facts.slot_of('j.date_joined')} AND s.slot < j.date_joined + interval '1 day'"
    rows = fetch(
        f"SELECT (u.date_joined AT TIME ZONE %(tz)s)::date AS day, count(*) AS new_users, "
        f"count(*) FILTER (WHERE coalesce(f.runs, 0) > 0) AS new_users_active, "
        f"coalesce(sum(f.runs), 0)::bigint AS runs "
        f"FROM {joined} u LEFT JOIN (SELECT s.user_id, sum(s.runs) AS runs FROM {source} s JOIN {joined} j "
        f"ON j.id = s.user_id AND {first_day} GROUP BY s.user_id) f ON f.user_id = u.id "
        f"WHERE u.date_joined >= %(w_lo)s AND u.date_joined < %(w_hi)s GROUP BY 1",
        params,
    )
    daily = {row["day"]: row for row in rows}
    return {
        "daily": daily,
        "total": sum(row["new_users"] for row in rows),
        "active": sum(row["new_users_active"] for row in rows),
        "runs": sum(row["runs"] for row in rows),
    }


def _top_templates(part: Slice, params: dict) -> list[dict]:
    source, p = part.sql(facts.TEMPLATE_RUNS)
    rows = fetch(
        f"SELECT template_id, sum(runs)::bigint AS runs, count(DISTINCT user_id) AS runners FROM {source} s "
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
        params | p,
    )
    titles = dict(PromptTemplate.objects.filter(pk__in=[r["template_id"] for r in rows]).values_list("pk", "title"))
    return [
        {"id": str(r["template_id"]), "title": titles[r["template_id"]], "runs": r["runs"], "runners": r["runners"]}
        for r in rows
        if r["template_id"] in titles
    ]


def _top_challenges(part: Slice, params: dict) -> list[dict]:
    source, p = part.sql(facts.CHALLENGES)
    rows = fetch(
        f"SELECT challenge_id, sum(attempts)::bigint AS attempts, sum(passed)::bigint AS passed, "
        f"sum(finished)::bigint AS finished FROM {source} s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
        params | p,
    )
    meta = {c.pk: c for c in Challenge.objects.filter(pk__in=[r["challenge_id"] for r in rows])}
    return [
        {
            "slug": meta[r["challenge_id"]].slug,
            "title": meta[r["challenge_id"]].title,
            "attempts": r["attempts"],
            "passed": r["passed"],
            "pass_rate": _ratio(r["passed"], r["finished"]),
        }
        for r in rows
        if r["challenge_id"] in meta
    ]

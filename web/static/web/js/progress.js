// Level progress from the game profile, whatever subset of the progress fields it carries.

function firstNumber(source, names) {
  for (const name of names) {
    const value = source ? source[name] : undefined;
    if (value !== undefined && value !== null && Number.isFinite(Number(value))) return Number(value);
  }
  return undefined;
}

/** {xp, level, rank, toNext, fraction (0..1 or undefined), streak} from GET game/profile/. */
export function levelProgress(profile) {
  const p = profile || {};
  const xp = firstNumber(p, ["experience_points", "total_xp", "xp"]);
  const start = firstNumber(p, ["current_level_xp", "level_start_xp", "xp_current_level", "level_xp"]);
  const next = firstNumber(p, ["next_level_xp", "xp_next_level", "level_end_xp", "xp_for_next_level"]);
  let toNext = firstNumber(p, ["xp_to_next_level", "xp_to_next", "xp_needed"]);
  let fraction;
  if (xp !== undefined && start !== undefined && next !== undefined && next > start) {
    fraction = (xp - start) / (next - start);
    if (toNext === undefined) toNext = next - xp;
  } else {
    const raw = firstNumber(p, ["level_progress", "progress", "progress_percent"]);
    if (raw !== undefined) fraction = raw > 1 ? raw / 100 : raw;
  }
  const streakSource = typeof p.streak === "object" && p.streak ? p.streak : p;
  const streak = firstNumber(streakSource, ["streak_days", "current_streak", "days", "streak"]);
  return {
    xp,
    level: firstNumber(p, ["level"]),
    rank: p.user_rank || p.rank,
    toNext,
    fraction: fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction)),
    streak,
  };
}

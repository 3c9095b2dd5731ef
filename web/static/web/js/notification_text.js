// A notification (a kept game event) as a sentence.

function reasonText(reason) {
  if (!reason) return "";
  return String(reason).replace(/[._]/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/** {title, body} of a notification `{kind, payload}`. */
export function notificationText({ kind, payload = {} }) {
  switch (kind) {
    case "xp.awarded":
      return { title: `+${payload.amount} XP`, body: `${reasonText(payload.reason)} · ${payload.total_xp} XP in all` };
    case "level.up":
      return { title: `Level ${payload.level}`, body: payload.rank ? `You are now ${payload.rank}.` : "" };
    case "badge.unlocked": {
      const badge = payload.badge || {};
      return { title: `Badge unlocked: ${badge.name || badge.slug}`, body: badge.description || "" };
    }
    case "streak.updated":
      return { title: `${payload.days}-day streak`, body: "Keep practising every day." };
    case "credits.changed":
      return { title: `+${payload.delta} credits`, body: `${reasonText(payload.reason)} · balance ${payload.balance}` };
    default:
      return { title: kind, body: "" };
  }
}

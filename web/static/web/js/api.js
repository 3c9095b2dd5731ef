// REST client for /api/v1/: bearer token from memory, one refresh-and-retry on 401, typed errors.
import { currentAccess, getAccess, refreshAccess } from "./auth.js";
import { ApiError } from "./errors.js";

const BASE = "/api/v1/";

function buildUrl(path, query) {
  const url = new URL(BASE + path.replace(/^\//, ""), window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of [].concat(value)) url.searchParams.append(key, item);
  }
  return url;
}

async function toError(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const retryAfter = response.headers.get("Retry-After");
  const isDetail = data && typeof data === "object" && !Array.isArray(data) && "detail" in data;
  return new ApiError({
    status: response.status,
    code: isDetail ? data.code : undefined,
    detail: isDetail ? String(data.detail) : undefined,
    fields: !isDetail && data && typeof data === "object" ? data : {},
    retryAfter: retryAfter ? Number(retryAfter) : undefined,
  });
}

/** Call the API; resolves with the JSON body (or null for empty answers), rejects with ApiError.
 * A FormData `body` goes as multipart (file uploads), anything else as JSON. */
export async function api(path, { method = "GET", body, query, auth = true } = {}) {
  const multipart = body instanceof FormData;
  const send = async (token) => {
    const headers = { Accept: "application/json" };
    if (body !== undefined && !multipart) headers["Content-Type"] = "application/json";
    if (auth && token) headers.Authorization = `Bearer ${token}`;
    return fetch(buildUrl(path, query), {
      method,
      headers,
      credentials: "omit",
      body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
    });
  };
  let response = await send(auth ? await getAccess() : null);
  if (response.status === 401 && auth) {
    const token = await refreshAccess();
    if (token) response = await send(token);
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204 || response.status === 205) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** Every item of a paginated list (following `next`, up to `maxPages`). */
export async function apiList(path, { query, maxPages = 5 } = {}) {
  const first = await api(path, { query });
  if (Array.isArray(first)) return first;
  const items = [...(first.results || [])];
  let next = first.next;
  let pages = 1;
  while (next && pages < maxPages) {
    const url = new URL(next, window.location.origin);
    const page = await api(url.pathname.replace(BASE, "") + url.search, {});
    items.push(...(page.results || []));
    next = page.next;
    pages += 1;
  }
  return items;
}

/**
 * Send a request that must outlive the page (`pagehide`): synchronous, with the access token in
 * memory, on a keepalive fetch the browser finishes after the page is gone. The caller makes sure
 * the token is fresh beforehand (getAccess()); the answer is never read.
 */
export function apiKeepalive(path, { method = "POST" } = {}) {
  const token = currentAccess();
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(buildUrl(path), { method, headers, credentials: "omit", keepalive: true }).catch(() => null);
}

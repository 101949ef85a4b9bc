// The explorer's only way to data: the public HTTP API, called with the key the user pasted
// (kept in sessionStorage, so it lives as long as the tab) or with none. No back door.
const KEY = "qualkg.apiKey";

export const getKey = () => sessionStorage.getItem(KEY);

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  memo.clear(); // answers depend on the caller's scopes
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function headers(accept = "application/json") {
  const h = { Accept: accept };
  const key = getKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

/** A parameter value sent empty on purpose (a text field the user cleared): the API refuses it and says
 * what it takes, rather than the page leaving it out and the default applying unseen. */
export const EMPTY = Symbol("empty");

/** A same-origin URL with the non-empty parameters (and those given as EMPTY) in its query string. */
export function url(path, params = {}) {
  const u = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v === EMPTY) u.searchParams.set(k, "");
    else if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

async function problem(response) {
  try {
    const body = await response.json();
    const d = body.detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.map((x) => x.msg).join("; ");
    return JSON.stringify(body);
  } catch {
    return response.statusText;
  }
}

export async function get(path, params = {}) {
  const response = await fetch(url(path, params), { headers: headers() });
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  return response.json();
}

// Answers that do not change while the page is open (vocabularies, question schemas, codebooks).
const memo = new Map();

export function getOnce(path, params = {}) {
  const u = url(path, params);
  if (!memo.has(u)) memo.set(u, get(path, params).catch((e) => { memo.delete(u); throw e; }));
  return memo.get(u);
}

/** Fetch a file with the caller's key and hand it to the browser as a download. */
export async function download(path, params, filename) {
  const response = await fetch(url(path, params), { headers: headers("*/*") });
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  const blob = await response.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The study id (the value a `study` parameter takes) from a study IRI. */
export const studyId = (iri) => String(iri).split("/study/").pop().split("/")[0];

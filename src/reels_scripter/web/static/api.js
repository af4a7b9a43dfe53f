// Talking to the service: the API key header, Russian errors, signed links, uploads, events.

import { T } from "./texts.js";

const KEY_STORAGE = "reels-scripter.api-key";
let memoryKey = ""; // when the browser keeps no localStorage (private mode)

export class ApiError extends Error {
  constructor(message, { status = 0, code = "network_error" } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function fallbackMessage(status) {
  return T.api.status[status] || T.api.statusOther(status);
}

/** The server's own Russian `{error, code}` when there is one. */
function errorFromBody(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") {
      return new ApiError(body.error, { status, code: body.code || "error" });
    }
  } catch {
    // not JSON (a proxy's page): say it in our words
  }
  return new ApiError(fallbackMessage(status), { status, code: `http_${status}` });
}

const listeners = new Set();
/** Called with the ApiError whenever the server asks for a (valid) key. */
export function onAuthRequired(fn) {
  listeners.add(fn);
}
function authFailed(error) {
  if (error.status === 401) for (const fn of listeners) fn(error);
}

let config = null;

export async function loadConfig() {
  const response = await fetch("/api/config", { headers: { Accept: "application/json" } });
  if (!response.ok) throw errorFromBody(response.status, await response.text());
  config = await response.json();
  return config;
}

export function getConfig() {
  return config;
}

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  tokens.clear();
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // private mode without storage: the key lives for this page only
  }
  memoryKey = key;
}

function currentKey() {
  return getKey() || memoryKey;
}

function withKey(headers = {}) {
  const result = new Headers(headers);
  const key = shared ? "" : currentKey(); // a shared page never sends a stored key
  if (key) result.set("X-API-Key", key);
  return result;
}

// --- a shared result (/s/<token>, share.js): no key; every read of that one job is signed ---

let shared = null; // {jobId, renew: async () => ({token, expiresAt}) | null}

/** Read job `jobId` with the share's access token (`access` may be null: keys are off). */
export function useSharedAccess(jobId, access, renew) {
  shared = { jobId, renew, open: !access };
  if (access) tokens.set(jobId, { token: access.token, expiresAt: access.expiresAt * 1000 });
}

function sharedPath(path) {
  return shared && path.startsWith(`/api/jobs/${encodeURIComponent(shared.jobId)}/`);
}

export async function request(path, { method = "GET", headers = {}, body, signal } = {}) {
  if (sharedPath(path)) path = await signedUrl(shared.jobId, path);
  let response;
  try {
    response = await fetch(path, { method, headers: withKey(headers), body, signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(fallbackMessage(0));
  }
  if (!response.ok) {
    const error = errorFromBody(response.status, await response.text());
    authFailed(error);
    throw error;
  }
  return response;
}

export async function getJson(path, options) {
  const response = await request(path, { ...options, headers: { Accept: "application/json" } });
  return response.json();
}

/** The file name a download should get, from Content-Disposition (RFC 5987 first). */
function fileNameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename="([^"]+)"/i.exec(header);
  return plain ? plain[1] : fallback;
}

/** Fetch a file with the key header and hand it to the browser as a download. */
export async function download(path, fallbackName) {
  const response = await request(path);
  const blob = await response.blob();
  saveBlob(blob, fileNameOf(response, fallbackName));
}

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// --- signed links for what cannot send a header (<img>, <video>, EventSource) ---

const tokens = new Map(); // jobId -> {token, expiresAt (ms)}
const TOKEN_MARGIN_MS = 60_000;

async function tokenFor(jobId) {
  const cached = tokens.get(jobId);
  if (cached && cached.expiresAt - TOKEN_MARGIN_MS > Date.now()) return cached.token;
  if (shared && shared.jobId === jobId) {
    const access = await shared.renew();
    if (!access) return "";
    tokens.set(jobId, { token: access.token, expiresAt: access.expiresAt * 1000 });
    return access.token;
  }
  const response = await request(`/api/jobs/${encodeURIComponent(jobId)}/access`, {
    method: "POST",
    headers: { Accept: "application/json" },
  });
  const body = await response.json();
  tokens.set(jobId, { token: body.token, expiresAt: body.expiresAt * 1000 });
  return body.token;
}

/** `path` of job `jobId` as a URL a browser can load on its own (signed when keys are on). */
export async function signedUrl(jobId, path) {
  const keysOn = shared ? !shared.open && shared.jobId === jobId : config && config.apiKeysRequired;
  if (!keysOn) return path;
  const token = await tokenFor(jobId);
  if (!token) return path; // a share on a server without keys: reads are open
  const param = (config && config.accessParam) || "access";
  return `${path}${path.includes("?") ? "&" : "?"}${param}=${encodeURIComponent(token)}`;
}

export function forgetToken(jobId) {
  tokens.delete(jobId);
}

// --- upload with progress (fetch has no upload progress; XMLHttpRequest does) ---

export function upload(file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload");
    const key = currentKey();
    if (key) xhr.setRequestHeader("X-API-Key", key);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          const body = JSON.parse(xhr.responseText);
          if (body && body.jobId) {
            resolve(body);
            return;
          }
        } catch {
          // fall through
        }
        reject(new ApiError(T.api.garbled, { status: xhr.status }));
        return;
      }
      const error = errorFromBody(xhr.status, xhr.responseText);
      authFailed(error);
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new ApiError(fallbackMessage(0))));
    xhr.addEventListener("abort", () => reject(new DOMException(T.api.uploadCancelled, "AbortError")));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append((config && config.uploadField) || "video", file, file.name);
    xhr.send(form);
  });
}

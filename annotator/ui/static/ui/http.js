// JSON calls to the Framescope API from the pages: same-origin session with the CSRF token; a failed
// call throws HttpError carrying the status and the {"detail", "errors"} body.

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class HttpError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    // Network trouble, server errors, an expired session or CSRF token: keep and retry.
    this.retryable = status === 0 || status >= 500 || [401, 403, 408, 429].includes(status);
  }
}

/** `timeoutMs`: give up (a retryable network error) when no answer came in that time. */
export async function api(method, url, data, { timeoutMs = 0 } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: data === undefined ? undefined : JSON.stringify(data),
      signal: timeoutMs && AbortSignal.timeout ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (err) {
    const detail = err.name === "TimeoutError" ? "Network error: the server did not answer in time." : "Network error: the server could not be reached.";
    throw new HttpError(0, { detail });
  }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, body);
  return body;
}

/** One line for a person: the message and the field errors of a failed call. */
export function errorText(err) {
  // Only the messages: some errors also carry ids for the page (e.g. duplicate_of).
  const errors = err.body && err.body.errors
    ? Object.values(err.body.errors).flat().filter((e) => typeof e === "string").join(" ") : "";
  return `${err.message} ${errors}`.trim();
}

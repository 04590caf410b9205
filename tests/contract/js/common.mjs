// What the scripts share: the pinned SDKs, the settings the test passes in, one JSON line per step,
// and raw HTTP probes that show how the emulator takes a token with no SDK in between.
//
// Every line a script prints goes through `step`, which masks every secret the script has seen
// (tokens, the code, the PKCE verifier): the test reads facts, never a token.

import { createRequire } from 'node:module';
import { join } from 'node:path';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export const settings = {
  server: required('RC_SERVER_URL'),
  clientId: required('RC_CLIENT_ID'),
  clientSecret: required('RC_CLIENT_SECRET'),
  jwt: process.env.RC_JWT,
  redirectUri: process.env.RC_REDIRECT_URI,
  state: process.env.RC_STATE,
  // The call-log query each script pages through: every record (the emulator's are all after 2000).
  callLogQuery: { perPage: Number(required('RC_CALL_LOG_PER_PAGE')), dateFrom: '2000-01-01T00:00:00.000Z' },
};

export const EXTENSION = '/restapi/v1.0/account/~/extension/~';
export const CALL_LOG = '/restapi/v1.0/account/~/extension/~/call-log';

// The pinned packages, from the directory the test installed them in (RCAUTH_JS_SDK_DIR holds
// node_modules): an ES module resolves bare names only beside itself, and the install lives elsewhere.
export function sdks() {
  const require = createRequire(join(required('RCAUTH_JS_SDK_DIR'), 'package.json'));
  return { SDK: require('@ringcentral/sdk').SDK, RingCentral: require('@rc-ex/core').default };
}

// An SDK's client for the emulator; `cachePrefix` keeps each instance's tokens apart (the Node build of
// @ringcentral/sdk keeps them in one in-memory storage shared by every instance).
export function ringcentralSdk(SDK, cachePrefix) {
  const { server, clientId, clientSecret } = settings;
  return new SDK({ server, clientId, clientSecret, cachePrefix }).platform();
}

const secrets = new Set([settings.clientSecret]);

export function secret(...values) {
  for (const value of values) if (value) secrets.add(String(value));
}

// A token answer, its tokens registered as secrets (masked in the line, the rest kept for the spec check).
export function tokenAnswer(body) {
  secret(body.access_token, body.refresh_token);
  return body;
}

// Run one step and print its line: {"step", "ok": true, ...facts} or {"step", "ok": false, "error"}.
export async function step(name, run) {
  let line;
  try {
    line = { step: name, ok: true, ...(await run()) };
  } catch (error) {
    line = { step: name, ok: false, error: describe(error) };
  }
  let text = JSON.stringify(line);
  for (const value of secrets) text = text.replaceAll(value, '[secret]');
  process.stdout.write(`${text}\n`);
}

// What went wrong, in the server's words where there are some. Never the SDK's whole message: rc-ex's
// quotes the request, its Authorization header and form body (a refresh token) included.
function describe(error) {
  const response = error.response;
  if (response?.data && typeof response.data === 'object') {
    const data = response.data;
    const code = data.errorCode ?? data.error ?? data.errors?.[0]?.errorCode;
    return `HTTP ${response.status}: ${code} ${data.message ?? data.error_description ?? ''}`.trim();
  }
  if (response?.status) return `HTTP ${response.status}: ${error.message}`;
  return `${error.name}: ${error.message}`;
}

// Every record of a paged listing, following `navigation.nextPage.uri` to the end (at most 100 pages).
export async function pageThrough(firstPage, getPage) {
  const ids = [];
  const pageSizes = [];
  let page = firstPage;
  for (;;) {
    ids.push(...page.records.map((record) => record.id));
    pageSizes.push(page.records.length);
    const next = page.navigation?.nextPage?.uri;
    if (!next) return { ids, pageSizes, firstPage };
    if (pageSizes.length >= 100) throw new Error('more than 100 pages');
    page = await getPage(next);
  }
}

// GET `path` with a bearer token, as any client would: the status and RingCentral's errorCode.
export async function bearerGet(path, accessToken) {
  const answer = await fetch(new URL(path, settings.server), {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  const body = await answer.json();
  return { status: answer.status, errorCode: body.errorCode };
}

// RingCentral's refresh grant for `refreshToken`, posted by hand: the status and the OAuth error.
export async function refreshGrant(refreshToken) {
  const basic = Buffer.from(`${settings.clientId}:${settings.clientSecret}`).toString('base64');
  const answer = await fetch(new URL('/restapi/oauth/token', settings.server), {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const body = await answer.json();
  if (body.access_token) tokenAnswer(body);
  return { status: answer.status, error: body.error, errorCode: body.errors?.[0]?.errorCode };
}

// One of the emulator's control endpoints (POST /__emulator/NAME), e.g. expire-access-tokens.
export async function control(name) {
  const answer = await fetch(new URL(`/__emulator/${name}`, settings.server), { method: 'POST' });
  if (!answer.ok) throw new Error(`control ${name}: HTTP ${answer.status}`);
  return answer.json();
}

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'" };
const unescape = (text) => text.replace(/&(amp|lt|gt|quot|#x27);/g, (entity) => ENTITIES[entity]);

// The user at the consent page, as a browser: open the authorize URL (its redirect to the sign-in
// page followed), submit the form with its Approve button, and return the redirect it answers with
// (the app's redirect URI with code and state), not followed: nothing listens there.
export async function approveConsent(authorizeUrl) {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (!page.ok) throw new Error(`consent page: HTTP ${page.status}`);
  const form = html.match(/<form method="post" action="([^"]*)">(.*?)<\/form>/s);
  const approve = form?.[2].match(/<button [^>]*name="([^"]*)" value="([^"]*)"[^>]*>Approve<\/button>/);
  if (!approve) throw new Error('no form with an Approve button on the consent page');
  const fields = new URLSearchParams();
  for (const [, name, value] of form[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields.append(unescape(name), unescape(value));
  }
  fields.append(unescape(approve[1]), unescape(approve[2]));
  const answer = await fetch(new URL(unescape(form[1]), page.url), {
    method: 'POST',
    body: fields,
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (!location) throw new Error(`consent form: HTTP ${answer.status}, no redirect`);
  const callback = new URL(location);
  secret(callback.searchParams.get('code'));
  return callback;
}

// @ringcentral/sdk (RingCentral's JavaScript SDK) against the emulator, one JSON line per step:
// pkce-login, jwt-login, extension, call-log, refresh, logout, recover-after-401.
//
// Inputs (environment): RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_REDIRECT_URI,
// RC_STATE, RC_CALL_LOG_PER_PAGE, RCAUTH_JS_SDK_DIR.

import {
  CALL_LOG,
  EXTENSION,
  approveConsent,
  bearerGet,
  control,
  pageThrough,
  refreshGrant,
  ringcentralSdk,
  sdks,
  secret,
  settings,
  step,
  tokenAnswer,
} from './common.mjs';

const { SDK } = sdks();
const json = (response) => response.json();

// Authorization code with PKCE: the SDK makes the verifier, the consent page is approved, and the
// SDK's own code exchange sends the verifier it kept (the emulator refuses the code without it).
await step('pkce-login', async () => {
  const platform = ringcentralSdk(SDK, 'pkce-');
  const url = new URL(platform.loginUrl({ usePKCE: true, state: settings.state, redirectUri: settings.redirectUri }));
  secret(platform.codeVerifier);
  const callback = await approveConsent(url.href);
  const code = callback.searchParams.get('code');
  const token = tokenAnswer(await json(await platform.login({ code, redirect_uri: settings.redirectUri })));
  return {
    codeChallengeMethod: url.searchParams.get('code_challenge_method'),
    returnedState: callback.searchParams.get('state'),
    token,
    extensionId: (await json(await platform.get(EXTENSION))).id,
  };
});

const platform = ringcentralSdk(SDK, 'jwt-');

await step('jwt-login', async () => {
  const token = tokenAnswer(await json(await platform.login({ jwt: settings.jwt })));
  return { token, loggedIn: await platform.loggedIn() };
});

await step('extension', async () => ({ extension: await json(await platform.get(EXTENSION)) }));

await step('call-log', async () => {
  const first = await json(await platform.get(CALL_LOG, settings.callLogQuery));
  return pageThrough(first, async (uri) => json(await platform.get(uri)));
});

await step('refresh', async () => {
  const before = (await platform.auth().data()).access_token;
  const token = tokenAnswer(await json(await platform.refresh()));
  return {
    token,
    accessTokenChanged: (await platform.auth().data()).access_token !== before,
    oldAccessToken: await bearerGet(EXTENSION, before),
    extensionId: (await json(await platform.get(EXTENSION))).id,
  };
});

await step('logout', async () => {
  const { access_token: access, refresh_token: refresh } = await platform.auth().data();
  await platform.logout();
  return {
    loggedIn: await platform.loggedIn(),
    oldAccessToken: await bearerGet(EXTENSION, access),
    oldRefreshToken: await refreshGrant(refresh),
  };
});

// The SDK's own recovery: every access token expires at the emulator, the next call gets 401, and
// the SDK refreshes (asking for access_token_ttl=-1, its "expired" mark) and sends the call again.
await step('recover-after-401', async () => {
  const recovering = ringcentralSdk(SDK, 'recover-');
  tokenAnswer(await json(await recovering.login({ jwt: settings.jwt })));
  const refreshes = [];
  recovering.on(recovering.events.refreshSuccess, () => refreshes.push('success'));
  recovering.on(recovering.events.refreshError, () => refreshes.push('error'));
  const { expired } = await control('expire-access-tokens');
  const extensionId = (await json(await recovering.get(EXTENSION))).id;
  return { expired, refreshes, extensionId };
});

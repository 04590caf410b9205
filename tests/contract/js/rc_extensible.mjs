// @rc-ex/core (RingCentral's ringcentral-extensible) against the emulator, one JSON line per step:
// jwt-login, extension, call-log, refresh, refresh-after-401, revoke.
//
// Inputs (environment): RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_CALL_LOG_PER_PAGE,
// RCAUTH_JS_SDK_DIR.

import {
  EXTENSION,
  bearerGet,
  control,
  pageThrough,
  refreshGrant,
  sdks,
  settings,
  step,
  tokenAnswer,
} from './common.mjs';

const { RingCentral } = sdks();
const { server, clientId, clientSecret } = settings;
const rc = new RingCentral({ server, clientId, clientSecret });
const extension = () => rc.restapi().account().extension();

await step('jwt-login', async () => ({ token: tokenAnswer(await rc.authorize({ jwt: settings.jwt })) }));

await step('extension', async () => ({ extension: await extension().get() }));

await step('call-log', async () => {
  const first = await extension().callLog().list(settings.callLogQuery);
  return pageThrough(first, async (uri) => (await rc.get(uri)).data);
});

await step('refresh', async () => {
  const before = rc.token.access_token;
  const token = tokenAnswer(await rc.refresh());
  return {
    token,
    accessTokenChanged: rc.token.access_token !== before,
    oldAccessToken: await bearerGet(EXTENSION, before),
    extensionId: (await extension().get()).id,
  };
});

// ringcentral-extensible refreshes only when asked: every access token expires at the emulator, the
// next call fails with 401 (a RestException, its message not reported: it quotes the request's
// Authorization header), and rc.refresh() then renews the pair and the call works again.
await step('refresh-after-401', async () => {
  const { expired } = await control('expire-access-tokens');
  let failedWith = null;
  try {
    await extension().get();
  } catch (error) {
    failedWith = error.response?.status ?? 'no status';
  }
  const token = tokenAnswer(await rc.refresh());
  return { expired, failedWith, token, extensionId: (await extension().get()).id };
});

await step('revoke', async () => {
  const { access_token: access, refresh_token: refresh } = rc.token;
  await rc.revoke();
  return {
    tokenKept: rc.token !== undefined,
    oldAccessToken: await bearerGet(EXTENSION, access),
    oldRefreshToken: await refreshGrant(refresh),
  };
});

// @rc-ex/core (RingCentral's ringcentral-extensible) against the emulator, one JSON line per step:
// jwt-login, extension, call-log, refresh, revoke.
//
// Inputs (environment): RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_CALL_LOG_PER_PAGE,
// RCAUTH_JS_SDK_DIR.

import { EXTENSION, bearerGet, pageThrough, refreshGrant, sdks, settings, step, tokenAnswer } from './common.mjs';

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

await step('revoke', async () => {
  const { access_token: access, refresh_token: refresh } = rc.token;
  await rc.revoke();
  return {
    tokenKept: rc.token !== undefined,
    oldAccessToken: await bearerGet(EXTENSION, access),
    oldRefreshToken: await refreshGrant(refresh),
  };
});

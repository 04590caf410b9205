// The hand-off: the token `rcauth token --json` printed (read from stdin) given to each SDK as its
// docs say to set a token, then a call and a call-log page with it. One JSON line per SDK:
// ringcentral-sdk (`platform.auth().setData(token)`), rc-extensible (`rc.token = token`).
//
// Without a refresh token neither SDK can refresh: `refreshes` counts the SDK's tries (none wanted).
//
// Inputs (environment): RC_SERVER_URL, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_CALL_LOG_PER_PAGE,
// RCAUTH_JS_SDK_DIR; the token JSON on stdin.

import { text } from 'node:stream/consumers';

import { CALL_LOG, EXTENSION, ringcentralSdk, sdks, settings, step, tokenAnswer } from './common.mjs';

const { SDK, RingCentral } = sdks();
const token = tokenAnswer(JSON.parse(await text(process.stdin)));

await step('ringcentral-sdk', async () => {
  const platform = ringcentralSdk(SDK, 'handoff-');
  let refreshes = 0;
  platform.on(platform.events.beforeRefresh, () => (refreshes += 1));
  await platform.auth().setData(token);
  const me = await (await platform.get(EXTENSION)).json();
  const page = await (await platform.get(CALL_LOG, settings.callLogQuery)).json();
  return { extensionId: me.id, callLogRecords: page.records.length, refreshes };
});

await step('rc-extensible', async () => {
  const { server, clientId, clientSecret } = settings;
  const rc = new RingCentral({ server, clientId, clientSecret });
  rc.token = token;
  const extension = rc.restapi().account().extension();
  const me = await extension.get();
  const page = await extension.callLog().list(settings.callLogQuery);
  return { extensionId: me.id, callLogRecords: page.records.length };
});

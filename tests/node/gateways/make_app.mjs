// Lets a real gateway library lay out its session folder in the current folder, then exits.
//   node make_app.mjs <kind> <session>
// kinds: wwebjs-local, wwebjs-remote-crash, wppconnect, venom. There is no network here:
// each library starts Debian's chromium on its profile (which is all wadoctor reads) and
// fails to reach WhatsApp Web; the script waits for the profile, then ends the process.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [kind, session] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'];

function waitFor(file, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (fs.existsSync(file)) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${file} never appeared`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

async function profileThenExit(profile, start) {
  start().catch(() => {});  // no network: the library fails after the browser made its profile
  await waitFor(path.join(profile, 'Local State'));
  await new Promise((r) => setTimeout(r, 1500));  // let the browser flush its first writes
  console.log('ready');
  process.exit(0);
}

if (kind === 'wwebjs-local') {
  const { Client, LocalAuth } = require('whatsapp-web.js');
  const client = new Client({ authStrategy: new LocalAuth({ clientId: session }),
                              puppeteer: { executablePath: CHROMIUM, args: ARGS, headless: true } });
  await profileThenExit(path.resolve('.wwebjs_auth', `session-${session}`), () => client.initialize());
} else if (kind === 'wwebjs-remote-crash') {
  // A backup interrupted by a crash: the remote store's save never returns, and the
  // process is killed (SIGKILL, by the test) while RemoteAuth's zip and staging folder exist.
  const { RemoteAuth } = require('whatsapp-web.js');
  const store = {
    sessionExists: async () => false,
    save: async () => { console.log('saving'); await new Promise(() => {}); },
    extract: async () => {}, delete: async () => {},
  };
  const auth = new RemoteAuth({ clientId: session, store, backupSyncIntervalMs: 60000 });
  auth.setup({ options: { puppeteer: {} } });
  await auth.beforeBrowserInitialized();
  fs.mkdirSync(path.join(auth.userDataDir, 'Default', 'Local Storage', 'leveldb'), { recursive: true });
  fs.mkdirSync(path.join(auth.userDataDir, 'Default', 'IndexedDB'), { recursive: true });
  fs.writeFileSync(path.join(auth.userDataDir, 'Default', 'Local Storage', 'leveldb', 'CURRENT'), 'MANIFEST-000001\n');
  await auth.storeRemoteSession();
} else if (kind === 'wppconnect') {
  const wppconnect = require('@wppconnect-team/wppconnect');
  const tokens = new wppconnect.tokenStore.FileTokenStore({ path: './tokens' });
  await tokens.setToken(session, { WABrowserId: '"wadoctor-browser-id"', WASecretBundle: 'secret-bundle',
                                   WAToken1: 'secret-token-1', WAToken2: 'secret-token-2' });
  await profileThenExit(path.resolve('tokens', session), () => wppconnect.create({
    session, folderNameToken: 'tokens', headless: true, autoClose: 0, updatesLog: false, logQR: false,
    browserArgs: ARGS, puppeteerOptions: { executablePath: CHROMIUM } }));
} else if (kind === 'venom') {
  const venom = require('venom-bot');
  await profileThenExit(path.resolve('tokens', session), () => venom.create({
    session, folderNameToken: 'tokens', headless: 'new', autoClose: 0, updatesLog: false, logQR: false,
    browserPathExecutable: CHROMIUM, browserArgs: ARGS, disableWelcome: true }));
} else {
  console.error(`unknown kind ${kind}`);
  process.exit(64);
}

// Writes Baileys multi-file sessions with the real library's own code paths, offline and
// with random keys: initAuthCreds + useMultiFileAuthState, a pair-success stanza run through
// configureSuccessfulPairing, pre-keys from getNextPreKeys, real Signal sessions from
// injectE2ESession and a sender key from encryptGroupMessage.
//
// kind "legacy" writes the single-file store of @adiwajshing/baileys 4.x instead: that package
// cannot be installed here (its libsignal dependency lives on GitHub), so singleFileAuthState
// below repeats its useSingleFileAuthState file writer line for line.
//
// Usage: node make_baileys_sessions.mjs SPEC.json   (SPEC: a list of session specs)
// Prints, per session, a JSON line {dir, jid, noisePublic} of what it wrote.
import { existsSync, readFileSync, writeFileSync } from 'fs'
import { readFile, writeFile } from 'fs/promises'
import {
  addTransactionCapability, BufferJSON, configureSuccessfulPairing, Curve, getNextPreKeys, hmacSign,
  initAuthCreds, jidEncode, proto,
  useMultiFileAuthState,
} from '@whiskeysockets/baileys'
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js'
import { contactBundle } from './contact_bundle.mjs'

const noop = () => {}
/** A silent logger with the pino shape Baileys expects. */
const logger = { level: 'silent', trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }

/** The stanza WhatsApp sends when a phone scans the QR, signed with a made-up account key. */
function pairSuccessStanza(creds, spec) {
  const accountKey = Curve.generateKeyPair()
  const details = proto.ADVDeviceIdentity.encode({
    rawId: spec.rawId ?? 123456789,
    timestamp: spec.pairedAt ?? Math.floor(Date.now() / 1000),
    keyIndex: spec.device,
    accountType: 0,
    deviceType: 0,
  }).finish()
  const accountSignature = Curve.sign(
    accountKey.private,
    Buffer.concat([Buffer.from([6, 0]), details, creds.signedIdentityKey.public]),
  )
  const signed = proto.ADVSignedDeviceIdentity.encode({
    details, accountSignatureKey: accountKey.public, accountSignature,
  }).finish()
  const hmac = hmacSign(signed, Buffer.from(creds.advSecretKey, 'base64'))
  const identity = proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish()
  const jid = `${spec.pn}:${spec.device}@s.whatsapp.net`
  const device = { jid }
  if (spec.lid) device.lid = `${spec.lid}:${spec.device}@lid`
  const content = [
    { tag: 'device-identity', attrs: {}, content: identity },
    { tag: 'platform', attrs: { name: spec.platform ?? 'android' } },
    { tag: 'device', attrs: device },
  ]
  if (spec.business) content.push({ tag: 'biz', attrs: { name: spec.business } })
  return { tag: 'iq', attrs: { id: '1', type: 'set' }, content: [{ tag: 'pair-success', attrs: {}, content }] }
}

// @adiwajshing/baileys 4.4.0 lib/Utils/use-single-file-auth-state.js, minus the reviver on read
const KEY_MAP = {
  'pre-key': 'preKeys', session: 'sessions', 'sender-key': 'senderKeys',
  'app-state-sync-key': 'appStateSyncKeys', 'app-state-sync-version': 'appStateVersions',
  'sender-key-memory': 'senderKeyMemory',
}
function singleFileAuthState(filename) {
  let creds
  let keys = {}
  const saveState = () => writeFileSync(filename, JSON.stringify({ creds, keys }, BufferJSON.replacer, 2))
  if (existsSync(filename)) {
    ({ creds, keys } = JSON.parse(readFileSync(filename, { encoding: 'utf-8' }), BufferJSON.reviver))
  } else {
    creds = initAuthCreds()
  }
  const get = async (type, ids) => Object.fromEntries(ids.map(id => [id, keys[KEY_MAP[type]]?.[id]]).filter(([, v]) => v))
  const set = async data => {
    for (const type in data) {
      if (!KEY_MAP[type]) continue // 7.x types 4.x did not have
      keys[KEY_MAP[type]] = keys[KEY_MAP[type]] || {}
      Object.assign(keys[KEY_MAP[type]], data[type])
    }
    saveState()
  }
  return { state: { creds, keys: { get, set } }, saveCreds: async () => saveState() }
}

async function writeSession(spec) {
  const legacy = spec.kind === 'legacy'
  const { state, saveCreds } = legacy ? singleFileAuthState(spec.file) : await useMultiFileAuthState(spec.dir)
  const creds = state.creds
  if (spec.kind === 'paired' || spec.kind === 'reset' || legacy) {
    const { creds: update } = configureSuccessfulPairing(pairSuccessStanza(creds, spec), creds)
    Object.assign(creds, update)
    creds.registered = false
    const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
    const { update: counters } = await getNextPreKeys({ creds, keys }, spec.preKeys ?? 30)
    Object.assign(creds, counters)
    const repo = makeLibSignalRepository({ creds, keys }, logger)
    for (let i = 0; i < (spec.contacts ?? 2); i++) {
      const jid = `${6280000000000 + i}@s.whatsapp.net`
      await repo.injectE2ESession({ jid, session: contactBundle() })
    }
    for (let i = 0; i < (spec.groups ?? 1); i++) {
      await repo.encryptGroupMessage({ group: `12036302524612${i}@g.us`, meId: creds.me.id, data: Buffer.from('hi') })
    }
    await keys.set({ 'device-list': { [spec.pn]: ['0', String(spec.device)] } })
    // what process-message.js does on an APP_STATE_SYNC_KEY_SHARE from the phone
    const keyId = Buffer.from([0, 0, 0, 0, 255, 240]).toString('base64')
    await keys.set({ 'app-state-sync-key': { [keyId]: proto.Message.AppStateSyncKeyData.fromObject({
      keyData: Curve.generateKeyPair().public,
      fingerprint: { rawId: spec.rawId ?? 123456789, currentIndex: 1, deviceIndexes: [0, spec.device] },
      timestamp: Date.now(),
    }) } })
    creds.myAppStateKeyId = keyId
    // what messages-send.js records after distributing a sender key to a group's devices
    await keys.set({ 'sender-key-memory': { '120363025246120@g.us': { [`${6280000000000}@s.whatsapp.net`]: true } } })
    if (spec.lid) await repo.lidMapping.storeLIDPNMappings([{ pn: creds.me.id, lid: creds.me.lid }])
  }
  if (spec.kind === 'half-paired') {
    // what requestPairingCode() does before it sends the companion_hello stanza
    creds.pairingCode = spec.pairingCode ?? 'ABCD1234'
    creds.me = { id: jidEncode(spec.pn, 's.whatsapp.net'), name: '~' }
  }
  await saveCreds()
  if (spec.kind === 'reset') {
    // The next start after a crash that emptied creds.json: Baileys reads it as "no creds",
    // makes a new identity and overwrites the file, leaving the old identity's keys behind.
    await writeFile(`${spec.dir}/creds.json`, '')
    const again = await useMultiFileAuthState(spec.dir)
    await again.saveCreds()
    return { dir: spec.dir, jid: null, noisePublic: again.state.creds.noiseKey.public.toString('base64') }
  }
  return { dir: spec.dir ?? spec.file, jid: creds.me?.id ?? null, noisePublic: creds.noiseKey.public.toString('base64') }
}

const specs = JSON.parse(await readFile(process.argv[2], 'utf-8'))
for (const spec of specs) {
  process.stdout.write(JSON.stringify(await writeSession(spec)) + '\n')
}

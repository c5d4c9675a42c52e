// Writes Baileys multi-file sessions with the real library's own code paths, offline and
// with random keys: initAuthCreds + useMultiFileAuthState, a pair-success stanza run through
// configureSuccessfulPairing, pre-keys from getNextPreKeys, real Signal sessions from
// injectE2ESession and a sender key from encryptGroupMessage.
//
// Usage: node make_baileys_sessions.mjs SPEC.json   (SPEC: a list of session specs)
// Prints, per session, a JSON line {dir, jid, noisePublic} of what it wrote.
import { readFile, writeFile } from 'fs/promises'
import {
  addTransactionCapability, configureSuccessfulPairing, Curve, getNextPreKeys, hmacSign,
  initAuthCreds, jidEncode, proto, signedKeyPair,
  useMultiFileAuthState,
} from '@whiskeysockets/baileys'
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js'

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

/** A contact's pre-key bundle, as the server hands it out, for injectE2ESession. */
function contactBundle() {
  const identity = Curve.generateKeyPair()
  const signed = signedKeyPair(identity, 1)
  const preKey = Curve.generateKeyPair()
  return {
    registrationId: 1 + Math.floor(Math.random() * 16380),
    identityKey: Buffer.concat([Buffer.from([5]), identity.public]),
    signedPreKey: { keyId: 1, publicKey: Buffer.concat([Buffer.from([5]), signed.keyPair.public]), signature: signed.signature },
    preKey: { keyId: 7, publicKey: Buffer.concat([Buffer.from([5]), preKey.public]) },
  }
}

async function writeSession(spec) {
  const { state, saveCreds } = await useMultiFileAuthState(spec.dir)
  const creds = state.creds
  if (spec.kind === 'paired' || spec.kind === 'reset') {
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
  return { dir: spec.dir, jid: creds.me?.id ?? null, noisePublic: creds.noiseKey.public.toString('base64') }
}

const specs = JSON.parse(await readFile(process.argv[2], 'utf-8'))
for (const spec of specs) {
  process.stdout.write(JSON.stringify(await writeSession(spec)) + '\n')
}

// Writes a paired multi-file session with one @whiskeysockets/baileys 6.x version's own code:
// useMultiFileAuthState, configureSuccessfulPairing on a pair-success stanza, getNextPreKeys,
// injectE2ESession, encryptGroupMessage, and the app-state and sender-key-memory writes that
// process-message.js and messages-send.js make. The version's package comes from `npm pack`
// with its registry dependencies (its git-hosted ones do not install here; libsignal is the
// registry's libsignal@2), see tests/fixtures/baileys6.py.
//
// Usage: node make_sessions.cjs VERSION_DIR SESSION_DIR PHONE DEVICE
// Prints {dir, jid} of what it wrote.
const path = require('path')

const [versionDir, dir, phone, device] = process.argv.slice(2)
const lib = name => require(path.join(versionDir, 'node_modules', '@whiskeysockets', 'baileys', 'lib', name))
const { useMultiFileAuthState, configureSuccessfulPairing, getNextPreKeys, addTransactionCapability,
  Curve, signedKeyPair, hmacSign } = lib('Utils')
const { makeLibSignalRepository } = lib('Signal/libsignal')
const { proto } = require(path.join(versionDir, 'node_modules', '@whiskeysockets', 'baileys', 'WAProto'))

const noop = () => {}
const logger = { level: 'silent', trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }

/** The stanza WhatsApp sends when a phone scans the QR, signed with a made-up account key. */
function pairSuccessStanza(creds) {
  const accountKey = Curve.generateKeyPair()
  const details = proto.ADVDeviceIdentity.encode({ rawId: 123456789, timestamp: Math.floor(Date.now() / 1000),
    keyIndex: Number(device) }).finish()
  const accountSignature = Curve.sign(accountKey.private,
    Buffer.concat([Buffer.from([6, 0]), details, creds.signedIdentityKey.public]))
  const signed = proto.ADVSignedDeviceIdentity.encode({ details, accountSignatureKey: accountKey.public,
    accountSignature }).finish()
  const hmac = hmacSign(signed, Buffer.from(creds.advSecretKey, 'base64'))
  const identity = proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac }).finish()
  return { tag: 'iq', attrs: { id: '1', type: 'set' }, content: [{ tag: 'pair-success', attrs: {}, content: [
    { tag: 'device-identity', attrs: {}, content: identity },
    { tag: 'platform', attrs: { name: 'android' } },
    { tag: 'device', attrs: { jid: `${phone}:${device}@s.whatsapp.net` } },
  ] }] }
}

/** A contact's pre-key bundle as the server hands it out, for injectE2ESession. */
function contactBundle() {
  const identityKey = Curve.generateKeyPair()
  const signed = signedKeyPair(identityKey, 1)
  const preKey = Curve.generateKeyPair()
  return {
    registrationId: 1 + Math.floor(Math.random() * 16380),
    identityKey: Buffer.concat([Buffer.from([5]), identityKey.public]),
    signedPreKey: { keyId: 1, publicKey: Buffer.concat([Buffer.from([5]), signed.keyPair.public]), signature: signed.signature },
    preKey: { keyId: 7, publicKey: Buffer.concat([Buffer.from([5]), preKey.public]) },
  }
}

async function main() {
  const { state, saveCreds } = await useMultiFileAuthState(dir)
  const creds = state.creds
  const { creds: update } = configureSuccessfulPairing(pairSuccessStanza(creds), creds)
  Object.assign(creds, update)
  const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  const { update: counters } = await getNextPreKeys({ creds, keys }, 30)
  Object.assign(creds, counters)
  const repo = makeLibSignalRepository({ creds, keys })
  for (let i = 0; i < 2; i++) {
    await repo.injectE2ESession({ jid: `${6280000000000 + i}@s.whatsapp.net`, session: contactBundle() })
  }
  await repo.encryptGroupMessage({ group: '120363025246120@g.us', meId: creds.me.id, data: Buffer.from('hi') })
  const keyId = Buffer.from([0, 0, 0, 0, 255, 240]).toString('base64')
  await keys.set({ 'app-state-sync-key': { [keyId]: proto.Message.AppStateSyncKeyData.fromObject({
    keyData: Curve.generateKeyPair().public,
    fingerprint: { rawId: 123456789, currentIndex: 1, deviceIndexes: [0, Number(device)] },
    timestamp: Date.now(),
  }) } })
  creds.myAppStateKeyId = keyId
  await keys.set({ 'sender-key-memory': { '120363025246120@g.us': { '6280000000000@s.whatsapp.net': true } } })
  await saveCreds()
  process.stdout.write(JSON.stringify({ dir, jid: creds.me.id }) + '\n')
}

main().catch(err => { console.error(err); process.exit(1) })

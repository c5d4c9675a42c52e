// Writes a paired multi-file session with one Baileys version's own code (@adiwajshing/baileys
// 4.x and 5.x, @whiskeysockets/baileys 6.x): useMultiFileAuthState, configureSuccessfulPairing on
// a pair-success stanza, getNextPreKeys, Signal sessions and a group sender key, and the
// app-state and sender-key-memory writes that process-message.js and messages-send.js make.
// Signal sessions and sender keys go through the version's own entry points: 6.x's
// makeLibSignalRepository (injectE2ESession, encryptGroupMessage), or before it
// Utils/signal.js (parseAndInjectE2ESessions on a key-bundle stanza, encryptSenderKeyMsgSignalProto).
// The version's package comes from `npm pack` with its registry dependencies (its git-hosted
// ones do not install here; libsignal is the registry's libsignal@2), see
// tests/fixtures/baileys_versions.py.
//
// Usage: node make_sessions.cjs PACKAGE_DIR SESSION_DIR PHONE DEVICE
// Prints {dir, jid} of what it wrote.
const path = require('path')

const [packageDir, dir, phone, device] = process.argv.slice(2)
const lib = name => require(path.join(packageDir, 'lib', name))
const { useMultiFileAuthState, configureSuccessfulPairing, getNextPreKeys, addTransactionCapability,
  Curve, signedKeyPair, hmacSign, encodeBigEndian } = lib('Utils')
const signalUtils = lib('Utils/signal')
const { proto } = require(path.join(packageDir, 'WAProto'))
let repository = null
try {
  repository = lib('Signal/libsignal').makeLibSignalRepository  // 6.x and later
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND') throw err
}

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

/** The <iq><list><user> stanza the server answers a key-bundle query with (what
 *  parseAndInjectE2ESessions reads): 3-byte key ids, 4-byte registration id, 32-byte keys. */
function bundleStanza(jid, bundle) {
  const child = (tag, content) => ({ tag, attrs: {}, content })
  const key = (k, signature) => child(k === bundle.signedPreKey ? 'skey' : 'key', [
    child('id', encodeBigEndian(k.keyId, 3)), child('value', k.publicKey.subarray(1)),
    ...(signature ? [child('signature', signature)] : [])])
  return child('iq', [child('list', [{ tag: 'user', attrs: { jid }, content: [
    child('registration', encodeBigEndian(bundle.registrationId, 4)),
    child('identity', bundle.identityKey.subarray(1)),
    key(bundle.signedPreKey, bundle.signedPreKey.signature),
    key(bundle.preKey),
  ] }])])
}

async function main() {
  const { state, saveCreds } = await useMultiFileAuthState(dir)
  const creds = state.creds
  const { creds: update } = configureSuccessfulPairing(pairSuccessStanza(creds), creds)
  Object.assign(creds, update)
  const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  const { update: counters } = await getNextPreKeys({ creds, keys }, 30)
  Object.assign(creds, counters)
  const auth = { creds, keys }
  const contacts = [0, 1].map(i => `${6280000000000 + i}@s.whatsapp.net`)
  const group = '120363025246120@g.us'
  if (repository) {
    const repo = repository(auth)
    for (const jid of contacts) await repo.injectE2ESession({ jid, session: contactBundle() })
    await repo.encryptGroupMessage({ group, meId: creds.me.id, data: Buffer.from('hi') })
  } else {
    for (const jid of contacts) await signalUtils.parseAndInjectE2ESessions(bundleStanza(jid, contactBundle()), auth)
    await signalUtils.encryptSenderKeyMsgSignalProto(group, Buffer.from('hi'), creds.me.id, auth)
  }
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

// A Baileys gateway's write pattern, offline and forever: on a paired session folder, each
// round starts a Signal session with a new contact (injectE2ESession), tops up pre-keys
// (getNextPreKeys), receives a new contact's first message (decryptMessage of a pkmsg built
// by that contact's own repository on one of those pre-keys: identity-key, session, pre-key
// removal), sends to a group (encryptGroupMessage) and saves creds, all through
// useMultiFileAuthState and Baileys' own transactions. The tests SIGKILL it at random moments
// to see what a crash leaves on disk.
//
// Usage: node crash_writer.mjs DIR   (prints "ready" once the first round is on disk)
import {
  addTransactionCapability, getNextPreKeys, initAuthCreds, useMultiFileAuthState,
} from '@whiskeysockets/baileys'
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js'
import { contactBundle } from './contact_bundle.mjs'

const noop = () => {}
console.log = console.info = console.warn = noop  // libsignal's chatter ("Closing session: ..."): stdout says only "ready"
const logger = { level: 'silent', trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }

const { state, saveCreds } = await useMultiFileAuthState(process.argv[2])
const creds = state.creds
const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
const repo = makeLibSignalRepository({ creds, keys }, logger)
const withType = key => Buffer.concat([Buffer.from([5]), key])

// A contact with its own creds and keys (in memory) sends us its first message on one of our
// pre-keys, as the server would hand out our bundle: the pkmsg Baileys decrypts.
async function firstMessage(preKeyId, preKey) {
  const memory = new Map()
  const contactKeys = addTransactionCapability({
    get: async (type, ids) => Object.fromEntries(ids.map(id => [id, memory.get(`${type}-${id}`)])),
    set: async data => { for (const type in data) for (const id in data[type]) memory.set(`${type}-${id}`, data[type][id]) },
  }, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
  const contact = makeLibSignalRepository({ creds: initAuthCreds(), keys: contactKeys }, logger)
  await contact.injectE2ESession({ jid: creds.me.id, session: {
    registrationId: creds.registrationId,
    identityKey: withType(creds.signedIdentityKey.public),
    signedPreKey: { keyId: creds.signedPreKey.keyId, publicKey: withType(creds.signedPreKey.keyPair.public),
                    signature: creds.signedPreKey.signature },
    preKey: { keyId: Number(preKeyId), publicKey: withType(preKey.public) },
  } })
  return contact.encryptMessage({ jid: creds.me.id, data: Buffer.from('hi') })
}

for (let round = 0; ; round++) {
  await repo.injectE2ESession({ jid: `${6290000000000 + round}@s.whatsapp.net`, session: contactBundle() })
  const { update, preKeys } = await getNextPreKeys({ creds, keys }, 5)
  Object.assign(creds, update)
  const { type, ciphertext } = await firstMessage(...Object.entries(preKeys)[0])
  await repo.decryptMessage({ jid: `${6280000000000 + round}@s.whatsapp.net`, type, ciphertext })
  await repo.encryptGroupMessage({ group: `1203630252461${round % 7}@g.us`, meId: creds.me.id, data: Buffer.from('hi') })
  await saveCreds()
  if (round === 0) process.stdout.write('ready\n')
}

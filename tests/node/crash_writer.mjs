// A Baileys gateway's write pattern, offline and forever: on a paired session folder, each
// round starts a Signal session with a new contact (injectE2ESession), tops up pre-keys
// (getNextPreKeys), sends to a group (encryptGroupMessage) and saves creds, all through
// useMultiFileAuthState and Baileys' own transactions. The tests SIGKILL it at random moments
// to see what a crash leaves on disk.
//
// Usage: node crash_writer.mjs DIR   (prints "ready" once the first round is on disk)
import {
  addTransactionCapability, getNextPreKeys, useMultiFileAuthState,
} from '@whiskeysockets/baileys'
import { makeLibSignalRepository } from '@whiskeysockets/baileys/lib/Signal/libsignal.js'
import { contactBundle } from './contact_bundle.mjs'

const noop = () => {}
const logger = { level: 'silent', trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }

const { state, saveCreds } = await useMultiFileAuthState(process.argv[2])
const creds = state.creds
const keys = addTransactionCapability(state.keys, logger, { maxCommitRetries: 3, delayBetweenTriesMs: 10 })
const repo = makeLibSignalRepository({ creds, keys }, logger)
for (let round = 0; ; round++) {
  await repo.injectE2ESession({ jid: `${6290000000000 + round}@s.whatsapp.net`, session: contactBundle() })
  const { update } = await getNextPreKeys({ creds, keys }, 5)
  Object.assign(creds, update)
  await repo.encryptGroupMessage({ group: `1203630252461${round % 7}@g.us`, meId: creds.me.id, data: Buffer.from('hi') })
  await saveCreds()
  if (round === 0) process.stdout.write('ready\n')
}

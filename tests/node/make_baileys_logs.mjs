// Writes gateway log lines the way Baileys 7.0.0-rc14 emits them: its own pino logger calls
// (socket.js: 'stream errored out' with reasonNode/fullErrorNode, 'connection errored' with
// the Boom error's stack as trace; decode-wa-message.js: 'failed to decrypt message' with
// libsignal's error) on a child logger bound to a session, as multi-session gateways do.
//
// Usage: node make_baileys_logs.mjs SPEC.json > out.log
//   SPEC: [{session, start (epoch s), every (s), count, kind: conflict|device_removed|
//           restart|decrypt|reconnect}]
import { createRequire } from 'module'
import { readFileSync } from 'fs'
const require = createRequire(import.meta.resolve('@whiskeysockets/baileys'))
const pino = require('pino')
const { Boom } = require('@hapi/boom')

let clock = 0
const root = pino({ timestamp: () => `,"time":${clock}` }, process.stdout)

function streamError(logger, type, code) {
  const reasonNode = type ? { tag: 'conflict', attrs: { type } } : { tag: 'xml-not-well-formed', attrs: {} }
  const node = { tag: 'stream:error', attrs: code ? { code: String(code) } : {}, content: [reasonNode] }
  logger.error({ reasonNode, fullErrorNode: node }, 'stream errored out')
  const reason = code === 515 ? 'restart required' : reasonNode.tag
  const error = new Boom(`Stream Errored (${reason})`, { statusCode: code ?? 440, data: reasonNode })
  logger.info({ trace: error.stack }, 'connection errored')
}

const write = {
  conflict: logger => streamError(logger, 'replaced'),
  device_removed: logger => streamError(logger, 'device_removed'),
  restart: logger => streamError(logger, null, 515),
  decrypt: logger => logger.error({ key: { remoteJid: '6280000000000@s.whatsapp.net', id: 'X' },
                                    err: new Error('Bad MAC'), messageType: 'pkmsg' }, 'failed to decrypt message'),
  reconnect: logger => logger.info('connection closed due to Error: Connection Closed , reconnecting true'),
}

const events = []
for (const spec of JSON.parse(readFileSync(process.argv[2], 'utf-8'))) {
  for (let i = 0; i < spec.count; i++) events.push([spec.start + i * spec.every, spec])
}
events.sort((a, b) => a[0] - b[0])
for (const [at, spec] of events) {
  clock = Math.round(at * 1000)
  write[spec.kind](root.child({ session: spec.session }))
}

// Writes the log lines a Baileys 6.x gateway prints when WhatsApp closes its stream with a
// conflict, through that version's own pino and Boom: socket.js's
// `logger.error({ node }, 'stream errored out')` for the stream:error node, then end()'s
// `logger.info({ trace: error.stack }, 'connection errored')`. The node is what
// getErrorCodeFromStreamError reads: <stream:error><conflict type="replaced"/></stream:error>.
//
// Usage: node make_logs.cjs NODE_MODULES LEVEL COUNT START_EPOCH_S SESSION > out.log
//   (NODE_MODULES: the folder the version was installed into, for its own pino and Boom)
const path = require('path')

const [modules, level, count, start, session] = process.argv.slice(2)
const from = name => require(path.join(modules, name))
const pino = from('pino')
const { Boom } = from('@hapi/boom')

let clock = 0
const logger = pino({ level, timestamp: () => `,"time":${clock}` }, process.stdout).child({ session })
for (let i = 0; i < Number(count); i++) {
  clock = (Number(start) + i * 60) * 1000
  const node = { tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] }
  logger.error({ node }, 'stream errored out')
  const error = new Boom('Stream Errored (conflict)', { statusCode: 440, data: node })
  logger.info({ trace: error.stack }, 'connection errored')
}

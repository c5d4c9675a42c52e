// Encodes a session folder written by real Baileys the way database auth states store it,
// with Baileys' own BufferJSON, so the tests load databases with what the gateways write:
//
// - evolution: the "Session".creds column. Evolution's writeData does
//   JSON.stringify(creds, BufferJSON.replacer) and saveKey stringifies that string again.
// - hash: the value of a hash field or string key (Evolution's cache hSet, baileys-redis-auth):
//   JSON.stringify(value, BufferJSON.replacer).
// - bytelist: redis-baileys' own encoder, which writes each Buffer as {type, data: [bytes]}.
//
// Usage: node db_values.mjs DIR   Prints {creds: {...}, keys: [{entry, hash, bytelist}]}.
import { readdirSync, readFileSync } from 'fs'
import { BufferJSON } from '@whiskeysockets/baileys'

/** redis-baileys' bufferToJSON: Buffers as byte lists, objects walked, toJSON honoured. */
function byteList(value) {
  if (Buffer.isBuffer(value)) return { type: 'Buffer', data: Array.from(value) }
  if (Array.isArray(value)) return value.map(byteList)
  if (value && typeof value === 'object') {
    if (typeof value.toJSON === 'function') return value.toJSON()
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, byteList(v)]))
  }
  return value
}

const dir = process.argv[2]
const read = name => JSON.parse(readFileSync(`${dir}/${name}`, 'utf-8'), BufferJSON.reviver)
const encode = value => ({ hash: JSON.stringify(value, BufferJSON.replacer), bytelist: JSON.stringify(byteList(value)) })

const creds = read('creds.json')
const out = { creds: { ...encode(creds), evolution: JSON.stringify(JSON.stringify(creds, BufferJSON.replacer)) }, keys: [] }
for (const name of readdirSync(dir).sort()) {
  if (name === 'creds.json' || !name.endsWith('.json')) continue
  out.keys.push({ entry: name.slice(0, -'.json'.length), ...encode(read(name)) })
}
process.stdout.write(JSON.stringify(out))

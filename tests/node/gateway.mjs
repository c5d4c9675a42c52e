// A Baileys gateway's footprint on a server, offline: it loads its session with
// useMultiFileAuthState (relative to its working folder, as most gateways do) and stays up.
// Baileys keeps no file open between writes, so only its working folder ties it to the session.
//
// Usage: node gateway.mjs SESSION_DIR   (prints "ready" once the session is loaded)
import { useMultiFileAuthState } from '@whiskeysockets/baileys'

const { state } = await useMultiFileAuthState(process.argv[2])
process.stdout.write(state.creds.me ? 'ready\n' : 'unpaired\n')
setInterval(() => {}, 1000)

// A contact's pre-key bundle, as the server hands it out, for injectE2ESession: shared by the
// session writer and the crash writer so both make Signal sessions the same way.
import { Curve, signedKeyPair } from '@whiskeysockets/baileys'

export function contactBundle() {
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

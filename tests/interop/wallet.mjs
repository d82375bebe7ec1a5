// A Learner Credential Wallet stand-in built from the wallet's own libraries (the versions its
// package.json names): it follows an interaction URL (?iuv=1) to the VC-API exchange, POSTs {},
// and when asked for DIDAuthentication mints a did:key and signs the presentation with
// Ed25519Signature2020, as the wallet's exchanges.ts / didAuthRequest.ts do. Offline: the
// security document loader serves its bundled contexts only.
//
// Usage: node wallet.mjs INTERACTION_URL  -> one JSON line {status, holder, body}
import * as vc from '@digitalcredentials/vc';
import { Ed25519Signature2020 } from '@digitalcredentials/ed25519-signature-2020';
import { Ed25519VerificationKey2020 } from '@digitalcredentials/ed25519-verification-key-2020';
import { securityLoader } from '@digitalcredentials/security-document-loader';
import * as DidMethodKey from '@digitalcredentials/did-method-key';
import { webcrypto } from 'node:crypto';

const post = async (url, body) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};

const interaction = process.argv[2];
if (!new URL(interaction).searchParams.has('iuv')) throw new Error('not an interaction URL');
const protocols = await (await fetch(interaction, { headers: { Accept: 'application/json' } })).json();
const url = protocols.protocols.vcapi;
let answer = await post(url, {});
let holder = null;
if (answer.status === 200 && answer.body.verifiablePresentationRequest) {
  const { challenge, domain, interact } = answer.body.verifiablePresentationRequest;
  const { didDocument, keyPairs } = await DidMethodKey.driver().generate({
    randomBytes: webcrypto.getRandomValues(new Uint8Array(32)),
  });
  const [[, verificationKey]] = Array.from(keyPairs);
  holder = didDocument.authentication[0].split('#')[0];
  const key = await Ed25519VerificationKey2020.from(verificationKey);
  const suite = new Ed25519Signature2020({ key });
  const presentation = vc.createPresentation({ holder });
  const documentLoader = securityLoader({ fetchRemoteContexts: false }).build();
  const signed = await vc.signPresentation({ presentation, challenge, domain, suite, documentLoader });
  answer = await post(interact?.service[0]?.serviceEndpoint ?? url, { verifiablePresentation: signed });
}
console.log(JSON.stringify({ status: answer.status, holder, body: answer.body }));

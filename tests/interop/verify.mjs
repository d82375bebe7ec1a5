#!/usr/bin/env node
/*
 * Verifies credentials with implementations that are not sijil's, offline:
 *
 *  - "digitalbazaar": @digitalbazaar/vc with Data Integrity (eddsa-rdfc-2022, ecdsa-rdfc-2019,
 *    eddsa-jcs-2022, ecdsa-jcs-2019) and @digitalbazaar/vc-bitstring-status-list, with a document
 *    loader that knows only the published contexts in published.json (files checked against the
 *    publishers' sha256), did:key (resolved locally by @digitalbazaar/did-method-key) and the
 *    documents handed in (did:web DID documents and status list credentials, by URL).
 *  - "verifierCore": @digitalcredentials/verifier-core, the library the Learner Credential Wallet
 *    and VerifierPlus use, unmodified. It loads what it does not bundle over HTTP(S) with the
 *    global fetch; fetch is replaced by one that answers only the published contexts, the
 *    official JSON Schemas and the handed-in documents, and 404 for anything else. Its issuer
 *    registry step needs the network and is not applicable here (no registries are given).
 *  - "ajv": the official OB 3.0 / CLR 2.0 JSON Schemas (verifier/schemas, bytes checked against
 *    published.json) with Ajv's draft 2019-09 validator and ajv-formats (date-time, uri, ...);
 *    "not_applicable" for credentials that are neither OpenBadgeCredential nor ClrCredential.
 *
 * Usage: node verify.mjs [--documents DOCS.json] FILE...   (one verdict line per FILE)
 *        node verify.mjs < BATCH.json                        (the test suite's batch form)
 * DOCS.json: {URL: JSON} (did:web DID documents, status list credentials).
 * Batch input (stdin, one JSON object):
 *   {"documents": {URL: JSON}, "credentials": [{"name": str, "credential": JSON,
 *    "verifiers"?: [...]}], "verifiers"?: ["digitalbazaar", "verifierCore", "ajv"]}
 *   ("verifiers" limits which run, for all credentials or for one; default all three)
 * Output (stdout, one JSON line): {"results": [{"name", "digitalbazaar": Verdict,
 *   "verifierCore": Verdict, "ajv": Verdict}], "refused": [URL...]} ("refused": every URL
 *   asked for that is neither published nor handed in)
 *   Verdict: {"verdict": "valid"|"revoked"|"suspended"|"invalid"|"not_applicable",
 *             "errors": [str], ...} (digitalbazaar: "status", "proofs"; verifierCore: "log",
 *             "schema"; ajv: "schema")
 * Exit status 0 whenever every credential was checked (whatever the verdicts), 2 on bad input.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
// sijil's own context: nobody can dereference it, so an independent verifier never has it.
const REFUSED = new Set(['https://w3id.org/sijil/v1']);

// Libraries may print diagnostics with console.log; stdout carries only our JSON answer.
console.log = console.info = console.warn = console.debug = (...args) => console.error(...args);

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function readPinned(file, expected) {
  const bytes = readFileSync(file);
  const digest = sha256(bytes);
  if(digest !== expected) {
    throw new Error(`${path.relative(ROOT, file)}: sha256 ${digest} is not the published ` +
      `${expected}`);
  }
  return JSON.parse(bytes.toString('utf8'));
}

function loadPublished() {
  const spec = JSON.parse(readFileSync(path.join(HERE, 'published.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, entry] of Object.entries(spec.contexts)) {
    if(!REFUSED.has(url)) {
      contexts.set(url, readPinned(path.join(ROOT, 'contexts', 'files', entry.file),
        entry.sha256));
    }
  }
  const schemas = new Map();
  for(const [url, entry] of Object.entries(spec.schemas)) {
    schemas.set(url, readPinned(path.join(ROOT, 'verifier', 'schemas', entry.file),
      entry.sha256));
  }
  return {contexts, schemas};
}

// `node verify.mjs [--documents DOCS.json] FILE...`: each FILE one credential, one verdict
// line each; without FILEs the batch object on stdin, one answer line.
function readInput(argv) {
  if(argv.length === 0) {
    return {input: JSON.parse(readFileSync(0, 'utf8')), perLine: false};
  }
  let documents = {};
  const files = [];
  for(let i = 0; i < argv.length; i++) {
    if(argv[i] === '--documents') {
      documents = JSON.parse(readFileSync(argv[++i], 'utf8'));
    } else {
      files.push(argv[i]);
    }
  }
  const credentials = files.map(
    file => ({name: file, credential: JSON.parse(readFileSync(file, 'utf8'))}));
  return {input: {credentials, documents}, perLine: true};
}

const {input, perLine} = readInput(process.argv.slice(2));
if(!input || !Array.isArray(input.credentials)) {
  console.error('stdin: expected {"credentials": [...], "documents": {...}}');
  process.exit(2);
}
const {contexts, schemas} = loadPublished();
const documents = new Map(Object.entries(input.documents ?? {}));
const verifiers = input.verifiers ?? ['digitalbazaar', 'verifierCore', 'ajv'];
const refused = new Set();

function copy(value) {
  return structuredClone(value);
}

// --- the only "network": published contexts, official schemas, handed-in documents --------
function offlineLookup(url) {
  if(REFUSED.has(url)) {
    return undefined;
  }
  return contexts.get(url) ?? schemas.get(url) ?? documents.get(url);
}

globalThis.fetch = async function offlineFetch(resource) {
  const url = typeof resource === 'string' ? resource :
    (resource?.url ?? String(resource));
  const doc = offlineLookup(url);
  if(doc === undefined) {
    refused.add(url);
    return new Response('not found (offline test)', {status: 404});
  }
  return new Response(JSON.stringify(doc), {
    status: 200,
    headers: {'content-type': 'application/json'}
  });
};

// did:web:host%3Aport:path -> https://host:port/path/did.json (or /.well-known/did.json).
function didWebUrl(did) {
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const [host, ...rest] = parts;
  return rest.length ?
    `https://${host}/${rest.join('/')}/did.json` :
    `https://${host}/.well-known/did.json`;
}

function fromDidDocument(doc, url) {
  const [did, fragment] = url.split('#');
  if(fragment === undefined) {
    return doc;
  }
  for(const vm of doc.verificationMethod ?? []) {
    const id = vm.id.startsWith('#') ? did + vm.id : vm.id;
    if(id === url) {
      return {'@context': doc['@context'], ...vm, id};
    }
  }
  throw new Error(`${url}: no such verification method in the DID document`);
}

// --- (a) Digital Bazaar --------------------------------------------------------------------
async function digitalBazaarVerifier() {
  const vc = await import('@digitalbazaar/vc');
  const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
  const eddsaRdfc = await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const ecdsaRdfc = await import('@digitalbazaar/ecdsa-rdfc-2019-cryptosuite');
  const eddsaJcs = await import('@digitalbazaar/eddsa-jcs-2022-cryptosuite');
  const ecdsaJcs = await import('@digitalbazaar/ecdsa-jcs-2019-cryptosuite');
  const didKey = await import('@digitalbazaar/did-method-key');
  const Ed25519Multikey = await import('@digitalbazaar/ed25519-multikey');
  const EcdsaMultikey = await import('@digitalbazaar/ecdsa-multikey');
  const bsl = await import('@digitalbazaar/vc-bitstring-status-list');

  const didKeyDriver = didKey.driver();
  didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  didKeyDriver.use({multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from});
  didKeyDriver.use({multibaseMultikeyHeader: 'z82L', fromMultibase: EcdsaMultikey.from});

  async function documentLoader(url) {
    let document;
    if(REFUSED.has(url)) {
      throw new Error(`"${url}" is not a published context`);
    } else if(contexts.has(url)) {
      document = copy(contexts.get(url));
    } else if(url.startsWith('did:key:')) {
      document = await didKeyDriver.get({url});
    } else if(url.startsWith('did:web:')) {
      const doc = documents.get(didWebUrl(url.split('#')[0]));
      if(doc === undefined) {
        throw new Error(`"${url}": DID document not handed in`);
      }
      document = fromDidDocument(copy(doc), url);
    } else if(documents.has(url)) {
      document = copy(documents.get(url));
    } else {
      refused.add(url);
      throw new Error(`"${url}" is not available offline`);
    }
    return {contextUrl: null, documentUrl: url, document};
  }

  const suite = [
    new DataIntegrityProof({cryptosuite: eddsaRdfc.cryptosuite}),
    new DataIntegrityProof({cryptosuite: ecdsaRdfc.cryptosuite}),
    new DataIntegrityProof({cryptosuite: eddsaJcs.createVerifyCryptosuite()}),
    new DataIntegrityProof({cryptosuite: ecdsaJcs.createVerifyCryptosuite()})
  ];

  const checkStatus = options => bsl.checkStatus({
    ...options, suite, documentLoader, verifyMatchingIssuers: true
  });

  return async function verify(credential) {
    const result = await vc.verifyCredential({
      credential: copy(credential), suite, documentLoader, checkStatus
    });
    const status = (result.statusResult?.results ?? []).map(r => ({
      purpose: r.credentialStatus?.statusPurpose, set: r.status === true
    }));
    const proofs = (result.results ?? []).map(r => ({
      verified: r.verified,
      cryptosuite: r.proof?.cryptosuite,
      verificationMethod: r.proof?.verificationMethod
    }));
    let verdict = result.verified ? 'valid' : 'invalid';
    if(result.verified) {
      for(const s of status) {
        if(s.set && s.purpose === 'revocation') {
          verdict = 'revoked';
        } else if(s.set && s.purpose === 'suspension' && verdict === 'valid') {
          verdict = 'suspended';
        }
      }
    }
    const errors = [
      ...describe(result.error),
      ...describe(result.statusResult?.error),
      ...(result.results ?? []).flatMap(r => describe(r.error))
    ];
    if(!result.verified && errors.length === 0) {
      errors.push(`not verified: ${JSON.stringify(result).slice(0, 400)}`);
    }
    return {verdict, errors: [...new Set(errors)], status, proofs};
  };
}

// --- (b) DCC verifier-core -----------------------------------------------------------------
async function verifierCoreVerifier() {
  const core = await import('@digitalcredentials/verifier-core');
  return async function verify(credential) {
    const result = await core.verifyCredential({
      credential: copy(credential), knownDIDRegistries: []
    });
    if(result.errors) {
      return {
        verdict: 'invalid',
        errors: result.errors.flatMap(e => [
          `${e.name}: ${e.message}`, ...describe(e.stackTrace instanceof Error ?
            e.stackTrace : undefined), ...details(e)
        ])
      };
    }
    const log = {};
    for(const entry of result.log ?? []) {
      log[entry.id] = entry.error ? {error: `${entry.error.name}: ${entry.error.message}`} :
        {valid: entry.valid};
    }
    const schema = [];
    for(const info of result.additionalInformation ?? []) {
      if(info.id !== 'schema_check') {
        continue;
      }
      if(!Array.isArray(info.results)) {
        schema.push({schema: null, valid: null, note: String(info.results)});
        continue;
      }
      for(const r of info.results) {
        schema.push({
          schema: r.schema,
          valid: r.result?.valid === true,
          errors: (r.result?.errors ?? []).slice(0, 5).map(
            e => `${e.instancePath || '/'} ${e.message}`)
        });
      }
    }
    const errors = [];
    let verdict = 'valid';
    if(log.valid_signature?.valid !== true) {
      verdict = 'invalid';
      errors.push(`valid_signature: ${JSON.stringify(log.valid_signature ?? null)}`);
    }
    if(log.expiration?.valid === false) {
      verdict = 'invalid';
      errors.push('expiration: the credential has expired or is not yet valid');
    }
    const revocation = log.revocation_status;
    if(revocation?.error) {
      verdict = 'invalid';
      errors.push(`revocation_status: ${revocation.error}`);
    } else if(revocation?.valid === false && verdict === 'valid') {
      verdict = 'revoked';
    }
    for(const s of schema) {
      if(s.valid === false) {
        verdict = verdict === 'valid' ? 'invalid' : verdict;
        errors.push(`schema ${s.schema}: ${s.errors.join('; ')}`);
      }
    }
    // registered_issuer: needs the DCC registries over the network; not applicable offline.
    delete log.registered_issuer;
    return {verdict, errors, log, schema};
  };
}

// --- (c) ajv: the official OB 3.0 / CLR 2.0 JSON Schemas, formats checked -------------------
const OB_SCHEMA =
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json';
const CLR_SCHEMA =
  'https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json';

async function ajvVerifier() {
  const {Ajv2019} = await import('ajv/dist/2019.js');
  const formats = await import('ajv-formats');
  const addFormats = formats.default.default ?? formats.default;
  const ajv = new Ajv2019({allErrors: true, strict: false});
  addFormats(ajv);
  for(const schema of schemas.values()) {
    ajv.addSchema(copy(schema));
  }
  return async function verify(credential) {
    const types = [].concat(credential.type ?? []);
    const schema = types.includes('ClrCredential') ? CLR_SCHEMA :
      (types.includes('OpenBadgeCredential') || types.includes('AchievementCredential')) ?
        OB_SCHEMA : null;
    if(schema === null) {
      return {verdict: 'not_applicable', errors: []};
    }
    const validate = ajv.getSchema(schema);
    const valid = validate(copy(credential));
    return {
      verdict: valid ? 'valid' : 'invalid',
      schema,
      errors: (validate.errors ?? []).slice(0, 10).map(
        e => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    };
  };
}

function details(error) {
  if(!error || typeof error !== 'object' || !error.details) {
    return [];
  }
  return [`details: ${JSON.stringify(error.details).slice(0, 400)}`];
}

// An error and everything it wraps, as "Name: message" lines.
function describe(error, depth = 0, seen = new Set()) {
  if(!error || typeof error !== 'object' || seen.has(error) || depth > 6) {
    return [];
  }
  seen.add(error);
  const lines = [`${error.name ?? 'Error'}: ${error.message ?? String(error)}`];
  lines.push(...details(error));
  for(const inner of error.errors ?? []) {
    lines.push(...describe(inner, depth + 1, seen));
  }
  lines.push(...describe(error.cause, depth + 1, seen));
  return [...new Set(lines)];
}

const makers = {
  digitalbazaar: digitalBazaarVerifier, verifierCore: verifierCoreVerifier, ajv: ajvVerifier
};
const active = {};
for(const name of verifiers) {
  if(!(name in makers)) {
    console.error(`unknown verifier ${name}`);
    process.exit(2);
  }
  active[name] = await makers[name]();
}

const results = [];
for(const {name, credential, verifiers: only} of input.credentials) {
  const entry = {name};
  for(const [verifier, verify] of Object.entries(active)) {
    if(only && !only.includes(verifier)) {
      continue;
    }
    try {
      entry[verifier] = await verify(credential);
    } catch(error) {
      entry[verifier] = {verdict: 'invalid', errors: describe(error)};
    }
  }
  results.push(entry);
  if(perLine) {
    process.stdout.write(JSON.stringify(entry) + '\n');
  }
}
if(!perLine) {
  process.stdout.write(JSON.stringify({results, refused: [...refused].sort()}) + '\n');
} else if(refused.size) {
  console.error(`not available offline: ${[...refused].sort().join(', ')}`);
}

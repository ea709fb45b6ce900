// Browser-side cryptography of the registry pages. The clerk's key never leaves this page:
// documents are hashed here (SHA-256), records are hashed (EIP-712) and signed here (secp256k1),
// and only hashes and signatures go to the server.
import { keccak_256 } from '/static/vendor/noble-hashes/sha3.js';
import { sha256 } from '/static/vendor/noble-hashes/sha2.js';
import { hmac } from '/static/vendor/noble-hashes/hmac.js';
import { scryptAsync } from '/static/vendor/noble-hashes/scrypt.js';
import { pbkdf2Async } from '/static/vendor/noble-hashes/pbkdf2.js';
import * as secp from '/static/vendor/noble-secp256k1/index.js';

secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key, message) => hmac(sha256, key, message);

const utf8 = (text) => new TextEncoder().encode(text);

export function toHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(hex) {
  const text = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (text.length % 2 !== 0 || /[^0-9a-fA-F]/.test(text)) throw new Error('not hex');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** SHA-256 of a File, as 64 lower-case hex digits (WebCrypto where available, else noble). */
export async function sha256File(file) {
  const data = new Uint8Array(await file.arrayBuffer());
  if (globalThis.crypto && crypto.subtle) {
    return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data))).slice(2);
  }
  return toHex(sha256(data)).slice(2);
}

// ------------------------------------------------------------------ EIP-712

export const TYPES = {
  Attestation: [
    ['documentHash', 'bytes32'],
    ['registerType', 'bytes32'],
    ['subjectRef', 'bytes32'],
    ['issuedAt', 'uint64'],
    ['validUntil', 'uint64'],
    ['clerk', 'address'],
  ],
  Revocation: [
    ['documentHash', 'bytes32'],
    ['reason', 'uint16'],
    ['clerk', 'address'],
  ],
  Supersession: [
    ['documentHash', 'bytes32'],
    ['successorHash', 'bytes32'],
    ['reason', 'uint16'],
    ['clerk', 'address'],
  ],
};

function word(type, value) {
  if (type === 'bytes32') {
    const raw = fromHex(value);
    if (raw.length !== 32) throw new Error('bytes32 expected');
    return raw;
  }
  if (type === 'address') {
    const raw = fromHex(value);
    if (raw.length !== 20) throw new Error('address expected');
    return concat(new Uint8Array(12), raw);
  }
  if (type.startsWith('uint')) {
    let n = BigInt(value);
    if (n < 0n || n >= 1n << BigInt(type.slice(4))) throw new Error(`${type} out of range`);
    const out = new Uint8Array(32);
    for (let i = 31; i >= 0; i--) {
      out[i] = Number(n & 0xffn);
      n >>= 8n;
    }
    return out;
  }
  throw new Error(`unsupported type ${type}`);
}

function structHash(name, message) {
  const fields = TYPES[name];
  const typeString = `${name}(${fields.map(([n, t]) => `${t} ${n}`).join(',')})`;
  return keccak_256(concat(keccak_256(utf8(typeString)), ...fields.map(([n, t]) => word(t, message[n]))));
}

function domainSeparator(domain) {
  const type = 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)';
  return keccak_256(
    concat(
      keccak_256(utf8(type)),
      keccak_256(utf8(domain.name)),
      keccak_256(utf8(domain.version)),
      word('uint256', domain.chainId),
      word('address', domain.verifyingContract),
    ),
  );
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash): what the clerk signs. */
export function typedDigest(domain, name, message) {
  return keccak_256(concat(Uint8Array.of(0x19, 0x01), domainSeparator(domain), structHash(name, message)));
}

// ---------------------------------------------------------------- the key

function signDigest(digest, privateKey) {
  const recovered = secp.sign(digest, privateKey, { prehash: false, format: 'recovered', lowS: true });
  // noble: recovery byte first; Ethereum: r ‖ s ‖ v with v = 27 + recovery
  return toHex(concat(recovered.slice(1), Uint8Array.of(27 + recovered[0])));
}

export function signTyped(domain, name, message, privateKey) {
  return signDigest(typedDigest(domain, name, message), privateKey);
}

/** EIP-191 personal_sign, as the sign-in challenge asks. */
export function signPersonal(text, privateKey) {
  const body = utf8(text);
  const digest = keccak_256(concat(utf8(`\x19Ethereum Signed Message:\n${body.length}`), body));
  return signDigest(digest, privateKey);
}

export function addressOf(privateKey) {
  const publicKey = secp.getPublicKey(privateKey, false);
  const raw = toHex(keccak_256(publicKey.slice(1)).slice(-20)).slice(2);
  const hash = toHex(keccak_256(utf8(raw))).slice(2);
  return '0x' + Array.from(raw, (c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}

export function parsePrivateKey(text) {
  const key = fromHex(text.trim());
  if (key.length !== 32 || !secp.utils.isValidSecretKey(key)) throw new Error('not a private key');
  return key;
}

/** The private key of an Ethereum keystore file (version 3: scrypt or pbkdf2, aes-128-ctr). */
export async function decryptKeystore(json, password, onProgress = () => {}) {
  const c = json.crypto || json.Crypto;
  if (!c || c.cipher !== 'aes-128-ctr') throw new Error('unsupported keystore');
  const p = c.kdfparams;
  const secret = utf8(password);
  let derived;
  if (c.kdf === 'scrypt') {
    derived = await scryptAsync(secret, fromHex(p.salt), { N: p.n, r: p.r, p: p.p, dkLen: p.dklen, onProgress });
  } else if (c.kdf === 'pbkdf2' && p.prf === 'hmac-sha256') {
    derived = await pbkdf2Async(sha256, secret, fromHex(p.salt), { c: p.c, dkLen: p.dklen });
  } else {
    throw new Error('unsupported keystore');
  }
  const ciphertext = fromHex(c.ciphertext);
  const mac = toHex(keccak_256(concat(derived.slice(16, 32), ciphertext))).slice(2);
  if (mac !== c.mac.toLowerCase().replace(/^0x/, '')) throw new Error('wrong password');
  const key = await crypto.subtle.importKey('raw', derived.slice(0, 16), { name: 'AES-CTR' }, false, ['decrypt']);
  const counter = fromHex(c.cipherparams.iv);
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CTR', counter, length: 128 }, key, ciphertext));
}

/**
 * Passwords at rest: AES-256-GCM with a key from DCS_SECRET_KEY, else a key generated once into the data dir
 * (mode 0600). Ciphertexts are `v1:<iv b64>:<tag b64>:<data b64>`; a wrong key fails loudly, never silently.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationError } from '../errors.ts';

export class SecretError extends MigrationError {}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new SecretError('SECRET_ERR_KEY', 'secret key must be 32 bytes');
    this.#key = key;
  }

  /**
   * DCS_SECRET_KEY: 64 hex chars or base64 of 32 bytes is used as is; any other string is hashed (SHA-256) into
   * a key, so a passphrase works too. Unset: `<dataDir>/secret.key`, created on first start.
   */
  static open(secret: string | undefined, dataDir: string): SecretBox {
    if (secret) return new SecretBox(parseKey(secret));
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    }
    return new SecretBox(parseKey(readFileSync(file, 'utf8').trim()));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1:${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${data.toString('base64')}`;
  }

  open(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || data === undefined) {
      throw new SecretError('SECRET_ERR_FORMAT', 'stored secret has an unknown format');
    }
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]).toString('utf8');
    } catch (cause) {
      throw new SecretError(
        'SECRET_ERR_DECRYPT',
        'cannot decrypt a stored password: DCS_SECRET_KEY differs from the key it was stored with',
        {},
        { cause },
      );
    }
  }
}

function parseKey(s: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  const b = Buffer.from(s, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/]{43}=?$/.test(s)) return b;
  return createHash('sha256').update(s, 'utf8').digest();
}

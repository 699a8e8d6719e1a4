import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../temporal/codec';

/**
 * Encrypts personal data and secrets before PostgreSQL stores them (a ticket's customer and
 * description, outbox recipients, webhook secrets), with the payload codec's key ring
 * (PAYLOAD_ENCRYPTION_KEYS): AES-256-GCM under the first key, opened with whichever key sealed it, so
 * adding a key in front rotates encryption while rows sealed before still open.
 *
 * A sealed value is text: `enc1:<key id>:<base64 of iv, ciphertext, tag>`. The authenticated data
 * binds it to its key id and to what it is (`purpose`, e.g. `tickets.pii`), so a value copied into
 * another column does not open there.
 */
export const SEALED_PREFIX = 'enc1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class FieldDecryptionError extends Error {
  override name = 'FieldDecryptionError';
}

export class FieldCipher {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly active: EncryptionKey;

  constructor(keys: readonly EncryptionKey[]) {
    const [active] = keys;
    if (!active) throw new Error('the field cipher needs at least one encryption key');
    this.active = active;
    this.byId = new Map(keys.map((entry) => [entry.id, entry.key]));
  }

  /** How every value the active key sealed begins. */
  get activePrefix(): string {
    return `${SEALED_PREFIX}${this.active.id}:`;
  }

  /** Seals a text under the active key. */
  seal(plain: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
    cipher.setAAD(Buffer.from(`${this.active.id}|${purpose}`));
    const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${SEALED_PREFIX}${this.active.id}:${sealed.toString('base64')}`;
  }

  /** Opens a sealed text with the key that sealed it; fails when that key is gone or it was altered. */
  open(text: string, purpose: string): string {
    const match = /^enc1:([^:]+):([A-Za-z0-9+/=]+)$/.exec(text);
    if (!match) throw new FieldDecryptionError(`a ${purpose} value is not sealed`);
    const keyId = match[1] ?? '';
    const key = this.byId.get(keyId);
    if (!key) throw new FieldDecryptionError(`no payload encryption key with id "${keyId}" is configured`);
    const sealed = Buffer.from(match[2] ?? '', 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${keyId}|${purpose}`));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new FieldDecryptionError(`a ${purpose} value sealed with key "${keyId}" failed authentication`);
    }
  }

  sealJson(value: unknown, purpose: string): string {
    return this.seal(JSON.stringify(value), purpose);
  }

  openJson<T>(text: string, purpose: string): T {
    return JSON.parse(this.open(text, purpose)) as T;
  }
}

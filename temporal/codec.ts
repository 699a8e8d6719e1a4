import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type Payload, type PayloadCodec, METADATA_ENCODING_KEY } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts the payloads the API and the worker hand to Temporal with AES-256-GCM, so customer
 * names, phones, e-mails and addresses never sit in Temporal's history in clear text. Each payload
 * names the key it was sealed with; one key seals, every configured key opens, so a key can be known
 * everywhere before anything is sealed with it (the two-phase rotation in config/index.ts).
 *
 * A payload that is a bare JSON string stays readable: Temporal carries workflow summaries, current
 * details and timer and activity names that way, and operators must read those at a glance. Aftercare
 * never sends personal data as a bare string — tickets, inputs and results are objects — and the
 * history tests check that no customer's name, phone, e-mail or address appears in clear.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  readonly id: string;
  /** 32 bytes. */
  readonly key: Buffer;
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const fromUtf8 = (bytes: Uint8Array | null | undefined) =>
  new TextDecoder().decode(bytes ?? new Uint8Array());

const QUOTE = 0x22;

function isBareJsonString(payload: Payload): boolean {
  return fromUtf8(payload.metadata?.[METADATA_ENCODING_KEY]) === 'json/plain' && payload.data?.[0] === QUOTE;
}

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly active: EncryptionKey;

  /** The first key seals; every key opens. */
  constructor(keys: readonly EncryptionKey[]) {
    const [active] = keys;
    if (!active) throw new Error('the payload codec needs at least one encryption key');
    this.active = active;
    this.byId = new Map(keys.map((entry) => [entry.id, entry.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (isBareJsonString(payload)) return payload;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.active.key, iv);
      cipher.setAAD(utf8(this.active.id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8(this.active.id),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (fromUtf8(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = fromUtf8(payload.metadata?.[KEY_ID_METADATA]);
      const key = this.byId.get(keyId);
      if (!key)
        throw new PayloadDecryptionError(`no payload encryption key with id "${keyId}" is configured`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < IV_BYTES + TAG_BYTES) {
        throw new PayloadDecryptionError(
          `payload sealed with key "${keyId}" is ${sealed.length} bytes, shorter than its IV and 16-byte tag`,
        );
      }
      // A fixed tag length: GCM would otherwise accept a tag cut to 4 bytes, far easier to forge.
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(utf8(keyId));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new PayloadDecryptionError(`payload sealed with key "${keyId}" failed authentication`);
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

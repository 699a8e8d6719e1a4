import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { customerIdOf } from '../../api/customer-id';
import { loadConfig } from '../../config';
import { AesGcmPayloadCodec, PayloadDecryptionError, type EncryptionKey } from '../../temporal/codec';

const oldKey = { id: 'k2025', key: randomBytes(32) };
const newKey = { id: 'k2026', key: randomBytes(32) };
const customer = { name: '张三', phone: '13812345678', email: 'z@example.com', address: '上海市浦东新区' };
const plain = defaultPayloadConverter.toPayload(customer);
const text = (payload: Payload) => Buffer.from(payload.data ?? new Uint8Array()).toString('utf8');

describe('the payload codec', () => {
  it('seals a payload so no personal data is readable, and opens it again', async () => {
    const [sealed] = await new AesGcmPayloadCodec([oldKey]).encode([plain]);
    expect(Buffer.from(sealed!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed!.metadata!['encryption-key-id']!).toString()).toBe('k2025');
    for (const value of Object.values(customer)) expect(text(sealed!)).not.toContain(value);
    const [opened] = await new AesGcmPayloadCodec([oldKey]).decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
  });

  it('rotates: a new key in front encrypts, the old key still opens what it sealed', async () => {
    const [sealedBefore] = await new AesGcmPayloadCodec([oldKey]).encode([plain]);
    const rotated = new AesGcmPayloadCodec([newKey, oldKey]);
    const [sealedAfter] = await rotated.encode([plain]);
    expect(Buffer.from(sealedAfter!.metadata!['encryption-key-id']!).toString()).toBe('k2026');
    const opened = await rotated.decode([sealedBefore!, sealedAfter!]);
    expect(opened.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      customer,
      customer,
    ]);
  });

  it('refuses a payload whose key is not configured, or that was tampered with', async () => {
    const [sealed] = await new AesGcmPayloadCodec([oldKey]).encode([plain]);
    await expect(new AesGcmPayloadCodec([newKey]).decode([sealed!])).rejects.toThrow(
      new PayloadDecryptionError('no payload encryption key with id "k2025" is configured'),
    );
    // One byte flipped (filling it with a fixed value left it unchanged when it already held that value: 1 in 256).
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = flipped[20]! ^ 0xff;
    const tampered = { ...sealed!, data: flipped };
    await expect(new AesGcmPayloadCodec([oldKey]).decode([tampered])).rejects.toThrow(
      /failed authentication/,
    );
  });

  it('leaves a bare string — a workflow summary or timer name — readable, and seals objects holding one', async () => {
    const codec = new AesGcmPayloadCodec([oldKey]);
    const summary = defaultPayloadConverter.toPayload('WO20261123-001 · fault · urgent');
    expect(await codec.encode([summary])).toEqual([summary]);
    const [wrapped] = await codec.encode([defaultPayloadConverter.toPayload({ name: customer.name })]);
    expect(text(wrapped!)).not.toContain(customer.name);
  });

  it('refuses a payload too short to hold its IV and a full 16-byte tag, as a decryption error', async () => {
    const codec = new AesGcmPayloadCodec([oldKey]);
    const [sealed] = await codec.encode([plain]);
    for (let length = 0; length < 28; length++) {
      const short = { ...sealed!, data: Buffer.from(sealed!.data!).subarray(0, length) };
      await expect(codec.decode([short])).rejects.toThrow(
        new PayloadDecryptionError(
          `payload sealed with key "k2025" is ${length} bytes, shorter than its IV and 16-byte tag`,
        ),
      );
    }
  });

  it('passes payloads that are not encrypted through unchanged', async () => {
    expect(await new AesGcmPayloadCodec([oldKey]).decode([plain])).toEqual([plain]);
  });

  it('uses a fresh IV each time: the same payload never seals to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec([oldKey]);
    const [first] = await codec.encode([plain]);
    const [second] = await codec.encode([plain]);
    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
  });
});

describe('the two-phase key rotation (PAYLOAD_ENCRYPTION_KEY_ID)', () => {
  const entry = (key: EncryptionKey) => `${key.id}:${key.key.toString('base64')}`;
  const codecOf = (env: Record<string, string>) => new AesGcmPayloadCodec(loadConfig(env).payloadKeys);
  const keyIdOf = (payload: Payload) => Buffer.from(payload.metadata!['encryption-key-id']!).toString();
  const before = codecOf({ PAYLOAD_ENCRYPTION_KEYS: entry(oldKey) });
  const phase1 = codecOf({
    PAYLOAD_ENCRYPTION_KEYS: `${entry(oldKey)},${entry(newKey)}`,
    PAYLOAD_ENCRYPTION_KEY_ID: oldKey.id,
  });
  const phase2 = codecOf({
    PAYLOAD_ENCRYPTION_KEYS: `${entry(oldKey)},${entry(newKey)}`,
    PAYLOAD_ENCRYPTION_KEY_ID: newKey.id,
  });
  const opened = async (codec: AesGcmPayloadCodec, payload: Payload) =>
    defaultPayloadConverter.fromPayload((await codec.decode([payload]))[0]!);

  it('phase 1: processes that know the new key still seal with the old, so processes not yet restarted read everything', async () => {
    const [fromPhase1] = await phase1.encode([plain]);
    expect(keyIdOf(fromPhase1!)).toBe(oldKey.id);
    expect(await opened(before, fromPhase1!)).toEqual(customer);
    const [fromBefore] = await before.encode([plain]);
    expect(await opened(phase1, fromBefore!)).toEqual(customer);
  });

  it('phase 2: once every process knows it, the new key seals, and phase-1 processes still mid-restart read it', async () => {
    const [fromPhase2] = await phase2.encode([plain]);
    expect(keyIdOf(fromPhase2!)).toBe(newKey.id);
    expect(await opened(phase1, fromPhase2!)).toEqual(customer);
    const [fromPhase1] = await phase1.encode([plain]);
    expect(await opened(phase2, fromPhase1!)).toEqual(customer);
    // Why phase 1 comes first: a process that never learned the new key cannot read it.
    await expect(before.decode([fromPhase2!])).rejects.toThrow(PayloadDecryptionError);
  });

  it('without PAYLOAD_ENCRYPTION_KEY_ID the first listed key seals, as before', async () => {
    const [sealed] = await codecOf({ PAYLOAD_ENCRYPTION_KEYS: `${entry(newKey)},${entry(oldKey)}` }).encode([
      plain,
    ]);
    expect(keyIdOf(sealed!)).toBe(newKey.id);
  });
});

describe('the CustomerId search attribute', () => {
  it('is a keyed hash of the normalised phone, stable and never the phone', () => {
    const id = customerIdOf('138 1234-5678', 'secret-one-long-enough');
    expect(id).toBe(customerIdOf('13812345678', 'secret-one-long-enough'));
    expect(id).toMatch(/^c_[0-9a-f]{32}$/);
    expect(id).not.toContain('5678');
    expect(customerIdOf('13812345678', 'secret-two-long-enough')).not.toBe(id);
  });
});

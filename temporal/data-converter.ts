import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type EncryptionKey } from './codec';

/**
 * The one data converter the API's client, the worker and the tests share. Failure messages stay
 * readable (they never carry personal data: validators name fields, not values).
 */
export function createDataConverter(keys: readonly EncryptionKey[]): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keys)] };
}

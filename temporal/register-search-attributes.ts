import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TICKET_SEARCH_ATTRIBUTES } from './search-attributes';

const INDEXED_VALUE_TYPES = temporal.api.enums.v1.IndexedValueType;

/**
 * Registers Aftercare's search attributes on a namespace, for clusters whose operators did not do
 * it themselves (`npm run temporal:register`); what already exists is left as it is.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const added: string[] = [];
  for (const key of TICKET_SEARCH_ATTRIBUTES) {
    const type = INDEXED_VALUE_TYPES[`INDEXED_VALUE_TYPE_${key.type}`];
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [key.name]: type },
      });
      added.push(key.name);
    } catch (error) {
      if (!/already exists/i.test(String(error))) throw error;
    }
  }
  return added;
}

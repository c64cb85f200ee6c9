import type { Connection } from '@temporalio/client';
import { status as grpcStatus } from '@grpc/grpc-js';
import { msToTs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { searchAttributes } from '../contracts/search-attributes';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const indexedValueType: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Registers our custom search attributes on a server that lacks them (the time-skipping server, a fresh cluster). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  // The time-skipping test server cannot list search attributes: there, register them all.
  const customAttributes = await connection.operatorService.listSearchAttributes({ namespace }).then(
    (response) => response.customAttributes,
    (error: { code?: number }) => {
      if (error.code === grpcStatus.UNIMPLEMENTED) return {};
      throw error;
    },
  );
  const missing = Object.values(searchAttributes).filter((key) => !(key.name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]!])),
  });
}

/**
 * Registers `namespace` on a self-hosted server that lacks it (a fresh cluster starts with only
 * `temporal-system`) and waits until the frontend serves it. Retention: how long closed leads' histories stay.
 */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays = 30): Promise<void> {
  await connection.workflowService
    .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) })
    .catch((error: { code?: number }) => {
      if (error.code !== grpcStatus.ALREADY_EXISTS) throw error;
    });
  // The frontend's namespace cache refreshes every few seconds: a new namespace is unknown until then.
  for (let attempt = 0; ; attempt++) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== grpcStatus.NOT_FOUND || attempt > 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

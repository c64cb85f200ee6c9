import {
  ApplicationFailure,
  log,
  type Next,
  type SignalInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { unencryptedPayloadFailureType } from '../contracts/failures';
import { isRefusedPayload } from '../contracts/payloads';

// Every workflow of the service runs behind these (worker/worker.ts `workflowInterceptorModules`).
// A production worker decodes a payload that was not encrypted with its keys to a marker
// (codec/payload-codec.ts `PlaintextRefusingCodec`); here no marker reaches a handler: a start
// fails, an update is rejected before it is accepted (nothing in the history), a signal is dropped.
// Elsewhere no payload is a marker, and these pass everything on.

const refused = (args: readonly unknown[]) => args.some(isRefusedPayload);

const refusal = (what: string) =>
  ApplicationFailure.create({
    type: unencryptedPayloadFailureType,
    nonRetryable: true,
    message: `${what} refused: its payload is not encrypted with the service's payload keys`,
  });

class RefuseUnencryptedPayloads implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    if (refused(input.args)) throw refusal('workflow start');
    return next(input);
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (refused(input.args)) {
      log.warn('signal dropped: its payload is not encrypted with the service’s payload keys', { signal: input.signalName });
      return;
    }
    return next(input);
  }

  // Runs only for updates with a validator; handleUpdate below covers the others.
  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    if (refused(input.args)) throw refusal(`update ${input.name}`);
    next(input);
  }

  async handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    if (refused(input.args)) throw refusal(`update ${input.name}`);
    return next(input);
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new RefuseUnencryptedPayloads()] });

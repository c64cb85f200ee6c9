/** The engine's own limit: a workflow that does nothing, started and completed through the client. */
export async function noopWorkflow(): Promise<void> {}

import { clusterBinaries } from '../../stack/cluster';
import { temporalCliExecutable } from '../../stack/engine';

/** The cluster's binaries and the CLI (for `temporal workflow list`), built once into the engine cache. */
export default async function setup() {
  const log = (line: string) => console.log(`cluster setup: ${line}`);
  await Promise.all([clusterBinaries(log), temporalCliExecutable(log)]);
}

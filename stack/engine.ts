/**
 * Provisions the Temporal engine on machines without internet (docs/operations/engine.md): the Temporal CLI
 * (dev server + Web UI) and the Java time-skipping test server, both cached outside the repo.
 * Run it alone with `npm run engine`; `npm start` and `npm test` call it themselves.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EphemeralServerExecutable } from '@temporalio/testing/lib/ephemeral-server';
import { loadEngineEnv } from '../config/env';

export const temporalCliModule = 'github.com/temporalio/cli/cmd/temporal';
/** Newest release whose go.mod has no `replace` directive (required by `go install pkg@version`): Server 1.29.1, UI 2.42.1. */
export const temporalCliVersion = 'v1.5.1';
export const testServerArtifact = 'io.temporal:temporal-test-server';
export const testServerVersion = '1.38.0';

const engineEnv = loadEngineEnv();
export const cacheDir = engineEnv.LEAD_ENGINE_CACHE ?? join(engineEnv.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lead-orchestration');

type Log = (line: string) => void;
const defaultLog: Log = (line) => console.log(`engine: ${line}`);

export class EngineError extends Error {}

export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a long command, echoing the lines that show progress and a heartbeat while it is silent. */
export function runWithProgress(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; what: string; expect: string; show: RegExp; log: Log },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (options.show.test(line)) options.log(`  ${line.trim()}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const heartbeat = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      options.log(`  still ${options.what} (${seconds} s so far; ${options.expect})`);
    }, 20_000);
    child.on('error', (error) => {
      clearInterval(heartbeat);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new EngineError(`${command} ${args.join(' ')} exited with ${code}:\n${tail}`));
    });
  });
}

/** Where `go` keeps a module's source, downloading it if needed. */
function moduleDir(go: string, module: string, version: string): string {
  const result = spawnSync(go, ['mod', 'download', '-json', `${module}@${version}`], { cwd: cacheDir, encoding: 'utf8' });
  if (result.status !== 0) throw new EngineError(`go mod download ${module}@${version} failed: ${result.stderr || result.stdout}`);
  return (JSON.parse(result.stdout) as { Dir: string }).Dir;
}

/** Module files are read-only: copies are made writable, so the cache can be replaced later. */
function makeWritable(path: string): void {
  chmodSync(path, statSync(path).mode | 0o200);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/**
 * Builds `packages` of `module@version` with Go into `<cache>/<name>/<version>` (staged, then
 * renamed, so a half-built directory is never seen) and copies `files` of the module beside them.
 */
export async function goBuildCached(options: {
  name: string;
  module: string;
  version: string;
  packages: { path: string; binary: string }[];
  /** Files of the module's source to keep beside the binaries (schemas, config templates). */
  files?: string[];
  expect: string;
  /** What else to do when the build fails (e.g. an environment variable naming an existing binary). */
  hint?: string;
  log: Log;
}): Promise<string> {
  const dir = join(cacheDir, options.name, options.version);
  if (options.packages.every(({ binary }) => existsSync(join(dir, binary)))) return dir;
  const go = onPath('go');
  if (!go) {
    throw new EngineError(
      `no ${options.name} in ${dir} and no Go toolchain to build it: install Go (https://go.dev/dl)${options.hint ? `, or ${options.hint}` : ''}`,
    );
  }
  const [proxy, sumdb] = spawnSync(go, ['env', 'GOPROXY', 'GOSUMDB'], { encoding: 'utf8' }).stdout.trim().split('\n');
  options.log(
    `building ${options.module}@${options.version} with ${go} (GOPROXY=${proxy}, GOSUMDB=${sumdb}) into ${dir} (${options.expect})`,
  );
  mkdirSync(cacheDir, { recursive: true });
  const staging = `${dir}.staging-${process.pid}`;
  mkdirSync(join(staging, 'gobin'), { recursive: true });
  try {
    for (const { path, binary } of options.packages) {
      await runWithProgress(go, ['install', `${path}@${options.version}`], {
        env: { ...process.env, GOBIN: join(staging, 'gobin'), GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' ') },
        cwd: cacheDir,
        what: `compiling ${binary}`,
        expect: options.expect,
        show: /^go: (?!downloading)/,
        log: options.log,
      });
      const built = join(staging, 'gobin', path.split('/').pop()!);
      renameSync(built, join(staging, binary));
    }
    rmSync(join(staging, 'gobin'), { recursive: true, force: true });
    const source = options.files?.length ? moduleDir(go, options.module, options.version) : '';
    for (const file of options.files ?? []) {
      cpSync(join(source, file), join(staging, file), { recursive: true });
      makeWritable(join(staging, file));
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (options.packages.every(({ binary }) => existsSync(join(dir, binary)))) return dir; // another process won the race
    throw new EngineError(
      `could not build ${options.module}@${options.version} with Go: ${(error as Error).message}\n` +
        `Fix: check that the Go module proxy is reachable (\`go env GOPROXY\`)${options.hint ? `, or ${options.hint}` : ''}.`,
    );
  }
  options.log(`${options.name} ${options.version} ready in ${dir}`);
  return dir;
}

/**
 * The Temporal CLI, found in this order: `$TEMPORAL_CLI`, `temporal` on PATH, the cache, a build
 * with Go into the cache; without Go, the SDK's own download (works with internet access).
 */
export async function temporalCliExecutable(log: Log = defaultLog): Promise<EphemeralServerExecutable> {
  const fromEnv = engineEnv.TEMPORAL_CLI;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new EngineError(`TEMPORAL_CLI=${fromEnv} does not exist`);
    return { type: 'existing-path', path: fromEnv };
  }
  const found = onPath('temporal');
  if (found) return { type: 'existing-path', path: found };

  const binDir = join(cacheDir, 'temporal-cli', temporalCliVersion);
  const cached = join(binDir, 'temporal');
  if (existsSync(cached)) return { type: 'existing-path', path: cached };

  if (!onPath('go')) {
    log('no Temporal CLI and no Go toolchain: letting the Temporal SDK download the dev server (needs internet).');
    log('  offline? install Go (https://go.dev/dl) or set TEMPORAL_CLI to a temporal binary.');
    return { type: 'cached-download', downloadDir: join(cacheDir, 'sdk-download') };
  }
  await goBuildCached({
    name: 'temporal-cli',
    module: 'github.com/temporalio/cli',
    version: temporalCliVersion,
    packages: [{ path: temporalCliModule, binary: 'temporal' }],
    expect: 'about 3 minutes on 2 cores the first time',
    hint: 'set TEMPORAL_CLI to an existing temporal binary',
    log,
  });
  return { type: 'existing-path', path: cached };
}

/**
 * The time-skipping test server: the Java SDK's `temporal-test-server` from Maven Central, run by a
 * wrapper script that `exec`s java so the SDK's teardown reaches the JVM. Without java and Maven,
 * the SDK's own download (internet).
 */
export async function testServerExecutable(log: Log = defaultLog): Promise<EphemeralServerExecutable> {
  const dir = join(cacheDir, 'test-server', testServerVersion);
  const wrapper = join(dir, 'temporal-test-server');
  if (existsSync(wrapper)) return { type: 'existing-path', path: wrapper };

  const mvn = onPath('mvn');
  const java = onPath('java');
  if (!mvn || !java) {
    log(`no ${!java ? 'java' : 'mvn'} on PATH: letting the Temporal SDK download the time-skipping test server (needs internet).`);
    log('  offline? install a JDK (11+) and Maven, e.g. `apt-get install default-jdk-headless maven`.');
    return { type: 'cached-download', downloadDir: join(cacheDir, 'sdk-download') };
  }
  log(`fetching ${testServerArtifact}:${testServerVersion} and its dependencies from Maven Central`);
  const staging = `${dir}.staging-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(
    join(staging, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.lead-orchestration</groupId><artifactId>test-server-fetch</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${testServerVersion}</version></dependency>
  </dependencies>
</project>
`,
  );
  try {
    await runWithProgress(
      mvn,
      ['-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(staging, 'lib')}`],
      {
        cwd: staging,
        what: 'fetching jars with Maven',
        expect: 'usually under a minute',
        show: /Downloaded from .*temporal|BUILD|ERROR/,
        log,
      },
    );
    const jars = readdirSync(join(staging, 'lib')).length;
    writeFileSync(
      join(staging, 'temporal-test-server'),
      `#!/bin/sh\n# Arguments: <port> [extra args], as the Temporal SDK passes them to its native test server.\nexec "${java}" -cp "$(dirname "$0")/lib/*" io.temporal.testserver.TestServer "$@"\n`,
    );
    chmodSync(join(staging, 'temporal-test-server'), 0o755);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    log(`time-skipping test server ready: ${wrapper} (${jars} jars)`);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(wrapper)) return { type: 'existing-path', path: wrapper };
    throw new EngineError(
      `could not fetch the time-skipping test server with Maven: ${(error as Error).message}\n` +
        'Fix: check that Maven Central is reachable (`mvn -B dependency:get -Dartifact=io.temporal:temporal-test-server:' +
        testServerVersion +
        '`).',
    );
  }
  return { type: 'existing-path', path: wrapper };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  Promise.all([temporalCliExecutable(), testServerExecutable()]).then(
    ([cli, testServer]) => {
      const show = (e: EphemeralServerExecutable) => (e.type === 'existing-path' ? e.path : 'SDK download at first use');
      defaultLog(`Temporal CLI: ${show(cli)}`);
      defaultLog(`time-skipping test server: ${show(testServer)}`);
      defaultLog(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    (error) => {
      console.error(`engine: ${error.message}`);
      process.exit(1);
    },
  );
}

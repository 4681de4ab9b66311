#!/usr/bin/env node
// End-to-end test of the Specialize extension in a real VS Code: code-server (VS Code 1.139, the
// extension host on Node 24) driven by playwright-core and Debian's Chromium, headless.
//
//   bash scripts/setup-e2e.sh && node test/e2e/run.mjs [--no-build] [--keep] [--headed-debug]
//
// Runs under Node 20 or 24 (it only needs playwright-core from test/e2e/node_modules); code-server
// itself always runs on the Node 24 that setup-e2e.sh put in test/e2e/.tools. Exit code 0 on pass,
// 1 on any failure (with the failing step named, or what setup is missing).
// Screenshots and logs go to test/e2e/.artifacts/ (cleared at the start of each run).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const artifacts = path.join(here, '.artifacts');
const args = new Set(process.argv.slice(2));
const KEEP = args.has('--keep') || process.env.E2E_KEEP === '1';
const BUILD = !args.has('--no-build') && process.env.E2E_NO_BUILD !== '1';

const QUERY = process.env.E2E_QUERY ?? 'how long does the worker wait after SIGTERM';
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Hard ceiling for the whole run, so a wedged UI can never hang CI. */
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 420_000);

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[e2e ${elapsed().padStart(6)}] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class SetupError extends Error {}

// ---------------------------------------------------------------------------------------------------
// Preflight: everything the run needs, with the command that fixes what is missing.
// ---------------------------------------------------------------------------------------------------
function node24Path() {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  return path.join(here, '.tools', 'node_modules', 'node', 'node_modules', `node-linux-${arch}`, 'bin', 'node');
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function preflight() {
  const node24 = node24Path();
  const codeServer = path.join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const missing = [];
  if (!fs.existsSync(node24)) missing.push(`Node 24 (${path.relative(repo, node24)})`);
  if (!fs.existsSync(codeServer)) missing.push('code-server (test/e2e/node_modules)');
  if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) missing.push('playwright-core (test/e2e/node_modules)');
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium (${CHROMIUM})`);
  if (missing.length) throw new SetupError(`not set up: missing ${missing.join(', ')}. Run: bash scripts/setup-e2e.sh`);
  if (!fs.existsSync(path.join(repo, 'node_modules'))) throw new SetupError('the extension has no node_modules. Run: npm run setup');

  const specializeHome = path.resolve(process.env.SPECIALIZE_HOME ?? path.join(os.homedir(), '.cache', 'specialize'));
  const onnxDir = path.join(specializeHome, 'onnx');
  if (!fs.existsSync(onnxDir) || fs.readdirSync(onnxDir).length === 0) {
    throw new SetupError(`no prepared model in ${specializeHome} (set SPECIALIZE_HOME to the cache setup used). Run: npm run setup`);
  }

  const pkg = readJson(path.join(repo, 'package.json'));
  const contributes = pkg.contributes ?? {};
  const views = Object.values(contributes.views ?? {}).flat();
  const searchView = views.find((v) => v.id === 'specialize.searchView');
  let container;
  if (searchView) {
    const containerId = Object.entries(contributes.views).find(([, list]) => list.some((v) => v.id === 'specialize.searchView'))[0];
    container = Object.values(contributes.viewsContainers ?? {}).flat().find((c) => c.id === containerId);
  }
  return { node24, codeServer, specializeHome, pkg, searchView, container };
}

function build(env) {
  log('building the extension (node esbuild.js; pass --no-build to skip)');
  const result = spawnSync(process.execPath, ['esbuild.js'], { cwd: repo, stdio: 'inherit', env });
  if (result.status !== 0) throw new SetupError(`the extension build failed (node esbuild.js exited ${result.status})`);
}

// ---------------------------------------------------------------------------------------------------
// Process bookkeeping: everything we start is killed by its PID (process group), also on failure.
// ---------------------------------------------------------------------------------------------------
const cleanups = [];

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return alive(pgid);
  }
}

/**
 * Kills the process group led by `pid` (code-server and Chromium are started as group leaders, so
 * their helpers, the extension host and Chromium's zygotes and renderers, go with them).
 */
async function killGroup(pid, name) {
  if (!pid || !groupAlive(pid)) return;
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 30 && groupAlive(pid); i++) await sleep(100);
  if (groupAlive(pid)) {
    log(`${name} (process group ${pid}) ignored SIGTERM; sending SIGKILL`);
    signal('SIGKILL');
  }
}

/**
 * Processes whose command line names this run's private temp folder: only ours can (Chromium's
 * crash handler detaches into its own session but is started with a path inside our profile).
 */
function processesUsing(dir) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Last line of defence: kills, by PID, anything still running from this run's temp folder. */
async function sweep(dir) {
  const kill = (pid, sig) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  };
  let pids = processesUsing(dir);
  if (!pids.length) return;
  log(`stopping leftover processes of this run: ${pids.join(', ')}`);
  for (const pid of pids) kill(pid, 'SIGTERM');
  for (let i = 0; i < 20 && pids.length; i++) {
    await sleep(100);
    pids = processesUsing(dir);
  }
  for (const pid of pids) kill(pid, 'SIGKILL');
}

let cleanupPromise;
let interrupted;
/** Runs the registered cleanups once, newest first; every caller awaits the same run. */
function cleanup() {
  cleanupPromise ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        log(`cleanup: ${error.message}`);
      }
    }
  })();
  return cleanupPromise;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    interrupted = sig;
    log(`received ${sig}; cleaning up`);
    void cleanup().finally(() => process.exit(1));
  });
}

/** PIDs of our direct children whose executable is `exe` (Playwright does not expose the PID). */
function childPidsOf(exe) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const target = fs.readlinkSync(`/proc/${entry}/exe`);
      if (path.basename(target) === path.basename(fs.realpathSync(exe))) pids.push(Number(entry));
    } catch {
      /* process exited or not readable */
    }
  }
  return pids;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Steps: each has a name and a timeout; a failure names the step and leaves a screenshot.
// ---------------------------------------------------------------------------------------------------
let page;
let shotIndex = 0;

async function screenshot(name) {
  if (!page) return;
  const file = path.join(artifacts, `${String(++shotIndex).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: 10_000 });
    log(`screenshot ${path.relative(repo, file)}`);
  } catch (error) {
    log(`screenshot ${name} failed: ${error.message.split('\n')[0]}`);
  }
}

class StepError extends Error {}

async function step(name, timeoutMs, fn) {
  log(`step: ${name}`);
  const started = Date.now();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepError(`timed out after ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    const value = await Promise.race([fn(), timeout]);
    log(`  ok (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return value;
  } catch (error) {
    await screenshot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
    const message = error instanceof Error ? error.message : String(error);
    throw new StepError(`step "${name}" failed: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown inside a waitFor callback to stop waiting at once (a crash, an error notification). */
class FailNow extends Error {}

/**
 * Polls `fn` until it returns a truthy value or `timeoutMs` passes; `what` names what is awaited.
 * Errors from `fn` count as "not yet" (the UI is still settling), except FailNow.
 */
async function waitFor(what, timeoutMs, fn, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      if (error instanceof FailNow) throw error;
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000}s${lastError ? ` (last error: ${lastError.message.split('\n')[0]})` : ''}`);
}

// ---------------------------------------------------------------------------------------------------
// VS Code UI helpers
// ---------------------------------------------------------------------------------------------------

/**
 * Runs a command from the palette. Right after the workbench appears, F1 is sometimes swallowed
 * (keybindings not yet registered, focus elsewhere), so opening the palette is retried.
 */
async function runCommand(label) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 600, y: 300 }, timeout: 2_000 }).catch(() => {});
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 2_000 });
      await input.fill(`>${label}`);
      await row.waitFor({ state: 'visible', timeout: 3_000 });
      await input.press('Enter');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 3_000 });
      return;
    } catch (error) {
      if (attempt >= 8) {
        const shown = await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts().catch(() => []);
        throw new Error(`could not run "${label}" from the command palette after ${attempt} attempts (palette rows: ${JSON.stringify(shown.slice(0, 5).map((t) => t.replace(/\s+/g, ' ')))}; if the command is missing, the extension was not loaded: see remoteexthost.log): ${error.message.split('\n')[0]}`);
      }
      await sleep(500);
    }
  }
}

/** Visible notification toasts as "severity: text" (errors from the extension surface there). */
async function notifications() {
  return page.locator('.notification-toast .notification-list-item').evaluateAll((items) => items.map((item) => {
    const icon = item.querySelector('.notification-list-item-icon')?.className ?? '';
    const severity = /codicon-error/.test(icon) ? 'error' : /codicon-warning/.test(icon) ? 'warning' : 'info';
    return `${severity}: ${item.querySelector('.notification-list-item-message')?.textContent ?? ''}`;
  })).catch(() => []);
}

function findLogFile(userDataDir, fileName) {
  return findFiles(path.join(userDataDir, 'logs'), fileName)[0];
}

/** Every file called `fileName` under `root`, newest first. */
function findFiles(root, fileName) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === fileName) found.push(full);
    }
  };
  walk(root);
  return found.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/** The frame that holds the webview's DOM (webviews are an iframe inside an iframe). */
async function findWebviewFrame() {
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    try {
      if (await frame.locator('#query').count()) return frame;
    } catch {
      /* frame detached or navigating */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------------
async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });

  // Never let a surrounding VS Code (integrated terminal, extension tests) leak into the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE'));

  const pre = preflight();
  if (BUILD) build(env);
  if (!fs.existsSync(path.join(repo, 'dist', 'extension.js'))) throw new SetupError('dist/extension.js is missing. Run: npm run build');
  if (pre.searchView && !fs.existsSync(path.join(repo, 'dist', 'webview.js'))) {
    throw new SetupError('package.json contributes specialize.searchView but dist/webview.js is missing. Run: npm run build');
  }

  // --- Throwaway directories ---------------------------------------------------------------------
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'specialize-e2e-'));
  const workspace = path.join(tmp, 'workspace');
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  const xdg = path.join(tmp, 'xdg');
  const browserProfile = path.join(tmp, 'chromium');
  cleanups.push(async () => {
    await sweep(tmp);
    // Logs are worth keeping: copy them next to the screenshots before the temp folder goes.
    const logs = path.join(userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifacts, 'vscode-logs'), { recursive: true });
    if (KEEP) log(`kept ${tmp} (--keep)`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });
  fs.cpSync(path.join(repo, 'samples', 'workspace'), workspace, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir);
  fs.mkdirSync(path.join(xdg, 'config'), { recursive: true });
  fs.mkdirSync(path.join(xdg, 'data'), { recursive: true });
  fs.mkdirSync(path.join(xdg, 'run'), { mode: 0o700 });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'window.restoreWindows': 'none',
    // Keep the training-query step short: the embedded model writes 2 queries for each of 4 passages.
    'specialize.synth.maxPassages': 4,
    'specialize.synth.types': ['question', 'keywords'],
    // The tuning step writes queries for ~10 passages (2 held out): the run stops early (teacher check or
    // too few training queries), which still exercises the stages, the trainer process and the report.
    'specialize.tune.maxPassages': 10,
  }, null, 2));

  // Install the extension under test: a link named publisher.name-version to the repository root.
  const extId = `${pre.pkg.publisher}.${pre.pkg.name}`;
  const extFolder = path.join(extensionsDir, `${extId}-${pre.pkg.version}`);
  try {
    if (process.env.E2E_INSTALL === 'copy') throw Object.assign(new Error('E2E_INSTALL=copy'), { code: 'E2E_INSTALL=copy' });
    fs.symlinkSync(repo, extFolder, 'dir');
  } catch (error) {
    log(`not linking the extension (${error.code}); copying it instead`);
    fs.mkdirSync(extFolder);
    for (const entry of ['package.json', 'dist', 'node_modules', 'media', 'README.md']) {
      if (fs.existsSync(path.join(repo, entry))) fs.cpSync(path.join(repo, entry), path.join(extFolder, entry), { recursive: true, verbatimSymlinks: true });
    }
  }

  // --- code-server ---------------------------------------------------------------------------------
  const port = await freePort();
  const config = path.join(tmp, 'code-server.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const serverLog = fs.createWriteStream(path.join(artifacts, 'code-server.log'));
  const serverEnv = {
    ...env,
    SPECIALIZE_HOME: pre.specializeHome,
    // code-server keeps state under XDG data/config dirs; keep it out of the user's home.
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    // VS Code puts its IPC sockets there (else in /tmp, where each run left a few behind).
    XDG_RUNTIME_DIR: path.join(xdg, 'run'),
  };
  let serverExit;
  await step('start code-server', 30_000, async () => {
    const child = spawn(pre.node24, [pre.codeServer,
      '--config', config, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', '--ignore-last-opened', workspace,
    ], { env: serverEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => killGroup(child.pid, 'code-server'));
    child.stdout.pipe(serverLog);
    child.stderr.pipe(serverLog);
    child.on('exit', (code, signal) => {
      serverExit = `code-server exited (code ${code}, signal ${signal})`;
    });
    log(`code-server pid ${child.pid} on http://127.0.0.1:${port}`);
    await waitFor('code-server answering on its port', 25_000, async () => {
      if (serverExit) throw new FailNow(`${serverExit}; see test/e2e/.artifacts/code-server.log`);
      const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return response?.ok;
    });
  });

  // --- Chromium --------------------------------------------------------------------------------------
  const { chromium } = await import('playwright-core');
  const context = await step('launch Chromium', 30_000, async () => {
    const ctx = await chromium.launchPersistentContext(browserProfile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
      // Our own signal handlers stop code-server too; Playwright's would exit before they ran.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      env: { ...env, XDG_CONFIG_HOME: path.join(xdg, 'config'), XDG_CACHE_HOME: path.join(xdg, 'cache') },
    });
    const pids = childPidsOf(CHROMIUM);
    log(`chromium pid ${pids.join(', ') || '(not found)'}`);
    cleanups.push(async () => {
      await Promise.race([ctx.close().catch(() => {}), sleep(5_000)]);
      for (const pid of pids) await killGroup(pid, 'chromium');
    });
    return ctx;
  });
  page = context.pages()[0] ?? (await context.newPage());
  const browserLog = fs.createWriteStream(path.join(artifacts, 'browser-console.log'));
  page.on('console', (msg) => browserLog.write(`[${msg.type()}] ${msg.text()}\n`));
  page.on('pageerror', (error) => browserLog.write(`[pageerror] ${error.message}\n`));

  await step('open the workbench', 60_000, async () => {
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`, { timeout: 30_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 45_000 });
    // The explorer lists the workspace once the remote file system is connected.
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 30_000 });
  });
  await screenshot('workbench');

  // --- Index Workspace from the command palette ----------------------------------------------------
  await step('run "Specialize: Index Workspace" from the command palette', 45_000, () => runCommand('Specialize: Index Workspace'));
  await screenshot('index-started');

  await step('extension activates (status bar item, log channel)', 30_000, async () => {
    await waitFor('the Specialize status bar item and Specialize.log', 25_000, async () => {
      if (serverExit) throw new FailNow(serverExit);
      const errors = (await notifications()).filter((t) => /^(error|warning): .*Specialize/.test(t));
      if (errors.length) throw new FailNow(`activation failed: ${errors.join(' | ')}`);
      const item = await page.locator('.statusbar-item', { hasText: 'Specialize' }).count();
      return item > 0 && findLogFile(userDataDir, 'Specialize.log');
    }).catch((error) => {
      // The extension host's log says why an extension did not load or activate.
      const hostLog = findLogFile(userDataDir, 'remoteexthost.log');
      const lines = hostLog ? fs.readFileSync(hostLog, 'utf8').split('\n').filter((l) => l.includes(extId)).slice(-8) : [];
      throw new Error(`${error.message}${lines.length ? `\n  extension host log:\n    ${lines.join('\n    ')}` : ` (the extension host log does not mention ${extId}: was it installed?)`}`);
    });
  });

  let indexedLine;
  await step('indexing finishes ("Indexed N files" in the Specialize log)', 65_000, async () => {
    let shotTaken = false;
    indexedLine = await waitFor('the "Indexed N files" log line', 60_000, async () => {
      if (serverExit) throw new FailNow(serverExit);
      const file = findLogFile(userDataDir, 'Specialize.log');
      const text = file ? fs.readFileSync(file, 'utf8') : '';
      const problem = text.split('\n').find((line) => /\[error\]/.test(line));
      if (problem) throw new FailNow(`the extension logged an error: ${problem}`);
      const toasts = (await notifications()).filter((t) => /^(error|warning): .*Specialize/.test(t));
      if (toasts.length) throw new FailNow(`notification: ${toasts.join(' | ')}`);
      if (!shotTaken && (await page.locator('.notification-toast', { hasText: 'Specialize: indexing' }).count())) {
        shotTaken = true;
        await screenshot('indexing-progress');
      }
      return text.split('\n').find((line) => /Indexed \d+ files/.test(line));
    }, 500).catch(async (error) => {
      if (error instanceof FailNow) throw error;
      // Say where it got stuck: the progress notification and the status bar item.
      const item = await page.locator('.statusbar-item', { hasText: 'Specialize' }).first().innerText({ timeout: 1_000 }).catch(() => '(none)');
      const toasts = await page.locator('.notification-toast').allInnerTexts().catch(() => []);
      throw new Error(`${error.message}; status bar: ${JSON.stringify(item)}; notifications: ${JSON.stringify(toasts.map((t) => t.replace(/\s+/g, ' ')))}`);
    });
    const files = Number(/Indexed (\d+) files/.exec(indexedLine)[1]);
    if (!(files > 0)) throw new Error(`indexing reported ${files} files: ${indexedLine}`);
    log(`  ${indexedLine.replace(/^.*?\] /, '')}`);
  });
  await screenshot('indexed');

  // --- Search in the webview -------------------------------------------------------------------------
  if (!pre.searchView) {
    log('SKIP webview search: package.json does not contribute specialize.searchView yet');
  } else {
    await step(`open the "${pre.container?.title ?? 'Specialize'}" view`, 40_000, async () => {
      const title = pre.container?.title ?? 'Specialize';
      const icon = page.locator(`.activitybar .action-item a[aria-label^="${title}"], .activitybar .action-item[aria-label^="${title}"]`).first();
      if (await icon.count()) {
        await icon.click();
      } else {
        await runCommand(`${title}: Focus on ${pre.searchView.name} View`);
      }
      const frame = await waitFor('the webview with #query', 30_000, findWebviewFrame, 500);
      // A user must be able to see and click the query field, not just a script: check its size.
      // (Polled briefly: the web components upgrade and lay out after the frame appears.)
      let size = 'not laid out';
      await waitFor('a usable query field', 5_000, async () => {
        const box = await frame.locator('#query').boundingBox();
        const body = await frame.locator('body').boundingBox();
        if (!box || !body) return false;
        size = `${Math.round(box.width)}x${Math.round(box.height)} px in a ${Math.round(body.width)} px wide view`;
        return box.width >= Math.min(120, body.width / 3) && box.height >= 10;
      }).catch(() => {
        throw new Error(`the query field (#query) is ${size}: a user cannot see or click it`);
      });
    });
    await screenshot('search-view');

    let frame = await findWebviewFrame();
    let first;
    await step(`search "${QUERY}"`, 60_000, async () => {
      const host = frame.locator('#query');
      const inner = frame.locator('#query input');
      const target = (await inner.count()) ? inner : host;
      await target.click({ timeout: 10_000 });
      await target.fill(QUERY, { timeout: 10_000 }).catch(async () => {
        await page.keyboard.type(QUERY);
      });
      await target.press('Enter');
      const status = async () => JSON.stringify(await frame.locator('#status').innerText({ timeout: 1_000 }).catch(() => '(no #status)'));
      await waitFor('a visible li.result', 50_000, async () => {
        if (await frame.locator('#status.error').count()) throw new FailNow(`the view reports an error: ${await status()}`);
        return frame.locator('li.result').first().isVisible();
      }).catch(async (error) => {
        throw error instanceof FailNow ? error : new Error(`${error.message}; #status says ${await status()}`);
      });
      const results = await frame.locator('li.result').evaluateAll((items) => items.map((li) => ({ path: li.getAttribute('data-path'), line: li.getAttribute('data-line') })));
      log(`  ${results.length} results; top: ${results.slice(0, 5).map((r) => `${r.path}:${r.line}`).join(', ')}`);
      first = results[0];
      if (!first.path) throw new Error('the first result has no data-path');
      const full = path.join(workspace, first.path);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile()) throw new Error(`the first result's data-path "${first.path}" is not a file of the workspace`);
    });
    await screenshot('search-results');

    await step(`mark the first result (${first.path}) relevant; the mark is written beside the index`, 20_000, async () => {
      frame = (await findWebviewFrame()) ?? frame;
      const mark = frame.locator('li.result').first().locator('button.judge[data-relevant="true"]');
      await mark.click({ timeout: 10_000 });
      await waitFor('the "Marked relevant" status', 10_000, async () => /Marked relevant; 1 judged query will count/.test(await frame.locator('#status').innerText({ timeout: 1_000 })));
      if ((await mark.getAttribute('aria-pressed')) !== 'true') throw new Error('the relevant mark does not show as pressed');
      // A second result marked not relevant, then withdrawn with a second click on the pressed mark.
      const unmark = frame.locator('li.result').nth(1).locator('button.judge[data-relevant="false"]');
      await unmark.click({ timeout: 10_000 });
      await waitFor('the "Marked not relevant" status', 10_000, async () => /Marked not relevant/.test(await frame.locator('#status').innerText({ timeout: 1_000 })));
      await unmark.click({ timeout: 10_000 });
      await waitFor('the "Mark withdrawn" status', 10_000, async () => /Mark withdrawn; 1 judged query will count/.test(await frame.locator('#status').innerText({ timeout: 1_000 })));
      if ((await unmark.getAttribute('aria-pressed')) !== 'false') throw new Error('the withdrawn mark still shows as pressed');
      const file = findFiles(userDataDir, 'judgements.jsonl')[0];
      if (!file) throw new Error('no judgements.jsonl in the workspace storage');
      const marks = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      const [kept, other, withdrawn] = marks;
      const expected = marks.length === 3 && kept.query === QUERY && kept.path === first.path && kept.relevant === true && other.relevant === false && withdrawn.relevant === null && withdrawn.passageId === other.passageId;
      if (!expected) throw new Error(`unexpected judgements: ${JSON.stringify(marks)}`);
      log(`  ${file.slice(userDataDir.length + 1)}: ${JSON.stringify(kept)} (and a not-relevant mark, withdrawn)`);
    });

    await step(`open the first result (${first.path}) in an editor`, 20_000, async () => {
      frame = (await findWebviewFrame()) ?? frame;
      await frame.locator('li.result').first().click();
      const name = path.basename(first.path);
      const tab = page.locator('.tabs-container .tab', { hasText: name });
      await tab.first().waitFor({ state: 'visible', timeout: 15_000 });
      await waitFor(`the "${name}" tab to be active`, 5_000, async () => (await tab.first().getAttribute('class'))?.includes('active'));
      // The cursor lands on the result's line (status bar "Ln N, Col M").
      const line = Number(first.line);
      if (Number.isInteger(line) && line > 0) {
        const selection = page.locator('#status\\.editor\\.selection');
        await waitFor(`the cursor at line ${line} (status bar "Ln ${line}, ...")`, 5_000, async () => {
          const text = await selection.innerText({ timeout: 1_000 });
          return new RegExp(`\\bLn ${line}\\b`).test(text);
        }).catch(async (error) => {
          throw new Error(`${error.message}; the status bar says ${JSON.stringify(await selection.innerText().catch(() => '(nothing)'))}`);
        });
      }
    });
    await screenshot('result-opened');
  }

  // --- Training queries with the embedded local model ----------------------------------------------
  await step('run "Specialize: Generate Training Queries" from the command palette', 45_000, () => runCommand('Specialize: Generate Training Queries'));
  await step('the local model writes and filters queries ("training queries kept" in the Specialize log)', 125_000, async () => {
    const line = await waitFor('the "training queries kept" log line', 120_000, async () => {
      if (serverExit) throw new FailNow(serverExit);
      const file = findLogFile(userDataDir, 'Specialize.log');
      const text = file ? fs.readFileSync(file, 'utf8') : '';
      const problem = text.split('\n').find((l) => /\[error\]/.test(l));
      if (problem) throw new FailNow(`the extension logged an error: ${problem}`);
      return text.split('\n').find((l) => /training queries kept of \d+ generated/.test(l));
    }, 500);
    const [, kept, generated, requests] = /(\d+) training queries kept of (\d+) generated \((\d+) requests/.exec(line) ?? [];
    if (Number(requests) !== 8) throw new Error(`expected 8 requests (4 passages × 2 types): ${line}`);
    if (!(Number(generated) > 0) || !(Number(kept) >= 0)) throw new Error(`no queries generated: ${line}`);
    log(`  ${line.replace(/^.*?\] /, '')}`);
  });
  await screenshot('training-queries');

  // --- Tuning: the stages through the teacher check, with the real trainer process --------------------
  await step('run "Specialize: Tune Retriever on This Workspace" from the command palette', 45_000, () => runCommand('Specialize: Tune Retriever on This Workspace'));
  await step('the run reaches the teacher check and reports its outcome in the Specialize log', 175_000, async () => {
    const text = await waitFor('the "tune: Run" report in the log', 170_000, async () => {
      if (serverExit) throw new FailNow(serverExit);
      const file = findLogFile(userDataDir, 'Specialize.log');
      const content = file ? fs.readFileSync(file, 'utf8') : '';
      const problem = content.split('\n').find((l) => /\[error\]/.test(l));
      if (problem) throw new FailNow(`the extension logged an error: ${problem}`);
      const stopped = content.split('\n').find((l) => /tune: stopped at stage/.test(l));
      if (stopped) throw new FailNow(`tuning stopped with a problem: ${stopped}`);
      return /tune: Run /.test(content) ? content : undefined;
    }, 500);
    for (const stage of ['index', 'queries', 'held-out', 'user-judged', 'teacher', 'teacher-check']) {
      if (!text.includes(`tune: stage ${stage}`)) throw new Error(`the log has no "tune: stage ${stage}" line`);
    }
    const outcome = text.split('\n').find((l) => /teacher check on \d+ held-out queries/.test(l));
    if (!outcome) throw new Error('the report has no teacher check line');
    log(`  ${outcome.trim()}`);
    // The mark made in the search view is a second evaluation set for the run.
    if (pre.searchView) {
      const judged = text.split('\n').find((l) => /teacher check on 1 query you judged/.test(l));
      if (!judged) throw new Error('the report has no teacher check on the judged query');
      log(`  ${judged.trim()}`);
    }
  });
  await screenshot('tuning');
  return { indexedLine };
}

let exitCode = 0;
const watchdog = setTimeout(() => {
  console.error(`\nE2E FAILED: the whole run exceeded ${OVERALL_TIMEOUT_MS / 1000}s`);
  void screenshot('FAILED-overall-timeout').finally(() => cleanup().finally(() => process.exit(1)));
}, OVERALL_TIMEOUT_MS);
try {
  await main();
  if (interrupted) throw new Error('interrupted');
  log('PASS');
} catch (error) {
  exitCode = 1;
  if (interrupted) {
    console.error(`\nE2E INTERRUPTED by ${interrupted}`);
    await cleanup();
    process.exit(1);
  }
  console.error(`\nE2E FAILED: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof StepError) && !(error instanceof SetupError) && error instanceof Error) console.error(error.stack);
  console.error(`Screenshots and logs: ${path.relative(process.cwd(), artifacts) || artifacts}/`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
log(`done in ${elapsed()}`);
process.exit(exitCode);

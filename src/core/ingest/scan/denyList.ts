/**
 * Names that are never read, whatever the ignore files or settings say: files that commonly hold
 * credentials, and version-control folders. Nothing can re-include them (not `.specializeignore`,
 * not `include`): an index is searchable text, and a key that reaches it can reach a snippet, a
 * log or a teacher model's prompt.
 *
 * Matching is on one path segment, case-insensitively (a ".ENV" on a case-insensitive disk is the
 * same file). Written as regular expressions rather than gitignore globs because a few of these
 * need alternatives that globs cannot say in one line, and because no rule here depends on where
 * in the tree the name sits.
 */

/** Version-control metadata: huge, binary-ish, and it holds remotes with tokens in their URLs. */
const VCS_NAMES = new Set(['.git', '.hg', '.svn', '.bzr', '_darcs', '.jj']);

const SECRET_PATTERNS: readonly RegExp[] = [
  /^\.env/i, // .env, .env.local, .env.production, .envrc (direnv exports)
  /\.(pem|key|p12|pfx|keystore|jks|ppk|kdbx)$/i, // keys and key stores
  /^id_(rsa|dsa|ecdsa|ed25519)/i, // SSH keys (the .pub halves too: cheap to lose, costly to mistake)
  /^credentials(\..+)?$/i, // ~/.aws/credentials, credentials.json (Google OAuth clients)
  /^secrets(\..+)?$/i, // secrets.yaml, secrets.json, a `secrets/` folder of Docker or Kubernetes
  /\.tfstate(\.backup)?$/i, // Terraform state stores every resource's secrets in plain text
  // Registry and tool logins. `.npmrc` and `.pypirc` often hold only a registry URL, but they are
  // where tokens go, a token line is easy to miss, and the files say nothing worth searching.
  /^(\.npmrc|\.pypirc|\.netrc|_netrc|\.git-credentials|\.pgpass|\.htpasswd|\.dockercfg)$/i,
  /^(\.ssh|\.gnupg)$/i, // folders of private keys
];

export type DenyReason = 'secret' | 'vcs folder';

/** Why this file or folder name may never be read, or undefined when it may. */
export function deniedName(name: string): DenyReason | undefined {
  if (VCS_NAMES.has(name.toLowerCase())) return 'vcs folder';
  return SECRET_PATTERNS.some((pattern) => pattern.test(name)) ? 'secret' : undefined;
}

/**
 * The deny verdict for a whole relative path (e.g. where a symlink points): any denied segment
 * denies it, since `.git/config` or `.ssh/id_ed25519` are as private as their folder.
 */
export function deniedPath(relativePath: string): DenyReason | undefined {
  for (const segment of relativePath.split('/')) {
    const reason = deniedName(segment);
    if (reason) return reason;
  }
  return undefined;
}

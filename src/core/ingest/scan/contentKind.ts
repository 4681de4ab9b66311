/**
 * What kind of text an indexed file holds, from its name: "markdown", "code:python", "config:yaml",
 * "text". It becomes the `reason` of an 'index' decision, and chunkers use it to pick a strategy.
 */

/** Documents whose paragraphs often sit on one very long line; the minified checks spare them. */
const PROSE_KINDS = new Set(['markdown', 'text', 'restructuredtext', 'asciidoc', 'org', 'latex']);

const BY_EXTENSION: Record<string, string> = {
  // Documents
  md: 'markdown', markdown: 'markdown', mdx: 'markdown', mdown: 'markdown', mkd: 'markdown',
  txt: 'text', text: 'text',
  rst: 'restructuredtext', adoc: 'asciidoc', asciidoc: 'asciidoc', org: 'org', tex: 'latex',
  html: 'code:html', htm: 'code:html', xhtml: 'code:html',
  ipynb: 'notebook',
  // Configuration and data
  json: 'config:json', jsonc: 'config:json', json5: 'config:json',
  yaml: 'config:yaml', yml: 'config:yaml', toml: 'config:toml',
  ini: 'config:ini', cfg: 'config:ini', conf: 'config:ini', properties: 'config:properties',
  xml: 'config:xml', plist: 'config:xml', csv: 'data:csv', tsv: 'data:tsv',
  // Code
  ts: 'code:typescript', tsx: 'code:typescript', mts: 'code:typescript', cts: 'code:typescript',
  js: 'code:javascript', jsx: 'code:javascript', mjs: 'code:javascript', cjs: 'code:javascript',
  py: 'code:python', pyi: 'code:python', pyx: 'code:python',
  rs: 'code:rust', go: 'code:go', java: 'code:java', kt: 'code:kotlin', kts: 'code:kotlin',
  scala: 'code:scala', groovy: 'code:groovy', gradle: 'code:groovy', clj: 'code:clojure',
  c: 'code:c', h: 'code:c', cc: 'code:cpp', cpp: 'code:cpp', cxx: 'code:cpp', hpp: 'code:cpp', hh: 'code:cpp', hxx: 'code:cpp',
  cs: 'code:csharp', fs: 'code:fsharp', vb: 'code:vb', swift: 'code:swift', m: 'code:objective-c', mm: 'code:objective-c',
  rb: 'code:ruby', php: 'code:php', pl: 'code:perl', pm: 'code:perl', lua: 'code:lua', r: 'code:r',
  jl: 'code:julia', dart: 'code:dart', ex: 'code:elixir', exs: 'code:elixir', erl: 'code:erlang',
  hs: 'code:haskell', ml: 'code:ocaml', mli: 'code:ocaml', elm: 'code:elm', zig: 'code:zig', nim: 'code:nim',
  sh: 'code:shell', bash: 'code:shell', zsh: 'code:shell', fish: 'code:shell', ps1: 'code:powershell', bat: 'code:batch', cmd: 'code:batch',
  sql: 'code:sql', graphql: 'code:graphql', gql: 'code:graphql', proto: 'code:protobuf',
  css: 'code:css', scss: 'code:scss', sass: 'code:sass', less: 'code:less',
  vue: 'code:vue', svelte: 'code:svelte', astro: 'code:astro',
  tf: 'code:terraform', hcl: 'code:hcl', nix: 'code:nix', cmake: 'code:cmake', mk: 'code:make',
  sol: 'code:solidity', wgsl: 'code:wgsl', glsl: 'code:glsl', cu: 'code:cuda',
};

const BY_NAME: Record<string, string> = {
  dockerfile: 'code:dockerfile', containerfile: 'code:dockerfile', makefile: 'code:make', gnumakefile: 'code:make',
  'cmakelists.txt': 'code:cmake', rakefile: 'code:ruby', gemfile: 'code:ruby', justfile: 'code:just',
  jenkinsfile: 'code:groovy', vagrantfile: 'code:ruby', procfile: 'config:procfile',
};

export function contentKind(fileName: string): string {
  const lower = fileName.toLowerCase();
  const byName = BY_NAME[lower];
  if (byName) return byName;
  const dot = lower.lastIndexOf('.');
  // A leading dot is a hidden file (".bashrc"), not an extension.
  if (dot > 0) return BY_EXTENSION[lower.slice(dot + 1)] ?? 'text';
  return 'text';
}

export function isProseKind(kind: string): boolean {
  return PROSE_KINDS.has(kind);
}

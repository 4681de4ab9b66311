import type { GrammarName } from './code/languages';

/** How a file is chunked, as reported by scans ("markdown", "code:python", …). */
export type ContentKind = 'markdown' | 'rst' | 'asciidoc' | 'notebook' | 'text' | `code:${string}`;

interface CodeLanguage {
  /** Name in the kind string: `code:<language>`. */
  language: string;
  grammar: GrammarName;
}

const typescript = (grammar: GrammarName): CodeLanguage => ({ language: 'typescript', grammar });
const javascript: CodeLanguage = { language: 'javascript', grammar: 'javascript' };
const cpp: CodeLanguage = { language: 'cpp', grammar: 'cpp' };

/** File extensions (lower case, with the dot) of languages chunked by their syntax tree. */
const CODE_BY_EXTENSION: Record<string, CodeLanguage> = {
  '.ts': typescript('typescript'),
  '.mts': typescript('typescript'),
  '.cts': typescript('typescript'),
  '.tsx': typescript('tsx'),
  '.js': javascript,
  '.mjs': javascript,
  '.cjs': javascript,
  // tree-sitter-javascript parses JSX as part of JavaScript.
  '.jsx': javascript,
  '.py': { language: 'python', grammar: 'python' },
  '.pyi': { language: 'python', grammar: 'python' },
  '.pyw': { language: 'python', grammar: 'python' },
  '.go': { language: 'go', grammar: 'go' },
  '.rs': { language: 'rust', grammar: 'rust' },
  '.java': { language: 'java', grammar: 'java' },
  '.c': { language: 'c', grammar: 'c' },
  // Headers are often C++ (classes, templates); the C++ grammar reads C declarations as well.
  '.h': { language: 'c', grammar: 'cpp' },
  '.cc': cpp,
  '.cpp': cpp,
  '.cxx': cpp,
  '.c++': cpp,
  '.hh': cpp,
  '.hpp': cpp,
  '.hxx': cpp,
  '.h++': cpp,
  '.ipp': cpp,
  '.inl': cpp,
  '.cs': { language: 'csharp', grammar: 'c_sharp' },
};

/** Source, markup and config formats without a grammar here: chunked in line windows. */
const OTHER_CODE_EXTENSIONS = new Set(
  (
    '.sh .bash .zsh .fish .ps1 .psm1 .bat .cmd .rb .php .kt .kts .scala .sc .swift .lua .pl .pm .r .jl .sql .m .mm .dart ' +
    '.ex .exs .erl .hrl .hs .ml .mli .fs .fsx .clj .cljs .groovy .gradle .vue .svelte .html .htm .xml .xsd .xsl .svg ' +
    '.css .scss .sass .less .json .jsonc .json5 .yaml .yml .toml .ini .cfg .conf .properties .proto .graphql .gql .tf .hcl ' +
    '.cmake .mk .nix .zig .v .sv .vhd .asm .s .f90 .cu .cuh .sol .elm .nim .cr .d .pas .vb .csproj .sln .lock'
  ).split(' '),
);
const OTHER_CODE_NAMES = new Set(['dockerfile', 'makefile', 'gnumakefile', 'cmakelists.txt', 'jenkinsfile', 'vagrantfile', 'gemfile', 'rakefile', 'procfile']);

const DOCUMENT_BY_EXTENSION: Record<string, ContentKind> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.mdown': 'markdown',
  '.mkd': 'markdown',
  '.mdx': 'markdown',
  '.rst': 'rst',
  '.rest': 'rst',
  '.adoc': 'asciidoc',
  '.asciidoc': 'asciidoc',
  '.asc': 'asciidoc',
  '.ipynb': 'notebook',
};

/** How `filePath` is chunked; anything not recognised is plain text (paragraphs). */
export function describeKind(filePath: string): ContentKind {
  const name = baseName(filePath).toLowerCase();
  const extension = extensionOf(name);
  const document = DOCUMENT_BY_EXTENSION[extension];
  if (document) return document;
  const code = CODE_BY_EXTENSION[extension];
  if (code) return `code:${code.language}`;
  if (OTHER_CODE_EXTENSIONS.has(extension) || OTHER_CODE_NAMES.has(name) || name.startsWith('dockerfile.')) return 'code:other';
  return 'text';
}

/** The grammar that parses `filePath`, if it is code we read by syntax. */
export function grammarFor(filePath: string): GrammarName | undefined {
  return CODE_BY_EXTENSION[extensionOf(baseName(filePath).toLowerCase())]?.grammar;
}

function baseName(filePath: string): string {
  return filePath.slice(Math.max(filePath.lastIndexOf('/'), filePath.lastIndexOf('\\')) + 1);
}

/** ".gz"-style extension of a lower-case base name; "" for dotfiles and names without one. */
function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot) : '';
}

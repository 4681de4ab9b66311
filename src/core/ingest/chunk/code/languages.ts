/** Grammars we parse with, named as their .wasm files are (`tree-sitter-<name>.wasm`). */
export type GrammarName = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go' | 'rust' | 'java' | 'c' | 'cpp' | 'c_sharp';

export const GRAMMAR_NAMES: readonly GrammarName[] = ['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c', 'cpp', 'c_sharp'];

/**
 * What the code chunker needs to know about a grammar's node types. Comments need no entry: any
 * node whose type contains "comment" attaches to the declaration below it.
 */
export interface LanguageSyntax {
  /** Nodes that, like comments, belong to the declaration below them (decorators, attributes). */
  readonly prefixes: ReadonlySet<string>;
  /** Nodes wrapping a declaration (export, decorators, templates): named and classified by it. */
  readonly wrappers: ReadonlySet<string>;
  /**
   * Namespaces, include guards and the like: their members are treated as if they stood outside.
   * The value says whether the scope's name prefixes its members' titles (Rust `mod`, TS
   * `namespace`) or not (C++ and C# namespaces, which would only add noise to every title).
   */
  readonly scopes: ReadonlyMap<string, boolean>;
  /** Class-like declarations: when too big, a summary plus one passage per member. */
  readonly classes: ReadonlySet<string>;
  /** Function-like declarations: their bodies are folded in class summaries. */
  readonly functions: ReadonlySet<string>;
}

const javascriptLike: LanguageSyntax = {
  prefixes: new Set(['decorator']),
  wrappers: new Set(['export_statement', 'ambient_declaration', 'expression_statement']),
  scopes: new Map([
    ['internal_module', true],
    ['module', true],
  ]),
  classes: new Set(['class_declaration', 'abstract_class_declaration', 'class', 'interface_declaration']),
  functions: new Set(['function_declaration', 'generator_function_declaration', 'method_definition', 'public_field_definition', 'field_definition']),
};

const cFamily: LanguageSyntax = {
  prefixes: new Set(),
  wrappers: new Set(['template_declaration']),
  scopes: new Map([
    ['namespace_definition', false],
    ['linkage_specification', false],
    ['preproc_ifdef', false],
    ['preproc_if', false],
    ['preproc_else', false],
    ['preproc_elif', false],
    ['preproc_elifdef', false],
  ]),
  classes: new Set(['class_specifier', 'struct_specifier', 'union_specifier']),
  functions: new Set(['function_definition']),
};

export const LANGUAGE_SYNTAX: Record<GrammarName, LanguageSyntax> = {
  typescript: javascriptLike,
  tsx: javascriptLike,
  javascript: javascriptLike,
  python: {
    prefixes: new Set(),
    wrappers: new Set(['decorated_definition', 'expression_statement']),
    scopes: new Map(),
    classes: new Set(['class_definition']),
    functions: new Set(['function_definition']),
  },
  go: {
    prefixes: new Set(),
    wrappers: new Set(),
    scopes: new Map(),
    // Go methods stand at the top level; their titles take the receiver's type instead.
    classes: new Set(),
    functions: new Set(['function_declaration', 'method_declaration']),
  },
  rust: {
    prefixes: new Set(['attribute_item', 'inner_attribute_item']),
    wrappers: new Set(),
    scopes: new Map([['mod_item', true]]),
    classes: new Set(['impl_item', 'trait_item']),
    functions: new Set(['function_item']),
  },
  java: {
    prefixes: new Set(),
    wrappers: new Set(),
    scopes: new Map([['enum_body_declarations', false]]),
    classes: new Set(['class_declaration', 'interface_declaration', 'enum_declaration', 'record_declaration', 'annotation_type_declaration']),
    functions: new Set(['method_declaration', 'constructor_declaration', 'compact_constructor_declaration']),
  },
  c: cFamily,
  cpp: cFamily,
  c_sharp: {
    prefixes: new Set(),
    wrappers: new Set(),
    scopes: new Map([['namespace_declaration', false]]),
    classes: new Set(['class_declaration', 'struct_declaration', 'interface_declaration', 'record_declaration', 'enum_declaration']),
    functions: new Set(['method_declaration', 'constructor_declaration', 'destructor_declaration', 'operator_declaration', 'conversion_operator_declaration', 'local_function_statement']),
  },
};

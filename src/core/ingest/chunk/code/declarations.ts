import type { Node } from 'web-tree-sitter';
import type { LanguageSyntax } from './languages';

export type DeclarationKind = 'class' | 'function' | 'other';

/** A top-level statement or a class member, with what chunking needs to know about it. */
export interface Declaration {
  /** The node as it stands in its parent (an export or a decorator wrapper included). */
  node: Node;
  /** The declaration inside any wrapper: what names and classifies it. */
  inner: Node;
  kind: DeclarationKind;
  /** Symbol path ("Queue.claim"); for an unnamed statement, the path of what encloses it ("" at the top). */
  title: string;
  /** Whether the declaration has a name of its own (imports and expressions have none). */
  named: boolean;
  /** 0-based rows, inclusive. */
  startRow: number;
  endRow: number;
  /** First row of the comments, decorators and attributes directly above it (no blank line between). */
  leadStartRow: number;
  /** First row of the decorators and attributes among those (comments excluded); `startRow` if none. */
  signatureStartRow: number;
}

/** Symbol paths join names with dots, whatever the language's own separator ("::" included). */
export const SYMBOL_SEPARATOR = '.';

/** Row of the last character: a node that swallowed its line break ends at column 0 of the next row. */
export function lastRow(node: Node): number {
  const { row, column } = node.endPosition;
  return column === 0 && row > node.startPosition.row ? row - 1 : row;
}

export function isComment(node: Node): boolean {
  return node.type.includes('comment');
}

/**
 * Declarations of a file, in order, with namespaces and include guards opened up: their members
 * are listed as if they stood at the top. Comments and decorators are not listed; they belong to
 * the declaration after them.
 */
export function topLevelDeclarations(root: Node, syntax: LanguageSyntax): Declaration[] {
  return declarationsIn(root, syntax, '');
}

/** The members of a class, titled under the class's own path. */
export function classMembers(declaration: Declaration, syntax: LanguageSyntax): Declaration[] {
  const body = declaration.inner.childForFieldName('body');
  return body ? declarationsIn(body, syntax, declaration.title) : [];
}

function declarationsIn(container: Node, syntax: LanguageSyntax, prefix: string): Declaration[] {
  const found: Declaration[] = [];
  /** Comments and decorators seen since the last declaration, waiting to be attached. */
  let lead: Node[] = [];
  for (const child of memberNodes(container)) {
    if (isComment(child) || syntax.prefixes.has(child.type)) {
      const previous = lead[lead.length - 1];
      // A blank line detaches what came before: it is no longer "directly above".
      if (previous && child.startPosition.row - lastRow(previous) > 1) lead = [];
      lead.push(child);
      continue;
    }
    const inner = unwrap(child, syntax);
    const scope = syntax.scopes.get(inner.type);
    if (scope !== undefined && hasScopeMembers(inner)) {
      const scopeName = scope ? nameOf(inner) : undefined;
      found.push(...declarationsIn(inner.childForFieldName('body') ?? inner, syntax, joinPath(prefix, scopeName)));
      lead = [];
      continue;
    }
    found.push(describe(child, inner, syntax, prefix, attachedLead(lead, child)));
    lead = [];
  }
  return found;
}

/**
 * The declarations of a container: its named children, without the header fields of a scope.
 * Walked with a cursor: indexed child access costs time linear in the index, which a file of
 * thousands of top-level statements would pay on every child.
 */
function memberNodes(container: Node): Node[] {
  const members: Node[] = [];
  const cursor = container.walk();
  try {
    for (let more = cursor.gotoFirstChild(); more; more = cursor.gotoNextSibling()) {
      if (!cursor.nodeIsNamed) continue;
      const field = cursor.currentFieldName;
      // `#ifdef NAME`, `#if CONDITION`: the header of an include guard is not a declaration.
      if (field === 'name' || field === 'condition') continue;
      members.push(cursor.currentNode);
    }
  } finally {
    cursor.delete();
  }
  return members;
}

function hasScopeMembers(scope: Node): boolean {
  return scope.childForFieldName('body') !== null || scope.type.startsWith('preproc_') || scope.type === 'enum_body_declarations';
}

/** The run of comments and decorators that ends right above the node (no blank line between). */
function attachedLead(lead: readonly Node[], node: Node): Node[] {
  const last = lead[lead.length - 1];
  if (!last || node.startPosition.row - lastRow(last) > 1) return [];
  return [...lead];
}

function describe(node: Node, inner: Node, syntax: LanguageSyntax, prefix: string, lead: readonly Node[]): Declaration {
  const startRow = node.startPosition.row;
  const decorators = lead.filter((n) => !isComment(n));
  const name = nameOf(inner);
  return {
    node,
    inner,
    kind: kindOf(inner, syntax),
    title: joinPath(prefix, name),
    named: name !== undefined,
    startRow,
    endRow: Math.max(startRow, lastRow(node)),
    leadStartRow: lead[0]?.startPosition.row ?? startRow,
    signatureStartRow: decorators[0]?.startPosition.row ?? startRow,
  };
}

/** Looks through exports, decorators, templates and statement wrappers at the declaration itself. */
function unwrap(node: Node, syntax: LanguageSyntax): Node {
  let current = node;
  for (let depth = 0; depth < 4 && syntax.wrappers.has(current.type); depth += 1) {
    const inner = current.childForFieldName('declaration') ?? current.childForFieldName('definition') ?? lastNamedChild(current);
    if (!inner) break;
    current = inner;
  }
  return current;
}

function lastNamedChild(node: Node): Node | null {
  for (let index = node.childCount - 1; index >= 0; index -= 1) {
    const child = node.child(index);
    if (child?.isNamed && !isComment(child)) return child;
  }
  return null;
}

function kindOf(inner: Node, syntax: LanguageSyntax): DeclarationKind {
  if (syntax.classes.has(inner.type) && inner.childForFieldName('body')) return 'class';
  if (syntax.functions.has(inner.type) && bodyOf(inner)) return 'function';
  return 'other';
}

/** Values that make a field or variable a function (`handler = () => {…}`). */
const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

/** The body of a function-like declaration, including a field whose value is a function. */
export function bodyOf(inner: Node): Node | null {
  const body = inner.childForFieldName('body');
  if (body) return body;
  const value = inner.childForFieldName('value');
  return value && FUNCTION_VALUES.has(value.type) ? value.childForFieldName('body') : null;
}

/** Node types whose text is a name as it stands. */
const NAME_NODE = /identifier$|^(destructor_name|operator_name|operator_cast|dotted_name|qualified_name|name|constant|string)$/;
/** Children that hold the name of a declaration that has no `name` field (variables, C declarators). */
const NAMING_CHILD = /declarator$|_spec$|^assignment$|^variable_declaration$/;

/** Imports name what they bring in, not what the passage is about: they stay unnamed. */
const IMPORT_LIKE = /import|^use_declaration$|^using_directive$|^package_(clause|declaration)$|^preproc_include$|^extern_crate_declaration$/;

/** The declared name, or undefined for statements that declare nothing (imports, calls). */
export function nameOf(node: Node, depth = 0): string | undefined {
  if (depth > 6 || IMPORT_LIKE.test(node.type)) return undefined;
  const receiver = node.type === 'method_declaration' ? node.childForFieldName('receiver') : null;
  if (receiver) return goMethodName(node, receiver);
  // `impl Display for Queue<T>` is about Queue.
  if (node.type === 'impl_item') return cleanName(node.childForFieldName('type')?.text);
  const name = node.childForFieldName('name');
  // `const { a, b } = …` declares two names; a pattern is no title.
  if (name) return name.type.endsWith('pattern') ? undefined : cleanName(name.text);
  for (const field of ['declarator', 'left']) {
    const child = node.childForFieldName(field);
    if (child) return NAME_NODE.test(child.type) ? cleanName(child.text) : nameOf(child, depth + 1);
  }
  for (const child of node.namedChildren) {
    if (child && NAMING_CHILD.test(child.type)) return nameOf(child, depth + 1);
  }
  return undefined;
}

/** Go methods stand at the top level; "Queue.Claim" says what they belong to. */
function goMethodName(node: Node, receiver: Node): string | undefined {
  const method = cleanName(node.childForFieldName('name')?.text);
  const parameter = receiver.namedChildren.find((child) => child?.type === 'parameter_declaration');
  const type = cleanName(parameter?.childForFieldName('type')?.text);
  return type && method ? `${type}${SYMBOL_SEPARATOR}${method}` : method;
}

/** A name as a title: generics, pointers, quotes and "::" dropped, whitespace collapsed. */
function cleanName(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let name = text.replace(/\s+/g, ' ').trim();
  for (let pass = 0; pass < 4 && /<[^<>]*>/.test(name); pass += 1) name = name.replace(/<[^<>]*>/g, '');
  name = name
    .replace(/::/g, SYMBOL_SEPARATOR)
    .replace(/^[*&\s]+/, '')
    .replace(/^['"`]|['"`]$/g, '')
    .trim();
  if (name === '') return undefined;
  return name.length > 80 ? `${name.slice(0, 79)}…` : name;
}

export function joinPath(prefix: string, name: string | undefined): string {
  if (!name) return prefix === '' ? '' : prefix;
  return prefix === '' ? name : `${prefix}${SYMBOL_SEPARATOR}${name}`;
}

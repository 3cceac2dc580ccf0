// The contract check must catch what it is for: run with `node --test contract/`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkAnswer, checkDocument } from './check-graphql.mjs';

const script = fileURLToPath(new URL('./check-graphql.mjs', import.meta.url));

const RATE_LIMIT = 'rateLimit { cost remaining resetAt limit }';
const rateLimit = { cost: 1, remaining: 4999, resetAt: '2026-11-25T13:00:00Z', limit: 5000 };

// Small, but with an alias, an enum, a union and an interface.
const QUERY = `query Checks($owner: String!, $name: String!) {
  ${RATE_LIMIT}
  b0: repository(owner: $owner, name: $name) {
    pullRequests(headRefName: "x", first: 5) {
      nodes {
        number
        state
        author { login }
        commits(last: 1) { nodes { commit { statusCheckRollup { contexts(first: 100) { nodes {
          __typename
          ... on CheckRun { name conclusion }
          ... on StatusContext { context state }
        } } } } } }
      }
    }
  }
  b1: repository(owner: $owner, name: "gone") { id }
}`;

function answer() {
  return {
    name: 'test answer',
    query: QUERY,
    variables: { owner: 'acme', name: 'app' },
    response: {
      data: {
        rateLimit: { ...rateLimit },
        b0: {
          pullRequests: {
            nodes: [
              {
                number: 12,
                state: 'OPEN',
                author: { login: 'octo' },
                commits: {
                  nodes: [
                    {
                      commit: {
                        statusCheckRollup: {
                          contexts: {
                            nodes: [
                              { __typename: 'CheckRun', name: 'test', conclusion: 'FAILURE' },
                              { __typename: 'StatusContext', context: 'ci/x', state: 'SUCCESS' },
                            ],
                          },
                        },
                      },
                    },
                  ],
                },
              },
            ],
          },
        },
        b1: null,
      },
      errors: [{ type: 'NOT_FOUND', path: ['b1'], message: "Could not resolve to a Repository with the name 'acme/gone'." }],
    },
  };
}

const pr = (a) => a.response.data.b0.pullRequests.nodes[0];
const contexts = (a) => pr(a).commits.nodes[0].commit.statusCheckRollup.contexts.nodes;

/** Asserts exactly one problem, and that it says every one of `words`. */
function oneProblem(problems, ...words) {
  assert.equal(problems.length, 1, problems.join('\n'));
  for (const word of words) assert.match(problems[0], new RegExp(word), problems[0]);
}

test('a valid answer passes, a failed alias being null included', () => {
  assert.deepEqual(checkAnswer('ok.json', answer()), []);
});

test('a misspelled field fails with the name of the document', () => {
  const problems = checkDocument('bad.graphql', `query Q($n: Int!) { ${RATE_LIMIT} repository(owner: "o", name: "r") { pullRequest(number: $n) { mergeableState } } }`);
  oneProblem(problems, '^bad\\.graphql:1:\\d+:', '"mergeableState"', 'mergeStateStatus');
});

test('a query without rateLimit fails, a mutation needs none', () => {
  oneProblem(checkDocument('q.graphql', 'query Q { viewer { login } }'), 'rateLimit', 'cost, remaining, resetAt, limit');
  oneProblem(checkDocument('q.graphql', 'query Q { rateLimit { cost } viewer { login } }'), 'remaining, resetAt, limit');
  const mutation = 'mutation M($id: ID!) { addStar(input: {starrableId: $id}) { clientMutationId } }';
  assert.deepEqual(checkDocument('m.graphql', mutation), []);
});

test('a connection listing items without first or last, or above 100, fails', () => {
  const query = (args) => `query Q { ${RATE_LIMIT} viewer { repositories${args} { nodes { name } } } }`;
  oneProblem(checkDocument('q.graphql', query('')), '"repositories"', 'first');
  oneProblem(checkDocument('q.graphql', query('(first: 101)')), 'first: 101');
  assert.deepEqual(checkDocument('q.graphql', query('(last: 100)')), []);
  assert.deepEqual(checkDocument('q.graphql', `query Q { ${RATE_LIMIT} viewer { repositories { totalCount } } }`), []);
});

test('an unknown enum value fails, naming the path', () => {
  const a = answer();
  pr(a).state = 'SUPERSEDED';
  oneProblem(checkAnswer('enum.json', a), '^enum\\.json: data\\.b0\\.pullRequests\\.nodes\\.0\\.state:', 'SUPERSEDED');
});

test('a union member without __typename fails', () => {
  const a = answer();
  delete contexts(a)[0].__typename;
  oneProblem(checkAnswer('union.json', a), 'nodes\\.0\\.commits\\.nodes\\.0\\.commit\\.statusCheckRollup\\.contexts\\.nodes\\.0', '__typename');
});

test('an interface read only through its own fields needs no __typename; one given must be right and asked for', () => {
  assert.equal('__typename' in pr(answer()).author, false);
  const robot = answer();
  contexts(robot)[0].__typename = 'Robot';
  oneProblem(checkAnswer('robot.json', robot), 'contexts\\.nodes\\.0', '"Robot"');
  const unasked = answer();
  pr(unasked).author = { __typename: 'User', login: 'octo' };
  oneProblem(checkAnswer('user.json', unasked), 'author\\.__typename: not selected');
});

test('a missing field, an extra field and a wrong scalar each fail', () => {
  const missing = answer();
  delete contexts(missing)[0].conclusion;
  oneProblem(checkAnswer('missing.json', missing), 'contexts\\.nodes\\.0\\.conclusion: missing');

  const extra = answer();
  pr(extra).title = 'Fix';
  oneProblem(checkAnswer('extra.json', extra), 'nodes\\.0\\.title: not selected');

  const text = answer();
  pr(text).number = '12';
  oneProblem(checkAnswer('scalar.json', text), 'nodes\\.0\\.number: the answer has "12"');

  const date = answer();
  date.response.data.rateLimit.resetAt = 'soon';
  oneProblem(checkAnswer('date.json', date), 'data\\.rateLimit\\.resetAt', 'DateTime');

  const nonNull = answer();
  pr(nonNull).number = null;
  oneProblem(checkAnswer('null.json', nonNull), 'nodes\\.0\\.number', 'non-nullable');
});

test('a null alias without an error explaining it is a contract breach only where null is impossible', () => {
  const a = answer();
  a.response.errors = [];
  assert.deepEqual(checkAnswer('null-alias.json', a), [], 'repository is nullable');
  a.response.data.rateLimit = { ...rateLimit, cost: null };
  oneProblem(checkAnswer('null-cost.json', a), 'data\\.rateLimit\\.cost');
});

test('malformed answer files fail', () => {
  oneProblem(checkAnswer('a.json', []), 'not a JSON object');
  oneProblem(checkAnswer('a.json', { ...answer(), query: 7 }), '"query" must be a string');
  oneProblem(checkAnswer('a.json', { ...answer(), response: { data: null } }), 'neither data nor errors');
  oneProblem(checkAnswer('a.json', { ...answer(), response: { ...answer().response, extra: 1 } }), 'response\\.extra');
  oneProblem(checkAnswer('a.json', { ...answer(), variables: { owner: 'acme' } }), '^a\\.json: request: .*"\\$name"');
});

function run(...args) {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
}

test("the repository's own documents and canned answers pass", () => {
  const result = run();
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^graphql contract: [1-9]\d* documents, [1-9]\d* answers checked, 0 problems\n$/);
});

test('the command fails and names the file for a bad answer', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ff-contract-'));
  try {
    const bad = answer();
    pr(bad).state = 'SUPERSEDED';
    writeFileSync(path.join(dir, 'good.json'), JSON.stringify(answer()));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(bad));
    const result = run(dir);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /bad\.json: data\.b0\.pullRequests\.nodes\.0\.state:/);
    assert.doesNotMatch(result.stderr, /good\.json/);
    assert.match(result.stdout, /2 answers checked, 1 problems/);
    assert.equal(run(path.join(dir, 'missing')).status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

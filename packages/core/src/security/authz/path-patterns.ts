import { compileValuePatterns, type ValueTest } from './value-patterns.ts';

const TEMPLATE_OPERATOR = /\{\*\*?\}/g;

/**
 * `paths` values: Istio's exact / `prefix*` / `*suffix` / `*`, plus Envoy URI templates, where
 * `{*}` is one whole non-empty segment and `{**}` the rest of the path (zero or more characters,
 * slashes included) — `/api/{*}/items/{**}`. Matching is on the normalized path, case-sensitive.
 */
export function compilePathPatterns(patterns: readonly string[]): ValueTest {
  const plain: string[] = [];
  const templates: RegExp[] = [];
  for (const pattern of patterns) {
    if (/\{\*\*?\}/.test(pattern)) templates.push(templateRegex(pattern));
    else plain.push(pattern);
  }
  const plainTest = compileValuePatterns(plain);
  if (templates.length === 0) return plainTest;
  return (path) => {
    if (plainTest(path)) return true;
    for (const template of templates) if (template.test(path)) return true;
    return false;
  };
}

/**
 * The schema allows operators only as whole segments with `{**}` last, and plain pchar literals
 * elsewhere, so the expression built here has no nested quantifiers and runs in linear time.
 */
function templateRegex(template: string): RegExp {
  let source = '^';
  let last = 0;
  for (const match of template.matchAll(TEMPLATE_OPERATOR)) {
    source += escapeRegex(template.slice(last, match.index));
    source += match[0] === '{**}' ? '.*' : '[^/]+';
    last = match.index + match[0].length;
  }
  return new RegExp(`${source}${escapeRegex(template.slice(last))}$`);
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { ConfigIssue } from '@weft/core';
import { UsageError } from './cli-errors.ts';
import type { CliIo } from './cli-io.ts';

/** One input named by `-f`: a file, one file of a directory, or standard input (`-`). */
export interface ConfigSource {
  /** As the user typed it (a directory's files joined to it), or `<stdin>`. */
  readonly name: string;
  readonly text: string;
}

const CONFIG_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/**
 * Reads every `-f` argument in order: a file as is, a directory as every .yaml/.yml/.json file
 * directly in it sorted by name, `-` as standard input (once).
 */
export async function readConfigSources(
  paths: readonly string[],
  io: CliIo,
  command: string,
): Promise<ConfigSource[]> {
  if (paths.length === 0) throw new UsageError('-f FILE|DIR|- is required', command);
  const sources: ConfigSource[] = [];
  let readStdin = false;
  for (const path of paths) {
    if (path === '-') {
      if (readStdin) throw new UsageError('-f - (standard input) can be given only once', command);
      readStdin = true;
      sources.push({ name: '<stdin>', text: await io.readStdin() });
      continue;
    }
    const absolute = resolve(io.cwd, path);
    const info = await stat(absolute).catch((error: unknown) => {
      throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`, command, { cause: error });
    });
    if (info.isDirectory()) {
      const entries = (await readdir(absolute, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && CONFIG_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        .map((entry) => entry.name)
        .sort();
      if (entries.length === 0) {
        throw new UsageError(`${path} holds no .yaml, .yml or .json file`, command);
      }
      for (const entry of entries) {
        sources.push({
          name: join(path, entry),
          text: await readText(join(absolute, entry), join(path, entry), command),
        });
      }
    } else {
      sources.push({ name: path, text: await readText(absolute, path, command) });
    }
  }
  return sources;
}

async function readText(file: string, shown: string, command: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${shown}: ${describeFsError(error)}`, command, { cause: error });
  }
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Several sources as one multi-document YAML stream (JSON is YAML), so that one request applies
 * all of them in one transaction, and a map from the stream's lines back to each source's own.
 */
export interface ConfigBundle {
  readonly text: string;
  /** Rewrites an issue located in `text` to the source file and line it came from. */
  locate(issue: ConfigIssue): ConfigIssue;
}

interface Segment {
  readonly name: string;
  /** 1-based line of `text` where the source's first line is. */
  readonly firstLine: number;
  readonly lineCount: number;
}

export function bundleSources(sources: readonly ConfigSource[]): ConfigBundle {
  const segments: Segment[] = [];
  let text = '';
  let nextLine = 1;
  for (const [index, source] of sources.entries()) {
    if (index > 0) {
      text += '---\n';
      nextLine += 1;
    }
    const body = source.text.endsWith('\n') || source.text === '' ? source.text : `${source.text}\n`;
    const lineCount = countLines(body);
    segments.push({ name: source.name, firstLine: nextLine, lineCount });
    text += body;
    nextLine += lineCount;
  }
  const single = sources.length === 1 ? sources[0] : undefined;
  return {
    text,
    locate(issue) {
      const { line, column } = issue.location;
      if (line === undefined) {
        return single === undefined ? issue : { ...issue, location: { file: single.name } };
      }
      const segment = segments.find((s) => line >= s.firstLine && line < s.firstLine + s.lineCount);
      if (segment === undefined) return issue;
      return {
        ...issue,
        location: {
          file: segment.name,
          line: line - segment.firstLine + 1,
          ...(column === undefined ? {} : { column }),
        },
      };
    },
  };
}

function countLines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count += 1;
  return count;
}

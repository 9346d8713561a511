// Parsers of option values: a wrong value is a usage error naming the option and what it expects.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from './errors.js';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a whole number from 1 up');
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a number above 0');
  return n;
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** A prompt from a file, or from stdin for `-`. */
export async function readPromptFile(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path === '-') {
    let text = '';
    for await (const chunk of stdin) text += chunk.toString();
    return text;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`--prompt-file ${path}: ${(error as Error).message}`, EXIT.usage);
  }
}

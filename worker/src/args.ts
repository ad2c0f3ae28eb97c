// Command-line flags with node:util parseArgs, and a table of commands: every mistake is a UsageError that names
// the flag and says what to do, whichever command (keycrate-worker, its bulk commands, the bench) parses.

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake on the command line: exit 2 with this one line. */
export class UsageError extends Error {}

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;
export type ParsedFlags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

/**
 * `args` against `options` (`--name value`, `--name=value`, booleans without a value). `positionals`: whether
 * bare words (ids) may follow; `command` names the command in the messages.
 */
export function parseFlags<O extends FlagOptions>(command: string, args: string[], options: O, positionals = false): ParsedFlags<O> {
	let parsed: ParsedFlags<O>;
	try {
		parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError(explain(command, options, error as Error & { code?: string }));
	}
	if (!positionals && parsed.positionals.length > 0) throw new UsageError(`unknown argument "${parsed.positionals[0]}" (try --help)`);
	for (const [name, value] of Object.entries(parsed.values)) {
		if (value === '' || (Array.isArray(value) && value.includes(''))) throw new UsageError(`--${name}: needs a value`);
	}
	return parsed;
}

/** parseArgs's message said as ours: the flag first, then what to do. */
function explain(command: string, options: FlagOptions, error: Error & { code?: string }): string {
	const flag = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
	if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
		const names = Object.keys(options).map((name) => `--${name}`);
		return `Unknown option '${flag}' for ${command} (${names.length === 0 ? 'it takes no options' : `it takes ${names.join(', ')}`}; try --help)`;
	}
	if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
		const takesValue = options[flag.replace(/^-+/, '')]?.type === 'string';
		return takesValue ? `${flag}: needs a value (try --help)` : `${flag}: takes no value (try --help)`;
	}
	return `${error.message.split('\n')[0]} (try --help)`;
}

/** One command of a CLI: its lines in --help and what it runs with the arguments after its name. */
export interface Command {
	name: string;
	help: string;
	run(args: string[]): Promise<void>;
}

/** A command whose flags are parsed here, before `run` sees them typed: one entry of a CLI's command table. */
export function command<O extends FlagOptions>(
	name: string,
	spec: { help: string; options: O; positionals?: boolean; run(parsed: ParsedFlags<O>): Promise<void> },
): Command {
	return { name, help: spec.help, run: (args) => spec.run(parseFlags(name, args, spec.options, spec.positionals)) };
}

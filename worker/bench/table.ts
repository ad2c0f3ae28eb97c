// One row per figure, each beside the baseline measured in the same run: printed as one table, and written with
// --json for anyone to compare runs. A goal is checked on the ratio (figure ÷ baseline), never on an absolute.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';

/** A memory figure of a process from /proc/<pid>/status, in MB: VmRSS now, or VmHWM (its peak so far). */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
}

export function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function p95(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
}

export interface Row {
	/** P1…P5, or the name of a fault row. */
	id: string;
	what: string;
	value: number;
	unit: string;
	baselineWhat: string;
	baseline: number;
	/** `value / baseline` unless the row says otherwise (e.g. a latency bound). */
	ratio: number;
	/** e.g. '≥ 0.6', '≤ 2', '' for context rows. */
	goal: string;
	/** null: the row has no goal. */
	met: boolean | null;
	note?: string;
}

export type Goal = { atLeast: number } | { atMost: number } | null;

export function row(fields: Omit<Row, 'ratio' | 'goal' | 'met'> & { goal: Goal; ratio?: number }): Row {
	const ratio = fields.ratio ?? fields.value / fields.baseline;
	const { goal, ...rest } = fields;
	if (goal === null) return { ...rest, ratio, goal: '', met: null };
	if ('atLeast' in goal) return { ...rest, ratio, goal: `≥ ${goal.atLeast}`, met: ratio >= goal.atLeast };
	return { ...rest, ratio, goal: `≤ ${goal.atMost}`, met: ratio <= goal.atMost };
}

function figure(value: number, unit: string): string {
	const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
	return `${value.toFixed(digits)} ${unit}`.trim();
}

export function printTable(rows: readonly Row[]): void {
	const lines = rows.map((r) => [
		r.id,
		r.what,
		figure(r.value, r.unit),
		`${r.baselineWhat}: ${figure(r.baseline, r.unit)}`,
		`×${r.ratio.toFixed(2)}`,
		r.goal,
		r.met === null ? '' : r.met ? 'met' : 'MISSED',
	]);
	const header = ['row', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', ''];
	const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
	const format = (cells: string[]) =>
		cells
			.map((cell, column) => cell.padEnd(widths[column]))
			.join('  ')
			.trimEnd();
	console.log(`\n${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}`);
	for (const line of lines) console.log(format(line));
	for (const r of rows) if (r.note) console.log(`  ${r.id}: ${r.note}`);
}

export function machine(): Record<string, string | number> {
	return {
		cpus: cpus().length,
		cpuModel: cpus()[0]?.model ?? 'unknown',
		memoryGiB: Math.round(totalmem() / 2 ** 30),
		node: process.version,
		platform: `${process.platform}-${process.arch}`,
	};
}

/** `path` is relative to where `npm run bench` was typed (npm runs the worker's script inside worker/). */
export function writeJson(path: string, options: object, rows: readonly Row[]): string {
	const file = resolve(process.env.INIT_CWD ?? process.cwd(), path);
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), options, rows }, null, 2)}\n`);
	return file;
}

// A strict reader of the Prometheus text exposition format (0.0.4), as a scraper would read /metrics: every line a
// comment (# HELP / # TYPE) or a sample; a family's HELP and TYPE at most once each and before its samples; sample
// names belonging to their family (_bucket, _sum, _count of a histogram); label values escaped. Throws on anything
// else, naming the line.

export interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

export interface Family {
	name: string;
	type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
	help: string;
	samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseLabels(text: string, line: number): Record<string, string> {
	const labels: Record<string, string> = {};
	LABEL.lastIndex = 0;
	while (LABEL.lastIndex < text.length) {
		const match = LABEL.exec(text);
		if (match === null) throw new Error(`line ${line}: bad labels {${text}}`);
		if (match[1] in labels) throw new Error(`line ${line}: label ${match[1]} twice`);
		labels[match[1]] = match[2].replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
		if (match[3] === '') break;
	}
	return labels;
}

/** As Prometheus reads it (Go's strconv.ParseFloat: NaN and Inf in any case; prom-client writes `Nan`). */
function parseValue(text: string, line: number): number {
	const lower = text.toLowerCase();
	if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
	if (lower === '-inf') return Number.NEGATIVE_INFINITY;
	if (lower === 'nan') return Number.NaN;
	const value = Number(text);
	if (Number.isNaN(value)) throw new Error(`line ${line}: value "${text}" is not a number`);
	return value;
}

/** The family a sample name belongs to (`x_bucket` → `x` when `x` is a histogram). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
	const direct = families.get(name);
	if (direct !== undefined) return direct;
	const suffix = /^(.*)_(bucket|sum|count)$/.exec(name);
	const base = suffix ? families.get(suffix[1]) : undefined;
	if (base === undefined) return undefined;
	if (suffix?.[2] === 'bucket' && base.type !== 'histogram') return undefined;
	return base.type === 'histogram' || base.type === 'summary' ? base : undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
	const families = new Map<string, Family>();
	const seenSamples = new Set<string>();
	const lines = text.split('\n');
	if (lines[lines.length - 1] === '') lines.pop();
	lines.forEach((raw, index) => {
		const line = index + 1;
		if (raw.trim() === '') return;
		if (raw.startsWith('#')) {
			const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(raw);
			if (meta === null) return; // another comment
			const [, kind, name, rest] = meta;
			let family = families.get(name);
			if (family === undefined) {
				family = { name, type: 'untyped', help: '', samples: [] };
				families.set(name, family);
			} else if (family.samples.length > 0) {
				throw new Error(`line ${line}: # ${kind} for ${name} after its samples`);
			}
			if (kind === 'TYPE') {
				if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type "${rest}"`);
				if ((family as Family & { typed?: boolean }).typed) throw new Error(`line ${line}: second TYPE for ${name}`);
				Object.assign(family, { type: rest, typed: true });
			} else {
				if ((family as Family & { helped?: boolean }).helped) throw new Error(`line ${line}: second HELP for ${name}`);
				Object.assign(family, { help: rest, helped: true });
			}
			return;
		}
		const match = SAMPLE.exec(raw);
		if (match === null) throw new Error(`line ${line}: not a sample: ${raw}`);
		const [, name, labelText, valueText] = match;
		const labels = labelText === undefined || labelText === '' ? {} : parseLabels(labelText, line);
		const family =
			familyOf(name, families) ??
			(() => {
				const untyped: Family = { name, type: 'untyped', help: '', samples: [] };
				families.set(name, untyped);
				return untyped;
			})();
		const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
		if (seenSamples.has(key)) throw new Error(`line ${line}: sample ${key} twice`);
		seenSamples.add(key);
		family.samples.push({ name, labels, value: parseValue(valueText, line) });
	});
	return families;
}

/** Value of the sample `name` whose labels include `labels` (undefined when there is none). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
	const family = familyOf(name, families);
	const sample = family?.samples.find(
		(candidate) => candidate.name === name && Object.entries(labels).every(([key, value]) => candidate.labels[key] === value),
	);
	return sample?.value;
}

/** Sum over every sample `name` whose labels include `labels`. */
export function sampleSum(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
	const family = familyOf(name, families);
	return (family?.samples ?? [])
		.filter((candidate) => candidate.name === name && Object.entries(labels).every(([key, value]) => candidate.labels[key] === value))
		.reduce((sum, sample) => sum + sample.value, 0);
}

export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
	const response = await fetch(`${baseUrl}/metrics`, { headers });
	if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}`);
	const type = response.headers.get('content-type') ?? '';
	if (!type.startsWith('text/plain') || !type.includes('version=0.0.4')) throw new Error(`/metrics content-type is ${type}`);
	return parsePrometheusText(await response.text());
}

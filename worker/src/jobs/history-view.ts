// Pure: a root's history and an event's story as an operator reads them in a terminal (`keycrate-worker root`,
// `events`). The JSON forms (`--json`, the admin API) are the entries themselves.

import type { EventStory, HistoryEntry, PlannedAction, StateSummary, SyncEntry } from './history.js';

const INDENT = '    ';

function stateLine(state: StateSummary): string {
	switch (state.kind) {
		case 'redirect':
			return `a payment of ${state.to}`;
		case 'none':
			return state.reason;
		case 'payment':
		case 'subscription': {
			const head =
				state.kind === 'payment'
					? `payment ${state.paid ? 'paid' : 'not paid'}`
					: `subscription ${state.status}, ${state.paid_invoices} of ${state.invoices} invoice(s) paid`;
			const money = [
				state.refunded.length > 0 ? `refunded: ${state.refunded.join(', ')}` : 'no refund',
				state.disputes.length > 0 ? `disputes: ${state.disputes.join(', ')}` : 'no dispute',
			];
			return [head, ...money, ...(state.lines.length > 0 ? [`lines ${state.lines.join(', ')}`] : [])].join('; ');
		}
	}
}

function plannedText(action: PlannedAction): string {
	const detail = action.status ?? action.tier ?? (action.target ? `to ${action.target}` : undefined);
	return [action.type, action.seat, action.license_key, detail].filter((part) => part !== undefined).join(' ');
}

function syncLines(entry: SyncEntry): string[] {
	const head = `${entry.at}  sync (attempt ${entry.attempt})  ${entry.outcome}`;
	const rows: [string, string | undefined][] = [
		['events', entry.events?.map((event) => `${event.type} ${event.id}`).join(', ')],
		['cause', entry.cause],
		['stripe', entry.state ? stateLine(entry.state) : undefined],
		[
			'entitled',
			entry.entitlement
				? `${entry.entitlement.status}: ${entry.entitlement.reason}${entry.seats ? ` (${entry.seats.total} seat(s): ${entry.seats.active} active, ${entry.seats.paused} paused${entry.seats.expires_at ? `, until ${entry.seats.expires_at}` : ''})` : ''}`
				: undefined,
		],
		[
			'planned',
			entry.planned ? entry.planned.map(plannedText).join(', ') : entry.state && entry.outcome === 'done' ? 'nothing: Keycrate already matches' : undefined,
		],
		['done', entry.done?.map((done) => `${done.action} ${done.seat} ${done.license_key}`).join(', ')],
		['settled', entry.settled ? `${entry.settled} create(s) whose reply was lost, found by their tag` : undefined],
		['calls', `Stripe ${entry.calls.stripe}, Keycrate ${entry.calls.keycrate}${entry.truncated ? ` (${entry.truncated} more action(s) not listed)` : ''}`],
		[
			'why',
			entry.reason
				? `${entry.reason.replace(/\s+/g, ' ')}${entry.retry_in_ms !== undefined ? ` (retried in ${Math.round(entry.retry_in_ms / 1000)} s)` : ''}`
				: undefined,
		],
	];
	return [head, ...rows.filter(([, text]) => text !== undefined && text !== '').map(([label, text]) => `${INDENT}${label.padEnd(9)}${text as string}`)];
}

export function entryLines(entry: HistoryEntry): string[] {
	if (entry.kind === 'sync') return syncLines(entry);
	return [`${entry.at}  hand-off  ${entry.outcome}  ${entry.license_key}${entry.reason ? `: ${entry.reason}` : ''}`];
}

/** `root <id>`: the story, oldest first. */
export function formatRootHistory(root: string, entries: HistoryEntry[], caps: { maxEntries: number; ttlSeconds: number }): string {
	if (entries.length === 0) return `No history for ${root} (kept ${caps.maxEntries} entries per root for ${caps.ttlSeconds} s after the last).\n`;
	const lines = entries.flatMap(entryLines);
	return `History of ${root}, oldest first (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}; at most ${caps.maxEntries} kept):\n${lines.join('\n')}\n`;
}

/** `events <evt_…>`: the event's root and the attempts that took it (or that none has yet). */
export function formatEventStory({ event_id, type, root, received_at, pending, entries: taken }: EventStory): string {
	const event = { id: event_id, type, root, received_at };
	const head = `${event.id} (${event.type}) → root ${event.root}${event.received_at ? `, received ${event.received_at}` : ''}`;
	const lines = taken.flatMap(syncLines);
	const redirect = taken.map((entry) => entry.state).find((state): state is Extract<StateSummary, { kind: 'redirect' }> => state?.kind === 'redirect');
	const tail = [
		...(pending ? [`Waiting for a sync of ${event.root} (a process role takes it).`] : []),
		...(taken.length === 0 && !pending ? [`No attempt that took it is still in the history of ${event.root}: keycrate-worker root ${event.root}`] : []),
		...(redirect ? [`Synced as ${redirect.to}: keycrate-worker root ${redirect.to}`] : []),
	];
	return `${[head, ...(lines.length > 0 ? ['Synced by:', ...lines] : []), ...tail].join('\n')}\n`;
}

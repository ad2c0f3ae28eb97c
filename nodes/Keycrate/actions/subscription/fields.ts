import type { INodeProperties } from 'n8n-workflow';

export const nameField: INodeProperties = {
	displayName: 'Name',
	name: 'name',
	type: 'string',
	default: '',
	placeholder: 'e.g. Pro',
	description: 'Name of the subscription tier (1 to 100 characters)',
};

export const levelField: INodeProperties = {
	displayName: 'Level',
	name: 'level',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: 1000 },
	default: 1,
	description: 'Rank of the tier from 0 to 1000; your software can unlock features by level',
};

export const singleKeyPerHwidField: INodeProperties = {
	displayName: 'Single Key Per HWID',
	name: 'singleKeyPerHwid',
	type: 'boolean',
	default: false,
	description: 'Whether a hardware ID may hold only one license of this tier',
};

import type { INodeProperties } from 'n8n-workflow';

/** The HWID settings that Set Lock, Set Lock Many and Set Reset Allowed set to a given value. */
export const hwidLockField: INodeProperties = {
	displayName: 'HWID Lock',
	name: 'hwidLock',
	type: 'boolean',
	required: true,
	// No lock unless the user turns it on.
	default: false,
	description: 'Whether the license is locked to its hardware ID after this step (sets the value, does not flip it; on: locked, off: unlocked)',
	hint: 'Sets the lock to this value. Running the step again changes nothing.',
};

export const resetAllowedField: INodeProperties = {
	displayName: 'Reset Allowed',
	name: 'resetAllowed',
	type: 'boolean',
	required: true,
	default: true,
	description: 'Whether the end user may reset the hardware ID binding after this step (sets the value, does not flip it)',
	hint: 'Sets the setting to this value. Running the step again changes nothing.',
};

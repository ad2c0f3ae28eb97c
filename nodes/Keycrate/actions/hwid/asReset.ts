import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

/** Additional Fields → As Reset, shared by Set and Clear (both are /hwid/edit). */
export const asResetOption: INodeProperties = {
	displayName: 'Additional Fields',
	name: 'additionalFields',
	type: 'collection',
	placeholder: 'Add Field',
	default: {},
	options: [
		{
			displayName: 'As Reset',
			name: 'asReset',
			type: 'boolean',
			default: false,
			description: "Whether to treat the change as an end-user HWID reset, subject to the license's reset-allowed setting and reset interval",
		},
	],
};

export function readAsReset(this: IExecuteFunctions, itemIndex: number): boolean {
	const { asReset } = this.getNodeParameter('additionalFields', itemIndex, {}) as { asReset?: boolean };
	return asReset === true;
}
